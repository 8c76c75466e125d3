"""The audit trail in the administrators' console (issue 19): search, one event, the chain check
with anchors, and the export of a search.

SYSTEM_ADMIN only, as ``/v1/admin/audit`` (the ``Admin`` dependency): an AGENCY_ADMIN and every
other officer get the console's 404. Each page is itself an audited request, named
``audit.search``, ``audit.read``, ``audit.verify`` or ``audit.export``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, StreamingResponse
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.api.audit_hook import AuditDep, RequestAudit
from app.api.deps import SessionDep
from app.errors import FieldProblem, NotFound
from app.services import audit
from app.services.audit import AuditFilter, Outcome
from app.web.admin_common import AdminOfficer, SystemAdmin, admin_page
from app.web.forms import NO_ERRORS, FormErrors, form_errors
from app.web.templating import catalogue_for

router = APIRouter(prefix="/admin/audit", include_in_schema=False)

#: Events per page of the search.
PAGE_SIZE = 50
#: The search's query parameters (the console's words) and the filter field each one fills.
SEARCH_FIELDS = {
    "petugas": "officer",
    "instansi": "agency",
    "objek": "object_id",
    "tindakan": "action",
    "hasil": "outcome",
}
#: The longest value a search field accepts (an id, a username, an action name).
_MAX_LENGTH = 100


@dataclass(frozen=True)
class Search:
    """A search as typed (to show it again) and as the service's filter (None when invalid)."""

    typed: dict[str, str]
    query: AuditFilter | None
    errors: FormErrors

    def as_query_string(self) -> str:
        """The search in a URL (for the next page and the export), without empty fields."""
        return urlencode({k: v for k, v in self.typed.items() if v})


def _day(request: Request, value: str, name: str, problems: list[FieldProblem]) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        words = catalogue_for(request)
        problems.append(FieldProblem(f"/{name}", words.text("adminaudit.error.day"), "day"))
        return None


def read_search(request: Request) -> Search:
    """The search in the query string: officer, agency, object id, action, outcome, WIB days."""
    params = request.query_params
    typed = {
        name: params.get(name, "").strip()[:_MAX_LENGTH]
        for name in (*SEARCH_FIELDS, "dari", "sampai")
    }
    words = catalogue_for(request)
    problems: list[FieldProblem] = []
    if typed["hasil"] and typed["hasil"] not in set(Outcome):
        problems.append(FieldProblem("/hasil", words.text("adminaudit.error.outcome"), "outcome"))
    first = _day(request, typed["dari"], "dari", problems)
    last = _day(request, typed["sampai"], "sampai", problems)
    if first and last and last < first:
        problems.append(FieldProblem("/sampai", words.text("adminaudit.error.order"), "order"))
    if problems:
        return Search(typed, None, form_errors(problems))
    since, until = audit.wib_days(first, last)
    values = {field: typed[name] or None for name, field in SEARCH_FIELDS.items()}
    if values["agency"]:
        values["agency"] = values["agency"].upper()
    return Search(typed, AuditFilter(**values, since=since, until=until), NO_ERRORS)


def _note_search(audit_event: RequestAudit, search: Search) -> None:
    """Name the search in the page's own audit event (ids and codes only, no personal data)."""
    for name, value in search.typed.items():
        if value:
            audit_event.note(f"search.{name}", value)


async def _search_page(
    request: Request, admin: AdminOfficer, session: AsyncSession, search: Search
) -> HTMLResponse:
    page = None
    if search.query is not None:
        page = await audit.list_events(
            session, search.query, cursor=request.query_params.get("cursor"), limit=PAGE_SIZE
        )
    return admin_page(
        request,
        admin,
        "audit.html",
        {
            "typed": search.typed,
            "errors": search.errors,
            "outcomes": [o.value for o in Outcome],
            "events": page.items if page else [],
            "next_cursor": page.next_cursor if page else None,
            "paged": "cursor" in request.query_params,
            "query": search.as_query_string(),
        },
        status_code=422 if search.errors else 200,
    )


@router.get("", response_class=HTMLResponse)
async def search_page(
    request: Request, admin: SystemAdmin, session: SessionDep, audited: AuditDep
) -> HTMLResponse:
    """Search the trail by officer, agency, object, action, outcome and WIB days; newest first."""
    audited.action("audit.search")
    search = read_search(request)
    _note_search(audited, search)
    return await _search_page(request, admin, session, search)


@router.get("/ekspor", response_class=HTMLResponse, response_model=None)
async def export(
    request: Request, admin: SystemAdmin, session: SessionDep, audited: AuditDep
) -> HTMLResponse | StreamingResponse:
    """The search's events as JSON Lines, in chain order with both hashes, streamed.

    The download is audited (``audit.export``, with the search) before its first byte leaves;
    the events are read in batches after that, each in a short transaction of its own.
    """
    audited.action("audit.export")
    search = read_search(request)
    _note_search(audited, search)
    if search.query is None:
        return await _search_page(request, admin, session, search)
    head = await audit.chain_head(session)
    factory: async_sessionmaker[AsyncSession] = request.app.state.session_factory
    name = f"sinergi-audit-{head.seq if head else 0}.jsonl"
    return StreamingResponse(
        audit.stream_export(factory, search.query),
        media_type="application/jsonl; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


def _verify_page(
    request: Request,
    admin: AdminOfficer,
    head: audit.ChainHead | None,
    *,
    result: audit.VerifyResult | None = None,
    anchors: str = "",
    errors: FormErrors = NO_ERRORS,
    status_code: int = 200,
) -> HTMLResponse:
    return admin_page(
        request,
        admin,
        "audit_verify.html",
        {
            "head": head,
            "result": result,
            "anchors": anchors,
            "errors": errors,
            "checkpoint_action": audit.CHECKPOINT_ACTION,
        },
        status_code=status_code,
    )


@router.get("/verifikasi", response_class=HTMLResponse)
async def verify_form(
    request: Request, admin: SystemAdmin, session: SessionDep, audited: AuditDep
) -> HTMLResponse:
    """The chain's head (the anchor to keep outside Sinergi) and the button to check the chain."""
    audited.action("audit.anchor")
    return _verify_page(request, admin, await audit.chain_head(session))


@router.post("/verifikasi", response_class=HTMLResponse)
async def verify(
    request: Request, admin: SystemAdmin, session: SessionDep, audited: AuditDep
) -> HTMLResponse:
    """Walk the whole chain (and compare the anchors given); show where it breaks, if it does."""
    audited.action("audit.verify")
    form = await request.form()
    typed = form.get("anchors")
    text = typed if isinstance(typed, str) else ""
    anchors: list[audit.Anchor] = []
    for line in text.splitlines():
        if not line.strip():
            continue
        try:
            anchors.append(audit.Anchor.parse(line))
        except ValueError:
            words = catalogue_for(request)
            detail = words.text("adminaudit.error.anchor", line=line.strip()[:80])
            errors = form_errors([FieldProblem("/anchors", detail, "anchor")])
            head = await audit.chain_head(session)
            return _verify_page(request, admin, head, anchors=text, errors=errors, status_code=422)
    result = await audit.verify_chain(session, anchors)
    audited.note("chain_ok", str(result.ok).lower()).note("anchors", str(len(anchors)))
    if result.broken_seq is not None:
        audited.note("broken_seq", str(result.broken_seq))
    return _verify_page(
        request, admin, await audit.chain_head(session), result=result, anchors=text
    )


@router.get("/{seq}", response_class=HTMLResponse)
async def event_page(
    request: Request, seq: str, admin: SystemAdmin, session: SessionDep, audited: AuditDep
) -> HTMLResponse:
    """One event, every field: who (agency, officer, key, token), what, which objects, outcome,
    request id, and its place in the chain (its hash and the previous event's)."""
    audited.action("audit.read").object("audit_event", seq[:20])
    if not seq.isascii() or not seq.isdigit():
        raise NotFound(detail="No such audit event")
    event = await audit.get_event(session, int(seq))
    head = await audit.chain_head(session)
    return admin_page(request, admin, "audit_event.html", {"event": event, "head": head})
