"""Helpers for the auth tests: a movable clock and hand-made (often hostile) tokens."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from jose import jwt

from app.db import transaction
from app.models.base import utcnow
from app.services import api_keys, client_assertions, oauth, signing_keys, tokens

_MODULES_READING_THE_CLOCK = (
    api_keys,
    oauth,
    tokens,
    signing_keys,
    client_assertions,
)


@dataclass
class Clock:
    """Moves the service's notion of now (not python-jose's) forward."""

    offset: timedelta = timedelta(0)

    def now(self) -> datetime:
        return utcnow() + self.offset

    def advance(self, **delta: float) -> None:
        self.offset += timedelta(**delta)

    @classmethod
    def install(cls, monkeypatch: pytest.MonkeyPatch) -> Clock:
        clock = cls()
        for module in _MODULES_READING_THE_CLOCK:
            monkeypatch.setattr(module, "utcnow", clock.now)
        return clock


@dataclass(frozen=True)
class ServiceKey:
    kid: str
    private_pem: str
    public_pem: bytes


async def current_service_key(app: Any) -> ServiceKey:
    """The service's current signing key, private half decrypted (tests forge tokens with it)."""
    settings = app.state.settings
    async with transaction(app.state.session_factory) as session:
        key = await signing_keys.ensure_signing_keys(session, settings)
        pem = signing_keys.decrypt_private_key(settings, key)
    public = serialization.load_pem_private_key(pem.encode(), password=None).public_key()
    public_pem = public.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return ServiceKey(kid=key.kid, private_pem=pem, public_pem=public_pem)


def sign(claims: dict[str, Any], key: str, *, algorithm: str = "ES256", **header: Any) -> str:
    """A JWS over ``claims``; ``header`` adds or overrides header members (``typ``, ``kid``, …)."""
    return jwt.encode(claims, key, algorithm=algorithm, headers=header)


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unsigned(header: dict[str, Any], claims: dict[str, Any]) -> str:
    """A token with ``alg: none`` style: header and claims, empty signature."""
    return f"{b64url(json.dumps(header).encode())}.{b64url(json.dumps(claims).encode())}."


def hs256_with_secret(header: dict[str, Any], claims: dict[str, Any], secret: bytes) -> str:
    """An HS256 token MACed with ``secret`` (the classic public-key-as-HMAC-secret attack)."""
    signing_input = f"{b64url(json.dumps(header).encode())}.{b64url(json.dumps(claims).encode())}"
    mac = hmac.new(secret, signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{b64url(mac)}"
