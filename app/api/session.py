"""Officers sign in and out: a server-side session behind a cookie, its setup and CSRF token.

The HTML console builds on the same service functions (``app.services.officer_sessions``).
"""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from app.api.deps import (
    SessionDep,
    SettingsDep,
    SignedInOfficer,
    session_cookie_name,
    sign_in_throttle,
)
from app.api.problems import problem_response, problem_responses
from app.api.route_class import SinergiRoute, operation_id
from app.config import Environment, Settings
from app.schemas.officer import (
    OfficerBrief,
    PasswordChange,
    SessionInfo,
    SessionsEnded,
    SignInRequest,
    TotpConfirm,
    TotpConfirmed,
    TotpEnrolment,
)
from app.services import officer_sessions
from app.services.officer_sessions import CurrentSession, SignedIn, SignInAttempt, SignInRefused
from app.vocab.enums import OfficerRole, SessionStage

router = APIRouter(
    prefix="/v1/session",
    tags=["session"],
    route_class=SinergiRoute,
    generate_unique_id_function=operation_id,
)


def _set_cookie(response: Response, settings: Settings, signed_in: SignedIn) -> None:
    seconds = int((signed_in.record.expires_at - signed_in.record.created_at).total_seconds())
    response.set_cookie(
        session_cookie_name(settings),
        signed_in.token,
        max_age=seconds,
        path="/",
        secure=settings.env is not Environment.DEVELOPMENT,
        httponly=True,
        samesite="lax",
    )
    response.headers["Cache-Control"] = "no-store"


def _clear_cookie(response: Response, settings: Settings) -> None:
    response.delete_cookie(
        session_cookie_name(settings),
        path="/",
        secure=settings.env is not Environment.DEVELOPMENT,
        httponly=True,
        samesite="lax",
    )


def _info(current: CurrentSession, settings: Settings) -> SessionInfo:
    officer = current.officer
    return SessionInfo(
        officer=OfficerBrief(
            id=officer.id,
            username=officer.username,
            full_name=officer.full_name,
            role=OfficerRole(officer.role),
            agency_code=current.agency.code,
        ),
        stage=SessionStage(current.record.stage).value,
        needs=officer_sessions.needs(officer, settings),
        csrf_token=officer_sessions.csrf_token(settings, current.token),
        expires_at=current.record.expires_at,
        idle_expires_at=officer_sessions.idle_expires_at(current, settings),
    )


def _current(signed_in: SignedIn) -> CurrentSession:
    return CurrentSession(
        token=signed_in.token,
        record=signed_in.record,
        officer=signed_in.officer,
        agency=signed_in.agency,
    )


@router.post(
    "",
    response_model=SessionInfo,
    status_code=200,
    summary="Sign in (password and TOTP, or a one-time setup code)",
    responses=problem_responses(401, 422, 429),
)
async def sign_in(
    body: SignInRequest,
    request: Request,
    response: Response,
    session: SessionDep,
    settings: SettingsDep,
) -> SessionInfo | Response:
    """Open a session and set its cookie (always a new session id). Every refusal answers the same
    401, whether the username exists or not; repeated failures are slowed (429) and then lock the
    account for a while. With a setup code, or while TOTP is still to be enrolled, the session is in
    the `setup` stage: it may only choose a password and enrol TOTP."""
    attempt = SignInAttempt(
        username=body.username,
        password=body.password,
        totp_code=body.totp_code,
        recovery_code=body.recovery_code,
        setup_code=body.setup_code,
        client_address=request.client.host if request.client else None,
        user_agent=request.headers.get("user-agent"),
    )
    try:
        signed_in = await officer_sessions.sign_in(
            session, settings, sign_in_throttle(request), attempt
        )
    except SignInRefused as refused:
        # answered, not raised: the failure count and lock are committed with the audit event
        response.status_code = refused.status
        return problem_response(
            refused.status, title=refused.title, detail=refused.detail, slug=refused.slug
        )
    _set_cookie(response, settings, signed_in)
    return _info(_current(signed_in), settings)


@router.get(
    "",
    response_model=SessionInfo,
    status_code=200,
    summary="Who is signed in, what is still to set up, and the CSRF token",
    responses=problem_responses(400, 401),
)
async def read(current: SignedInOfficer, settings: SettingsDep) -> SessionInfo:
    """The signed-in officer and agency, the session's stage and timeouts, and the CSRF token to
    send with every state-changing request."""
    return _info(current, settings)


@router.delete(
    "",
    status_code=204,
    summary="Sign out",
    responses=problem_responses(400, 401, 403),
)
async def sign_out(
    current: SignedInOfficer, session: SessionDep, settings: SettingsDep, response: Response
) -> None:
    """End this session now; its cookie stops working even if it was copied."""
    await officer_sessions.sign_out(session, current)
    _clear_cookie(response, settings)


@router.post(
    "/logout-all",
    response_model=SessionsEnded,
    status_code=200,
    summary="Sign out everywhere",
    responses=problem_responses(400, 401, 403),
)
async def sign_out_everywhere(
    current: SignedInOfficer, session: SessionDep, settings: SettingsDep, response: Response
) -> SessionsEnded:
    """End every session of the signed-in officer, on every device, this one included."""
    ended = await officer_sessions.sign_out_everywhere(session, current)
    _clear_cookie(response, settings)
    return SessionsEnded(ended=ended)


@router.post(
    "/password",
    response_model=SessionInfo,
    status_code=200,
    summary="Choose a new password",
    responses=problem_responses(400, 401, 403, 415, 422),
)
async def change_password(
    body: PasswordChange,
    current: SignedInOfficer,
    session: SessionDep,
    settings: SettingsDep,
    response: Response,
) -> SessionInfo:
    """At least 12 characters, no composition rules; a password on the list of common passwords, or
    equal to the username, NIP or name, is refused (422). Outside the setup the current password is
    asked. The officer's other sessions end. When this finishes the setup, a new session (and
    cookie) replaces the setup session."""
    replaced = await officer_sessions.change_password(
        session,
        settings,
        current,
        new_password=body.new_password,
        current_password=body.current_password,
    )
    if replaced is not None:
        _set_cookie(response, settings, replaced)
        return _info(_current(replaced), settings)
    return _info(current, settings)


@router.post(
    "/totp",
    response_model=TotpEnrolment,
    status_code=200,
    summary="Start enrolling an authenticator app (TOTP)",
    responses=problem_responses(400, 401, 403, 409),
)
async def start_totp(
    current: SignedInOfficer, session: SessionDep, settings: SettingsDep, response: Response
) -> TotpEnrolment:
    """A new TOTP secret (RFC 6238) as a QR code and an `otpauth://` URI; confirm it with a code
    from the app at `/v1/session/totp/confirm`. 409 when one is already enrolled (an administrator
    can reset it)."""
    enrolment = await officer_sessions.start_totp(session, settings, current)
    response.headers["Cache-Control"] = "no-store"
    return TotpEnrolment(
        secret=enrolment.secret,
        otpauth_uri=enrolment.otpauth_uri,
        qr_svg_data_uri=enrolment.qr_svg_data_uri,
    )


@router.post(
    "/totp/confirm",
    response_model=TotpConfirmed,
    status_code=200,
    summary="Confirm the authenticator app with a first code",
    responses=problem_responses(400, 401, 403, 409, 415, 422),
)
async def confirm_totp(
    body: TotpConfirm,
    current: SignedInOfficer,
    session: SessionDep,
    settings: SettingsDep,
    response: Response,
) -> TotpConfirmed:
    """Turn TOTP on and answer ten one-time recovery codes, shown once. When this finishes the
    setup, a new session (and cookie) replaces the setup session."""
    codes, replaced = await officer_sessions.confirm_totp(session, settings, current, body.code)
    response.headers["Cache-Control"] = "no-store"
    if replaced is not None:
        _set_cookie(response, settings, replaced)
        return TotpConfirmed(recovery_codes=codes, session=_info(_current(replaced), settings))
    return TotpConfirmed(recovery_codes=codes, session=_info(current, settings))
