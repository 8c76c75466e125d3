"""Admin: an agency's webhook endpoint and signing secret; the webhook envelope in OpenAPI.

Admins manage any agency's webhook; an agency administrator only their own (404 for others).
"""

from __future__ import annotations

from typing import get_args

from fastapi import APIRouter, FastAPI, Header, Response

from app.api.deps import AgencyManager, SessionDep, SettingsDep
from app.api.problems import problem_responses
from app.api.route_class import SinergiRoute, operation_id
from app.schemas.delivery import (
    WebhookEndpointIn,
    WebhookEndpointOut,
    WebhookEnvelope,
    WebhookTestOut,
)
from app.services import agencies, webhooks

router = APIRouter(
    prefix="/v1/admin/agencies/{code}/webhook",
    tags=["webhooks"],
    route_class=SinergiRoute,
    generate_unique_id_function=operation_id,
)


@router.get(
    "",
    response_model=WebhookEndpointOut,
    status_code=200,
    summary="An agency's webhook endpoint and whether it is enabled (never the secret)",
    responses=problem_responses(401, 403, 404),
)
async def read(code: str, manager: AgencyManager, session: SessionDep) -> WebhookEndpointOut:
    """The endpoint URL, whether pushes are enabled and when the secret was last rotated;
    never the secret itself."""
    await agencies.get_managed_agency(session, manager, code)
    return webhooks.endpoint_out(code, await webhooks.get_endpoint(session, code))


@router.put(
    "",
    response_model=WebhookEndpointOut,
    status_code=200,
    summary="Set an agency's webhook endpoint (answers the secret when new)",
    description=(
        "Creates the endpoint with a fresh `whsec_…` secret (shown in this response only) or "
        "changes its URL and re-enables it (the secret is kept). The URL must be https and "
        "resolve to public addresses (see SINERGI_WEBHOOK_ALLOWED_NETWORKS)."
    ),
    responses=problem_responses(401, 403, 404, 415, 422),
)
async def update(
    code: str,
    body: WebhookEndpointIn,
    manager: AgencyManager,
    session: SessionDep,
    settings: SettingsDep,
) -> WebhookEndpointOut:
    await agencies.get_managed_agency(session, manager, code)
    await webhooks.check_url(settings, body.url)  # resolves the host: before any query
    endpoint, secret = await webhooks.set_endpoint(session, settings, code, body.url)
    return webhooks.endpoint_out(code, endpoint, secret)


@router.delete(
    "",
    status_code=204,
    response_class=Response,
    summary="Remove an agency's webhook endpoint (it pulls from then on)",
    responses=problem_responses(401, 403, 404),
)
async def delete(code: str, manager: AgencyManager, session: SessionDep) -> Response:
    """The agency stops receiving pushes and pulls its deliveries from `GET /v1/inbox` instead."""
    await agencies.get_managed_agency(session, manager, code)
    await webhooks.delete_endpoint(session, code)
    return Response(status_code=204)


@router.post(
    "/rotate-secret",
    response_model=WebhookEndpointOut,
    status_code=200,
    summary="A new signing secret; the old one keeps signing during the overlap",
    description=(
        "During the overlap (`SINERGI_WEBHOOK_SECRET_OVERLAP_HOURS`) each webhook carries two "
        "signatures, so the receiver can switch secrets without losing a message."
    ),
    responses=problem_responses(401, 403, 404),
)
async def rotate_secret(
    code: str, manager: AgencyManager, session: SessionDep, settings: SettingsDep
) -> WebhookEndpointOut:
    await agencies.get_managed_agency(session, manager, code)
    endpoint, secret = await webhooks.rotate_secret(session, settings, code)
    return webhooks.endpoint_out(code, endpoint, secret)


@router.post(
    "/disable",
    response_model=WebhookEndpointOut,
    status_code=200,
    summary="Stop pushing to an agency's endpoint for now (URL and secret kept)",
    description=(
        "The worker stops sending; the agency's deliveries wait in `GET /v1/inbox` (pull) until "
        "the endpoint is enabled again. The same state a receiver's 410 Gone leads to."
    ),
    responses=problem_responses(401, 403, 404),
)
async def disable(code: str, manager: AgencyManager, session: SessionDep) -> WebhookEndpointOut:
    await agencies.get_managed_agency(session, manager, code)
    endpoint = await webhooks.disable_endpoint(session, code, actor=manager.actor)
    return webhooks.endpoint_out(code, endpoint)


@router.post(
    "/enable",
    response_model=WebhookEndpointOut,
    status_code=200,
    summary="Push to an agency's endpoint again (after a disable or a 410 Gone)",
    description="Waiting deliveries go out in sequence order; the URL is checked at send time.",
    responses=problem_responses(401, 403, 404),
)
async def enable(code: str, manager: AgencyManager, session: SessionDep) -> WebhookEndpointOut:
    await agencies.get_managed_agency(session, manager, code)
    return webhooks.endpoint_out(code, await webhooks.enable_endpoint(session, code))


@router.post(
    "/test",
    response_model=WebhookTestOut,
    status_code=200,
    summary="Send the endpoint a test event now and answer what the receiver said",
    description=(
        "The body is the webhook envelope with `type` `webhook.test`, `sequence` 0 and no "
        "report, signed exactly like deliveries (Standard Webhooks, with every secret that "
        "signs now). Sent even when the endpoint is disabled; nothing is stored or retried and "
        "a 410 disables nothing. 200 whatever the receiver answered: see `accepted`."
    ),
    responses=problem_responses(401, 403, 404),
)
async def test(
    code: str, manager: AgencyManager, session: SessionDep, settings: SettingsDep
) -> WebhookTestOut:
    await agencies.get_managed_agency(session, manager, code)
    return await webhooks.try_endpoint(session, settings, code)


def document_webhooks(app: FastAPI) -> None:
    """Describe the webhook POST in the spec's ``webhooks`` section (one entry per event, the
    test event included)."""
    events = WebhookEnvelope.model_fields["type"].annotation
    names = [name for literal in get_args(events) for name in get_args(literal)]
    for event in names:

        def receive(
            body: WebhookEnvelope,
            webhook_id: str = Header(
                alias="webhook-id",
                description=(
                    "`msg_<hex>`: the same on every retry of one delivery. Deduplicate on it."
                ),
            ),
            webhook_timestamp: int = Header(
                alias="webhook-timestamp", description="Unix seconds when this attempt was signed."
            ),
            webhook_signature: str = Header(
                alias="webhook-signature",
                description=(
                    "Space-separated `v1,<base64 HMAC-SHA256>` over "
                    "`{webhook-id}.{webhook-timestamp}.{body}` keyed with the base64-decoded part "
                    "of the agency's `whsec_` secret; two during a secret rotation. Accept the "
                    "message when any one matches."
                ),
            ),
        ) -> None:
            """Answer 2xx to accept; 410 disables the endpoint; anything else is retried."""

        app.webhooks.post(
            event,
            summary=f"{event}: a delivery pushed to the agency's endpoint",
            operation_id=f"webhooks_{event.replace('.', '_')}",
            tags=["webhooks"],
            status_code=200,
            response_model=None,
        )(receive)
