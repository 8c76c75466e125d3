"""Helpers for routing/delivery tests: callers faked (agencies come from tests/factories.py)."""

from __future__ import annotations

import uuid

from fastapi import FastAPI

from app.api.deps import Principal, get_principal
from app.models.agency import DEFAULT_AGENCY_SCOPES, Agency, Scope


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
