"""The report form (*Laporan baru*, and *Koreksi* of a stored report): what the officer typed ⇄
the API's report body.

Each input is named after the field id of its JSON pointer (``/persons/0/full_name`` →
``persons-0-full_name``, ``/recruitment/location/place`` → ``recruitment-location-place``), so the
API's ``errors[].pointer`` lands beside the input that holds the value. Persons, documents,
events and conveyances are repeated groups the officer adds and removes with buttons that post
the form back (no script needed, nothing typed lost). Every field of ``ReportIn`` has an input:
a correction starts from the stored report (:meth:`ReportForm.of_report`) and must not drop what
the form could not show. This module only parses and lays out; every rule about a report stays
in ``app.schemas.report`` and ``app.services.reports``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from starlette.datastructures import FormData

from app.errors import FieldProblem
from app.vocab.code_lists import code_list
from app.web.i18n import Language

#: The single fields of a report, by input name (``location-region_code`` is
#: ``/location/region_code``); the common ones first, then those of the collapsed sections.
REPORT_FIELDS = (
    "external_ref",
    "case_type",
    "tlp",
    "occurred_from",
    "occurred_to",
    "location-region_code",
    "location-place",
    "location-port_of_exit",
    "location-lat",
    "location-lon",
    "destination_countries",
    "transit_countries",
    "forced_labour_sector",
    "narrative",
    "recruitment-location-region_code",
    "recruitment-location-place",
    "recruitment-location-port_of_exit",
    "recruitment-location-lat",
    "recruitment-location-lon",
    "assessment-source_reliability",
    "assessment-information_accuracy",
    "linked_report_ids",
)
#: Fields where the officer ticks several codes of a code list: input name → code list.
REPORT_CHOICES = {
    "modus_operandi": "modus_operandi",
    "exploitation_types": "exploitation_types",
    "means_of_control": "means_of_control",
    "actions_taken": "actions_taken",
    "recruitment-methods": "recruitment_methods",
    "recruitment-channels": "recruitment_channels",
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
    "region_code",
    "trafficking_status",
    "relationship_to_recruiter",
)
DOCUMENT_FIELDS = ("type", "number", "status", "issuer", "issuing_country")
EVENT_FIELDS = ("type", "date", "country", "region_code", "place")
CONVEYANCE_FIELDS = ("type", "name", "registration", "flag_country")


@dataclass(frozen=True)
class Group:
    """A repeated part of the report (``persons``): its fields, the fields where several codes
    are ticked, what a new row starts with, and the word its buttons and counter use."""

    name: str
    singular: str
    fields: tuple[str, ...]
    choices: tuple[str, ...] = ()
    starts_with: tuple[tuple[str, str], ...] = ()

    def blank(self) -> dict[str, Any]:
        row: dict[str, Any] = dict.fromkeys(self.fields, "")
        row.update({name: [] for name in self.choices})
        row.update(self.starts_with)
        return row


GROUPS = {
    g.name: g
    for g in (
        Group(
            "persons",
            "person",
            PERSON_FIELDS,
            choices=("perpetrator_roles",),
            starts_with=(("role", "VICTIM"),),
        ),
        Group("documents", "document", DOCUMENT_FIELDS),
        Group("events", "event", EVENT_FIELDS),
        Group("conveyances", "conveyance", CONVEYANCE_FIELDS),
    )
}
#: The collapsed sections of the form and the inputs (by field-id prefix) each holds: a section
#: is shown open when one of its inputs holds something or has an error.
SECTIONS = {
    "coordinates": ("location-lat", "location-lon"),
    "recruitment": ("recruitment",),
    "events": ("events",),
    "assessment": ("assessment",),
    "conveyances": ("conveyances",),
    "linked": ("linked_report_ids",),
}
#: The fields of a person shown in that person's own collapsed part ("more about this person").
PERSON_MORE = (
    "region_code",
    "trafficking_status",
    "relationship_to_recruiter",
    "perpetrator_roles",
)

#: Fields written as several values separated by commas.
_LISTS = {"destination_countries", "transit_countries", "aliases", "linked_report_ids"}
#: Country codes, typed in any case.
_COUNTRIES = {
    "destination_countries",
    "transit_countries",
    "nationality",
    "country",
    "issuing_country",
    "flag_country",
}
_DATES = {"occurred_from", "occurred_to", "date_of_birth", "date"}
_NUMBERS = {"lat", "lon"}
_DAY_FIRST = re.compile(r"^(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})$")
_ISO_DATE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})$")
#: At most this many rows of each group on the form (the schema allows more through the API).
MAX_GROUP = 50


def form_date(text: str) -> str:
    """A date as officers write it (14/03/1999, 14-3-1999, 14.03.1999) in ISO form; anything
    else unchanged, for the schema to accept (1999-03-14) or refuse beside the field."""
    found = _DAY_FIRST.match(text)
    if found is None:
        return text
    day, month, year = found.groups()
    return f"{year}-{int(month):02d}-{int(day):02d}"


def shown_date(text: str) -> str:
    """An ISO date as the form's hint writes dates (1999-03-14 → 14/03/1999)."""
    found = _ISO_DATE.match(text)
    if found is None:
        return text
    year, month, day = found.groups()
    return f"{day}/{month}/{year}"


def _text(form: FormData, name: str) -> str:
    value = form.get(name)
    return value.strip() if isinstance(value, str) else ""


def _picked(form: FormData, name: str) -> list[str]:
    return [v for v in form.getlist(name) if isinstance(v, str)]


def _count(form: FormData, name: str) -> int:
    try:
        return max(0, min(int(_text(form, name) or 0), MAX_GROUP))
    except ValueError:
        return 0


@dataclass
class ReportForm:
    """What the officer typed, as the inputs hold it (to show the form again unchanged)."""

    values: dict[str, str] = field(default_factory=dict)
    choices: dict[str, list[str]] = field(default_factory=dict)
    recipients: list[str] = field(default_factory=list)
    groups: dict[str, list[dict[str, Any]]] = field(default_factory=dict)

    @property
    def persons(self) -> list[dict[str, Any]]:
        return self.groups["persons"]

    @property
    def documents(self) -> list[dict[str, Any]]:
        return self.groups["documents"]

    @property
    def events(self) -> list[dict[str, Any]]:
        return self.groups["events"]

    @property
    def conveyances(self) -> list[dict[str, Any]]:
        return self.groups["conveyances"]

    @classmethod
    def blank(cls, external_ref: str) -> ReportForm:
        values = dict.fromkeys(REPORT_FIELDS, "")
        values.update(external_ref=external_ref, case_type="TPPO", tlp="AMBER")
        groups: dict[str, list[dict[str, Any]]] = {name: [] for name in GROUPS}
        groups["persons"].append(GROUPS["persons"].blank())
        return cls(values=values, choices={name: [] for name in REPORT_CHOICES}, groups=groups)

    @classmethod
    def parse(cls, form: FormData) -> ReportForm:
        groups = {
            name: [
                {
                    **{f: _text(form, f"{name}-{i}-{f}") for f in group.fields},
                    **{c: _picked(form, f"{name}-{i}-{c}") for c in group.choices},
                }
                for i in range(_count(form, f"{group.singular}_count"))
            ]
            for name, group in GROUPS.items()
        }
        return cls(
            values={name: _text(form, name) for name in REPORT_FIELDS},
            choices={name: _picked(form, name) for name in REPORT_CHOICES},
            recipients=_picked(form, "recipients"),
            groups=groups,
        )

    @classmethod
    def of_report(cls, body: Mapping[str, Any]) -> ReportForm:
        """The form filled with a stored report's body (``ReportOut`` as JSON): every field the
        officer may correct, written as the inputs show it."""
        values = {name: _shown(name, _at(body, name)) for name in REPORT_FIELDS}
        choices = {name: [str(v) for v in _at(body, name) or []] for name in REPORT_CHOICES}
        groups = {
            name: [
                {
                    **{f: _shown(f, row.get(f)) for f in group.fields},
                    **{c: [str(v) for v in row.get(c) or []] for c in group.choices},
                }
                for row in body.get(name) or []
            ]
            for name, group in GROUPS.items()
        }
        recipients = [str(code) for code in body.get("recipients") or []]
        return cls(values=values, choices=choices, recipients=recipients, groups=groups)

    def apply(self, action: str) -> bool:
        """Add or remove a row (``add_person``, ``remove_event-2``); whether ``action`` was one
        (then the form is shown again instead of being submitted)."""
        verb, _, rest = action.partition("_")
        singular, _, index = rest.partition("-")
        group = next((g for g in GROUPS.values() if g.singular == singular), None)
        if group is None:
            return False
        rows = self.groups[group.name]
        if verb == "add" and not index:
            if len(rows) < MAX_GROUP:
                rows.append(group.blank())
            return True
        if verb == "remove" and index.isdigit():
            if int(index) < len(rows):
                del rows[int(index)]
            return True
        return False

    def body(self, reported_at: str, like: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """The report body for the API's schema: empty inputs left out, as if never sent;
        ``reported_at`` is when the officer opened the form (ISO 8601 with offset).

        ``like``: the stored body a correction starts from. Ticked codes come back in the order
        of the form's boxes; those the report already had keep its order, so a form sent back
        unchanged is the very same body (no new version for a reordering)."""
        before: Mapping[str, Any] = like or {}
        body: dict[str, Any] = {"reported_at": reported_at}
        for name, value in self.values.items():
            if value:
                _put(body, name, _value(name, value))
        for name, picked in self.choices.items():
            if picked:
                _put(body, name, _ordered_like(picked, _at(before, name)))
        if self.recipients:
            body["recipients"] = _ordered_like(self.recipients, before.get("recipients"))
        for name, rows in self.groups.items():
            stored = before.get(name) or []
            body[name] = [
                _row(row, stored[i] if i < len(stored) else {}) for i, row in enumerate(rows)
            ]
        return body

    def field_ids(self) -> set[str]:
        """The ids of every input (and group) on the form, where errors may be shown."""
        ids = {*REPORT_FIELDS, *REPORT_CHOICES, "recipients", *GROUPS}
        ids |= {"recruitment", "assessment"}  # their collapsed sections carry these ids
        for name, group in GROUPS.items():
            for i in range(len(self.groups[name])):
                row = f"{name}-{i}"
                ids |= {row, *(f"{row}-{f}" for f in (*group.fields, *group.choices))}
        return ids

    def open_sections(self, error_ids: Iterable[str]) -> set[str]:
        """The collapsed sections (:data:`SECTIONS`, and ``persons-<i>-more``) to show open:
        those holding a value or an error, so nothing typed or wrong is hidden."""
        errors = list(error_ids)
        held = [name for name, value in self.values.items() if value]
        held += [name for name, picked in self.choices.items() if picked]
        held += [name for name, rows in self.groups.items() if rows]
        opened = {
            section
            for section, prefixes in SECTIONS.items()
            if any(n.startswith(prefixes) for n in (*held, *errors))
        }
        for i, person in enumerate(self.persons):
            more = tuple(f"persons-{i}-{f}" for f in PERSON_MORE)
            if any(person.get(f) for f in PERSON_MORE) or any(e.startswith(more) for e in errors):
                opened.add(f"persons-{i}-more")
        return opened


def _at(body: Mapping[str, Any], name: str) -> Any:
    """The value at input ``name`` in a nested body (``location-place`` → body.location.place)."""
    value: Any = body
    for part in name.split("-"):
        if not isinstance(value, Mapping):
            return None
        value = value.get(part)
    return value


def _put(body: dict[str, Any], name: str, value: Any) -> None:
    *parents, last = name.split("-")
    for part in parents:
        body = body.setdefault(part, {})
    body[last] = value


def _shown(name: str, value: Any) -> str:
    """A stored value as its input holds it: lists with commas, dates as the officer writes."""
    if value is None:
        return ""
    last = name.rsplit("-", 1)[-1]
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    if last in _DATES:
        return shown_date(str(value))
    return str(value)


def _value(name: str, value: str) -> Any:
    last = name.rsplit("-", 1)[-1]
    if last in _LISTS:
        parts = [part.strip() for part in value.split(",") if part.strip()]
        return [part.upper() for part in parts] if last in _COUNTRIES else parts
    if last in _COUNTRIES:
        return value.upper()
    if last in _DATES:
        return form_date(value)
    if last == "birth_year":
        return int(value) if value.isdigit() else value
    if last in _NUMBERS:
        try:
            return float(value.replace(",", "."))
        except ValueError:
            return value  # refused by the schema beside the field, as typed
    return value


def _row(values: Mapping[str, Any], before: Mapping[str, Any]) -> dict[str, Any]:
    return {
        name: _ordered_like(value, before.get(name))
        if isinstance(value, list)
        else _value(name, value)
        for name, value in values.items()
        if value
    }


def _ordered_like(picked: list[str], before: Any) -> list[str]:
    """``picked``, with the codes that ``before`` (a stored list) holds first, in its order."""
    kept = [code for code in before if code in picked] if isinstance(before, list) else []
    return kept + [code for code in picked if code not in kept]


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
