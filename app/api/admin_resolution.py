"""Analysts' review of person resolution: possible matches, merges, splits, undo (admin)."""

from __future__ import annotations

import uuid
from typing import Literal

from fastapi import APIRouter, Query

from app.api.deps import Curator, SessionDep, SettingsDep
from app.api.problems import problem_responses
from app.api.route_class import SinergiRoute, operation_id
from app.matching.scoring import without_values
from app.schemas.case import (
    CaseMergeIn,
    CaseSplitIn,
    EntityMergeIn,
    EntitySplitIn,
    PossibleMatchOut,
    ResolutionActionOut,
    ReviewDecisionIn,
)
from app.schemas.report import Page
from app.services import curation


def _told(match: PossibleMatchOut) -> PossibleMatchOut:
    """The match as the API tells it: a restricted match's reasons without the compared values.

    The candidate of a restricted match is known only from RED/AMBER_STRICT reports; analysts
    are told that the link exists (DESIGN §5), not the hidden report's NIK, name or phone
    that the reasons quote. The console's review pages drop them the same way.
    """
    if not match.restricted:
        return match
    return match.model_copy(update={"reasons": without_values(match.reasons)})


router = APIRouter(
    prefix="/v1/admin",
    tags=["admin-resolution"],
    route_class=SinergiRoute,
    generate_unique_id_function=operation_id,
)


@router.get(
    "/possible-matches",
    summary="Possible matches awaiting review",
    description="Pairs scored between the review floor and the link threshold.",
    response_model=Page[PossibleMatchOut],
    responses=problem_responses(401, 403, 422),
)
async def list_possible_matches(
    principal: Curator,
    session: SessionDep,
    settings: SettingsDep,
    status: Literal["open", "accepted", "rejected"] | None = "open",
    cursor: str | None = Query(default=None, max_length=200),
    limit: int = Query(default=50, ge=1, le=200),
) -> Page[PossibleMatchOut]:
    items, next_cursor = await curation.list_possible_matches(
        session, status, cursor=cursor, limit=min(limit, settings.max_page_size)
    )
    return Page[PossibleMatchOut](items=[_told(m) for m in items], next_cursor=next_cursor)


@router.post(
    "/possible-matches/{match_id}/decision",
    summary="Accept or reject a possible match",
    description=(
        "Accept: the person joins the candidate entity (undoable). Reject: the pair stays apart."
    ),
    response_model=PossibleMatchOut,
    responses=problem_responses(401, 403, 404, 409, 415, 422),
)
async def decide(
    match_id: uuid.UUID, body: ReviewDecisionIn, principal: Curator, session: SessionDep
) -> PossibleMatchOut:
    match, _action = await curation.review(session, principal.actor, match_id, body.decision)
    return _told(await curation.possible_match_view(session, match))


@router.post(
    "/entities/merge",
    summary="Merge two person entities",
    status_code=201,
    response_model=ResolutionActionOut,
    responses=problem_responses(401, 403, 415, 422),
)
async def merge_entities(
    body: EntityMergeIn, principal: Curator, session: SessionDep
) -> ResolutionActionOut:
    """The source entity's persons join the target entity;
    the action is audited and can be undone."""
    action = await curation.merge_entities(
        session, principal.actor, body.source_entity_id, body.target_entity_id
    )
    return curation.action_view(action)


@router.post(
    "/entities/{entity_id}/split",
    summary="Split persons out of an entity",
    status_code=201,
    response_model=ResolutionActionOut,
    responses=problem_responses(401, 403, 415, 422),
)
async def split_entity(
    entity_id: uuid.UUID, body: EntitySplitIn, principal: Curator, session: SessionDep
) -> ResolutionActionOut:
    """The named persons leave the entity and form a new one; audited and reversible."""
    action = await curation.split_entity(
        session,
        principal.actor,
        entity_id,
        [(p.report_id, p.person_index) for p in body.persons],
    )
    return curation.action_view(action)


@router.post(
    "/cases/merge",
    summary="Merge two cases",
    status_code=201,
    response_model=ResolutionActionOut,
    responses=problem_responses(401, 403, 415, 422),
)
async def merge_cases(
    body: CaseMergeIn, principal: Curator, session: SessionDep
) -> ResolutionActionOut:
    """The source case's reports join the target case; audited and reversible."""
    action = await curation.merge_cases(
        session, principal.actor, body.source_case_id, body.target_case_id
    )
    return curation.action_view(action)


@router.post(
    "/cases/{case_id}/split",
    summary="Split reports out of a case",
    status_code=201,
    response_model=ResolutionActionOut,
    responses=problem_responses(401, 403, 415, 422),
)
async def split_case(
    case_id: uuid.UUID, body: CaseSplitIn, principal: Curator, session: SessionDep
) -> ResolutionActionOut:
    """The named reports leave the case and form a new one; audited and reversible."""
    action = await curation.split_case(session, principal.actor, case_id, body.report_ids)
    return curation.action_view(action)


@router.get(
    "/resolution-actions",
    summary="Merges and splits, newest first",
    description="Every merge, split and accepted possible match, whether an admin made it or "
    "resolution did (actor `resolution`: cases joined by a shared victim, entities one incoming "
    "person matched at once). Each can be undone with POST …/resolution-actions/{id}/undo.",
    response_model=Page[ResolutionActionOut],
    responses=problem_responses(401, 403, 422),
)
async def list_resolution_actions(
    principal: Curator,
    session: SessionDep,
    settings: SettingsDep,
    actor: str | None = Query(
        default=None, max_length=64, description="Only this actor: an agency code or `resolution`."
    ),
    kind: Literal["entity.merge", "entity.split", "case.merge", "case.split", "match.accept"]
    | None = None,
    cursor: str | None = Query(default=None, max_length=200),
    limit: int = Query(default=50, ge=1, le=200),
) -> Page[ResolutionActionOut]:
    items, next_cursor = await curation.list_actions(
        session,
        actor=actor,
        kind=kind,
        cursor=cursor,
        limit=min(limit, settings.max_page_size),
    )
    return Page[ResolutionActionOut](items=items, next_cursor=next_cursor)


@router.post(
    "/resolution-actions/{action_id}/undo",
    summary="Undo a merge or split",
    response_model=ResolutionActionOut,
    responses=problem_responses(401, 403, 404, 409),
)
async def undo(
    action_id: uuid.UUID, principal: Curator, session: SessionDep
) -> ResolutionActionOut:
    """Reverse a merge or split; an accepted possible match is open for review again.
    409 if the action was already undone."""
    return curation.action_view(await curation.undo(session, action_id))
