"""Screening: is this person in any report? (agency tokens with screening:query)."""

from __future__ import annotations

from fastapi import APIRouter

from app.api.audit_hook import AuditDep
from app.api.deps import Screener, SessionDep, SettingsDep
from app.api.problems import problem_responses
from app.api.route_class import SinergiRoute, operation_id
from app.schemas.screening import ScreeningIn, ScreeningOut
from app.services import screening as service

router = APIRouter(
    prefix="/v1/screenings",
    tags=["screenings"],
    route_class=SinergiRoute,
    generate_unique_id_function=operation_id,
)


@router.post(
    "",
    summary="Screen persons against every stored report",
    description=(
        "Before acting on a person (a passport application, a departure), ask whether any "
        "agency has reported them. Send 1 to 100 persons, each with an identifier (NIK, passport "
        "number, phone) or a name with a birth date or year. Each answer says `hit` and lists "
        "hits best first: the agency to contact, the match score and reasons, the case, and "
        "the report id only when you may already read that report. Reports marked RED or "
        "AMBER_STRICT that you may not read are left out, unless the service is configured to "
        'answer them as "contact agency X" only. Nothing about the screened persons is '
        "stored; the screening is audited (counts, not identities) and rate-limited."
    ),
    status_code=200,
    response_model=ScreeningOut,
    responses=problem_responses(400, 401, 403, 413, 415, 422, 429),
    name="create",
)
async def screen(
    body: ScreeningIn,
    principal: Screener,
    session: SessionDep,
    settings: SettingsDep,
    audit: AuditDep,
) -> ScreeningOut:
    audit.action("screening.query")
    answer = await service.screen(
        session, principal, body, settings=service.ScreeningSettings.of(settings)
    )
    audit.note("persons", str(len(answer.results)))
    audit.note("persons_with_hits", str(sum(1 for r in answer.results if r.hit)))
    audit.note("hits", str(sum(len(r.hits) for r in answer.results)))
    return answer
