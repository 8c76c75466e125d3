"""The service's token signing keys: generation, encryption at rest, rotation with overlap.

States: ``next`` (published in the JWKS, not yet signing) → ``current`` (signs) → ``retired``
(verifies, and stays published, until every token it signed has expired). A rotation promotes
``next`` to ``current`` and creates a new ``next`` in one transaction, so there is never a moment
when no published key verifies a live token.
"""

from __future__ import annotations

import base64
import hashlib
import os
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from jose import jwk
from sqlalchemy.ext.asyncio import AsyncSession

from app.config import Settings
from app.models.base import utcnow
from app.models.credentials import SigningKey, SigningKeyState
from app.repositories import credentials as credentials_repo
from app.schemas.agency import SigningKeyRead
from app.services.audit import record_credential_event

_NONCE_BYTES = 12
#: Clock leeway allowed when checking token times; retired keys stay this much longer too.
CLOCK_LEEWAY = timedelta(seconds=30)


def _encryption_key(key_encryption_key: str) -> bytes:
    """A 256-bit AES key derived (HKDF-SHA256) from a key-encryption key."""
    return HKDF(
        algorithm=hashes.SHA256(), length=32, salt=None, info=b"sinergi signing keys v1"
    ).derive(key_encryption_key.encode())


def encrypt_private_key(settings: Settings, kid: str, pem: bytes) -> bytes:
    """nonce ‖ AES-GCM(pem), bound to ``kid`` as associated data."""
    nonce = os.urandom(_NONCE_BYTES)
    aead = AESGCM(_encryption_key(settings.key_encryption_key))
    return nonce + aead.encrypt(nonce, pem, kid.encode())


def decrypt_private_key(settings: Settings, key: SigningKey) -> str:
    """The PEM of ``key``'s private half, decrypted with the key-encryption key or, during a
    rotation, the previous one (raises if neither opens it)."""
    if key.private_key_encrypted is None:
        raise ValueError(f"signing key {key.kid} has no private key (retired)")
    blob = key.private_key_encrypted
    nonce, ciphertext = blob[:_NONCE_BYTES], blob[_NONCE_BYTES:]
    candidates = [settings.key_encryption_key, settings.previous_key_encryption_key]
    for kek in filter(None, candidates):
        try:
            pem = AESGCM(_encryption_key(kek)).decrypt(nonce, ciphertext, key.kid.encode())
        except InvalidTag:
            continue
        return pem.decode()
    raise InvalidTag(
        f"signing key {key.kid} cannot be decrypted with SINERGI_KEY_ENCRYPTION_KEY"
        + (
            " or SINERGI_PREVIOUS_KEY_ENCRYPTION_KEY"
            if settings.previous_key_encryption_key
            else ""
        )
    )


def _generate(algorithm: str) -> bytes:
    private: ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey
    if algorithm == "ES256":
        private = ec.generate_private_key(ec.SECP256R1())
    elif algorithm == "RS256":
        private = rsa.generate_private_key(public_exponent=65537, key_size=3072)
    else:
        raise ValueError(f"unsupported signing algorithm {algorithm}")
    return private.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def jwk_thumbprint(public: dict[str, Any]) -> str:
    """RFC 7638 JWK thumbprint (base64url SHA-256 of the required members)."""
    members = ("crv", "kty", "x", "y") if public["kty"] == "EC" else ("e", "kty", "n")
    canonical = "{" + ",".join(f'"{m}":"{public[m]}"' for m in members) + "}"
    digest = hashlib.sha256(canonical.encode()).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def _new_key(settings: Settings, state: SigningKeyState, now: datetime) -> SigningKey:
    algorithm = settings.token_signing_algorithm
    pem = _generate(algorithm)
    public = jwk.construct(pem.decode(), algorithm).public_key().to_dict()
    kid = jwk_thumbprint(public)
    public.update({"kid": kid, "use": "sig", "alg": algorithm})
    return SigningKey(
        id=uuid.uuid4(),
        kid=kid,
        algorithm=algorithm,
        state=state,
        public_jwk=public,
        private_key_encrypted=encrypt_private_key(settings, kid, pem),
        activated_at=now if state is SigningKeyState.CURRENT else None,
    )


def verifies_until(key: SigningKey | VerificationKey, settings: Settings) -> datetime | None:
    """When a retired key stops verifying: its last token's expiry plus the leeway."""
    if key.retired_at is None:
        return None
    return key.retired_at + timedelta(seconds=settings.access_token_ttl_seconds) + CLOCK_LEEWAY


def is_verifying(key: SigningKey | VerificationKey, settings: Settings, now: datetime) -> bool:
    """Whether tokens signed by ``key`` may still be valid (so it is published and accepted)."""
    until = verifies_until(key, settings)
    return until is None or until > now


async def ensure_signing_keys(session: AsyncSession, settings: Settings) -> SigningKey:
    """The current signing key, creating the first current and next keys on first use."""
    current = await credentials_repo.signing_keys_in_state(session, SigningKeyState.CURRENT)
    if current:
        return current[0]
    now = utcnow()
    waiting = await credentials_repo.signing_keys_in_state(session, SigningKeyState.NEXT)
    if waiting:
        key = waiting[-1]
        key.state = SigningKeyState.CURRENT
        key.activated_at = now
    else:
        key = _new_key(settings, SigningKeyState.CURRENT, now)
        await credentials_repo.add(session, key)
    if len(waiting) <= 1:
        await credentials_repo.add(session, _new_key(settings, SigningKeyState.NEXT, now))
    await session.flush()
    return key


async def rotate_signing_keys(
    session: AsyncSession, settings: Settings, *, actor: str | None = None
) -> SigningKey:
    """Promote ``next`` to ``current``, retire the old current key, publish a new ``next``."""
    await ensure_signing_keys(session, settings)
    now = utcnow()
    for old in await credentials_repo.signing_keys_in_state(session, SigningKeyState.CURRENT):
        old.state = SigningKeyState.RETIRED
        old.retired_at = now
        old.private_key_encrypted = None  # a retired key only verifies
    await session.flush()
    forget_verification_keys()
    promoted = await ensure_signing_keys(session, settings)
    await record_credential_event(
        session,
        action="signing_key.rotate",
        agency_code=None,
        credential_id=promoted.kid,
        outcome="success",
        detail={"actor": actor or "system"},
    )
    return promoted


async def published_keys(session: AsyncSession, settings: Settings) -> Sequence[SigningKey]:
    """Keys for the JWKS: next, current, and retired ones whose tokens may still be live."""
    await ensure_signing_keys(session, settings)
    now = utcnow()
    return [
        k for k in await credentials_repo.signing_keys(session) if is_verifying(k, settings, now)
    ]


@dataclass(frozen=True)
class VerificationKey:
    """The public half of a signing key, ready to verify (no private key, no session)."""

    kid: str
    algorithm: str
    public_jwk: dict[str, Any]
    #: python-jose's key object, built once rather than from the JWK on every request.
    public_key: Any
    retired_at: datetime | None


#: Public verification keys by (database, kid), each kept at most this many seconds.
#:
#: Caching is safe because a key stops verifying only ``access_token_ttl_seconds`` (at least
#: 60 s) plus the leeway after its retirement: an entry read before another process retired the
#: key is replaced long before that moment. Rotation in this process clears the cache at once.
VERIFICATION_KEY_TTL_SECONDS = 30.0
_verification_keys: dict[tuple[str, str], tuple[float, VerificationKey]] = {}


def forget_verification_keys() -> None:
    """Drop cached verification keys (after a rotation in this process; in tests)."""
    _verification_keys.clear()


async def verification_key(
    session: AsyncSession, settings: Settings, kid: str
) -> VerificationKey | None:
    """The key named ``kid`` if it may verify a token now, else ``None``.

    Read from the database at most every ``VERIFICATION_KEY_TTL_SECONDS`` per key; an unknown
    ``kid`` is never cached.
    """
    cache_key = (settings.database_url, kid)
    cached = _verification_keys.get(cache_key)
    now = time.monotonic()
    if cached is None or now - cached[0] >= VERIFICATION_KEY_TTL_SECONDS:
        stored = await credentials_repo.signing_key_by_kid(session, kid)
        if stored is None:
            _verification_keys.pop(cache_key, None)
            return None
        key = VerificationKey(
            kid=stored.kid,
            algorithm=stored.algorithm,
            public_jwk=dict(stored.public_jwk),
            public_key=jwk.construct(stored.public_jwk, stored.algorithm),
            retired_at=stored.retired_at,
        )
        _verification_keys[cache_key] = (now, key)
    else:
        key = cached[1]
    if not is_verifying(key, settings, utcnow()):
        return None
    return key


async def list_signing_keys(session: AsyncSession) -> list[SigningKeyRead]:
    """Every signing key (newest first) as the admin API lists it."""
    return [SigningKeyRead.model_validate(k) for k in await credentials_repo.signing_keys(session)]


@dataclass(frozen=True)
class SigningKeyStatus:
    """A signing key as the console shows it: whether the JWKS publishes it, and until when
    tokens it signed may still be accepted (retired keys only)."""

    key: SigningKeyRead
    published: bool
    verifies_until: datetime | None


async def signing_key_statuses(session: AsyncSession, settings: Settings) -> list[SigningKeyStatus]:
    """Every signing key with its place in the JWKS, creating the first ones: next, current,
    then the retired ones, newest first."""
    await ensure_signing_keys(session, settings)
    now = utcnow()
    statuses = [
        SigningKeyStatus(
            key=SigningKeyRead.model_validate(k),
            published=is_verifying(k, settings, now),
            verifies_until=verifies_until(k, settings),
        )
        for k in await credentials_repo.signing_keys(session)
    ]
    order = list(SigningKeyState)
    return sorted(statuses, key=lambda s: order.index(SigningKeyState(s.key.state)))
