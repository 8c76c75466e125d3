"""Signing in to the console: the sign-in form, the first-time setup, signing out.

The routes call ``app.services.officer_sessions``, exactly as ``POST /v1/session`` and its
siblings do, and set the same session cookie; they hold no rule of their own. Pages that need
a signed-in officer take :data:`ConsoleOfficer`; a browser without a live session is sent to
the sign-in page at ``/`` (``SignInNeeded``).
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from app.api.audit_hook import RequestAudit
from app.api.deps import (
    Principal,
    SessionDep,
    SettingsDep,
    officer_principal,
    session_cookie_name,
    sign_in_throttle,
)
from app.config import Environment, Settings
from app.errors import Conflict, Forbidden, InvalidInput, RateLimited
from app.services import officer_sessions
from app.services.officer_sessions import CurrentSession, SignedIn, SignInAttempt, SignInRefused
from app.vocab.enums import SessionStage
from app.web.forms import NO_ERRORS, FormErrors, SummaryItem, field_id
from app.web.identity import Identity, identity_of
from app.web.messages import flash
from app.web.paths import local_target
from app.web.templating import catalogue_for, render

router = APIRouter(include_in_schema=False)

#: The sign-in form's own CSRF token (there is no session yet): a random value in a cookie that
#: a cross-site form cannot read, repeated in the form (double submit against login CSRF).
SIGN_IN_CSRF_COOKIE = "sinergi_signin"
_CSRF_FIELD = "csrf_token"
HOME = "/"
SETUP = "/penyiapan"
SETUP_CODE_PAGE = "/masuk/kode-penyiapan"


class SignInNeeded(Exception):
    """The page needs a signed-in officer (or a finished setup): the browser goes to ``to``."""

    def __init__(self, to: str = HOME) -> None:
        super().__init__(to)
        self.to = to


def redirect_to_sign_in(request: Request, exc: Exception) -> Response:
    """Send the browser to the sign-in page; an htmx request is told to navigate there."""
    to = exc.to if isinstance(exc, SignInNeeded) else HOME
    if request.headers.get("hx-request"):
        return Response(status_code=204, headers={"HX-Redirect": to})
    return RedirectResponse(to, status_code=303)


@dataclass(frozen=True)
class SignedInConsole:
    """A console page's officer: the session, what it may do, and the header's identity."""

    current: CurrentSession
    principal: Principal
    identity: Identity


async def current_session(
    request: Request, session: SessionDep, settings: SettingsDep
) -> CurrentSession | None:
    """The live session behind the request's cookie, in any stage; None when signed out."""
    cookie = request.cookies.get(session_cookie_name(settings))
    return await officer_sessions.resolve(session, settings, cookie) if cookie else None


MaybeSession = Annotated[CurrentSession | None, Depends(current_session)]


async def _form_csrf(request: Request) -> str | None:
    header = request.headers.get("x-csrf-token")
    if header is not None:
        return header
    value = (await request.form()).get(_CSRF_FIELD)
    return value if isinstance(value, str) else None


async def _checked(request: Request, settings: Settings, current: CurrentSession) -> None:
    """A state-changing request must carry the session's CSRF token (403 otherwise)."""
    if request.method not in {"GET", "HEAD"} and not officer_sessions.csrf_matches(
        settings, current.token, await _form_csrf(request)
    ):
        raise Forbidden(detail="The form's CSRF token does not match the session")


async def _any_stage(
    request: Request, settings: SettingsDep, current: MaybeSession
) -> CurrentSession:
    if current is None:
        raise SignInNeeded()
    await _checked(request, settings, current)
    return current


async def _signed_in(
    request: Request, settings: SettingsDep, current: MaybeSession
) -> SignedInConsole:
    if current is None:
        raise SignInNeeded()
    if current.stage is not SessionStage.ACTIVE:
        raise SignInNeeded(SETUP)
    await _checked(request, settings, current)
    return console_officer(current, settings)


def console_officer(current: CurrentSession, settings: Settings) -> SignedInConsole:
    """An active session as the console's pages need it."""
    return SignedInConsole(
        current=current,
        principal=officer_principal(current),
        identity=identity_of(current, settings),
    )


#: The officer's session in any stage (setup pages, signing out), CSRF checked on a POST.
AnyStage = Annotated[CurrentSession, Depends(_any_stage)]
#: A signed-in officer who finished the setup; pages of the console take this.
ConsoleOfficer = Annotated[SignedInConsole, Depends(_signed_in)]


def _set_session_cookie(response: Response, settings: Settings, signed_in: SignedIn) -> None:
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


def _clear_session_cookie(response: Response, settings: Settings) -> None:
    response.delete_cookie(
        session_cookie_name(settings),
        path="/",
        secure=settings.env is not Environment.DEVELOPMENT,
        httponly=True,
        samesite="lax",
    )


def _errors(*items: tuple[str, str]) -> FormErrors:
    """Form errors from (JSON pointer, message) pairs."""
    summary = tuple(SummaryItem(field_id=field_id(p), message=m) for p, m in items)
    return FormErrors(by_field={i.field_id: i.message for i in summary}, summary=summary)


# --- signing in --------------------------------------------------------------------------------


def sign_in_page(
    request: Request,
    *,
    template: str = "pages/signin/signin.html",
    values: dict[str, str] | None = None,
    errors: FormErrors = NO_ERRORS,
    status_code: int = 200,
) -> HTMLResponse:
    """The sign-in form (or the setup-code form) with its login-CSRF cookie."""
    token = request.cookies.get(SIGN_IN_CSRF_COOKIE) or secrets.token_urlsafe(24)
    context: dict[str, Any] = {
        "values": values or {},
        "errors": errors,
        "signin_csrf": token,
        "next": local_target(request.query_params.get("next"), HOME),
    }
    response = render(request, template, context, status_code=status_code)
    response.set_cookie(
        SIGN_IN_CSRF_COOKIE,
        token,
        path="/",
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
    )
    return response


async def _attempt(
    request: Request,
    session: SessionDep,
    settings: Settings,
    attempt: SignInAttempt,
    csrf: str,
    next_path: str,
    template: str,
    values: dict[str, str],
) -> Response:
    """Try the sign-in; on success go on (to the setup when something is still missing)."""
    t = render_text(request)
    expected = request.cookies.get(SIGN_IN_CSRF_COOKIE)
    if not expected or not secrets.compare_digest(expected, csrf):
        return sign_in_page(
            request,
            template=template,
            values=values,
            errors=_errors(("/username", t("signin.error.expired_form"))),
            status_code=403,
        )
    try:
        signed_in = await officer_sessions.sign_in(
            session, settings, sign_in_throttle(request), attempt
        )
    except SignInRefused:
        # rendered, not raised: the failure count and lock commit with the audit event
        return sign_in_page(
            request,
            template=template,
            values=values,
            errors=_errors(("/username", t("signin.error.refused"))),
            status_code=401,
        )
    except RateLimited as slowed:
        wait = (slowed.headers or {}).get("Retry-After", "60")
        return sign_in_page(
            request,
            template=template,
            values=values,
            errors=_errors(("/username", t("signin.error.slowed", seconds=wait))),
            status_code=429,
        )
    to = next_path if signed_in.record.stage == SessionStage.ACTIVE.value else SETUP
    response = RedirectResponse(local_target(to, HOME), status_code=303)
    _set_session_cookie(response, settings, signed_in)
    response.delete_cookie(SIGN_IN_CSRF_COOKIE, path="/")
    return response


def render_text(request: Request) -> Callable[..., str]:
    """The request's catalogue lookup (``t``), for messages a route puts into a page."""
    return catalogue_for(request).text


@router.post("/masuk", response_class=HTMLResponse)
async def sign_in(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    username: Annotated[str, Form(max_length=200)] = "",
    password: Annotated[str, Form(max_length=1024)] = "",
    code: Annotated[str, Form(max_length=64)] = "",
    csrf_token: Annotated[str, Form(max_length=200)] = "",
    next_path: Annotated[str, Form(alias="next", max_length=2000)] = HOME,
) -> Response:
    """Sign in with a password and, once enrolled, a code from the app (or a recovery code)."""
    code = code.strip()
    compact = code.replace(" ", "")
    is_totp = compact.isdigit() and len(compact) == 6
    attempt = SignInAttempt(
        username=username.strip(),
        password=password,
        totp_code=compact if is_totp else None,
        recovery_code=code if code and not is_totp else None,
        client_address=request.client.host if request.client else None,
        user_agent=request.headers.get("user-agent"),
    )
    return await _attempt(
        request,
        session,
        settings,
        attempt,
        csrf_token,
        next_path,
        "pages/signin/signin.html",
        {"username": username},
    )


@router.get(SETUP_CODE_PAGE, response_class=HTMLResponse)
async def setup_code_form(request: Request) -> HTMLResponse:
    """Sign in for the first time (or after a reset) with the setup code from the administrator."""
    return sign_in_page(request, template="pages/signin/setup_code.html")


@router.post(SETUP_CODE_PAGE, response_class=HTMLResponse)
async def sign_in_with_setup_code(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    username: Annotated[str, Form(max_length=200)] = "",
    setup_code: Annotated[str, Form(max_length=64)] = "",
    csrf_token: Annotated[str, Form(max_length=200)] = "",
) -> Response:
    attempt = SignInAttempt(
        username=username.strip(),
        setup_code=setup_code.strip(),
        client_address=request.client.host if request.client else None,
        user_agent=request.headers.get("user-agent"),
    )
    return await _attempt(
        request,
        session,
        settings,
        attempt,
        csrf_token,
        SETUP,
        "pages/signin/setup_code.html",
        {"username": username},
    )


# --- the first-time setup ---------------------------------------------------------------------


def _setup_page(
    request: Request,
    settings: Settings,
    current: CurrentSession,
    *,
    errors: FormErrors = NO_ERRORS,
    status_code: int = 200,
) -> Response:
    missing = officer_sessions.needs(current.officer, settings)
    if current.stage is SessionStage.ACTIVE or not missing:
        return RedirectResponse(HOME, status_code=303)
    context: dict[str, Any] = {
        "errors": errors,
        "step": missing[0],
        "steps": officer_sessions.needs(current.officer, settings),
        "enrolment": officer_sessions.pending_totp(settings, current),
        "identity": identity_of(current, settings),
    }
    return render(request, "pages/signin/setup.html", context, status_code=status_code)


@router.get(SETUP, response_class=HTMLResponse)
async def setup(request: Request, settings: SettingsDep, current: AnyStage) -> Response:
    """What is still to do before working: choose a password, then enrol the authenticator app."""
    return _setup_page(request, settings, current)


def _finished(settings: Settings, replaced: SignedIn | None, to: str) -> Response:
    response = RedirectResponse(to, status_code=303)
    if replaced is not None:
        _set_session_cookie(response, settings, replaced)
    return response


@router.post(SETUP + "/kata-sandi", response_class=HTMLResponse)
async def choose_password(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    current: AnyStage,
    new_password: Annotated[str, Form(max_length=1024)] = "",
    confirm_password: Annotated[str, Form(max_length=1024)] = "",
) -> Response:
    """Choose the password (setup): the same rules as ``POST /v1/session/password``."""
    t = render_text(request)
    if current.stage is SessionStage.ACTIVE or current.officer.password_hash is not None:
        return RedirectResponse(SETUP, status_code=303)
    if new_password != confirm_password:
        errors = _errors(("/confirm_password", t("signin.error.password_mismatch")))
        return _setup_page(request, settings, current, errors=errors, status_code=422)
    try:
        replaced = await officer_sessions.change_password(
            session, settings, current, new_password=new_password, current_password=None
        )
    except InvalidInput as refused:
        reason = refused.errors[0].detail if refused.errors else refused.detail
        errors = _errors(("/new_password", t("signin.error.password_refused", reason=reason)))
        return _setup_page(request, settings, current, errors=errors, status_code=422)
    if replaced is not None:
        response = _finished(settings, replaced, HOME)
        flash(request, response, "flash.signin.ready")
        return response
    return RedirectResponse(SETUP, status_code=303)


@router.post(SETUP + "/totp", response_class=HTMLResponse)
async def start_totp(
    request: Request, session: SessionDep, settings: SettingsDep, current: AnyStage
) -> Response:
    """Begin enrolling the authenticator app: a new secret, shown as a QR code."""
    if officer_sessions.pending_totp(settings, current) is None:
        try:
            await officer_sessions.start_totp(session, settings, current)
        except (Conflict, Forbidden):
            return RedirectResponse(SETUP, status_code=303)
    return _setup_page(request, settings, current)


@router.post(SETUP + "/totp/konfirmasi", response_class=HTMLResponse)
async def confirm_totp(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    current: AnyStage,
    code: Annotated[str, Form(max_length=32)] = "",
) -> Response:
    """Confirm the app with a first code; the recovery codes are shown once, on this answer."""
    t = render_text(request)
    try:
        codes, replaced = await officer_sessions.confirm_totp(
            session, settings, current, code.replace(" ", "").strip()
        )
    except InvalidInput:
        errors = _errors(("/code", t("signin.error.totp_wrong")))
        return _setup_page(request, settings, current, errors=errors, status_code=422)
    except Conflict:
        return RedirectResponse(SETUP, status_code=303)
    response = render(request, "pages/signin/recovery_codes.html", {"codes": codes})
    if replaced is not None:
        _set_session_cookie(response, settings, replaced)
    return response


# --- signing out -------------------------------------------------------------------------------


@router.post("/keluar")
async def sign_out(
    request: Request, session: SessionDep, settings: SettingsDep, current: AnyStage
) -> RedirectResponse:
    """End this session (the cookie stops working even where it was copied)."""
    await officer_sessions.sign_out(session, current)
    response = RedirectResponse(HOME, status_code=303)
    _clear_session_cookie(response, settings)
    flash(request, response, "flash.signin.signed_out")
    return response


@router.post("/keluar/semua")
async def sign_out_everywhere(
    request: Request, session: SessionDep, settings: SettingsDep, current: AnyStage
) -> RedirectResponse:
    """End every session of the officer, on every device, this one included."""
    await officer_sessions.sign_out_everywhere(session, current)
    response = RedirectResponse(HOME, status_code=303)
    _clear_session_cookie(response, settings)
    flash(request, response, "flash.signin.signed_out_everywhere")
    return response


def audited(request: Request, audit: RequestAudit, officer: SignedInConsole, action: str) -> None:
    """Audit this page as the API request it stands for (DESIGN §7: every read of a report and
    every change is an event naming the officer); the path names the report, even on a 404."""
    request.state.principal = officer.principal
    audit.authenticated = True
    audit.action(action)
