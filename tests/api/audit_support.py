"""Test support for the audit trail: a stand-in for get_principal and direct reads of the chain."""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import FastAPI, Request
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.api.deps import Principal, SessionDep, get_principal
from app.errors import Unauthenticated
from app.models.agency import DEFAULT_AGENCY_SCOPES, Scope
from app.models.audit import AuditEvent
from app.services.audit import record_credential_event

AGENCY_IDS = {"IMIGRASI-DUMAI": uuid.uuid4(), "POLRES-DUMAI": uuid.uuid4(), "ADMIN": uuid.uuid4()}


def principal_for(code: str) -> Principal:
    scopes = {Scope.ADMIN} if code == "ADMIN" else set(DEFAULT_AGENCY_SCOPES)
    return Principal(
        agency_id=AGENCY_IDS[code],
        agency_code=code,
        scopes=frozenset(str(s) for s in scopes),
        credential_id=f"key-{code.lower()}",
        token_id=f"jti-{uuid.uuid4()}",
    )


async def fake_get_principal(request: Request, session: SessionDep) -> Principal:
    """Like the real one: ``X-Test-Agency: CODE`` authenticates; anything else is refused."""
    code = request.headers.get("x-test-agency")
    if code not in AGENCY_IDS:
        await record_credential_event(
            session,
            action="auth.bearer",
            agency_code=code,
            credential_id=None,
            outcome="denied",
            detail={"reason": "unknown_agency" if code else "missing_token"},
        )
        raise Unauthenticated(detail="A bearer token is required")
    principal = principal_for(code)
    request.state.principal = principal
    return principal


def authenticate_by_header(app: FastAPI) -> None:
    app.dependency_overrides[get_principal] = fake_get_principal


def as_agency(code: str) -> dict[str, str]:
    return {"x-test-agency": code}


async def audit_events(app: FastAPI, **where: Any) -> list[AuditEvent]:
    factory: async_sessionmaker[AsyncSession] = app.state.session_factory
    async with factory() as session:
        statement = select(AuditEvent).order_by(AuditEvent.seq)
        for name, value in where.items():
            statement = statement.where(getattr(AuditEvent, name) == value)
        return list((await session.execute(statement)).scalars())
