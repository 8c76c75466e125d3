"""Admin: the officers of an agency (people who sign in), managed by admins and agency admins.

The ADMIN agency's token and SYSTEM_ADMIN officers manage every agency's officers; an
AGENCY_ADMIN officer manages only their own agency's (any other answers 404, as if absent).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from fastapi import APIRouter

from app.api.audit_hook import AuditDep
from app.api.deps import AgencyManager, Principal, SessionDep, SettingsDep
from app.api.problems import problem_responses
from app.api.route_class import SinergiRoute, operation_id
from app.schemas.officer import OfficerCreate, OfficerList, OfficerRead, SetupCodeIssued
from app.services import agencies, officers
from app.services.officers import OfficerDraft, officer_view, setup_view

if TYPE_CHECKING:
    from app.models.agency import Agency

router = APIRouter(
    prefix="/v1/admin/agencies/{code}/users",
    tags=["admin-users"],
    route_class=SinergiRoute,
    generate_unique_id_function=operation_id,
)

_MANAGER_ERRORS = problem_responses(401, 403, 404)


@router.get(
    "",
    response_model=OfficerList,
    status_code=200,
    summary="List an agency's officers",
    responses=_MANAGER_ERRORS,
)
async def list(code: str, principal: AgencyManager, session: SessionDep) -> OfficerList:
    """The agency's officers by username: role, whether active, TOTP enrolled, locked,
    setup pending."""
    agency = await agencies.get_managed_agency(session, principal, code)
    rows = await officers.list_officers(session, agency)
    return OfficerList(items=[officer_view(o, agency) for o in rows])


@router.post(
    "",
    response_model=SetupCodeIssued,
    status_code=201,
    summary="Create an officer (answers a one-time setup code)",
    responses=problem_responses(401, 403, 404, 409, 415, 422),
)
async def create(
    code: str,
    body: OfficerCreate,
    principal: AgencyManager,
    session: SessionDep,
    settings: SettingsDep,
    audit: AuditDep,
) -> SetupCodeIssued:
    """Create an officer of the agency. The answer holds a one-time setup code, shown once: give it
    to the officer by a separate channel; at first sign-in they choose a password (and enrol TOTP
    where required). An agency administrator cannot create SYSTEM_ADMIN officers. 409 when the
    username is taken."""
    agency = await agencies.get_managed_agency(session, principal, code)
    officers.check_may_give_role(principal, body.role)
    setup = await officers.create_officer(
        session,
        settings,
        agency,
        OfficerDraft(
            username=body.username,
            full_name=body.full_name,
            role=body.role,
            nip=body.nip,
            email=body.email,
        ),
        actor=principal.actor,
    )
    audit.object("officer", setup.officer.id)
    return setup_view(setup, agency)


@router.get(
    "/{username}",
    response_model=OfficerRead,
    status_code=200,
    summary="Read an officer",
    responses=_MANAGER_ERRORS,
)
async def read(
    code: str, username: str, principal: AgencyManager, session: SessionDep, audit: AuditDep
) -> OfficerRead:
    """One officer of the agency by username."""
    agency = await agencies.get_managed_agency(session, principal, code)
    officer = await officers.get_officer(session, agency, username)
    audit.object("officer", officer.id)
    return officer_view(officer, agency)


async def _change(
    code: str, username: str, principal: Principal, session: SessionDep, audit: AuditDep
) -> Agency:
    agency = await agencies.get_managed_agency(session, principal, code)
    target = await officers.get_officer(session, agency, username)
    audit.object("officer", target.id)
    officers.check_may_manage(principal, target)
    return agency


@router.post(
    "/{username}/disable",
    response_model=OfficerRead,
    status_code=200,
    summary="Disable an officer (their sessions end at once)",
    responses=_MANAGER_ERRORS,
)
async def disable(
    code: str, username: str, principal: AgencyManager, session: SessionDep, audit: AuditDep
) -> OfficerRead:
    """The officer can no longer sign in; every open session of theirs ends now."""
    agency = await _change(code, username, principal, session, audit)
    officer = await officers.set_active(
        session, agency, username, active=False, actor=principal.actor
    )
    return officer_view(officer, agency)


@router.post(
    "/{username}/enable",
    response_model=OfficerRead,
    status_code=200,
    summary="Enable a disabled officer",
    responses=_MANAGER_ERRORS,
)
async def enable(
    code: str, username: str, principal: AgencyManager, session: SessionDep, audit: AuditDep
) -> OfficerRead:
    """The officer may sign in again (with the same password and TOTP)."""
    agency = await _change(code, username, principal, session, audit)
    officer = await officers.set_active(
        session, agency, username, active=True, actor=principal.actor
    )
    return officer_view(officer, agency)


@router.post(
    "/{username}/reset-password",
    response_model=SetupCodeIssued,
    status_code=200,
    summary="Reset an officer's password (answers a new one-time setup code)",
    responses=_MANAGER_ERRORS,
)
async def reset_password(
    code: str,
    username: str,
    principal: AgencyManager,
    session: SessionDep,
    settings: SettingsDep,
    audit: AuditDep,
) -> SetupCodeIssued:
    """Forget the password and end the officer's sessions; the new setup code (shown once) lets them
    choose a new one. An enrolled TOTP stays and is still asked."""
    agency = await _change(code, username, principal, session, audit)
    setup = await officers.reset_password(
        session, settings, agency, username, actor=principal.actor
    )
    return setup_view(setup, agency)


@router.post(
    "/{username}/reset-totp",
    response_model=OfficerRead,
    status_code=200,
    summary="Reset an officer's second factor (lost phone)",
    responses=_MANAGER_ERRORS,
)
async def reset_totp(
    code: str, username: str, principal: AgencyManager, session: SessionDep, audit: AuditDep
) -> OfficerRead:
    """Forget the TOTP secret and recovery codes and end the sessions;
    the officer enrols again at the next sign-in."""
    agency = await _change(code, username, principal, session, audit)
    officer = await officers.reset_totp(session, agency, username, actor=principal.actor)
    return officer_view(officer, agency)


@router.post(
    "/{username}/unlock",
    response_model=OfficerRead,
    status_code=200,
    summary="Unlock an officer locked after failed sign-ins",
    responses=_MANAGER_ERRORS,
)
async def unlock(
    code: str, username: str, principal: AgencyManager, session: SessionDep, audit: AuditDep
) -> OfficerRead:
    """Lift the lock and reset the count of failed sign-ins."""
    agency = await _change(code, username, principal, session, audit)
    officer = await officers.unlock(session, agency, username, actor=principal.actor)
    return officer_view(officer, agency)
