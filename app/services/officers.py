"""Officers: who may do what (roles), and their management by admins (create, disable, reset …).

An officer acts for one agency and sees what that agency's token would see; the role only
narrows what they may do (``effective_scopes``). Personal data (name, NIP, email) never goes
into logs or the audit trail: events name the officer by user id and username.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from app.config import Settings
from app.errors import Conflict, FieldProblem, Forbidden, InvalidInput, NotFound
from app.models.agency import DEFAULT_AGENCY_SCOPES, Agency, Scope
from app.models.base import utcnow
from app.models.officer import TOTP_REQUIRED_ROLES, Officer, OfficerRole
from app.repositories import agencies as agencies_repo
from app.repositories import officers as repository
from app.schemas.officer import OfficerRead, SetupCodeIssued
from app.services import totp
from app.services.audit import record_credential_event
from app.services.caller import Caller
from app.services.purge import Purged

#: Scopes each role may use, before intersecting with the agency's own.
ROLE_SCOPES: dict[OfficerRole, frozenset[str]] = {
    OfficerRole.OFFICER: frozenset(DEFAULT_AGENCY_SCOPES),
    OfficerRole.ANALYST: frozenset(DEFAULT_AGENCY_SCOPES),
    OfficerRole.AGENCY_ADMIN: frozenset(DEFAULT_AGENCY_SCOPES),
    OfficerRole.SYSTEM_ADMIN: frozenset(Scope),
}
_SETUP_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"


def effective_scopes(agency_scopes: Sequence[str], role: OfficerRole) -> frozenset[str]:
    """What an officer's requests may do: their agency's scopes, narrowed by the role."""
    return frozenset(agency_scopes) & ROLE_SCOPES[role]


def can_curate(agency_scopes: Sequence[str], role: OfficerRole) -> bool:
    """Review possible matches, merge and split: analysts and system admins of an admin agency."""
    return Scope.ADMIN in agency_scopes and role in (
        OfficerRole.ANALYST,
        OfficerRole.SYSTEM_ADMIN,
    )


def totp_required(officer: Officer, settings: Settings) -> bool:
    return settings.officer_totp_required or OfficerRole(officer.role) in TOTP_REQUIRED_ROLES


def keyed_hash(secret_key: str, purpose: str, value: str) -> str:
    """HMAC-SHA256 of ``value`` for one purpose (setup codes, session tokens)."""
    return hmac.new(secret_key.encode(), f"{purpose}:{value}".encode(), hashlib.sha256).hexdigest()


def normalize_setup_code(code: str) -> str:
    return code.strip().upper().replace("-", "").replace(" ", "")


def _new_setup_code() -> str:
    raw = "".join(secrets.choice(_SETUP_ALPHABET) for _ in range(16))  # 80 bits
    return "-".join(raw[i : i + 4] for i in range(0, 16, 4))


@dataclass(frozen=True)
class OfficerDraft:
    """A new officer as an admin enters it."""

    username: str
    full_name: str
    role: OfficerRole
    nip: str | None = None
    email: str | None = None


@dataclass(frozen=True)
class SetupCode:
    """A one-time code that lets a new or reset officer choose a password; shown once."""

    officer: Officer
    code: str
    expires_at: datetime


def _give_setup_code(officer: Officer, settings: Settings, now: datetime) -> SetupCode:
    code = _new_setup_code()
    officer.setup_code_hash = keyed_hash(settings.secret_key, "setup", normalize_setup_code(code))
    officer.setup_code_expires_at = now + timedelta(hours=settings.officer_setup_code_hours)
    return SetupCode(officer=officer, code=code, expires_at=officer.setup_code_expires_at)


async def _officer_event(
    session: AsyncSession,
    action: str,
    officer: Officer,
    agency: Agency,
    actor: str,
    outcome: str = "success",
) -> None:
    await record_credential_event(
        session,
        action=action,
        agency_code=agency.code,
        credential_id=None,
        outcome=outcome,
        detail={"officer_id": str(officer.id), "username": officer.username, "actor": actor},
    )


def check_may_give_role(caller: Caller, role: OfficerRole) -> None:
    """Only system administrators create SYSTEM_ADMIN officers (403 naming ``/role``)."""
    if role is OfficerRole.SYSTEM_ADMIN and not caller.is_admin:
        raise Forbidden(
            detail="Only system administrators create SYSTEM_ADMIN officers",
            errors=[FieldProblem("/role", "not allowed for you", "role_refused")],
        )


def check_may_manage(caller: Caller, target: Officer) -> None:
    """Only system administrators disable, reset or unlock a SYSTEM_ADMIN officer (403)."""
    if OfficerRole(target.role) is OfficerRole.SYSTEM_ADMIN and not caller.is_admin:
        raise Forbidden(detail="Only system administrators manage SYSTEM_ADMIN officers")


async def list_officers(session: AsyncSession, agency: Agency) -> Sequence[Officer]:
    return await repository.of_agency(session, agency.id)


async def get_officer(session: AsyncSession, agency: Agency, username: str) -> Officer:
    """The officer ``username`` of ``agency``, or 404 (also when they belong to another)."""
    officer = await repository.by_username(session, username)
    if officer is None or officer.agency_id != agency.id:
        raise NotFound(detail=f"No officer {username.lower()} in agency {agency.code}")
    return officer


async def create_officer(
    session: AsyncSession,
    settings: Settings,
    agency: Agency,
    draft: OfficerDraft,
    *,
    actor: str,
    now: datetime | None = None,
) -> SetupCode:
    """Create an officer with a one-time setup code (409 when the username is taken)."""
    now = now or utcnow()
    if draft.role is OfficerRole.SYSTEM_ADMIN and Scope.ADMIN not in agency.scopes:
        raise InvalidInput(
            detail="SYSTEM_ADMIN officers belong to an agency with the admin scope (ADMIN)",
            errors=[FieldProblem("/role", "SYSTEM_ADMIN only in the ADMIN agency", "role_refused")],
        )
    if await repository.by_username(session, draft.username) is not None:
        raise Conflict(detail=f"The username {draft.username.lower()} is taken")
    officer = Officer(
        id=uuid.uuid4(),
        agency_id=agency.id,
        username=draft.username.lower(),
        full_name=draft.full_name,
        nip=draft.nip,
        email=draft.email,
        role=draft.role.value,
        active=True,
        totp_enabled=False,
        recovery_code_hashes=[],
        failed_attempts=0,
    )
    setup = _give_setup_code(officer, settings, now)
    await repository.add(session, officer)
    await _officer_event(session, "officer.create", officer, agency, actor)
    return setup


async def create_ready_officer(
    session: AsyncSession,
    settings: Settings,
    agency: Agency,
    draft: OfficerDraft,
    *,
    password_hash: str,
    totp_secret: str | None,
    actor: str,
) -> Officer:
    """An officer who can sign in at once (no setup): demo data and test fixtures only."""
    setup = await create_officer(session, settings, agency, draft, actor=actor)
    officer = setup.officer
    officer.password_hash = password_hash
    officer.setup_code_hash = None
    officer.setup_code_expires_at = None
    if totp_secret is not None:
        officer.totp_secret_encrypted = totp.encrypt_secret(
            settings.key_encryption_key, officer.id, totp_secret
        )
        officer.totp_enabled = True
    await session.flush()
    return officer


async def set_active(
    session: AsyncSession, agency: Agency, username: str, *, active: bool, actor: str
) -> Officer:
    """Disable (their sessions end at once) or enable an officer."""
    officer = await get_officer(session, agency, username)
    now = utcnow()
    officer.active = active
    officer.disabled_at = None if active else now
    if not active:
        await repository.end_sessions_of_officer(session, officer.id, now)
    await session.flush()
    await _officer_event(
        session, "officer.enable" if active else "officer.disable", officer, agency, actor
    )
    return officer


async def reset_password(
    session: AsyncSession, settings: Settings, agency: Agency, username: str, *, actor: str
) -> SetupCode:
    """Forget the password, end the sessions, give a new setup code (TOTP stays enrolled)."""
    officer = await get_officer(session, agency, username)
    now = utcnow()
    officer.password_hash = None
    setup = _give_setup_code(officer, settings, now)
    await repository.end_sessions_of_officer(session, officer.id, now)
    await session.flush()
    await _officer_event(session, "officer.reset_password", officer, agency, actor)
    return setup


async def reset_totp(
    session: AsyncSession, agency: Agency, username: str, *, actor: str
) -> Officer:
    """Forget the second factor (lost phone): the officer enrols again at the next sign-in."""
    officer = await get_officer(session, agency, username)
    officer.totp_secret_encrypted = None
    officer.totp_enabled = False
    officer.totp_last_step = None
    officer.recovery_code_hashes = []
    await repository.end_sessions_of_officer(session, officer.id, utcnow())
    await session.flush()
    await _officer_event(session, "officer.reset_totp", officer, agency, actor)
    return officer


async def unlock(session: AsyncSession, agency: Agency, username: str, *, actor: str) -> Officer:
    """Lift a lock after failed sign-ins."""
    officer = await get_officer(session, agency, username)
    officer.failed_attempts = 0
    officer.locked_until = None
    await session.flush()
    await _officer_event(session, "officer.unlock", officer, agency, actor)
    return officer


async def agency_of(session: AsyncSession, officer: Officer) -> Agency:
    agency = await agencies_repo.by_id(session, officer.agency_id)
    assert agency is not None  # a foreign key
    return agency


async def end_agency_sessions(session: AsyncSession, agency: Agency) -> None:
    """End every session of the agency's officers (the agency was deactivated)."""
    await repository.end_sessions_of_agency(session, agency.id, utcnow())


async def purge_departed_officers(session: AsyncSession, cutoff: datetime) -> Purged:
    """Retention (UU PDP): forget the name, NIP and e-mail of officers disabled before ``cutoff``,
    and sessions over before it; the officer's id and username stay for the audit trail."""
    departed = await repository.disabled_with_personal_data(session, cutoff)
    for officer in departed:
        officer.full_name = repository.REMOVED_NAME
        officer.nip = None
        officer.email = None
    sessions = await repository.delete_sessions_over_before(session, cutoff)
    await session.flush()
    return Purged(
        object_type="officer",
        object_ids=[str(o.id) for o in departed],
        detail={"sessions": str(sessions)},
    )


def officer_view(officer: Officer, agency: Agency) -> OfficerRead:
    """What an admin reads of an officer: never a hash, a secret or a code."""
    now = utcnow()
    return OfficerRead(
        id=officer.id,
        agency_code=agency.code,
        username=officer.username,
        full_name=officer.full_name,
        nip=officer.nip,
        email=officer.email,
        role=OfficerRole(officer.role),
        active=officer.active,
        totp_enabled=officer.totp_enabled,
        setup_pending=officer.setup_code_hash is not None
        and officer.setup_code_expires_at is not None
        and officer.setup_code_expires_at > now,
        locked_until=officer.locked_until
        if officer.locked_until is not None and officer.locked_until > now
        else None,
        last_sign_in_at=officer.last_sign_in_at,
        created_at=officer.created_at,
    )


def setup_view(setup: SetupCode, agency: Agency) -> SetupCodeIssued:
    """The officer and their one-time setup code, answered once."""
    return SetupCodeIssued(
        officer=officer_view(setup.officer, agency),
        setup_code=setup.code,
        setup_code_expires_at=setup.expires_at,
    )
