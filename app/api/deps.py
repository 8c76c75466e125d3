"""Request dependencies: the session (one transaction per request) and one alias per permission.

A route that declares none of ``AgencyWriter``, ``AgencyReader``, ``InboxReader``, ``Screener``,
``Admin``, ``Curator`` or ``AgencyManager`` is public, visibly. Each accepts either a bearer
token (an agency's system) or an officer's session cookie (a person), never both at once.
"""

from __future__ import annotations

import functools
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

from fastapi import Depends, Request, Response, Security
from fastapi.openapi.models import OAuthFlowClientCredentials
from fastapi.openapi.models import OAuthFlows as OAuthFlowsModel
from fastapi.security import APIKeyCookie, HTTPAuthorizationCredentials, HTTPBearer, OAuth2
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.config import Environment, Settings
from app.db import (
    ReadSession,
    autocommit_sessions,
    hold_reads,
    holds_reads,
    release_reads,
    wrote,
)
from app.errors import BadRequest, Forbidden, RateLimited, Unauthenticated
from app.services import officer_sessions, tokens
from app.services.audit import REQUEST_AUDIT_KEY, record_credential_event
from app.services.group_commit import AuditGroupCommit
from app.services.officers import can_curate, effective_scopes
from app.services.rate_limits import Budget, RateLimits
from app.services.sign_in_throttle import SignInThrottle
from app.vocab.enums import OfficerRole, Scope, SessionStage

if TYPE_CHECKING:
    from app.api.audit_hook import RequestAudit


async def get_settings_dep(request: Request) -> Settings:
    # async: FastAPI runs a plain ``def`` dependency in a worker thread, a hop per request.
    settings: Settings = request.app.state.settings
    return settings


async def get_session(request: Request) -> AsyncIterator[AsyncSession]:
    """The request's session; committed when the route returns, rolled back if it raises.

    The request's audit event (``app.api.audit_hook``) is appended just before the commit, so
    it lands with the route's work or not at all; a failed request is audited after the rollback.
    A request that wrote nothing (a read) has no work to land with: its transaction ends, and
    its event is committed together with those of concurrent reads (``audit_group_commit``),
    still before the answer leaves.
    """
    audit = _request_audit(request)
    grouped = False
    if _reads_only(request):
        # No transaction to begin nor end: its reads go on a pooled connection of their own
        # (``hold_reads``), each committing alone; the session serves what else it may send,
        # made only if something needs it.
        session: AsyncSession = ReadSession(autocommit_sessions(request.app.state))
        hold_reads(session, request.app.state.engine)
        if audit is not None:
            session.info[REQUEST_AUDIT_KEY] = audit
        try:
            yield session
            if audit is not None:
                grouped = not wrote(session) and audit_group_commit(request) is not None
                if not grouped:
                    await audit.write_success(session)
            if session.in_transaction():
                await session.commit()
        finally:
            # back to the pool before the wait for the audit event's shared commit
            await release_reads(session)
            if session.in_transaction():
                await session.close()  # after an error: what it began is rolled back
    else:
        factory: async_sessionmaker[AsyncSession] = request.app.state.session_factory
        async with factory() as session, session.begin():
            if audit is not None:
                session.info[REQUEST_AUDIT_KEY] = audit
            yield session
            if audit is not None:
                grouped = not wrote(session) and audit_group_commit(request) is not None
                if not grouped:
                    await audit.write_success(session)
    if grouped and audit is not None:
        group = audit_group_commit(request)
        assert group is not None
        await audit.write_success_grouped(group)


_READS_ONLY = "_sinergi_reads_only"

Endpoint = TypeVar("Endpoint", bound=Callable[..., Any])


def reads_only(endpoint: Endpoint) -> Endpoint:
    """Mark a route whose work only reads (its audit event aside, which commits on its own).

    On PostgreSQL its token check and queries then run without a transaction around them,
    when it is called with a bearer token (an officer's session may be touched: it keeps one);
    its session (``autocommit_sessions``) takes a pooled connection at its first statement,
    not before its dependencies are solved. Put it below the router's decorator.
    """
    setattr(endpoint, _READS_ONLY, True)
    return endpoint


#: ``_READS_ONLY``'s value for a route whose writes go to the ingest group commit.
_WRITES_IN_GROUP = "writes in the ingest group commit"


def writes_in_group_commit(endpoint: Endpoint) -> Endpoint:
    """Mark a route that hands its writes to the ingest group commit's transaction
    (``app.services.ingest_batch``): while the group commit is on, the request's own session
    only checks the token, as ``reads_only``'s does (no transaction of its own). Where it is
    off (SQLite, ``SINERGI_INGEST_GROUP_COMMIT=false``) the route writes in the request's
    transaction, as any other. Put it below the router's decorator."""
    setattr(endpoint, _READS_ONLY, _WRITES_IN_GROUP)
    return endpoint


_HOLDER_READER = "_sinergi_holder_reader"

#: Reads a bearer token's holder for a route, in the route's own statement: (the request, its
#: session, the agency code and credential id the token names) -> what
#: ``credentials.token_holder`` answers for them.
HolderReader = Callable[
    [Request, AsyncSession, str, uuid.UUID | None], Awaitable[tokens.TokenHolder | None]
]


def checks_token_with(reader: HolderReader) -> Callable[[Endpoint], Endpoint]:
    """Mark a route whose bearer token's agency and credential are read by ``reader``, which
    also fetches what the route will answer (keeping it on ``request.state``): the token check
    and the route's query in one round trip. Everything else about the token is checked as for
    any route (``verify_access_token``), and the holder before anything fetched is used. Put it
    below the router's decorator."""

    def mark(endpoint: Endpoint) -> Endpoint:
        setattr(endpoint, _HOLDER_READER, reader)
        return endpoint

    return mark


def _holder_reader(request: Request, session: AsyncSession) -> tokens.HolderReader | None:
    """How the token's holder is read: by the route's own statement (``checks_token_with``),
    on the read's held connection (``tokens.token_holder``: None), or else on a pooled
    connection of its own, outside the request's transaction."""
    route = request.scope.get("route")
    reader: HolderReader | None = getattr(getattr(route, "endpoint", None), _HOLDER_READER, None)
    if reader is not None:
        return functools.partial(reader, request)
    if holds_reads(session):
        return None
    return functools.partial(tokens.token_holder_alone, request.app.state.engine)


def _reads_only(request: Request) -> bool:
    route = request.scope.get("route")
    marked = getattr(getattr(route, "endpoint", None), _READS_ONLY, False)
    if not marked:
        return False
    settings: Settings = request.app.state.settings
    if marked == _WRITES_IN_GROUP and not (
        settings.ingest_group_commit and _request_audit(request) is not None
    ):
        return False  # its work runs in the request's own transaction
    return (
        not settings.is_sqlite
        # without one, the 401 needs no connection: none is taken ahead of it
        and "authorization" in request.headers
        and session_cookie_name(settings) not in request.cookies
    )


def audit_group_commit(request: Request) -> AuditGroupCommit | None:
    """The process's group commit of audit events, made on first use; None when switched off
    and on SQLite, where every transaction takes the one write lock at BEGIN anyway."""
    state = request.app.state
    group = getattr(state, "audit_group_commit", None)
    if isinstance(group, AuditGroupCommit):
        return group
    settings: Settings = state.settings
    if not settings.audit_group_commit or settings.is_sqlite:
        return None
    group = state.audit_group_commit = AuditGroupCommit(state.session_factory)
    return group


def _request_audit(request: Request) -> RequestAudit | None:
    """The request's audit context, opened by the app-wide ``audit_request`` dependency."""
    audit = getattr(request.state, "audit", None)
    return audit if hasattr(audit, "write_success") else None


SettingsDep = Annotated[Settings, Depends(get_settings_dep)]
#: ``scope="function"``: commit (and audit) before the response is sent, so a failed commit
#: is answered as an error rather than a success that did not happen. Always use this alias.
SessionDep = Annotated[AsyncSession, Depends(get_session, scope="function")]


@dataclass(frozen=True)
class Principal:
    """The authenticated caller: an agency's token, or an officer's session for that agency."""

    agency_id: uuid.UUID
    agency_code: str
    scopes: frozenset[str]
    #: The API key or client assertion the token was minted from (``session:<id>`` for officers).
    credential_id: str
    #: The access token's ``jti`` (None for a session).
    token_id: str | None
    extra: dict[str, str] = field(default_factory=dict)
    #: The officer, when a person signed in; their role narrows ``scopes``.
    officer_id: uuid.UUID | None = None
    officer_username: str | None = None
    role: OfficerRole | None = None
    #: May review possible matches, merge and split (admin tokens, analysts of an admin agency).
    curates: bool = False

    @property
    def is_admin(self) -> bool:
        return Scope.ADMIN in self.scopes

    @property
    def actor(self) -> str:
        """How admin actions name who did them: the officer's username, else the agency code."""
        return self.officer_username or self.agency_code


#: Scopes as the OpenAPI security schemes document them.
SCOPE_DESCRIPTIONS = {
    Scope.REPORTS_WRITE.value: "Submit, correct and retract the agency's reports",
    Scope.REPORTS_READ.value: "Read reports, cases and networks visible to the agency",
    Scope.INBOX_READ.value: "Pull and acknowledge the agency's deliveries",
    Scope.SCREENING_QUERY.value: "Screen persons against stored reports",
    Scope.ADMIN.value: "Administer agencies, keys, routing, deliveries and the audit log",
}

#: OAuth 2.0 client credentials (what generated clients and API gateways use) …
oauth2_client_credentials = OAuth2(
    flows=OAuthFlowsModel(
        clientCredentials=OAuthFlowClientCredentials(
            tokenUrl="/v1/auth/token", scopes=SCOPE_DESCRIPTIONS
        )
    ),
    scheme_name="OAuth2ClientCredentials",
    description="Exchange the agency's API key (or a signed client assertion) for an access token.",
    auto_error=False,
)
#: … or a bearer token obtained some other way; both read the same `Authorization` header.
bearer_token = HTTPBearer(
    scheme_name="BearerToken",
    bearerFormat="JWT",
    description="An access token from `POST /v1/auth/token`.",
    auto_error=False,
)

#: An officer's session (``POST /v1/session``). Outside development the cookie is
#: ``__Host-sinergi_session`` (Secure, Path=/, no Domain); in development, served over plain http,
#: browsers refuse ``__Host-`` cookies, so it is ``sinergi_session`` there.
SESSION_COOKIE = "__Host-sinergi_session"
DEVELOPMENT_SESSION_COOKIE = "sinergi_session"
session_cookie = APIKeyCookie(
    name=SESSION_COOKIE,
    scheme_name="SessionCookie",
    description=(
        "An officer's session from `POST /v1/session` (`sinergi_session` when the service runs "
        "with SINERGI_ENV=development). State-changing requests also need the session's CSRF "
        "token in `X-CSRF-Token`. Never send it together with a bearer token."
    ),
    auto_error=False,
)
#: The security schemes that only document how a route authenticates: each is declared with
#: ``auto_error=False`` and its value is never read (the dependencies read the header or cookie
#: themselves), so ``SinergiRoute`` does not solve them per request; OpenAPI still lists them.
DOCUMENTED_SCHEMES = (oauth2_client_credentials, bearer_token, session_cookie)
CSRF_HEADER = "X-CSRF-Token"
CSRF_FORM_FIELD = "csrf_token"
_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def session_cookie_name(settings: Settings) -> str:
    return DEVELOPMENT_SESSION_COOKIE if settings.env is Environment.DEVELOPMENT else SESSION_COOKIE


def sign_in_throttle(request: Request) -> SignInThrottle:
    """The app's sign-in throttle (``app.state.sign_in_throttle``), created on first use."""
    state = request.app.state
    throttle = getattr(state, "sign_in_throttle", None)
    if not isinstance(throttle, SignInThrottle):
        settings: Settings = state.settings
        throttle = state.sign_in_throttle = SignInThrottle(
            after=settings.officer_throttle_after_failures,
            base_seconds=settings.officer_throttle_base_seconds,
        )
    return throttle


async def csrf_given(request: Request) -> str | None:
    """The CSRF token a request carries: the header, or the field of a form post."""
    given = request.headers.get(CSRF_HEADER)
    if given is None and request.headers.get("content-type", "").startswith(
        ("application/x-www-form-urlencoded", "multipart/form-data")
    ):
        value = (await request.form()).get(CSRF_FORM_FIELD)
        given = value if isinstance(value, str) else None
    return given


_MISSING = {"WWW-Authenticate": 'Bearer realm="sinergi"'}


async def _record_refusal(session: AsyncSession, reason: str) -> None:
    """Record a refused token; the request's audit record keeps it through the rollback."""
    await record_credential_event(
        session,
        action="token.refuse",
        agency_code=None,
        credential_id=None,
        outcome="denied",
        detail={"reason": reason},
    )


async def get_principal(
    request: Request,
    session: SessionDep,
    # For OpenAPI only (read from the request below): ``SinergiRoute`` leaves them unsolved
    # (``DOCUMENTED_SCHEMES``), so each is declared with a default, not in ``Annotated``.
    _oauth2: str | None = Security(oauth2_client_credentials),
    _bearer: HTTPAuthorizationCredentials | None = Security(bearer_token),
    _cookie: str | None = Security(session_cookie),
) -> Principal:
    """Verify the bearer token (signature, claims, agency and key still live) or the session."""
    # read off the app, not through SettingsDep: every authenticated request passes here, and
    # each dependency FastAPI solves costs it as much as the lookup
    settings: Settings = request.app.state.settings
    authorization = request.headers.get("authorization")
    cookie = request.cookies.get(session_cookie_name(settings))
    if authorization and cookie is not None:
        raise BadRequest(
            detail="Send either a bearer token or a session cookie, not both",
            headers=_MISSING,
        )
    if cookie is not None:
        return await _officer_principal(request, session, settings, cookie)
    if not authorization:
        raise Unauthenticated(
            detail="Send an access token: Authorization: Bearer <token>", headers=_MISSING
        )
    scheme, _, token = authorization.partition(" ")
    try:
        if scheme.lower() != "bearer" or not token.strip():
            raise tokens.InvalidToken("not a bearer token")
        verified = await tokens.verify_access_token(
            session, settings, token.strip(), _holder_reader(request, session)
        )
    except tokens.InvalidToken as refused:
        await _record_refusal(session, refused.reason)
        raise
    principal = Principal(
        agency_id=verified.agency_id,
        agency_code=verified.agency_code,
        scopes=verified.scopes,
        credential_id=verified.credential_id,
        token_id=verified.token_id,
        curates=Scope.ADMIN in verified.scopes,
    )
    request.state.principal = principal  # the audit hook names the actor from it
    return principal


def officer_principal(current: officer_sessions.CurrentSession) -> Principal:
    """What an active officer session may do: its agency's scopes, narrowed by the role."""
    role = OfficerRole(current.officer.role)
    agency_scopes = list(current.agency.scopes)
    return Principal(
        agency_id=current.agency.id,
        agency_code=current.agency.code,
        scopes=effective_scopes(agency_scopes, role),
        credential_id=current.credential_id,
        token_id=None,
        officer_id=current.officer.id,
        officer_username=current.officer.username,
        role=role,
        curates=can_curate(agency_scopes, role),
    )


async def _officer_principal(
    request: Request, session: AsyncSession, settings: Settings, cookie: str
) -> Principal:
    """The principal of a signed-in officer: their agency, its scopes narrowed by the role."""
    current = await officer_sessions.resolve(session, settings, cookie)
    if current is None:
        await _record_refusal(session, "session unknown, ended or timed out")
        raise Unauthenticated(detail="The session has ended; sign in again", headers=_MISSING)
    if current.stage is not SessionStage.ACTIVE:
        raise Unauthenticated(
            detail="Finish setting up the account first (GET /v1/session says what is missing)",
            headers=_MISSING,
        )
    principal = officer_principal(current)
    request.state.principal = principal  # the audit hook names the officer from it
    request.state.officer_names = current.names()  # the console's header names them from it
    if request.method not in _SAFE_METHODS and not officer_sessions.csrf_matches(
        settings, current.token, await csrf_given(request)
    ):
        raise Forbidden(
            detail=f"Send the session's CSRF token in {CSRF_HEADER} (GET /v1/session gives it)"
        )
    return principal


#: The rate-limit budget each scope's requests spend (admin requests are not limited).
_BUDGETS = {
    Scope.REPORTS_WRITE: Budget.INGEST,
    Scope.REPORTS_READ: Budget.READS,
    Scope.INBOX_READ: Budget.READS,
    Scope.SCREENING_QUERY: Budget.SCREENING,
}


#: Scopes whose routes are rate-limited (and so document a 429).
RATE_LIMITED_SCOPES = frozenset(_BUDGETS)


def rate_limits(request: Request) -> RateLimits:
    """The app's rate limits (``app.state.rate_limits``), created on first use."""
    state = request.app.state
    limits = getattr(state, "rate_limits", None)
    if not isinstance(limits, RateLimits):
        limits = state.rate_limits = RateLimits.from_settings(state.settings)
    return limits


async def _spend(
    request: Request, response: Response, principal: Principal, budget: Budget
) -> None:
    """Take one token of the agency's budget: RateLimit headers on the answer, 429 when empty."""
    verdict = await rate_limits(request).take(principal.agency_id, budget)
    if verdict is None:
        return
    if not verdict.allowed:
        raise RateLimited(
            detail=(
                f"Agency {principal.agency_code} is over its {budget.value} rate limit; "
                f"retry after {verdict.retry_after_seconds} s"
            ),
            headers=verdict.headers(),
        )
    response.headers.update(verdict.headers())


def require_scope(scope: Scope) -> object:
    """A dependency that yields the principal when its token carries ``scope`` (403 otherwise).

    It also spends one token of the agency's rate-limit budget for the scope (429 when empty),
    so every route behind an alias is limited without remembering to be; admins are exempt.
    """

    authenticated = Security(get_principal, scopes=[scope.value])
    budget = _BUDGETS.get(scope)

    async def dependency(
        request: Request, response: Response, principal: Principal = authenticated
    ) -> Principal:
        if scope not in principal.scopes and not principal.is_admin:
            raise Forbidden(
                detail=f"This operation needs the scope {scope.value}",
                headers={
                    "WWW-Authenticate": f'Bearer error="insufficient_scope", scope="{scope.value}"'
                },
            )
        if budget is not None and not principal.is_admin:
            await _spend(request, response, principal, budget)
        return principal

    return Depends(dependency)


AgencyWriter = Annotated[Principal, require_scope(Scope.REPORTS_WRITE)]
AgencyReader = Annotated[Principal, require_scope(Scope.REPORTS_READ)]
InboxReader = Annotated[Principal, require_scope(Scope.INBOX_READ)]
Screener = Annotated[Principal, require_scope(Scope.SCREENING_QUERY)]
Admin = Annotated[Principal, require_scope(Scope.ADMIN)]


async def get_officer_session(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    _cookie: str | None = Security(session_cookie),  # for OpenAPI only, as in get_principal
) -> officer_sessions.CurrentSession:
    """The signed-in officer's session in any stage (setup included); CSRF checked on changes."""
    cookie = request.cookies.get(session_cookie_name(settings))
    if cookie is not None and request.headers.get("authorization"):
        raise BadRequest(detail="Send either a bearer token or a session cookie, not both")
    current = (
        await officer_sessions.resolve(session, settings, cookie) if cookie is not None else None
    )
    if current is None:
        raise Unauthenticated(detail="Not signed in, or the session has ended: POST /v1/session")
    if request.method not in _SAFE_METHODS and not officer_sessions.csrf_matches(
        settings, current.token, await csrf_given(request)
    ):
        raise Forbidden(
            detail=f"Send the session's CSRF token in {CSRF_HEADER} (GET /v1/session gives it)"
        )
    return current


#: The officer's own session, in any stage: for signing out and finishing the setup.
SignedInOfficer = Annotated[officer_sessions.CurrentSession, Depends(get_officer_session)]


async def _curator(
    principal: Annotated[Principal, Security(get_principal, scopes=[Scope.ADMIN.value])],
) -> Principal:
    if not principal.curates:
        raise Forbidden(
            detail="Reviewing matches, merging and splitting is for analysts and admins"
        )
    return principal


async def _agency_manager(
    principal: Annotated[Principal, Security(get_principal, scopes=[Scope.ADMIN.value])],
) -> Principal:
    if not (principal.is_admin or principal.role is OfficerRole.AGENCY_ADMIN):
        raise Forbidden(
            detail="Managing an agency's officers and keys is for admins and agency administrators"
        )
    return principal


#: Admin tokens, and analysts (and system admins) of an admin agency signed in as officers.
Curator = Annotated[Principal, Depends(_curator)]
#: Manages an agency's officers and API keys: admin tokens and system admins (any agency),
#: agency administrators (their own only: ``agencies.get_managed_agency`` answers 404 for others).
AgencyManager = Annotated[Principal, Depends(_agency_manager)]
