"""The new-report form (*Laporan baru*): what the officer typed ⇄ the API's report body.

Each input is named after the field id of its JSON pointer (``/persons/0/full_name`` →
``persons-0-full_name``), so the API's ``errors[].pointer`` lands beside the input that holds
the value. Persons and documents are repeated groups the officer adds and removes with buttons
that post the form back (no script needed, nothing typed lost). This module only parses and
lays out; every rule about a report stays in ``app.schemas.report`` and ``app.services.reports``.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from starlette.datastructures import FormData

from app.errors import FieldProblem
from app.vocab.code_lists import code_list
from app.web.i18n import Language

#: The single fields of a report, by input name
#: (``location-region_code`` is ``/location/region_code``).
REPORT_FIELDS = (
    "external_ref",
    "case_type",
    "tlp",
    "occurred_from",
    "occurred_to",
    "location-region_code",
    "location-place",
    "location-port_of_exit",
    "destination_countries",
    "transit_countries",
    "narrative",
)
#: Fields where the officer ticks several codes of a code list.
REPORT_CHOICES = {
    "modus_operandi": "modus_operandi",
    "exploitation_types": "exploitation_types",
    "means_of_control": "means_of_control",
    "actions_taken": "actions_taken",
}
PERSON_FIELDS = (
    "role",
    "full_name",
    "aliases",
    "sex",
    "date_of_birth",
    "birth_year",
    "nationality",
    "nik",
    "passport_number",
    "phone",
    "address",
)
DOCUMENT_FIELDS = ("type", "number", "status", "issuer")
#: Fields written as several values separated by commas.
_LISTS = {"destination_countries", "transit_countries", "aliases"}
_DATES = {"occurred_from", "occurred_to", "date_of_birth"}
_DAY_FIRST = re.compile(r"^(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})$")
#: At most this many persons and documents on the form (the schema allows more through the API).
MAX_GROUP = 50


def form_date(text: str) -> str:
    """A date as officers write it (14/03/1999, 14-3-1999, 14.03.1999) in ISO form; anything
    else unchanged, for the schema to accept (1999-03-14) or refuse beside the field."""
    found = _DAY_FIRST.match(text)
    if found is None:
        return text
    day, month, year = found.groups()
    return f"{year}-{int(month):02d}-{int(day):02d}"


def _text(form: FormData, name: str) -> str:
    value = form.get(name)
    return value.strip() if isinstance(value, str) else ""


def _count(form: FormData, name: str, at_least: int) -> int:
    try:
        return max(at_least, min(int(_text(form, name) or at_least), MAX_GROUP))
    except ValueError:
        return at_least


@dataclass
class ReportForm:
    """What the officer typed, as the inputs hold it (to show the form again unchanged)."""

    values: dict[str, str] = field(default_factory=dict)
    choices: dict[str, list[str]] = field(default_factory=dict)
    recipients: list[str] = field(default_factory=list)
    persons: list[dict[str, str]] = field(default_factory=list)
    documents: list[dict[str, str]] = field(default_factory=list)

    @classmethod
    def blank(cls, external_ref: str) -> ReportForm:
        values = dict.fromkeys(REPORT_FIELDS, "")
        values.update(external_ref=external_ref, case_type="TPPO", tlp="AMBER")
        return cls(
            values=values,
            choices={name: [] for name in REPORT_CHOICES},
            persons=[{**dict.fromkeys(PERSON_FIELDS, ""), "role": "VICTIM"}],
            documents=[],
        )

    @classmethod
    def parse(cls, form: FormData) -> ReportForm:
        persons = [
            {name: _text(form, f"persons-{i}-{name}") for name in PERSON_FIELDS}
            for i in range(_count(form, "person_count", 0))
        ]
        documents = [
            {name: _text(form, f"documents-{i}-{name}") for name in DOCUMENT_FIELDS}
            for i in range(_count(form, "document_count", 0))
        ]
        return cls(
            values={name: _text(form, name) for name in REPORT_FIELDS},
            choices={
                name: [v for v in form.getlist(name) if isinstance(v, str)]
                for name in REPORT_CHOICES
            },
            recipients=[v for v in form.getlist("recipients") if isinstance(v, str)],
            persons=persons,
            documents=documents,
        )

    def apply(self, action: str) -> bool:
        """Add or remove a person or document (``add_person``, ``remove_person-2``); whether
        ``action`` was one (then the form is shown again instead of being submitted)."""
        if action == "add_person" and len(self.persons) < MAX_GROUP:
            self.persons.append({**dict.fromkeys(PERSON_FIELDS, ""), "role": "VICTIM"})
        elif action == "add_document" and len(self.documents) < MAX_GROUP:
            self.documents.append(dict.fromkeys(DOCUMENT_FIELDS, ""))
        elif action.startswith(("remove_person-", "remove_document-")):
            kind, _, index = action.partition("-")
            group = self.persons if kind == "remove_person" else self.documents
            if index.isdigit() and int(index) < len(group):
                del group[int(index)]
        else:
            return False
        return True

    def body(self, reported_at: str) -> dict[str, Any]:
        """The report body for the API's schema: empty inputs left out, as if never sent;
        ``reported_at`` is when the officer opened the form (ISO 8601 with offset)."""
        body: dict[str, Any] = {"reported_at": reported_at}
        location: dict[str, Any] = {}
        for name, value in self.values.items():
            if not value:
                continue
            if name.startswith("location-"):
                location[name.removeprefix("location-")] = value
            else:
                body[name] = _value(name, value)
        if location:
            body["location"] = location
        for name, picked in self.choices.items():
            if picked:
                body[name] = picked
        if self.recipients:
            body["recipients"] = self.recipients
        body["persons"] = [_group(person) for person in self.persons]
        body["documents"] = [_group(document) for document in self.documents]
        return body

    def field_ids(self) -> set[str]:
        """The ids of every input (and group) on the form, where errors may be shown."""
        ids = {*REPORT_FIELDS, *REPORT_CHOICES, "recipients", "persons", "documents"}
        for i in range(len(self.persons)):
            ids |= {f"persons-{i}", *(f"persons-{i}-{n}" for n in PERSON_FIELDS)}
        for i in range(len(self.documents)):
            ids |= {f"documents-{i}", *(f"documents-{i}-{n}" for n in DOCUMENT_FIELDS)}
        return ids


def _value(name: str, value: str) -> Any:
    if name in _LISTS:
        return [
            part.strip().upper() if name != "aliases" else part.strip()
            for part in value.split(",")
            if part.strip()
        ]
    if name in _DATES:
        return form_date(value)
    if name == "birth_year":
        return int(value) if value.isdigit() else value
    return value


def _group(values: dict[str, str]) -> dict[str, Any]:
    return {name: _value(name, value) for name, value in values.items() if value}


def placed(problems: Sequence[FieldProblem], known: set[str]) -> list[FieldProblem]:
    """Problems re-pointed at an input that exists: ``/persons/0/aliases/1`` is shown on the
    aliases input, a problem with a whole person on that person's group, the rest on the form."""
    out: list[FieldProblem] = []
    for problem in problems:
        parts = [p for p in problem.pointer.split("/")[1:] if p]
        while parts and "-".join(parts) not in known:
            parts.pop()
        pointer = "/" + "/".join(parts) if parts else ""
        out.append(FieldProblem(pointer, problem.detail, problem.code, problem.location))
    return out


def options(list_name: str, language: Language) -> list[tuple[str, str]]:
    """(code, label) of a code list in the officer's language, in the list's own order."""
    return [
        (c.code, c.label_id if language is Language.ID else c.label_en)
        for c in code_list(list_name).codes
    ]
