"""Form errors the GOV.UK way: the API's JSON pointers become field ids, messages beside fields.

A page that posts a form to a service gets :class:`FieldProblem` items (the same ones the API
answers in ``errors[]``); :func:`form_errors` turns them into what the ``field`` and
``error_summary`` macros need: the message per field id, and the summary in field order, each
linking to its field.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from app.errors import FieldProblem

_UNSAFE = re.compile(r"[^A-Za-z0-9_-]+")


def field_id(pointer: str) -> str:
    """The HTML id of the field a JSON pointer names:
    ``/persons/0/full_name`` → ``persons-0-full_name``.

    RFC 6901 escapes (``~1`` for ``/``, ``~0`` for ``~``) are undone first; anything that is not
    a letter, digit, ``_`` or ``-`` becomes ``-``. The empty pointer (the whole body) is ``form``.
    """
    parts = [p.replace("~1", "/").replace("~0", "~") for p in pointer.split("/")[1:]]
    joined = "-".join(_UNSAFE.sub("-", p).strip("-") for p in parts if p)
    return joined or "form"


@dataclass(frozen=True)
class SummaryItem:
    """One line of the error summary: the field to jump to and what is wrong with it."""

    field_id: str
    message: str


@dataclass(frozen=True)
class FormErrors:
    """A form's errors, by field id (beside each field) and in order (the summary at the top)."""

    by_field: dict[str, str]
    summary: tuple[SummaryItem, ...]

    def __bool__(self) -> bool:
        return bool(self.summary)

    def get(self, field: str) -> str | None:
        return self.by_field.get(field)


NO_ERRORS = FormErrors(by_field={}, summary=())


def form_errors(problems: Iterable[FieldProblem]) -> FormErrors:
    """Group ``problems`` by field; a field with several problems shows the first one."""
    by_field: dict[str, str] = {}
    for problem in problems:
        by_field.setdefault(field_id(problem.pointer), problem.detail)
    summary = tuple(SummaryItem(field_id=k, message=v) for k, v in by_field.items())
    return FormErrors(by_field=by_field, summary=summary)
