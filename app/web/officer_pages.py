"""The officer's own pages: home (``/``), the inbox (*Kotak masuk*) and the report page.

Each route takes the signed-in officer (``ConsoleOfficer``), calls the same services as the
API (``app.services.delivery``, ``app.services.reports``) and renders a template; the services
decide what the officer's agency may see, so a report outside its need-to-know is the
console's 404 page, exactly as for a missing one.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from app.api.audit_hook import AuditDep, RequestAudit
from app.api.deps import SessionDep, SettingsDep
from app.schemas.delivery import InboxItem
from app.services import delivery as deliveries
from app.vocab.code_lists import code_list
from app.vocab.enums import SessionStage
from app.web.i18n import LANGUAGE_COOKIE, Language, language_from
from app.web.messages import flash
from app.web.paths import local_target
from app.web.session import (
    SETUP,
    ConsoleOfficer,
    MaybeSession,
    SignedInConsole,
    audited,
    console_officer,
    sign_in_page,
)
from app.web.templating import render

router = APIRouter(include_in_schema=False)

INBOX = "/kotak-masuk"
#: Events an officer's inbox shows (``key.expiring`` is for the agency's system administrator).
INBOX_EVENTS = ("report.routed", "report.updated", "report.retracted", "case.linked", "watch.hit")
#: How many items each part of the home page shows.
HOME_ITEMS = 5
INBOX_PAGE = 25
CASE_TYPES = "case_types"


@dataclass(frozen=True)
class InboxEntry:
    """One inbox line as the console shows it: what happened, when, about which report."""

    id: uuid.UUID
    event: str
    created_at: datetime
    acked: bool
    report_id: uuid.UUID | None
    external_ref: str | None
    case_type: str | None
    tlp: str | None
    from_agency: str | None
    case_id: str | None
    note: str | None
    reason: str | None


def _name_entries(audit: RequestAudit, entries: list[InboxEntry]) -> None:
    """The audit event names each delivery shown and its report (ids only)."""
    audit.object("delivery", *(e.id for e in entries))
    audit.object("report", *(e.report_id for e in entries if e.report_id is not None))


def _entry(item: InboxItem) -> InboxEntry:
    payload: dict[str, Any] = item.payload
    report: dict[str, Any] = payload.get("report") or {}
    return InboxEntry(
        id=item.id,
        event=item.event,
        created_at=item.created_at,
        acked=item.acked_at is not None,
        report_id=item.report_id,
        external_ref=report.get("external_ref"),
        case_type=report.get("case_type"),
        tlp=report.get("tlp"),
        from_agency=report.get("source_agency")
        or payload.get("linked_by_agency")
        or payload.get("contact_agency"),
        case_id=payload.get("case_id"),
        note=payload.get("note"),
        reason=payload.get("reason"),
    )


def _labels(request: Request, name: str) -> dict[str, str]:
    """A code list's labels in the request's language, in the list's order."""
    english = language_from(request.cookies.get(LANGUAGE_COOKIE)) is Language.EN
    return {c.code: c.label_en if english else c.label_id for c in code_list(name).codes}


# --- home --------------------------------------------------------------------------------------


@router.get("/", response_class=HTMLResponse)
async def home(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    current: MaybeSession,
    audit: AuditDep,
) -> Response:
    """Signed out: the sign-in page. Signed in: what needs attention, at a glance."""
    if current is None:
        return sign_in_page(request)
    if current.stage is not SessionStage.ACTIVE:
        return RedirectResponse(SETUP, status_code=303)
    officer = console_officer(current, settings)
    audited(request, audit, officer, "inbox.list")
    agency_id = officer.principal.agency_id
    counts = await deliveries.unacked_counts(session, agency_id)

    async def newest(event: str | None) -> list[InboxEntry]:
        page = await deliveries.inbox_newest(
            session,
            agency_id,
            deliveries.InboxFilter(event=event),
            cursor=None,
            limit=HOME_ITEMS,
        )
        shown = [_entry(deliveries.inbox_item(d)) for d in page.items if d.event in INBOX_EVENTS]
        _name_entries(audit, shown)
        return shown

    context = {
        "identity": officer.identity,
        "unacked": sum(counts.get(e, 0) for e in INBOX_EVENTS),
        "counts": {e: counts.get(e, 0) for e in INBOX_EVENTS},
        "latest": await newest(None),
        "watch_hits": await newest("watch.hit"),
        "cases_grew": await newest("case.linked"),
        "case_types": _labels(request, CASE_TYPES),
    }
    return render(request, "pages/home.html", context)


# --- inbox -------------------------------------------------------------------------------------


def _day(value: str | None) -> date | None:
    """A ``YYYY-MM-DD`` from a date input; anything else is no filter."""
    try:
        return date.fromisoformat(value) if value else None
    except ValueError:
        return None


def _filters(
    event: str | None, case_type: str | None, since: str | None, until: str | None, show: str | None
) -> deliveries.InboxFilter:
    return deliveries.InboxFilter(
        event=event if event in INBOX_EVENTS else None,
        case_type=case_type if case_type in code_list(CASE_TYPES) else None,
        since=_day(since),
        until=_day(until),
        include_acked=show == "semua",
    )


Event = Annotated[str | None, Query(max_length=40)]
CaseTypeFilter = Annotated[str | None, Query(max_length=16)]
Since = Annotated[str | None, Query(alias="dari", max_length=10)]
Until = Annotated[str | None, Query(alias="sampai", max_length=10)]
Show = Annotated[str | None, Query(alias="tampil", max_length=10)]


@router.get(INBOX, response_class=HTMLResponse)
async def inbox(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    officer: ConsoleOfficer,
    audit: AuditDep,
    event: Event = None,
    case_type: CaseTypeFilter = None,
    since: Since = None,
    until: Until = None,
    show: Show = None,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
) -> Response:
    """Kotak masuk: what was routed to the agency, newest first; filters; acknowledge."""
    audited(request, audit, officer, "inbox.list")
    filters = _filters(event, case_type, since, until, show)
    page = await deliveries.inbox_newest(
        session,
        officer.principal.agency_id,
        filters,
        cursor=cursor,
        limit=min(INBOX_PAGE, settings.max_page_size),
    )
    query = _filter_query(request)
    entries = [_entry(deliveries.inbox_item(d)) for d in page.items]
    _name_entries(audit, entries)
    context: dict[str, Any] = {
        "identity": officer.identity,
        "entries": entries,
        "next_cursor": page.next_cursor,
        "paged": cursor is not None,
        "filters": filters,
        "events": INBOX_EVENTS,
        "case_types": _labels(request, CASE_TYPES),
        "query": query,
        "newest": page.items[0].sequence if page.items else await _newest(session, officer),
    }
    return render(request, "pages/inbox/inbox.html", context)


def _filter_query(request: Request) -> str:
    """The inbox's filters as a query string (for the next page, the polling, going back)."""
    kept = [(k, v) for k, v in request.query_params.multi_items() if k not in {"cursor", "setelah"}]
    return urlencode(kept)


async def _newest(session: SessionDep, officer: SignedInConsole) -> int:
    """The newest sequence the agency has, so polling an empty inbox shows only what is new."""
    page = await deliveries.inbox_newest(
        session,
        officer.principal.agency_id,
        deliveries.InboxFilter(include_acked=True),
        cursor=None,
        limit=1,
    )
    return page.items[0].sequence if page.items else 0


@router.get(INBOX + "/baru", response_class=HTMLResponse)
async def inbox_new(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    officer: ConsoleOfficer,
    audit: AuditDep,
    after: Annotated[int, Query(alias="setelah", ge=0)] = 0,
    event: Event = None,
    case_type: CaseTypeFilter = None,
    since: Since = None,
    until: Until = None,
    show: Show = None,
) -> Response:
    """Rows that arrived since the page was drawn (htmx polls this; they go on top)."""
    audited(request, audit, officer, "inbox.list")
    filters = _filters(event, case_type, since, until, show)
    page = await deliveries.inbox_newest(
        session,
        officer.principal.agency_id,
        filters,
        cursor=None,
        limit=min(INBOX_PAGE, settings.max_page_size),
        after_sequence=after,
    )
    entries = [_entry(deliveries.inbox_item(d)) for d in page.items]
    _name_entries(audit, entries)
    context: dict[str, Any] = {
        "csrf": officer.identity.csrf,
        "entries": entries,
        "case_types": _labels(request, CASE_TYPES),
        "query": _filter_query(request),
        "newest": page.items[0].sequence if page.items else after,
    }
    return render(request, "pages/inbox/_new.html", context)


@router.post(INBOX + "/akui")
async def acknowledge(
    request: Request,
    session: SessionDep,
    officer: ConsoleOfficer,
    audit: AuditDep,
    delivery_ids: Annotated[list[uuid.UUID], Form(alias="id", max_length=200)],
    back: Annotated[str, Form(alias="kembali", max_length=2000)] = INBOX,
) -> RedirectResponse:
    """Acknowledge one or many items (another agency's id is ignored, as the API reports it)."""
    audited(request, audit, officer, "inbox.ack")
    acked, _unknown = await deliveries.ack(session, officer.principal.agency_id, delivery_ids)
    audit.object("delivery", *acked)
    response = RedirectResponse(local_target(back, INBOX), status_code=303)
    flash(request, response, "flash.inbox.acknowledged" if acked else "flash.inbox.nothing")
    return response
