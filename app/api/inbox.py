"""The pull side of delivery: an agency reads its deliveries oldest first and acks them."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Annotated

import orjson
from fastapi import APIRouter, Query, Response

from app.api.audit_hook import AuditDep
from app.api.deps import InboxReader, SessionDep, SettingsDep, reads_only
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
@reads_only
async def list(
    principal: InboxReader,
    session: SessionDep,
    settings: SettingsDep,
    audit: AuditDep,
    response: Response,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 50,
    include_acked: bool = False,
) -> Response:
    page = await deliveries.inbox(
        session,
        principal.agency_id,
        cursor=cursor,
        limit=min(limit, settings.max_page_size),
        include_acked=include_acked,
    )
    audit.objects(_named_objects(page))
    answer = Response(content=inbox_json(page), media_type="application/json")
    answer.headers.raw.extend(response.headers.raw)  # the RateLimit headers
    return answer


def _named_objects(page: deliveries.InboxRows) -> Iterator[tuple[str, uuid.UUID]]:
    """Each delivery of the page and its report, as ``InboxItem``'s audit_objects name them."""
    for row in page.items:
        yield "delivery", row.id
        if row.report_id is not None:
            yield "report", row.report_id


def inbox_json(page: deliveries.InboxRows) -> bytes:
    """The page as ``InboxPage`` serializes it, byte for byte, with each stored payload copied
    in as it is: a page of 50 reports is not parsed, validated and serialized again."""
    return orjson.dumps(
        {
            "items": [
                {
                    # str(): asyncpg's own UUID class is not one orjson knows
                    "id": str(id_),
                    "sequence": sequence,
                    "event": event,
                    "created_at": created_at,
                    "rule": rule,
                    "report_id": None if report_id is None else str(report_id),
                    "acked_at": acked_at,
                    "payload": orjson.Fragment(payload),
                }
                for (id_, sequence, event, created_at, rule, report_id, acked_at, payload) in (
                    page.items
                )
            ],
            "next_cursor": page.next_cursor,
        },
        option=orjson.OPT_UTC_Z,
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
