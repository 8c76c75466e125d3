"""Request dependencies: the session (one transaction per request) and one alias per permission.

A route that declares none of ``AgencyWriter``, ``AgencyReader``, ``InboxReader``, ``Screener``
or ``Admin`` is public, visibly.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.config import Settings
from app.errors import Unauthenticated
from app.models.agency import Scope


def get_settings_dep(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


async def get_session(request: Request) -> AsyncIterator[AsyncSession]:
    """The request's session; committed when the route returns, rolled back if it raises."""
    factory: async_sessionmaker[AsyncSession] = request.app.state.session_factory
    async with factory() as session, session.begin():
        yield session


SettingsDep = Annotated[Settings, Depends(get_settings_dep)]
SessionDep = Annotated[AsyncSession, Depends(get_session)]


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
