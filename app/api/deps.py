"""Request dependencies: the session (one transaction per request) and one alias per permission.

A route that declares none of ``AgencyWriter``, ``AgencyReader``, ``InboxReader``, ``Screener``
or ``Admin`` is public, visibly.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Annotated

from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.config import Settings
from app.errors import Unauthenticated
from app.models.agency import Scope
from app.services.audit import REQUEST_AUDIT_KEY

if TYPE_CHECKING:
    from app.api.audit_hook import RequestAudit


def get_settings_dep(request: Request) -> Settings:
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


async def get_principal(request: Request) -> Principal:
    """Verify the bearer token (implemented by the agency-identity issue)."""
    raise Unauthenticated(
        detail="Authentication is not available yet",
        headers={"WWW-Authenticate": 'Bearer error="invalid_token"'},
    )


def require_scope(scope: Scope) -> object:
    """A dependency that yields the principal when its token carries ``scope`` (403 otherwise)."""

    async def dependency(principal: Annotated[Principal, Depends(get_principal)]) -> Principal:
        from app.errors import Forbidden

        if scope not in principal.scopes and not principal.is_admin:
            raise Forbidden(detail=f"This operation needs the scope {scope.value}")
        return principal

    return Depends(dependency)


AgencyWriter = Annotated[Principal, require_scope(Scope.REPORTS_WRITE)]
AgencyReader = Annotated[Principal, require_scope(Scope.REPORTS_READ)]
InboxReader = Annotated[Principal, require_scope(Scope.INBOX_READ)]
Screener = Annotated[Principal, require_scope(Scope.SCREENING_QUERY)]
Admin = Annotated[Principal, require_scope(Scope.ADMIN)]
