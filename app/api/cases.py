"""Cases and person networks (agency tokens; only what the caller may see)."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Query

from app.api.deps import AgencyReader, SessionDep, SettingsDep
from app.api.problems import problem_responses
from app.api.route_class import SinergiRoute, operation_id
from app.schemas.case import CaseOut, CaseSummary, NetworkOut
from app.schemas.report import Page
from app.services import cases as service

router = APIRouter(
    prefix="/v1/cases",
    tags=["cases"],
    route_class=SinergiRoute,
    generate_unique_id_function=operation_id,
)
persons_router = APIRouter(
    prefix="/v1/persons",
    tags=["persons"],
    route_class=SinergiRoute,
    generate_unique_id_function=operation_id,
)


@router.get(
    "",
    summary="List the cases you take part in",
    description="Cases with at least one report you may read, least recently updated first.",
    response_model=Page[CaseSummary],
    responses=problem_responses(401, 403, 422),
    name="list",
)
async def list_cases(
    principal: AgencyReader,
    session: SessionDep,
    settings: SettingsDep,
    cursor: str | None = Query(default=None, max_length=200),
    limit: int = Query(default=50, ge=1, le=200),
) -> Page[CaseSummary]:
    items, next_cursor = await service.list_cases(
        session, principal, cursor=cursor, limit=min(limit, settings.max_page_size)
    )
    return Page[CaseSummary](items=items, next_cursor=next_cursor)


@router.get(
    "/{case_id}",
    summary="Read a case",
    description=(
        "Reports linked because they concern the same victims, each link with its score and "
        "reasons. Reports you may not read appear only as `held_by` (TLP CLEAR, GREEN, AMBER) "
        "or not at all (AMBER_STRICT, RED). A case none of whose reports you may read is 404."
    ),
    response_model=CaseOut,
    responses=problem_responses(401, 403, 404, 422),
)
async def read(case_id: uuid.UUID, principal: AgencyReader, session: SessionDep) -> CaseOut:
    return await service.read_case(session, principal, case_id)


@persons_router.get(
    "/{entity_id}/network",
    summary="The network around a person",
    description=(
        "The reports naming this person (a resolved entity) that you may read, and the persons "
        "connected to it: in the same reports (a recruiter's victims, a victim's recruiters) or "
        "sharing a phone number."
    ),
    response_model=NetworkOut,
    responses=problem_responses(401, 403, 404, 422),
)
async def network(entity_id: uuid.UUID, principal: AgencyReader, session: SessionDep) -> NetworkOut:
    return await service.person_network(session, principal, entity_id)
