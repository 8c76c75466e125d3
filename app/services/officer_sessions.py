"""Signing officers in and out: sessions, setup, second factor and CSRF tokens.

A session is a row referenced by a random token in a cookie; only the token's keyed hash is
stored. A session in the ``setup`` stage (signed in with a setup code, or a second factor still
to enrol) may only finish the setup; finishing it replaces the session with a new one, as
signing in does, so no session id chosen before a privilege change survives it.
"""

from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from app.config import Settings
from app.errors import Conflict, FieldProblem, Forbidden, InvalidInput, RateLimited, Unauthenticated
from app.models.agency import Agency
from app.models.base import utcnow
from app.models.officer import Officer, OfficerRole, OfficerSession, SessionStage
from app.repositories import officers as repository
from app.services import passwords, totp
from app.services.audit import record_credential_event
from app.services.officers import (
    agency_of,
    can_curate,
    keyed_hash,
    normalize_setup_code,
    totp_required,
)
from app.services.sign_in_throttle import SignInThrottle

#: The one answer to every refused sign-in: it never says which part was wrong.
SIGN_IN_REFUSED = (
    "Sign-in refused: the username, password or code is wrong, or the account cannot sign in "
    "now. Ask your agency administrator if this persists."
)
#: ``last_seen_at`` is written at most this often (the idle timeout's resolution).
TOUCH_EVERY = timedelta(seconds=30)


class SignInRefused(Unauthenticated):
    slug = "sign-in-refused"
    title = "Sign-in refused"

    def __init__(self) -> None:
        super().__init__(detail=SIGN_IN_REFUSED)


@dataclass(frozen=True)
class SignInAttempt:
    username: str
    password: str | None = None
    totp_code: str | None = None
    recovery_code: str | None = None
    setup_code: str | None = None
    client_address: str | None = None
    user_agent: str | None = None


@dataclass(frozen=True)
class SignedIn:
    """A session and the token its cookie carries (the token is never stored)."""

    token: str
    record: OfficerSession
    officer: Officer
    agency: Agency


@dataclass(frozen=True)
class CurrentSession:
    """What a session cookie resolves to."""

    token: str
    record: OfficerSession
    officer: Officer
    agency: Agency

    @property
    def stage(self) -> SessionStage:
        return SessionStage(self.record.stage)

    @property
    def credential_id(self) -> str:
        return f"session:{self.record.id}"

    def names(self) -> SessionNames:
        """Who is signed in, as plain values that outlive the request's database session."""
        return SessionNames(
            full_name=self.officer.full_name,
            username=self.officer.username,
            agency_name=self.agency.name,
            agency_code=self.agency.code,
            role=self.officer.role,
            token=self.token,
            curates=can_curate(self.agency.scopes, OfficerRole(self.officer.role)),
        )


@dataclass(frozen=True)
class SessionNames:
    """A signed-in officer's names (for a page's header, an error page included)."""

    full_name: str
    username: str
    agency_name: str
    agency_code: str
    role: str
    token: str
    #: May review possible matches, merge and split (an analyst or system admin of an admin agency).
    curates: bool = False


def _token_hash(settings: Settings, token: str) -> str:
    return keyed_hash(settings.secret_key, "session", token)


def csrf_token(settings: Settings, session_token: str) -> str:
    """The CSRF token of a session: derived from its token, so it dies with the session."""
    return keyed_hash(settings.secret_key, "csrf", session_token)


def csrf_matches(settings: Settings, session_token: str, given: str | None) -> bool:
    return bool(given) and hmac.compare_digest(csrf_token(settings, session_token), given or "")


def needs(officer: Officer, settings: Settings) -> list[str]:
    """What the officer must still do before acting: choose a password, enrol TOTP."""
    missing: list[str] = []
    if officer.password_hash is None:
        missing.append("password")
    if totp_required(officer, settings) and not officer.totp_enabled:
        missing.append("totp")
    return missing


async def _open_session(
    session: AsyncSession,
    settings: Settings,
    officer: Officer,
    agency: Agency,
    *,
    now: datetime,
    client_address: str | None,
    user_agent: str | None,
) -> SignedIn:
    token = secrets.token_urlsafe(32)
    stage = SessionStage.SETUP if needs(officer, settings) else SessionStage.ACTIVE
    record = await repository.add_session(
        session,
        OfficerSession(
            officer_id=officer.id,
            token_hash=_token_hash(settings, token),
            stage=stage.value,
            created_at=now,
            last_seen_at=now,
            expires_at=now + timedelta(hours=settings.session_absolute_hours),
            client_address=(client_address or "")[:64] or None,
            user_agent=(user_agent or "")[:256] or None,
        ),
    )
    return SignedIn(token=token, record=record, officer=officer, agency=agency)


def _second_factor_ok(
    officer: Officer, settings: Settings, attempt: SignInAttempt, now: datetime
) -> bool:
    """TOTP code (each accepted once) or an unused recovery code, for an enrolled officer."""
    if attempt.totp_code and officer.totp_secret_encrypted is not None:
        secret = totp.decrypt_secret(settings, officer.id, officer.totp_secret_encrypted)
        step = totp.accepted_step(
            secret, attempt.totp_code, now=now, last_step=officer.totp_last_step
        )
        if step is not None:
            officer.totp_last_step = step
            return True
        return False
    if attempt.recovery_code:
        digest = totp.recovery_code_hash(officer.id, attempt.recovery_code)
        remaining = list(officer.recovery_code_hashes or [])
        for stored in remaining:
            if hmac.compare_digest(stored, digest):
                remaining.remove(stored)
                officer.recovery_code_hashes = remaining
                return True
    return False


async def _refuse(
    session: AsyncSession,
    settings: Settings,
    throttle: SignInThrottle,
    attempt: SignInAttempt,
    officer: Officer | None,
    agency: Agency | None,
    reason: str,
    now: datetime,
) -> SignInRefused:
    throttle.failed(throttle.keys(attempt.username, attempt.client_address))
    if officer is not None and officer.active:
        officer.failed_attempts = (officer.failed_attempts or 0) + 1
        if officer.failed_attempts >= settings.officer_lockout_failures:
            officer.locked_until = now + timedelta(minutes=settings.officer_lockout_minutes)
            officer.failed_attempts = 0
            reason = f"{reason}; locked"
        await session.flush()
    await record_credential_event(
        session,
        action="session.refuse",
        agency_code=agency.code if agency else None,
        credential_id=None,
        outcome="denied",
        # a typed username that matches no officer is not recorded: it may be a password
        detail={"reason": reason},
        user_id=officer.id if officer else None,
        username=officer.username if officer else None,
    )
    return SignInRefused()


async def sign_in(
    session: AsyncSession,
    settings: Settings,
    throttle: SignInThrottle,
    attempt: SignInAttempt,
    *,
    now: datetime | None = None,
) -> SignedIn:
    """Check the credentials and open a session (``setup`` stage while something is missing).

    Raises ``RateLimited`` while the username or address is being slowed down, and
    ``SignInRefused`` (after recording the failure in ``session``: commit it) otherwise. An
    unknown, disabled or locked account costs the same password hash as a known one.
    """
    now = now or utcnow()
    wait = throttle.retry_after(throttle.keys(attempt.username, attempt.client_address))
    if wait is not None:
        raise RateLimited(
            detail=f"Too many failed sign-ins; try again in {wait} s",
            headers={"Retry-After": str(wait)},
        )
    officer = await repository.by_username(session, attempt.username)
    agency = await agency_of(session, officer) if officer is not None else None
    refusal: str | None = None
    if officer is None or agency is None:
        refusal = "unknown_user"
    elif not officer.active or not agency.active:
        refusal = "disabled"
    elif officer.locked_until is not None and officer.locked_until > now:
        refusal = "locked"
    usable = officer if refusal is None else None

    if attempt.setup_code is not None:
        # one HMAC either way: as fast for an unknown username as for a known one
        given = keyed_hash(settings.secret_key, "setup", normalize_setup_code(attempt.setup_code))
        stored = usable.setup_code_hash if usable is not None else None
        if refusal is None and not (stored and hmac.compare_digest(stored, given)):
            refusal = "bad_setup_code"
        expires = usable.setup_code_expires_at if usable is not None else None
        if refusal is None and (expires is None or expires <= now):
            refusal = "setup_code_expired"
    else:
        stored_hash = usable.password_hash if usable is not None else None
        if not passwords.verify_password(attempt.password or "", stored_hash) and refusal is None:
            refusal = "bad_password"
    if (
        refusal is None
        and officer is not None
        and officer.totp_enabled
        and not _second_factor_ok(officer, settings, attempt, now)
    ):
        refusal = "bad_second_factor"
    if refusal is not None or officer is None or agency is None:
        raise await _refuse(
            session, settings, throttle, attempt, officer, agency, refusal or "refused", now
        )

    if attempt.setup_code is not None:
        officer.setup_code_hash = None
        officer.setup_code_expires_at = None
        officer.password_hash = None  # the setup's first step is choosing one
    officer.failed_attempts = 0
    officer.locked_until = None
    officer.last_sign_in_at = now
    throttle.succeeded(attempt.username)
    signed_in = await _open_session(
        session,
        settings,
        officer,
        agency,
        now=now,
        client_address=attempt.client_address,
        user_agent=attempt.user_agent,
    )
    await record_credential_event(
        session,
        action="session.create",
        agency_code=agency.code,
        credential_id=f"session:{signed_in.record.id}",
        outcome="success",
        detail={
            "stage": signed_in.record.stage,
            "with": "setup_code" if attempt.setup_code else "password",
        },
        user_id=officer.id,
        username=officer.username,
    )
    return signed_in


async def resolve(
    session: AsyncSession, settings: Settings, token: str, *, now: datetime | None = None
) -> CurrentSession | None:
    """The live session behind a cookie's token; None when unknown, ended, timed out or disabled."""
    if not token or len(token) > 128:
        return None
    now = now or utcnow()
    found = await repository.session_by_token_hash(session, _token_hash(settings, token))
    if found is None:
        return None
    record, officer, agency = found
    if record.ended_at is not None:
        return None
    idle_limit = record.last_seen_at + timedelta(minutes=settings.session_idle_minutes)
    if record.expires_at <= now or idle_limit <= now or not officer.active or not agency.active:
        record.ended_at = now
        await session.flush()
        return None
    if now - record.last_seen_at >= TOUCH_EVERY:
        record.last_seen_at = now
        await session.flush()
    return CurrentSession(token=token, record=record, officer=officer, agency=agency)


def idle_expires_at(current: CurrentSession, settings: Settings) -> datetime:
    return min(
        current.record.last_seen_at + timedelta(minutes=settings.session_idle_minutes),
        current.record.expires_at,
    )


async def _session_event(session: AsyncSession, action: str, current: CurrentSession) -> None:
    await record_credential_event(
        session,
        action=action,
        agency_code=current.agency.code,
        credential_id=current.credential_id,
        outcome="success",
        user_id=current.officer.id,
        username=current.officer.username,
    )


async def sign_out(session: AsyncSession, current: CurrentSession) -> None:
    current.record.ended_at = utcnow()
    await session.flush()
    await _session_event(session, "session.end", current)


async def sign_out_everywhere(session: AsyncSession, current: CurrentSession) -> int:
    """End every session of the officer, this one included; how many were open."""
    ended = await repository.end_sessions_of_officer(session, current.officer.id, utcnow())
    current.record.ended_at = utcnow()
    await _session_event(session, "session.end_all", current)
    return ended


async def _finish_stage(
    session: AsyncSession, settings: Settings, current: CurrentSession
) -> SignedIn | None:
    """When the setup is complete, replace the setup session by a new, active one."""
    if current.stage is not SessionStage.SETUP or needs(current.officer, settings):
        return None
    now = utcnow()
    current.record.ended_at = now
    signed_in = await _open_session(
        session,
        settings,
        current.officer,
        current.agency,
        now=now,
        client_address=current.record.client_address,
        user_agent=current.record.user_agent,
    )
    await record_credential_event(
        session,
        action="session.create",
        agency_code=current.agency.code,
        credential_id=f"session:{signed_in.record.id}",
        outcome="success",
        detail={"stage": signed_in.record.stage, "with": "setup"},
        user_id=current.officer.id,
        username=current.officer.username,
    )
    return signed_in


async def change_password(
    session: AsyncSession,
    settings: Settings,
    current: CurrentSession,
    *,
    new_password: str,
    current_password: str | None,
) -> SignedIn | None:
    """Set a new password; outside the setup the current one is asked. Other sessions end.

    Returns the new session when this completed the setup (its cookie replaces the old one).
    """
    officer = current.officer
    asks_current = current.stage is SessionStage.ACTIVE or officer.password_hash is not None
    if asks_current and not passwords.verify_password(
        current_password or "", officer.password_hash
    ):
        raise InvalidInput(
            detail="The current password is wrong",
            errors=[FieldProblem("/current_password", "wrong password", "password_wrong")],
        )
    passwords.check_new_password(
        new_password, context=(officer.username, officer.nip, officer.full_name, officer.email)
    )
    officer.password_hash = passwords.hash_password(new_password)
    now = utcnow()
    await repository.end_sessions_of_officer(session, officer.id, now, keep=current.record.id)
    await session.flush()
    await _session_event(session, "session.password", current)
    return await _finish_stage(session, settings, current)


async def start_totp(
    session: AsyncSession, settings: Settings, current: CurrentSession
) -> totp.Enrolment:
    """A new secret to add to an authenticator app; confirmed by ``confirm_totp``."""
    officer = current.officer
    if officer.totp_enabled:
        raise Conflict(detail="A second factor is already enrolled; an administrator can reset it")
    if officer.password_hash is None:
        raise Forbidden(detail="Choose a password first (POST /v1/session/password)")
    secret = totp.new_secret()
    officer.totp_secret_encrypted = totp.encrypt_secret(
        settings.key_encryption_key, officer.id, secret
    )
    await session.flush()
    return totp.enrolment(secret, officer.username)


async def confirm_totp(
    session: AsyncSession, settings: Settings, current: CurrentSession, code: str
) -> tuple[list[str], SignedIn | None]:
    """Check a first code, enable TOTP and hand out recovery codes (shown once)."""
    officer = current.officer
    if officer.totp_enabled:
        raise Conflict(detail="A second factor is already enrolled")
    if officer.totp_secret_encrypted is None:
        raise Conflict(detail="Start the enrolment first (POST /v1/session/totp)")
    secret = totp.decrypt_secret(settings, officer.id, officer.totp_secret_encrypted)
    step = totp.accepted_step(secret, code, now=utcnow(), last_step=officer.totp_last_step)
    if step is None:
        raise InvalidInput(
            detail="The code does not match; check the phone's clock and try the next code",
            errors=[FieldProblem("/code", "wrong or used code", "totp_wrong")],
        )
    codes = totp.new_recovery_codes()
    officer.totp_enabled = True
    officer.totp_last_step = step
    officer.recovery_code_hashes = [totp.recovery_code_hash(officer.id, c) for c in codes]
    await session.flush()
    await _session_event(session, "session.totp_enrol", current)
    return codes, await _finish_stage(session, settings, current)


def pending_totp(settings: Settings, current: CurrentSession) -> totp.Enrolment | None:
    """The enrolment started but not yet confirmed (to show its QR code again), if any."""
    officer = current.officer
    if officer.totp_enabled or officer.totp_secret_encrypted is None:
        return None
    secret = totp.decrypt_secret(settings, officer.id, officer.totp_secret_encrypted)
    return totp.enrolment(secret, officer.username)
