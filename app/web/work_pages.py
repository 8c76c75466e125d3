"""The officer's working pages: counter screening, the new-report form, the case page.

Routes parse the form, call the same services as the API (with the same permission aliases, so
the same need-to-know, role narrowing and CSRF check) and render a template; they hold no rule
of their own. None of them is in the OpenAPI spec.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TypeVar

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.datastructures import FormData

from app.api.audit_hook import AuditDep, RequestAudit
from app.api.deps import (
    CSRF_FORM_FIELD,
    AgencyReader,
    AgencyWriter,
    Principal,
    Screener,
    SessionDep,
    SettingsDep,
    session_cookie_name,
)
from app.config import Settings
from app.errors import (
    Conflict,
    FieldProblem,
    Forbidden,
    InvalidInput,
    NotFound,
    PreconditionFailed,
    field_problems_from_validation,
)
from app.schemas.report import ReportCreated, ReportIn, ReportStatus, ReportWarning
from app.schemas.screening import PersonQuery, ScreeningIn
from app.services import cases, officer_sessions, reports, screening
from app.services.agencies import member_agencies
from app.services.regions import find_regions, region_name
from app.services.report_changes import changes_between
from app.web.forms import NO_ERRORS, FormErrors, form_errors
from app.web.i18n import Catalogue, to_wib
from app.web.messages import flash
from app.web.report_form import ReportForm, form_date, options, placed
from app.web.report_pages import ChangeLine, Words
from app.web.templating import catalogue_for, render

router = APIRouter(include_in_schema=False)

#: The fields of the counter screening form, in the order the officer types them.
SCREENING_FIELDS = ("full_name", "date_of_birth", "nik", "passport_number")


def typed_values(form: FormData, names: Iterable[str]) -> dict[str, str]:
    """What the officer typed in the fields ``names``, trimmed (kept to refill the form)."""
    values: dict[str, str] = {}
    for name in names:
        value = form.get(name)
        values[name] = value.strip() if isinstance(value, str) else ""
    return values


def filled(values: Mapping[str, str]) -> dict[str, str]:
    """The fields that hold something: an empty field is an absent one, as in the API."""
    return {name: value for name, value in values.items() if value}


def worded_errors(
    request: Request, problems: Iterable[FieldProblem], *, strip: str = "", whole: str = ""
) -> FormErrors:
    """The API's field problems for a form: pointers under ``strip`` re-rooted at the form,
    a problem about the whole object placed on the field ``whole``, each message in the
    officer's language when the catalogue words its code (the API's English otherwise)."""
    words = catalogue_for(request)
    placed: list[FieldProblem] = []
    for problem in problems:
        pointer = problem.pointer
        if strip and pointer.startswith(strip):
            pointer = pointer[len(strip) :]
        if not pointer and whole:
            pointer = whole
        key = f"screening.problem.{problem.code}"
        detail = words.text(key) if words.has(key) else problem.detail
        placed.append(FieldProblem(pointer, detail, problem.code, problem.location))
    return form_errors(placed)


_Answer = TypeVar("_Answer", bound=Response)


def answered(audit: RequestAudit, response: _Answer) -> _Answer:
    """``response``, with its status told to the request's audit event (a refused form is 422,
    a redirect 303), so the audit trail records what the officer actually got."""
    audit.response.status_code = response.status_code
    return response


def page(
    request: Request,
    settings: Settings,
    template: str,
    context: dict[str, Any],
    *,
    status_code: int = 200,
) -> HTMLResponse:
    """``render`` with what every working page's forms need: the session's CSRF token (for the
    hidden ``csrf_token`` field) and ``t_has`` (whether the catalogue words a code)."""
    cookie = request.cookies.get(session_cookie_name(settings))
    csrf = officer_sessions.csrf_token(settings, cookie) if cookie else ""
    words = catalogue_for(request)
    return render(
        request,
        template,
        {"csrf_token": csrf, "csrf_field": CSRF_FORM_FIELD, "t_has": words.has, **context},
        status_code=status_code,
    )


# --- counter screening (Pemeriksaan) ------------------------------------------------------------


def _screening_page(
    request: Request,
    settings: Settings,
    *,
    values: Mapping[str, str],
    errors: FormErrors = NO_ERRORS,
    result: Any = None,
    status_code: int = 200,
) -> HTMLResponse:
    return page(
        request,
        settings,
        "pages/screening/screening.html",
        {"values": values, "errors": errors, "result": result, "fields": SCREENING_FIELDS},
        status_code=status_code,
    )


@router.get("/pemeriksaan", response_class=HTMLResponse)
async def screening_form(
    request: Request, principal: Screener, settings: SettingsDep, audit: AuditDep
) -> HTMLResponse:
    """Pemeriksaan: the counter screening form, empty."""
    audit.action("console.screening.form")
    return _screening_page(request, settings, values=dict.fromkeys(SCREENING_FIELDS, ""))


@router.post("/pemeriksaan", response_class=HTMLResponse)
async def screening_check(
    request: Request,
    principal: Screener,
    session: SessionDep,
    settings: SettingsDep,
    audit: AuditDep,
) -> HTMLResponse:
    """Screen one person at the counter; nothing about them is stored, the query is audited."""
    audit.action("screening.query")
    values = typed_values(await request.form(), SCREENING_FIELDS)
    query = filled(values)
    if "date_of_birth" in query:
        query["date_of_birth"] = form_date(query["date_of_birth"])
    try:
        person = PersonQuery.model_validate(query)
    except ValidationError as invalid:
        problems = field_problems_from_validation(invalid.errors())
        return _screening_page(
            request,
            settings,
            values=values,
            errors=worded_errors(request, problems),
            status_code=422,
        )
    try:
        answer = await screening.screen(
            session,
            principal,
            ScreeningIn(persons=[person]),
            settings=screening.ScreeningSettings.of(settings),
        )
    except InvalidInput as invalid:
        errors = worded_errors(request, invalid.errors, strip="/persons/0", whole="/full_name")
        return answered(
            audit,
            _screening_page(request, settings, values=values, errors=errors, status_code=422),
        )
    result = answer.results[0]
    audit.note("persons", "1")
    audit.note("persons_with_hits", "1" if result.hit else "0")
    audit.note("hits", str(len(result.hits)))
    return _screening_page(request, settings, values=values, result=result)


# --- the report form: a new report (Laporan baru) and a correction (Koreksi) ----------------------

#: The code lists the report form offers (selects and ticks), by the name the template uses.
FORM_VOCAB = (
    "modus_operandi",
    "exploitation_types",
    "forced_labour_sectors",
    "means_of_control",
    "actions_taken",
    "person_roles",
    "sexes",
    "trafficking_statuses",
    "relationships_to_recruiter",
    "perpetrator_roles",
    "document_types",
    "document_statuses",
    "recruitment_methods",
    "recruitment_channels",
    "event_types",
    "source_reliability",
    "information_accuracy",
    "conveyance_types",
)


@dataclass(frozen=True)
class Correction:
    """The form corrects a stored report: which one, and the version the officer's values start
    from (sent as ``If-Match``, as the API's ``PUT`` wants). ``moved_on`` holds, after a refused
    save, the version someone else saved meanwhile and what it changed."""

    report_id: uuid.UUID
    version: int
    moved_on: int | None = None
    changes: tuple[ChangeLine, ...] = ()

    @property
    def action(self) -> str:
        return f"/laporan/{self.report_id}/koreksi"


async def _report_page(
    request: Request,
    session: AsyncSession,
    settings: Settings,
    principal: Principal,
    report: ReportForm,
    reported_at: str,
    *,
    errors: FormErrors = NO_ERRORS,
    status_code: int = 200,
    correction: Correction | None = None,
) -> HTMLResponse:
    words = catalogue_for(request)
    language = words.language
    tlp_levels = [
        (code, label, words.text(f"newreport.tlp.{code}"))
        for code, label in options("tlp", language)
    ]
    recipients = [
        (agency.code, agency.name)
        for agency in await member_agencies(session)
        if agency.code != principal.agency_code
    ]
    return page(
        request,
        settings,
        "pages/new_report/form.html",
        {
            "report": report,
            "reported_at": reported_at,
            "errors": errors,
            "vocab": {name: options(name, language) for name in FORM_VOCAB},
            "case_types": options("case_types", language),
            "tlp_levels": tlp_levels,
            "recipients": recipients,
            "region_label": region_name(report.values.get("location-region_code")),
            "open_sections": report.open_sections(errors.by_field),
            "correction": correction,
            "form_action": correction.action if correction else "/laporan-baru",
        },
        status_code=status_code,
    )


def suggested_reference(agency_code: str, now: datetime) -> str:
    """A reference for agencies without their own numbering: code, WEB and the WIB time."""
    return f"{agency_code}/WEB/{to_wib(now):%Y%m%d-%H%M%S}"


@router.get("/laporan-baru", response_class=HTMLResponse)
async def new_report_form(
    request: Request,
    principal: AgencyWriter,
    session: SessionDep,
    settings: SettingsDep,
    audit: AuditDep,
) -> HTMLResponse:
    """Laporan baru: the report form, empty but for a suggested reference."""
    audit.action("console.report.form")
    now = datetime.now(UTC)
    report = ReportForm.blank(suggested_reference(principal.agency_code, now))
    return await _report_page(request, session, settings, principal, report, now.isoformat())


@router.get("/laporan-baru/wilayah", response_class=HTMLResponse)
async def region_search(
    request: Request, principal: AgencyWriter, audit: AuditDep, q: str = ""
) -> HTMLResponse:
    """The regions matching what the officer typed (an htmx fragment of the report form)."""
    audit.action("console.region.search")
    regions = [{"code": r.code, "name": r.label_id} for r in find_regions(q[:100])]
    return render(
        request, "pages/new_report/region_results.html", {"regions": regions, "query": q.strip()}
    )


@router.post("/laporan-baru", response_class=HTMLResponse)
async def new_report_submit(
    request: Request,
    principal: AgencyWriter,
    session: SessionDep,
    settings: SettingsDep,
    audit: AuditDep,
) -> HTMLResponse:
    """Add or remove a row (person, document, event, vessel), or submit the report through the
    ingest service."""
    audit.action("report.create")
    form = await request.form()
    report = ReportForm.parse(form)
    reported_at = (
        typed_values(form, ["reported_at"])["reported_at"] or datetime.now(UTC).isoformat()
    )
    action = typed_values(form, ["action"])["action"]
    if report.apply(action):
        audit.action("console.report.form")
        return await _report_page(request, session, settings, principal, report, reported_at)
    try:
        body = ReportIn.model_validate(report.body(reported_at))
        # a savepoint: a report refused halfway leaves nothing behind in the request's transaction
        async with session.begin_nested():
            _, created = await reports.submit(
                session,
                principal,
                body,
                idempotency_key=None,
                settings=reports.IngestSettings.of(settings),
            )
    except ValidationError as invalid:
        problems = field_problems_from_validation(invalid.errors())
        refused_page = await _report_refused(
            request, session, settings, principal, report, reported_at, problems
        )
        return answered(audit, refused_page)
    except (InvalidInput, Conflict) as refused:
        problems = refused.errors or [FieldProblem("/external_ref", refused.detail, refused.slug)]
        refused_page = await _report_refused(
            request, session, settings, principal, report, reported_at, problems
        )
        return answered(audit, refused_page)
    audit.object("report", created.id)
    if created.case_id is not None:
        audit.object("case", created.case_id)
    return await _report_sent(request, session, principal, report, created)


async def _report_refused(
    request: Request,
    session: AsyncSession,
    settings: Settings,
    principal: Principal,
    report: ReportForm,
    reported_at: str,
    problems: Sequence[FieldProblem],
    correction: Correction | None = None,
) -> HTMLResponse:
    errors = worded_errors(request, placed(problems, report.field_ids()), whole="/form")
    return await _report_page(
        request,
        session,
        settings,
        principal,
        report,
        reported_at,
        errors=errors,
        status_code=422,
        correction=correction,
    )


async def _report_sent(
    request: Request,
    session: AsyncSession,
    principal: Principal,
    report: ReportForm,
    created: ReportCreated,
) -> HTMLResponse:
    """What resolution found, within need-to-know: the case, how often each person appears in
    other reports the officer may see (and why they were taken for the same person), and the
    agencies the report went to."""
    words = catalogue_for(request)
    roles = dict(options("person_roles", words.language))
    persons = []
    for result in created.persons:
        others = 0
        if result.entity_id is not None:
            try:
                network = await cases.person_network(session, principal, result.entity_id)
            except NotFound:
                network = None
            if network is not None:
                others = len({a.report_id for a in network.appearances} - {created.id})
        typed = report.persons[result.index] if result.index < len(report.persons) else {}
        persons.append(
            {
                "number": result.index + 1,
                "name": typed.get("full_name", ""),
                "role": roles.get(result.role, result.role),
                "other_reports": others,
                # why: only beside reports the officer may see, never about a hidden one
                "reasons": result.reasons if others else [],
            }
        )
    names = {agency.code: agency.name for agency in await member_agencies(session)}
    warnings = [
        {"where": _pointer_words(words, w.pointer), "text": _warning_words(words, w)}
        for w in created.warnings
    ]
    return render(
        request,
        "pages/new_report/sent.html",
        {
            "external_ref": report.values.get("external_ref", ""),
            "report_id": created.id,
            "case_id": created.case_id,
            "persons": persons,
            "routed_to": [
                names.get(code, code) for code in sorted({r.agency for r in created.routed_to})
            ],
            "warnings": warnings,
        },
    )


def _pointer_words(words: Catalogue, pointer: str) -> str:
    """``/persons/0/nik`` → "Orang 1 · NIK"."""
    parts = pointer.strip("/").split("/")
    if len(parts) == 3 and parts[0] == "persons" and parts[1].isdigit():
        field_key = f"newreport.person.{parts[2]}"
        named = words.text(field_key) if words.has(field_key) else parts[2]
        return f"{words.text('newreport.person.legend', number=int(parts[1]) + 1)} · {named}"
    return pointer


def _warning_words(words: Catalogue, warning: ReportWarning) -> str:
    key = f"screening.warning.{warning.code}"
    return words.text(key) if words.has(key) else warning.detail


# --- correcting a stored report (Koreksi) -------------------------------------------------------

#: Only a UUID matches, as on the report page.
CORRECTION = "/laporan/{report_id:uuid}/koreksi"


async def _correctable(
    session: AsyncSession, principal: Principal, report_id: uuid.UUID, *, standing: bool = True
) -> reports.ReportDetail:
    """The report, if the officer's agency submitted it: 404 if the officer may not see it (as
    if absent), 403 for a recipient, as the API's PUT; 409 once retracted when ``standing``."""
    detail = await reports.read_detail(session, principal, report_id)
    if not detail.may_change:
        raise Forbidden(detail="Only the agency that submitted a report may correct it")
    if standing and detail.report.status == ReportStatus.RETRACTED:
        raise Conflict(detail="A retracted report cannot be corrected")
    return detail


@router.get(CORRECTION, response_class=HTMLResponse)
async def correction_form(
    request: Request,
    report_id: uuid.UUID,
    principal: AgencyWriter,
    session: SessionDep,
    settings: SettingsDep,
    audit: AuditDep,
) -> HTMLResponse:
    """Koreksi: the report form filled with the current version's every field."""
    audit.action("report.read")
    detail = await _correctable(session, principal, report_id)
    body = detail.report.model_dump(mode="json", exclude_none=True)
    return await _report_page(
        request,
        session,
        settings,
        principal,
        ReportForm.of_report(body),
        body["reported_at"],
        correction=Correction(detail.report.id, detail.report.version),
    )


def _based_on(form: FormData) -> int:
    """The version the officer's form started from (0, never a version, if garbled)."""
    text = typed_values(form, ["version"])["version"]
    return int(text) if text.isdecimal() and len(text) < 10 else 0


@router.post(CORRECTION, response_class=HTMLResponse, response_model=None)
async def correction_submit(
    request: Request,
    report_id: uuid.UUID,
    principal: AgencyWriter,
    session: SessionDep,
    settings: SettingsDep,
    audit: AuditDep,
) -> HTMLResponse | RedirectResponse:
    """Add or remove a row, or save the form as a new version through the same service as
    ``PUT /v1/reports/{id}`` with ``If-Match`` the version the form started from."""
    audit.action("report.update")
    # retracted while the officer typed: the service refuses, the form keeps what was typed
    detail = await _correctable(session, principal, report_id, standing=False)
    form = await request.form()
    report = ReportForm.parse(form)
    reported_at = typed_values(form, ["reported_at"])["reported_at"]
    correction = Correction(report_id, _based_on(form))
    if report.apply(typed_values(form, ["action"])["action"]):
        audit.action("console.report.form")
        return await _report_page(
            request, session, settings, principal, report, reported_at, correction=correction
        )
    try:
        stored = detail.report.model_dump(mode="json", exclude_none=True)
        body = ReportIn.model_validate(report.body(reported_at, like=stored))
        async with session.begin_nested():  # refused halfway: nothing left behind
            out, warnings = await reports.correct(
                session,
                principal,
                report_id,
                body,
                if_match=f'"{correction.version}"',
                settings=reports.IngestSettings.of(settings),
            )
    except ValidationError as invalid:
        problems = field_problems_from_validation(invalid.errors())
    except PreconditionFailed:
        moved = await _moved_on(request, session, principal, correction)
        return answered(
            audit,
            await _report_page(
                request,
                session,
                settings,
                principal,
                report,
                reported_at,
                status_code=409,
                correction=moved,
            ),
        )
    except InvalidInput as refused:
        problems = refused.errors or [FieldProblem("", refused.detail, refused.slug)]
    except Conflict:  # retracted while the officer was typing
        words = catalogue_for(request)
        problems = [FieldProblem("", words.text("correct.error.retracted"), "retracted")]
    else:
        response = RedirectResponse(f"/laporan/{report_id}#versi-{out.version}", status_code=303)
        if out.version == correction.version:
            flash(request, response, "flash.report.correction_unchanged")
        elif warnings:
            flash(request, response, "flash.report.corrected_check_nik")
        else:
            flash(request, response, "flash.report.corrected")
        return answered(audit, response)
    refused_page = await _report_refused(
        request, session, settings, principal, report, reported_at, problems, correction
    )
    return answered(audit, refused_page)


async def _moved_on(
    request: Request, session: AsyncSession, principal: Principal, correction: Correction
) -> Correction:
    """The correction re-based on the report's current version, with what changed since the
    version the officer started from (their typed values stay on the form, unsaved)."""
    versions = await reports.history(session, principal, correction.report_id)
    bodies = {v.version: v.body for v in versions}
    current = versions[-1]
    words = Words(request)
    changes = changes_between(bodies.get(correction.version, {}), current.body)
    return Correction(
        correction.report_id,
        current.version,
        moved_on=current.version,
        changes=tuple(words.change(c) for c in changes),
    )


# --- the case page (Kasus) -------------------------------------------------------------------


def _case_id(text: str) -> uuid.UUID:
    """The case id of the path; anything that is not one answers 404, like an unknown case."""
    try:
        return uuid.UUID(text)
    except ValueError:
        raise NotFound(detail="No such case") from None


@router.get("/kasus/{case_id}", response_class=HTMLResponse)
async def case_page(
    request: Request,
    case_id: str,
    principal: AgencyReader,
    session: SessionDep,
    audit: AuditDep,
) -> HTMLResponse:
    """Kasus: the case's reports the officer may see, its persons, and their network."""
    audit.action("case.read")
    case = await cases.read_case(session, principal, _case_id(case_id))
    audit.object("case", case.id)
    persons = await cases.case_persons(session, case)
    words = catalogue_for(request)
    roles = dict(options("person_roles", words.language))
    tlps = dict(options("tlp", words.language))
    case_types = dict(options("case_types", words.language))
    names = {agency.code: agency.name for agency in await member_agencies(session)}
    reports = [
        {
            "id": r.report_id,
            "visible": r.visible,
            "held_by": names.get(r.held_by, r.held_by),
            "case_type": case_types.get(r.case_type or "", r.case_type),
            "tlp": tlps.get(r.tlp or "", r.tlp),
            "region": region_name(r.region_code),
            "reported_at": r.reported_at,
        }
        for r in case.reports
    ]
    people = [
        {
            "key": f"p{index}",
            "name": p.names[0] if p.names else words.text("case.unnamed"),
            "aliases": p.names[1:],
            "roles": [roles.get(role, role) for role in p.roles],
            "reports": [str(r) for r in p.report_ids],
        }
        for index, p in enumerate(persons)
    ]
    holders = [r.held_by for r in case.reports]  # codes: short labels for the drawing
    graph = {
        "nodes": [
            {
                "id": f"r{index}",
                "kind": "report" if r["visible"] else "hidden",
                "label": code,
                "href": f"/laporan/{r['id']}" if r["visible"] else None,
                "report": str(r["id"]) if r["visible"] else None,
            }
            for index, (r, code) in enumerate(zip(reports, holders, strict=True))
        ]
        + [
            {"id": p["key"], "kind": "person", "label": p["name"], "roles": p["roles"]}
            for p in people
        ],
        "edges": [
            {"source": p["key"], "target": f"r{index}"}
            for p in people
            for index, r in enumerate(reports)
            if r["visible"] and str(r["id"]) in p["reports"]
        ],
    }
    return render(
        request,
        "pages/case/case.html",
        {
            "case": case,
            "reports": reports,
            "people": people,
            "graph": graph,
            "links": case.links,
            "t_has": words.has,
        },
    )
