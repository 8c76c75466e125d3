"""Watches: be told (``watch.hit``) when a later report names a person (screening:query)."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Query, Response

from app.api.audit_hook import AuditDep
from app.api.deps import Screener, SessionDep, SettingsDep
from app.api.problems import problem_responses
from app.api.route_class import SinergiRoute, operation_id
from app.schemas.report import Page
from app.schemas.screening import WatchHitOut, WatchIn, WatchOut
from app.services import watches as service

router = APIRouter(
    prefix="/v1/watches",
    tags=["watches"],
    route_class=SinergiRoute,
    generate_unique_id_function=operation_id,
)


@router.post(
    "",
    summary="Watch a person",
    description=(
        "Watch a person your agency acted on (say, an applicant whose passport application it "
        "deferred). Whenever a later report by another agency names someone the service "
        "resolves to this person, your agency receives `watch.hit` in its inbox (or webhook), "
        "once per report: the watch, score, reasons, case and the agency to contact; the report "
        "id only when you may read the report. RED and AMBER_STRICT reports fire only for "
        "their recipients. The watch expires after `expires_at` (default one year)."
    ),
    status_code=201,
    response_model=WatchOut,
    responses=problem_responses(400, 401, 403, 413, 415, 422, 429),
)
async def create(
    body: WatchIn,
    principal: Screener,
    session: SessionDep,
    settings: SettingsDep,
    response: Response,
    audit: AuditDep,
) -> WatchOut:
    audit.action("watch.create")
    watch = await service.create(
        session, principal, body, settings=service.WatchSettings.of(settings)
    )
    response.headers["Location"] = f"/v1/watches/{watch.id}"
    return watch


@router.get(
    "",
    summary="List your watches",
    description="Your agency's watches, oldest first; expired ones are marked `active: false`.",
    status_code=200,
    response_model=Page[WatchOut],
    responses=problem_responses(401, 403, 422, 429),
    name="list",
)
async def list_watches(
    principal: Screener,
    session: SessionDep,
    settings: SettingsDep,
    cursor: str | None = Query(default=None, max_length=200),
    limit: int = Query(default=50, ge=1, le=200),
) -> Page[WatchOut]:
    items, next_cursor = await service.list_own(
        session, principal, cursor=cursor, limit=min(limit, settings.max_page_size)
    )
    return Page[WatchOut](items=items, next_cursor=next_cursor)


@router.get(
    "/{watch_id}",
    summary="Read one of your watches",
    description="One of your agency's watches, with `new_hits`. Another agency's watch answers "
    "404, exactly as a watch that does not exist.",
    status_code=200,
    response_model=WatchOut,
    responses=problem_responses(401, 403, 404, 422, 429),
    name="read",
)
async def read_watch(
    watch_id: uuid.UUID, principal: Screener, session: SessionDep, audit: AuditDep
) -> WatchOut:
    audit.action("watch.read")
    return await service.read_own(session, principal, watch_id)


@router.get(
    "/{watch_id}/hits",
    summary="The times one of your watches fired",
    description=(
        "Each `watch.hit` your agency received for this watch, newest first: when, score, "
        "reasons, the agency to contact and the case; the report only while you may read it "
        "(reasons then carry the compared values too). Another agency's watch answers 404."
    ),
    status_code=200,
    response_model=Page[WatchHitOut],
    responses=problem_responses(400, 401, 403, 404, 422, 429),
    name="hits",
)
async def list_hits(
    watch_id: uuid.UUID,
    principal: Screener,
    session: SessionDep,
    settings: SettingsDep,
    audit: AuditDep,
    cursor: str | None = Query(default=None, max_length=200),
    limit: int = Query(default=50, ge=1, le=200),
) -> Page[WatchHitOut]:
    audit.action("watch.hits")
    items, next_cursor = await service.hits(
        session, principal, watch_id, cursor=cursor, limit=min(limit, settings.max_page_size)
    )
    return Page[WatchHitOut](items=items, next_cursor=next_cursor)


@router.delete(
    "/{watch_id}",
    summary="Stop watching a person",
    description="Delete one of your watches. Another agency's watch answers 404.",
    status_code=204,
    response_class=Response,
    responses=problem_responses(401, 403, 404, 422, 429),
)
async def delete(
    watch_id: uuid.UUID, principal: Screener, session: SessionDep, audit: AuditDep
) -> Response:
    audit.action("watch.delete")
    await service.delete(session, principal, watch_id)
    return Response(status_code=204)
