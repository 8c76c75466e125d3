"""The report form (app/web/report_form.py) holds every field of the report schema, so a
correction made in the console cannot drop what the form would not show."""

from __future__ import annotations

import typing
from typing import Any

from pydantic import BaseModel

from app.schemas.report import ReportIn
from app.web.report_form import GROUPS, REPORT_CHOICES, REPORT_FIELDS, ReportForm
from tests.web.test_report_correction import full_report


def _model_in(annotation: Any) -> type[BaseModel] | None:
    """The model an annotation holds (``X | None``, ``list[X]``), if any."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in typing.get_args(annotation):
        found = _model_in(arg)
        if found is not None:
            return found
    return None


def leaf_inputs(model: type[BaseModel], prefix: str = "") -> set[str]:
    """The input names the schema's fields need: nested objects joined with ``-``; the fields
    of a list of objects as ``group.field``."""
    names: set[str] = set()
    for name, info in model.model_fields.items():
        inner = _model_in(info.annotation)
        if inner is None:
            names.add(prefix + name)
        elif typing.get_origin(info.annotation) is list:
            names |= {f"{name}.{f}" for f in leaf_inputs(inner)}
        else:
            names |= leaf_inputs(inner, f"{prefix}{name}-")
    return names


def test_every_field_of_the_report_schema_has_an_input() -> None:
    on_form = {*REPORT_FIELDS, *REPORT_CHOICES, "recipients", "reported_at"}
    on_form |= {f"{g.name}.{f}" for g in GROUPS.values() for f in (*g.fields, *g.choices)}
    assert sorted(leaf_inputs(ReportIn) - on_form) == []


def test_a_full_report_goes_through_the_form_unchanged() -> None:
    stored = ReportIn.model_validate(full_report()).model_dump(mode="json", exclude_none=True)

    again = ReportForm.of_report(stored).body(stored["reported_at"], like=stored)

    assert ReportIn.model_validate(again).model_dump(mode="json", exclude_none=True) == stored
