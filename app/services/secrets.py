"""The server secrets against the database: canaries that detect a changed secret, and rotation.

``SINERGI_SECRET_KEY`` keys the API-key hashes and ``SINERGI_KEY_ENCRYPTION_KEY`` encrypts the
signing keys and webhook secrets. Each has a canary in the database (an HMAC of a fixed text
under the secret the data was made with), so a secret that no longer matches is named by
``sinergi serve`` and ``/readyz`` instead of surfacing as 401s on every API key.

Rotation, step by step: configure the new value and the old one as ``SINERGI_PREVIOUS_…``,
restart, run ``sinergi admin rotate-secrets``. Ciphertexts are re-encrypted at once. An API-key
hash cannot be recomputed without the key, so each key is re-hashed when it is next used; the
rotation of ``SINERGI_SECRET_KEY`` is complete when every live key issued before it has been used
since (or with ``--force``). Then the previous values may be removed.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass, field
from enum import StrEnum

from sqlalchemy.ext.asyncio import AsyncSession

from app.config import Settings
from app.errors import Conflict
from app.models.base import utcnow
from app.models.secrets import SecretCanary
from app.repositories import credentials as credentials_repo
from app.repositories import secrets as repo
from app.services import totp
from app.services.audit import record_credential_event
from app.services.signing_keys import decrypt_private_key, encrypt_private_key
from app.services.webhooks import decrypt_secret, encrypt_secret

#: The secrets with a canary, by their setting's name without the ``SINERGI_`` prefix.
SECRET_NAMES = ("secret_key", "key_encryption_key")


def setting(name: str, *, previous: bool = False) -> str:
    """The environment variable of a secret: ``SINERGI_SECRET_KEY``, ``SINERGI_PREVIOUS_…``."""
    return f"SINERGI_{'PREVIOUS_' if previous else ''}{name.upper()}"


def canary_mac(name: str, secret: str) -> str:
    """The canary of ``secret``: an HMAC of a fixed text (it reveals nothing of the secret)."""
    message = f"sinergi secret canary v1: {name}".encode()
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


class SecretStatus(StrEnum):
    #: The configured secret made the stored data (or nothing is recorded yet).
    MATCH = "match"
    #: The stored data was made with the previous value: a rotation is under way.
    ROTATING = "rotating"
    #: Neither the configured value nor the previous one made the stored data.
    MISMATCH = "mismatch"


@dataclass(frozen=True)
class SecretCheck:
    name: str
    status: SecretStatus

    def problem(self) -> str | None:
        """What an operator reads when the secret does not match, naming the setting."""
        if self.status is not SecretStatus.MISMATCH:
            return None
        return (
            f"{setting(self.name)} does not match the secret this database was set up with "
            "(its stored canary differs): restore the earlier value, or, to rotate it, set the "
            f"earlier value as {setting(self.name, previous=True)} and run "
            "`sinergi admin rotate-secrets`"
        )


def _status(row: SecretCanary, current: str, previous: str) -> SecretStatus:
    if hmac.compare_digest(row.mac, canary_mac(row.name, current)):
        return SecretStatus.MATCH
    if previous and hmac.compare_digest(row.mac, canary_mac(row.name, previous)):
        return SecretStatus.ROTATING
    return SecretStatus.MISMATCH


async def check_secrets(
    session: AsyncSession, settings: Settings, *, record: bool = False
) -> list[SecretCheck]:
    """How each configured secret stands against the database.

    With ``record`` (``sinergi serve`` at start) a missing canary is written for the configured
    secret, and the start of a rotation is noted; without it nothing is written (``/readyz``).
    """
    checks: list[SecretCheck] = []
    for name in SECRET_NAMES:
        current: str = getattr(settings, name)
        previous: str = getattr(settings, f"previous_{name}")
        row = await repo.canary(session, name)
        if row is None:
            if record:
                await repo.add_canary(
                    session, SecretCanary(name=name, mac=canary_mac(name, current))
                )
            checks.append(SecretCheck(name, SecretStatus.MATCH))
            continue
        status = _status(row, current, previous)
        if status is SecretStatus.ROTATING and record and row.rotation_started_at is None:
            row.rotation_started_at = utcnow()
        checks.append(SecretCheck(name, status))
    return checks


def problems(checks: list[SecretCheck]) -> list[str]:
    return [p for p in (c.problem() for c in checks) if p is not None]


@dataclass
class RotationReport:
    """What ``rotate-secrets`` did, and what still holds the rotation of the secret key open."""

    signing_keys_reencrypted: int = 0
    webhook_secrets_reencrypted: int = 0
    totp_secrets_reencrypted: int = 0
    key_encryption_key_done: bool = False
    secret_key_done: bool = False
    #: Live API keys (agency code, display prefix) still hashed under the previous secret.
    api_keys_pending: list[tuple[str, str]] = field(default_factory=list)


async def rotate_secrets(
    session: AsyncSession, settings: Settings, *, force: bool = False
) -> RotationReport:
    """Re-encrypt under the key-encryption key; close the secret key's rotation when no live
    API key still needs the previous secret (or ``force``); move the canaries accordingly."""
    checks = await check_secrets(session, settings, record=True)
    refused = problems(checks)
    if refused:
        raise Conflict(detail="; ".join(refused))
    report = RotationReport()
    now = utcnow()

    for key in await credentials_repo.signing_keys(session):
        if key.private_key_encrypted is not None:
            pem = decrypt_private_key(settings, key)
            key.private_key_encrypted = encrypt_private_key(settings, key.kid, pem.encode())
            report.signing_keys_reencrypted += 1
    for endpoint in await repo.webhook_endpoints(session):
        endpoint.secret_encrypted = encrypt_secret(
            settings, decrypt_secret(settings, endpoint.secret_encrypted)
        )
        report.webhook_secrets_reencrypted += 1
        if endpoint.previous_secret_encrypted is not None:
            endpoint.previous_secret_encrypted = encrypt_secret(
                settings, decrypt_secret(settings, endpoint.previous_secret_encrypted)
            )
    for officer in await repo.officers_with_totp(session):
        assert officer.totp_secret_encrypted is not None
        secret = totp.decrypt_secret(settings, officer.id, officer.totp_secret_encrypted)
        officer.totp_secret_encrypted = totp.encrypt_secret(
            settings.key_encryption_key, officer.id, secret
        )
        report.totp_secrets_reencrypted += 1
    await _settle(session, "key_encryption_key", settings.key_encryption_key)
    report.key_encryption_key_done = True

    canary = await repo.canary(session, "secret_key")
    assert canary is not None  # written by check_secrets(record=True)
    if _status(canary, settings.secret_key, settings.previous_secret_key) is SecretStatus.MATCH:
        report.secret_key_done = True
    else:
        since = canary.rotation_started_at or now
        canary.rotation_started_at = since
        pending = await repo.api_keys_unused_since(session, since, now)
        report.api_keys_pending = [(code, key.display_prefix) for key, code in pending]
        if not pending or force:
            await _settle(session, "secret_key", settings.secret_key)
            report.secret_key_done = True

    await record_credential_event(
        session,
        action="secrets.rotate",
        agency_code=None,
        credential_id=None,
        outcome="success",
        detail={
            "signing_keys_reencrypted": str(report.signing_keys_reencrypted),
            "webhook_secrets_reencrypted": str(report.webhook_secrets_reencrypted),
            "totp_secrets_reencrypted": str(report.totp_secrets_reencrypted),
            "secret_key_done": str(report.secret_key_done).lower(),
            "api_keys_pending": str(len(report.api_keys_pending)),
            "forced": str(force).lower(),
        },
    )
    await session.flush()
    return report


async def _settle(session: AsyncSession, name: str, current: str) -> None:
    """The stored data is now all under ``current``: the canary says so, no rotation open."""
    canary = await repo.canary(session, name)
    if canary is None:
        await repo.add_canary(session, SecretCanary(name=name, mac=canary_mac(name, current)))
        return
    canary.mac = canary_mac(name, current)
    canary.rotation_started_at = None
