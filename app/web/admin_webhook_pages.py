"""An agency's webhook in the administrators' console (issue 19): the endpoint, its signing
secret, a test event, and the delivery log with its dead letters.

The pages call the same services as ``/v1/admin/agencies/{code}/webhook`` and
``/v1/admin/deliveries`` with the console's admin rule: a SYSTEM_ADMIN manages every agency's
webhook, an AGENCY_ADMIN only their own (``agencies.get_managed_agency`` answers 404 for any
other, and a delivery of another agency is a 404 like one that does not exist); every other
officer gets the console's 404. Every POST needs the session's CSRF token.
"""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from pydantic import ValidationError

from app.api.deps import SessionDep, SettingsDep
from app.errors import FieldProblem
from app.schemas.delivery import WebhookEndpointIn, WebhookTestOut
from app.services import agencies, webhooks
from app.services import delivery as deliveries
from app.services.url_safety import UnsafeURL
from app.web.admin_common import (
    AdminOfficer,
    Manager,
    admin_page,
    back_to,
    form_text,
    invalid_form,
)
from app.web.forms import NO_ERRORS, FormErrors, form_errors
from app.web.templating import catalogue_for

if TYPE_CHECKING:
    from app.models.agency import Agency

router = APIRouter(prefix="/admin/instansi/{code}/webhook", include_in_schema=False)

#: Deliveries per page of the log.
LOG_PAGE = 50
#: The statuses the log can be narrowed to (the API's ``status`` filter).
STATUSES = ("PENDING", "DELIVERED", "DEAD")


def _base(code: str) -> str:
    return f"/admin/instansi/{code}/webhook"


async def _webhook_page(
    request: Request,
    admin: AdminOfficer,
    session: SessionDep,
    agency: Agency,
    *,
    typed: str | None = None,
    errors: FormErrors = NO_ERRORS,
    trial: WebhookTestOut | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    endpoint = await webhooks.endpoint_state(session, agency.code)
    dead = await deliveries.list_deliveries(
        session, agency_code=agency.code, status="DEAD", event=None, cursor=None, limit=1
    )
    return admin_page(
        request,
        admin,
        "webhook.html",
        {
            "agency": agencies.agency_view(agency),
            "endpoint": endpoint,
            "typed": typed if typed is not None else (endpoint.url if endpoint else None),
            "errors": errors,
            "trial": trial,
            "has_dead": bool(dead.items),
        },
        status_code=status_code,
    )


@router.get("", response_class=HTMLResponse)
async def webhook(request: Request, code: str, admin: Manager, session: SessionDep) -> HTMLResponse:
    """The endpoint (or none: the agency pulls), what can be done with it, and the way to
    its delivery log."""
    agency = await agencies.get_managed_agency(session, admin.principal, code)
    return await _webhook_page(request, admin, session, agency)


def _refused(request: Request, refused: UnsafeURL) -> FormErrors:
    """The URL's refusal beside the field, in plain words (the reason's catalogue entry)."""
    words = catalogue_for(request)
    detail = words.text(f"admin_webhook.refused.{refused.reason}", host=refused.host or "")
    return form_errors([FieldProblem("/url", detail, "unsafe_url")])


@router.post("", response_class=HTMLResponse, response_model=None)
async def webhook_set(
    request: Request, code: str, admin: Manager, session: SessionDep, settings: SettingsDep
) -> HTMLResponse | RedirectResponse:
    """Register the URL (the secret shown once) or replace it (the secret kept); a refused URL
    comes back beside the field with the reason."""
    agency = await agencies.get_managed_agency(session, admin.principal, code)
    typed = form_text(await request.form(), "url")
    try:
        body = WebhookEndpointIn.model_validate({"url": typed})
        await webhooks.safe_target(settings, body.url)
    except ValidationError as invalid:
        errors = invalid_form(request, invalid)
        return await _webhook_page(
            request, admin, session, agency, typed=typed, errors=errors, status_code=422
        )
    except UnsafeURL as refused:
        errors = _refused(request, refused)
        return await _webhook_page(
            request, admin, session, agency, typed=typed, errors=errors, status_code=422
        )
    endpoint, secret = await webhooks.set_endpoint(session, settings, code, body.url)
    if secret is None:
        return back_to(request, _base(code), "flash.admin_webhook.url_changed")
    return admin_page(
        request,
        admin,
        "webhook_secret.html",
        {
            "agency": agencies.agency_view(agency),
            "endpoint": webhooks.endpoint_out(code, endpoint),
            "secret": secret,
            "rotated": False,
        },
    )


@router.post("/uji", response_class=HTMLResponse)
async def webhook_test(
    request: Request, code: str, admin: Manager, session: SessionDep, settings: SettingsDep
) -> HTMLResponse:
    """Send a test event now and show what the receiver answered."""
    agency = await agencies.get_managed_agency(session, admin.principal, code)
    trial = await webhooks.try_endpoint(session, settings, code)
    return await _webhook_page(request, admin, session, agency, trial=trial)


async def _confirm(
    request: Request, code: str, admin: AdminOfficer, session: SessionDep, template: str
) -> HTMLResponse:
    """A confirmation page that says what the change does, before it happens."""
    agency = await agencies.get_managed_agency(session, admin.principal, code)
    endpoint = webhooks.endpoint_out(code, await webhooks.get_endpoint(session, code))
    return admin_page(
        request, admin, template, {"agency": agencies.agency_view(agency), "endpoint": endpoint}
    )


@router.get("/rotasi", response_class=HTMLResponse)
async def rotate_confirm(
    request: Request, code: str, admin: Manager, session: SessionDep
) -> HTMLResponse:
    """What rotating the secret does (the old one keeps signing during the overlap)."""
    return await _confirm(request, code, admin, session, "webhook_rotate.html")


@router.post("/rotasi", response_class=HTMLResponse)
async def rotate(
    request: Request, code: str, admin: Manager, session: SessionDep, settings: SettingsDep
) -> HTMLResponse:
    """A new secret, shown once; both sign until the overlap ends."""
    agency = await agencies.get_managed_agency(session, admin.principal, code)
    endpoint, secret = await webhooks.rotate_secret(session, settings, code)
    return admin_page(
        request,
        admin,
        "webhook_secret.html",
        {
            "agency": agencies.agency_view(agency),
            "endpoint": webhooks.endpoint_out(code, endpoint),
            "secret": secret,
            "rotated": True,
        },
    )


@router.get("/nonaktifkan", response_class=HTMLResponse)
async def disable_confirm(
    request: Request, code: str, admin: Manager, session: SessionDep
) -> HTMLResponse:
    """What disabling stops, before it happens."""
    return await _confirm(request, code, admin, session, "webhook_disable.html")


@router.post("/nonaktifkan", response_class=HTMLResponse)
async def disable(
    request: Request, code: str, admin: Manager, session: SessionDep
) -> RedirectResponse:
    """Stop pushing; deliveries wait in the inbox."""
    await agencies.get_managed_agency(session, admin.principal, code)
    await webhooks.disable_endpoint(session, code, actor=admin.principal.actor)
    return back_to(request, _base(code), "flash.admin_webhook.disabled")


@router.post("/aktifkan", response_class=HTMLResponse)
async def enable(
    request: Request, code: str, admin: Manager, session: SessionDep
) -> RedirectResponse:
    """Push again: the waiting deliveries go out in order."""
    await agencies.get_managed_agency(session, admin.principal, code)
    await webhooks.enable_endpoint(session, code)
    return back_to(request, _base(code), "flash.admin_webhook.enabled")


@router.get("/hapus", response_class=HTMLResponse)
async def delete_confirm(
    request: Request, code: str, admin: Manager, session: SessionDep
) -> HTMLResponse:
    """What deleting the endpoint stops and forgets, before it happens."""
    return await _confirm(request, code, admin, session, "webhook_delete.html")


@router.post("/hapus", response_class=HTMLResponse)
async def delete(
    request: Request, code: str, admin: Manager, session: SessionDep
) -> RedirectResponse:
    """Forget the endpoint and its secret: the agency pulls from now on."""
    await agencies.get_managed_agency(session, admin.principal, code)
    await webhooks.delete_endpoint(session, code)
    return back_to(request, _base(code), "flash.admin_webhook.deleted")


# --- the delivery log ------------------------------------------------------------------------


@router.get("/pengiriman", response_class=HTMLResponse)
async def delivery_log(
    request: Request,
    code: str,
    admin: Manager,
    session: SessionDep,
    status: str | None = None,
    cursor: str | None = None,
) -> HTMLResponse:
    """The agency's deliveries, newest first, a page at a time, narrowed by status."""
    agency = await agencies.get_managed_agency(session, admin.principal, code)
    chosen = status if status in STATUSES else None
    page = await deliveries.list_deliveries(
        session, agency_code=code, status=chosen, event=None, cursor=cursor, limit=LOG_PAGE
    )
    following = None
    if page.next_cursor is not None:
        query = {"status": chosen, "cursor": page.next_cursor}
        following = urlencode({k: v for k, v in query.items() if v})
    return admin_page(
        request,
        admin,
        "webhook_deliveries.html",
        {
            "agency": agencies.agency_view(agency),
            "endpoint": await webhooks.endpoint_state(session, code),
            "rows": [deliveries.delivery_out(d, c) for d, c in page.items],
            "statuses": STATUSES,
            "status": chosen,
            "paged": cursor is not None,
            "following": following,
        },
    )


@router.get("/pengiriman/{delivery_id}", response_class=HTMLResponse)
async def delivery_detail(
    request: Request, code: str, delivery_id: uuid.UUID, admin: Manager, session: SessionDep
) -> HTMLResponse:
    """One delivery and every push attempt of it; a dead one can be retried."""
    agency = await agencies.get_managed_agency(session, admin.principal, code)
    found = await deliveries.get_delivery(session, delivery_id, agency_code=code)
    return admin_page(
        request,
        admin,
        "webhook_delivery.html",
        {
            "agency": agencies.agency_view(agency),
            "delivery": deliveries.delivery_out(*found),
            "webhook_id": webhooks.webhook_id_of(delivery_id),
            "attempts": await deliveries.attempts(session, delivery_id, agency_code=code),
        },
    )


@router.post("/pengiriman/{delivery_id}/ulangi", response_class=HTMLResponse)
async def delivery_retry(
    request: Request, code: str, delivery_id: uuid.UUID, admin: Manager, session: SessionDep
) -> RedirectResponse:
    """Put a dead delivery back in the queue (same webhook-id, a fresh retry schedule)."""
    await agencies.get_managed_agency(session, admin.principal, code)
    await deliveries.retry(session, delivery_id, agency_code=code)
    return back_to(
        request, f"{_base(code)}/pengiriman/{delivery_id}", "flash.admin_webhook.retried"
    )
