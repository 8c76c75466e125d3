"""Admin: every delivery's state and attempts, and replay of dead ones."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query

from app.api.deps import Admin, SessionDep, SettingsDep
from app.api.problems import problem_responses
from app.api.route_class import SinergiRoute, operation_id
from app.schemas.delivery import AttemptList, DeliveryOut, DeliveryPage, Event, Status
from app.services import delivery as deliveries

router = APIRouter(
    prefix="/v1/admin/deliveries",
    tags=["deliveries"],
    route_class=SinergiRoute,
    generate_unique_id_function=operation_id,
)


@router.get(
    "",
    response_model=DeliveryPage,
    status_code=200,
    summary="Deliveries, newest first",
    responses=problem_responses(400, 401, 403, 422),
)
async def list(
    _: Admin,
    session: SessionDep,
    settings: SettingsDep,
    agency: Annotated[
        str | None, Query(max_length=64, description="Recipient agency code.")
    ] = None,
    status: Status | None = None,
    event: Event | None = None,
    cursor: Annotated[str | None, Query(max_length=300)] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 50,
) -> DeliveryPage:
    """The delivery outbox, newest first, filtered by status (pending, delivered, failed, dead),
    agency or event."""
    page = await deliveries.list_deliveries(
        session,
        agency_code=agency,
        status=status,
        event=event,
        cursor=cursor,
        limit=min(limit, settings.max_page_size),
    )
    return DeliveryPage(
        items=[deliveries.delivery_out(d, code) for d, code in page.items],
        next_cursor=page.next_cursor,
    )


@router.get(
    "/{delivery_id}",
    response_model=DeliveryOut,
    status_code=200,
    summary="One delivery",
    responses=problem_responses(401, 403, 404),
)
async def read(delivery_id: uuid.UUID, _: Admin, session: SessionDep) -> DeliveryOut:
    """One delivery: its event, recipient, sequence, status and next attempt."""
    return deliveries.delivery_out(*await deliveries.get_delivery(session, delivery_id))


@router.get(
    "/{delivery_id}/attempts",
    response_model=AttemptList,
    status_code=200,
    summary="Every webhook attempt of a delivery, oldest first",
    responses=problem_responses(401, 403, 404),
)
async def attempts(delivery_id: uuid.UUID, _: Admin, session: SessionDep) -> AttemptList:
    """Each push attempt to the agency's webhook: when, the HTTP status or error,
    and how long it took."""
    return AttemptList(items=await deliveries.attempts(session, delivery_id))


@router.post(
    "/{delivery_id}/retry",
    response_model=DeliveryOut,
    status_code=200,
    summary="Put a dead delivery back in the queue",
    description=(
        "Same webhook-id as before; a fresh retry schedule. 409 unless the delivery is dead."
    ),
    responses=problem_responses(401, 403, 404, 409),
)
async def retry(delivery_id: uuid.UUID, _: Admin, session: SessionDep) -> DeliveryOut:
    return deliveries.delivery_out(*await deliveries.retry(session, delivery_id))
