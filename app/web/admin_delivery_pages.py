"""Every agency's deliveries in one list, for the system admin (issue 19's follow-up).

An agency's own log lives on its webhook tab (``admin_webhook_pages``); when pushes fail across
the exchange, the SYSTEM_ADMIN needs one place to see which agencies have pending or dead
deliveries without opening each agency. SYSTEM_ADMIN only, like ``GET /v1/admin/deliveries``
without ``agency``; anyone else gets the console's 404. Each row opens the delivery on its
agency's log, where it can be retried.
"""

from __future__ import annotations

from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from sqlalchemy.ext.asyncio import AsyncSession

from app.api.deps import SessionDep
from app.errors import FieldProblem, NotFound
from app.services import agencies
from app.services import delivery as deliveries
from app.web.admin_common import SystemAdmin, admin_page
from app.web.admin_webhook_pages import LOG_PAGE, STATUSES
from app.web.forms import NO_ERRORS, form_errors
from app.web.templating import catalogue_for

router = APIRouter(prefix="/admin/pengiriman", include_in_schema=False)

#: The longest agency code the filter accepts (codes are short; anything longer is not one).
_MAX_CODE = 64
#: Agencies offered in the filter's list (an exchange has tens; a longer list is still filtered
#: by a code typed into the URL).
_LISTED_AGENCIES = 500


async def _exists(session: AsyncSession, code: str) -> bool:
    try:
        await agencies.get_agency(session, code)
    except NotFound:
        return False
    return True


@router.get("", response_class=HTMLResponse)
async def all_deliveries(
    request: Request,
    admin: SystemAdmin,
    session: SessionDep,
    status: str | None = None,
    instansi: str | None = None,
    cursor: str | None = None,
) -> HTMLResponse:
    """Deliveries to every agency, newest first, narrowed by status and recipient agency."""
    chosen = status if status in STATUSES else None
    typed = (instansi or "").strip().upper()[:_MAX_CODE]
    listed = await agencies.list_agencies(session, after_code=None, limit=_LISTED_AGENCIES)
    errors = NO_ERRORS
    rows = []
    following = None
    if typed and not await _exists(session, typed):
        words = catalogue_for(request)
        errors = form_errors(
            [FieldProblem("/instansi", words.text("admin_deliveries.error.agency"), "agency")]
        )
    else:
        page = await deliveries.list_deliveries(
            session,
            agency_code=typed or None,
            status=chosen,
            event=None,
            cursor=cursor,
            limit=LOG_PAGE,
        )
        rows = [deliveries.delivery_out(d, c) for d, c in page.items]
        if page.next_cursor is not None:
            query = {"status": chosen, "instansi": typed, "cursor": page.next_cursor}
            following = urlencode({k: v for k, v in query.items() if v})
    filters = urlencode({k: v for k, v in {"status": chosen, "instansi": typed}.items() if v})
    return admin_page(
        request,
        admin,
        "deliveries.html",
        {
            "rows": rows,
            "statuses": STATUSES,
            "status": chosen,
            "agency_codes": [a.code for a in listed],
            "typed_agency": typed,
            "errors": errors,
            "paged": cursor is not None,
            "filters": filters,
            "following": following,
        },
        status_code=422 if errors else 200,
    )
