"""The report page (``/laporan/<id>``): every field, the versions and what each changed, and the
source agency's retract and close, each behind a confirmation page.

The routes call the same services as ``/v1/reports`` (``read_detail``, ``history``, ``retract``,
``close``): a report outside the officer's need-to-know is the console's 404 page, exactly as
for a missing one. This module only turns codes into words and a body into rows.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError

from app.api.audit_hook import AuditDep
from app.api.deps import SessionDep
from app.errors import FieldProblem, Forbidden
from app.schemas.report import ReportCloseIn, ReportRetractIn
from app.services import reports as service
from app.services.report_changes import FieldChange, PathStep, version_history
from app.vocab.code_lists import UnknownCodeList, code_list
from app.web.forms import NO_ERRORS, FormErrors, form_errors
from app.web.i18n import LANGUAGE_COOKIE, Language, language_from
from app.web.messages import flash
from app.web.session import ConsoleOfficer, audited
from app.web.templating import catalogue_for, render

router = APIRouter(include_in_schema=False)

#: Only a UUID matches: any other ``/laporan/…`` is no page at all (404 before signing in).
REPORT = "/laporan/{report_id:uuid}"

#: The code list each coded field takes its words from: ``section.field`` (top level: ``field``).
CODED_FIELDS: dict[str, str] = {
    "case_type": "case_types",
    "tlp": "tlp",
    "modus_operandi": "modus_operandi",
    "exploitation_types": "exploitation_types",
    "forced_labour_sector": "forced_labour_sectors",
    "means_of_control": "means_of_control",
    "destination_countries": "countries",
    "transit_countries": "countries",
    "actions_taken": "actions_taken",
    "location.region_code": "regions",
    "persons.role": "person_roles",
    "persons.sex": "sexes",
    "persons.nationality": "countries",
    "persons.region_code": "regions",
    "persons.trafficking_status": "trafficking_statuses",
    "persons.relationship_to_recruiter": "relationships_to_recruiter",
    "persons.perpetrator_roles": "perpetrator_roles",
    "recruitment.methods": "recruitment_methods",
    "recruitment.channels": "recruitment_channels",
    "recruitment.location.region_code": "regions",
    "events.type": "event_types",
    "events.country": "countries",
    "events.region_code": "regions",
    "assessment.source_reliability": "source_reliability",
    "assessment.information_accuracy": "information_accuracy",
    "documents.type": "document_types",
    "documents.status": "document_statuses",
    "documents.issuing_country": "countries",
    "conveyances.type": "conveyance_types",
    "conveyances.flag_country": "countries",
}

#: The parts of the page, in order, and the top-level fields each shows as rows.
SUMMARY = (
    "case_type",
    "tlp",
    "reported_at",
    "occurred_from",
    "occurred_to",
    "linked_report_ids",
)
CIRCUMSTANCES = (
    "modus_operandi",
    "exploitation_types",
    "forced_labour_sector",
    "means_of_control",
    "destination_countries",
    "transit_countries",
    "actions_taken",
)
#: Lists of objects shown one card (or table row) per item.
ITEM_LISTS = ("persons", "events", "documents", "conveyances")


@dataclass(frozen=True)
class Row:
    """One field as the page shows it: its label and its value in words."""

    label: str
    value: str


@dataclass(frozen=True)
class ChangeLine:
    """One change of a version, in words."""

    kind: str
    field: str
    before: str
    after: str


class Words:
    """Labels and values in the request's language: code-list labels, WIB dates, field names."""

    def __init__(self, request: Request) -> None:
        self.catalogue = catalogue_for(request)
        self.english = language_from(request.cookies.get(LANGUAGE_COOKIE)) is Language.EN

    def field(self, name: str) -> str:
        key = f"report.field.{name}"
        return self.catalogue.text(key) if self.catalogue.has(key) else name

    def code(self, list_name: str, value: str) -> str:
        try:
            found = code_list(list_name).get(value)
        except UnknownCodeList:
            found = None
        if found is None:
            return value
        return found.label_en if self.english else found.label_id

    def value(self, where: str, value: Any) -> str:
        """``value`` of the field at ``where`` (``persons.sex``) in words."""
        list_name = CODED_FIELDS.get(where)
        if isinstance(value, list):
            return ", ".join(self.value(where, v) for v in value)
        if isinstance(value, dict):
            return "; ".join(
                f"{self.field(k)}: {self.value(f'{where}.{k}', v)}"
                for k, v in value.items()
                if v not in (None, [], {}, "")
            )
        if list_name is not None and isinstance(value, str):
            return self.code(list_name, value)
        if isinstance(value, datetime):
            return self.catalogue.datetime(value)
        if isinstance(value, date):
            return self.catalogue.date(value)
        if isinstance(value, str) and where == "reported_at":
            return self.catalogue.datetime(datetime.fromisoformat(value))
        if isinstance(value, str) and where.rsplit(".", 1)[-1] in {
            "occurred_from",
            "occurred_to",
            "date",
            "date_of_birth",
        }:
            try:
                return self.catalogue.date(date.fromisoformat(value))
            except ValueError:
                return value
        return str(value)

    def rows(
        self, section: str, data: Mapping[str, Any], fields: Sequence[str] | None = None
    ) -> list[Row]:
        """The non-empty fields of ``data`` (or only ``fields``) as rows."""
        names = fields if fields is not None else list(data)
        prefix = f"{section}." if section else ""
        return [
            Row(self.field(name), self.value(prefix + name, data[name]))
            for name in names
            if data.get(name) not in (None, [], {}, "")
        ]

    def path(self, path: tuple[PathStep, ...]) -> str:
        """``persons/1/nik`` as ``Orang 2 / NIK``."""
        parts: list[str] = []
        for step in path:
            if isinstance(step, int):
                parts[-1] = f"{parts[-1]} {step + 1}"
            else:
                parts.append(self.field(step))
        return " / ".join(parts)

    def change(self, change: FieldChange) -> ChangeLine:
        where = ".".join(s for s in change.path if isinstance(s, str))

        def show(value: Any) -> str:
            return "" if value is None else self.value(where, value)

        return ChangeLine(
            kind=change.kind.value,
            field=self.path(change.path),
            before=show(change.before),
            after=show(change.after),
        )


@router.get(REPORT, response_class=HTMLResponse)
async def report_page(
    request: Request,
    audit: AuditDep,
    report_id: uuid.UUID,
    session: SessionDep,
    officer: ConsoleOfficer,
) -> Response:
    """Every field of a report the officer's agency may see, its case, routing and history."""
    audited(request, audit, officer, "report.read")
    caller = officer.principal
    detail = await service.read_detail(session, caller, report_id)
    history = version_history(await service.history(session, caller, report_id))
    words = Words(request)
    body = detail.report.model_dump(mode="json", exclude_none=True)
    persons = [
        {
            "rows": words.rows("persons", p, [k for k in p if k not in {"role", "entity_id"}]),
            "role": words.value("persons.role", p["role"]),
            "entity_id": p.get("entity_id"),
        }
        for p in body.get("persons", [])
    ]
    context: dict[str, Any] = {
        "identity": officer.identity,
        "report": detail.report,
        "detail": detail,
        "summary": words.rows("", body, SUMMARY),
        "location": words.rows("location", body.get("location") or {}),
        "circumstances": words.rows("", body, CIRCUMSTANCES),
        "persons": persons,
        "recruitment": words.rows("recruitment", body.get("recruitment") or {}),
        "events": [words.rows("events", e) for e in body.get("events", [])],
        "assessment": words.rows("assessment", body.get("assessment") or {}),
        "documents": [words.rows("documents", d) for d in body.get("documents", [])],
        "conveyances": [words.rows("conveyances", c) for c in body.get("conveyances", [])],
        "history": [
            {"version": v, "changes": [words.change(c) for c in v.changes]} for v in history
        ],
    }
    return render(request, "pages/report/report.html", context)


# --- retract and close -------------------------------------------------------------------------


async def _own(
    session: SessionDep, officer: ConsoleOfficer, report_id: uuid.UUID
) -> service.ReportDetail:
    """The report, if the officer's agency submitted it (404 if invisible, 403 otherwise)."""
    detail = await service.read_detail(session, officer.principal, report_id)
    if not detail.may_change:
        raise Forbidden(detail="Only the agency that submitted a report may change it")
    return detail


def _confirm(
    request: Request,
    officer: ConsoleOfficer,
    detail: service.ReportDetail,
    action: str,
    *,
    reason: str = "",
    errors: FormErrors = NO_ERRORS,
    status_code: int = 200,
) -> Response:
    context: dict[str, Any] = {
        "identity": officer.identity,
        "report": detail.report,
        "detail": detail,
        "action": action,
        "reason": reason,
        "errors": errors,
    }
    return render(request, "pages/report/confirm.html", context, status_code=status_code)


Reason = Annotated[str, Form(alias="alasan", max_length=4000)]


@router.get(REPORT + "/tarik", response_class=HTMLResponse)
async def retract_page(
    request: Request,
    audit: AuditDep,
    report_id: uuid.UUID,
    session: SessionDep,
    officer: ConsoleOfficer,
) -> Response:
    """Say what retracting does and ask for the reason."""
    audited(request, audit, officer, "report.read")
    return _confirm(request, officer, await _own(session, officer, report_id), "retract")


@router.post(REPORT + "/tarik", response_class=HTMLResponse)
async def retract(
    request: Request,
    audit: AuditDep,
    report_id: uuid.UUID,
    session: SessionDep,
    officer: ConsoleOfficer,
    reason: Reason = "",
) -> Response:
    """Retract with the reason; recipients get ``report.retracted``."""
    audited(request, audit, officer, "report.retract")
    detail = await _own(session, officer, report_id)
    try:
        body = ReportRetractIn(reason=reason)
    except ValidationError as error:
        errors = _reason_error(request, error)
        return _confirm(
            request, officer, detail, "retract", reason=reason, errors=errors, status_code=422
        )
    await service.retract(session, officer.principal, detail.report.id, body.reason)
    return _back(request, detail, "flash.report.retracted")


@router.get(REPORT + "/tutup", response_class=HTMLResponse)
async def close_page(
    request: Request,
    audit: AuditDep,
    report_id: uuid.UUID,
    session: SessionDep,
    officer: ConsoleOfficer,
) -> Response:
    """Say what closing does and ask for an optional note."""
    audited(request, audit, officer, "report.read")
    return _confirm(request, officer, await _own(session, officer, report_id), "close")


@router.post(REPORT + "/tutup", response_class=HTMLResponse)
async def close(
    request: Request,
    audit: AuditDep,
    report_id: uuid.UUID,
    session: SessionDep,
    officer: ConsoleOfficer,
    reason: Reason = "",
) -> Response:
    """Close the report (the case is done); the retention clock starts."""
    audited(request, audit, officer, "report.close")
    detail = await _own(session, officer, report_id)
    try:
        body = ReportCloseIn(reason=reason or None)
    except ValidationError as error:
        errors = _reason_error(request, error)
        return _confirm(
            request, officer, detail, "close", reason=reason, errors=errors, status_code=422
        )
    await service.close(session, officer.principal, detail.report.id, body.reason)
    return _back(request, detail, "flash.report.closed")


def _reason_error(request: Request, error: ValidationError) -> FormErrors:
    """The reason field's error in the officer's words (the only field of these forms)."""
    del error  # empty, too long or with control characters: one message says what is wanted
    message = catalogue_for(request).text("report.confirm.reason_invalid")
    return form_errors([FieldProblem("/reason", message)])


def _back(request: Request, detail: service.ReportDetail, message: str) -> RedirectResponse:
    response = RedirectResponse(f"/laporan/{detail.report.id}", status_code=303)
    flash(request, response, message)
    return response
