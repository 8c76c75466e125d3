"""Request dependencies: the session (one transaction per request) and one alias per permission.

A route that declares none of ``AgencyWriter``, ``AgencyReader``, ``InboxReader``, ``Screener``
or ``Admin`` is public, visibly.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Annotated

from fastapi import Depends, Request, Response, Security
from fastapi.openapi.models import OAuthFlowClientCredentials
from fastapi.openapi.models import OAuthFlows as OAuthFlowsModel
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer, OAuth2
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.config import Settings
from app.errors import Forbidden, RateLimited, Unauthenticated
from app.models.agency import Scope
from app.services.audit import REQUEST_AUDIT_KEY, record_credential_event
from app.services.rate_limits import Budget, RateLimits
from app.services.tokens import InvalidToken, verify_access_token

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
    """
    factory: async_sessionmaker[AsyncSession] = request.app.state.session_factory
    audit = _request_audit(request)
    async with factory() as session, session.begin():
        if audit is not None:
            session.info[REQUEST_AUDIT_KEY] = audit
        yield session
        if audit is not None:
            await audit.write_success(session)


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
    """The authenticated caller, taken from a verified access token."""

    agency_id: uuid.UUID
    agency_code: str
    scopes: frozenset[str]
    #: The API key or client assertion the token was minted from.
    credential_id: str
    #: The access token's ``jti``.
    token_id: str
    extra: dict[str, str] = field(default_factory=dict)

    @property
    def is_admin(self) -> bool:
        return Scope.ADMIN in self.scopes


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
    settings: SettingsDep,
    _oauth2: Annotated[str | None, Security(oauth2_client_credentials)],
    _bearer: Annotated[HTTPAuthorizationCredentials | None, Security(bearer_token)],
) -> Principal:
    """Verify the bearer token: signature, claims, and that its agency and key are still live."""
    authorization = request.headers.get("authorization")
    if not authorization:
        raise Unauthenticated(
            detail="Send an access token: Authorization: Bearer <token>", headers=_MISSING
        )
    scheme, _, token = authorization.partition(" ")
    try:
        if scheme.lower() != "bearer" or not token.strip():
            raise InvalidToken("not a bearer token")
        verified = await verify_access_token(session, settings, token.strip())
    except InvalidToken as refused:
        await _record_refusal(session, refused.reason)
        raise
    principal = Principal(
        agency_id=verified.agency.id,
        agency_code=verified.agency.code,
        scopes=verified.scopes,
        credential_id=verified.credential_id,
        token_id=verified.token_id,
    )
    request.state.principal = principal  # the audit hook names the actor from it
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
