"""The pull side of delivery: an agency reads its deliveries oldest first and acks them."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from app.api.deps import InboxReader, SessionDep, SettingsDep
from app.api.problems import problem_responses
from app.api.route_class import SinergiRoute, operation_id
from app.schemas.delivery import AckRequest, AckResult, InboxPage
from app.services import delivery as deliveries

router = APIRouter(
    prefix="/v1/inbox",
    tags=["inbox"],
    route_class=SinergiRoute,
    generate_unique_id_function=operation_id,
)


@router.get(
    "",
    response_model=InboxPage,
    status_code=200,
    summary="The caller's deliveries, oldest first",
    description=(
        "Deliveries to the calling agency in sequence order (1, 2, 3, … without gaps per "
        "agency). Unacked only, unless `include_acked=true`. A delivery accepted by the "
        "agency's webhook receiver counts as acked."
    ),
    responses=problem_responses(400, 401, 403, 422),
)
async def list(
    principal: InboxReader,
    session: SessionDep,
    settings: SettingsDep,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 50,
    include_acked: bool = False,
) -> InboxPage:
    page = await deliveries.inbox(
        session,
        principal.agency_id,
        cursor=cursor,
        limit=min(limit, settings.max_page_size),
        include_acked=include_acked,
    )
    return InboxPage(
        items=[deliveries.inbox_item(d) for d in page.items], next_cursor=page.next_cursor
    )


@router.post(
    "/ack",
    response_model=AckResult,
    status_code=200,
    summary="Acknowledge deliveries (idempotent)",
    description="Acked deliveries leave the default inbox view and are not pushed again.",
    responses=problem_responses(401, 403, 415, 422),
)
async def ack(body: AckRequest, principal: InboxReader, session: SessionDep) -> AckResult:
    acked, unknown = await deliveries.ack(session, principal.agency_id, body.delivery_ids)
    return AckResult(acked=acked, unknown=unknown)
