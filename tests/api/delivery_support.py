"""Helpers for routing/delivery tests: agencies made directly in the database, callers faked."""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import FastAPI

from app.api.deps import Principal, get_principal
from app.db import transaction
from app.models.agency import DEFAULT_AGENCY_SCOPES, Agency, Scope


async def make_agency(
    app: FastAPI, code: str, kind: str = "OTHER", region_code: str | None = "14.72", **extra: Any
) -> Agency:
    async with transaction(app.state.session_factory) as session:
        agency = Agency(
            code=code, name=f"Agency {code}", kind=kind, region_code=region_code, **extra
        )
        session.add(agency)
        await session.flush()
    return agency


def act_as(app: FastAPI, agency: Agency, *, admin: bool = False) -> None:
    """Every following request is made by ``agency`` (with the admin scope when ``admin``)."""
    scopes = frozenset({Scope.ADMIN}) if admin else frozenset(DEFAULT_AGENCY_SCOPES)
    principal = Principal(
        agency_id=agency.id,
        agency_code=agency.code,
        scopes=frozenset(str(s) for s in scopes),
        credential_id="test-key",
        token_id=uuid.uuid4().hex,
    )
    app.dependency_overrides[get_principal] = lambda: principal
