"""Agency API keys: format, checksum, keyed hash, and the issue / rotate / revoke use cases.

A key reads ``sng_`` + 43 base62 characters (256 random bits) + 6 base62 characters of CRC32
over the random part, so a secret scanner can tell a real key from noise without asking us.
Only HMAC-SHA256(secret_key, key) is stored.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import uuid
import zlib
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from app.config import Settings
from app.errors import Conflict, NotFound
from app.models.agency import Agency
from app.models.base import utcnow
from app.models.credentials import ApiKey
from app.repositories import credentials as credentials_repo
from app.schemas.agency import ApiKeyIssued, ApiKeyRead
from app.services.audit import record_credential_event

API_KEY_PREFIX = "sng_"
_ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
_RANDOM_BYTES = 32
_RANDOM_CHARS = 43  # 62**43 > 2**256
_CHECKSUM_CHARS = 6  # 62**6 > 2**32
API_KEY_LENGTH = len(API_KEY_PREFIX) + _RANDOM_CHARS + _CHECKSUM_CHARS
_DISPLAY_PREFIX_CHARS = 12
#: Rotation may not leave more than this many live keys on one agency.
MAX_ACTIVE_KEYS = 2


def _base62(value: int, width: int) -> str:
    chars = []
    for _ in range(width):
        value, digit = divmod(value, 62)
        chars.append(_ALPHABET[digit])
    if value:
        raise ValueError("value does not fit the width")
    return "".join(reversed(chars))


def _checksum(body: str) -> str:
    return _base62(zlib.crc32(body.encode("ascii")), _CHECKSUM_CHARS)


def generate_api_key() -> str:
    """A fresh key: ``sng_`` + 256 random bits in base62 + a CRC32 checksum."""
    body = _base62(int.from_bytes(secrets.token_bytes(_RANDOM_BYTES), "big"), _RANDOM_CHARS)
    return API_KEY_PREFIX + body + _checksum(body)


def is_well_formed_api_key(candidate: str) -> bool:
    """Whether ``candidate`` has the key format and a matching checksum (checked offline)."""
    if len(candidate) != API_KEY_LENGTH or not candidate.startswith(API_KEY_PREFIX):
        return False
    rest = candidate[len(API_KEY_PREFIX) :]
    if any(c not in _ALPHABET for c in rest):
        return False
    body, checksum = rest[:_RANDOM_CHARS], rest[_RANDOM_CHARS:]
    return hmac.compare_digest(_checksum(body), checksum)


def hash_api_key(secret_key: str, key: str) -> str:
    """The stored form of a key: hex HMAC-SHA256 under the server secret."""
    return hmac.new(secret_key.encode(), key.encode(), hashlib.sha256).hexdigest()


def display_prefix(key: str) -> str:
    return key[:_DISPLAY_PREFIX_CHARS]


def key_status(key: ApiKey, now: datetime) -> str:
    """``active``, ``expired`` or ``revoked``."""
    if key.revoked_at is not None:
        return "revoked"
    if key.expires_at is not None and key.expires_at <= now:
        return "expired"
    return "active"


def is_live(key: ApiKey, now: datetime) -> bool:
    """Whether the key may still mint tokens (and its tokens still be honoured)."""
    return is_live_at(key.revoked_at, key.expires_at, now)


def is_live_at(revoked_at: datetime | None, expires_at: datetime | None, now: datetime) -> bool:
    """``is_live`` on a key's two columns (the token check reads only those)."""
    return revoked_at is None and (expires_at is None or expires_at > now)


@dataclass(frozen=True)
class IssuedApiKey:
    """A key just issued: the only moment its plain value exists."""

    record: ApiKey
    key: str


async def issue_api_key(
    session: AsyncSession,
    *,
    secret_key: str,
    agency: Agency,
    expires_at: datetime | None = None,
    rotated_from: ApiKey | None = None,
    actor: str | None = None,
) -> IssuedApiKey:
    """Issue a key for ``agency``; 409 when it would exceed two live keys."""
    now = utcnow()
    live = [k for k in await credentials_repo.api_keys_of(session, agency.id) if is_live(k, now)]
    if len(live) >= MAX_ACTIVE_KEYS:
        raise Conflict(
            detail=f"Agency {agency.code} already has {MAX_ACTIVE_KEYS} active API keys; "
            "revoke one (or let a rotated one expire) first"
        )
    key = generate_api_key()
    record = ApiKey(
        id=uuid.uuid4(),
        agency_id=agency.id,
        key_hash=hash_api_key(secret_key, key),
        display_prefix=display_prefix(key),
        expires_at=expires_at,
        rotated_from_id=rotated_from.id if rotated_from else None,
    )
    await credentials_repo.add(session, record)
    await record_credential_event(
        session,
        action="api_key.rotate" if rotated_from else "api_key.issue",
        agency_code=agency.code,
        credential_id=str(record.id),
        outcome="success",
        detail={
            "actor": actor or "system",
            **({"replaces": str(rotated_from.id)} if rotated_from else {}),
        },
    )
    return IssuedApiKey(record=record, key=key)


async def _live_key_of(session: AsyncSession, agency: Agency, key_id: uuid.UUID) -> ApiKey:
    record = await credentials_repo.api_key_by_id(session, key_id)
    if record is None or record.agency_id != agency.id:
        raise NotFound(detail=f"Agency {agency.code} has no API key {key_id}")
    return record


async def rotate_api_key(
    session: AsyncSession,
    *,
    secret_key: str,
    agency: Agency,
    key_id: uuid.UUID,
    grace: timedelta,
    actor: str | None = None,
) -> IssuedApiKey:
    """Issue a successor and let the old key expire after ``grace`` (both work meanwhile)."""
    old = await _live_key_of(session, agency, key_id)
    now = utcnow()
    if not is_live(old, now):
        raise Conflict(detail=f"API key {key_id} is already revoked or expired")
    others = [
        k
        for k in await credentials_repo.api_keys_of(session, agency.id)
        if k.id != old.id and is_live(k, now)
    ]
    if others and grace > timedelta(0):
        raise Conflict(
            detail=f"Agency {agency.code} already has another active key; revoke it or rotate "
            "with a grace period of 0 hours"
        )
    new_expiry = now + grace
    if old.expires_at is None or old.expires_at > new_expiry:
        old.expires_at = new_expiry
    await session.flush()
    return await issue_api_key(
        session, secret_key=secret_key, agency=agency, rotated_from=old, actor=actor
    )


async def revoke_api_key(
    session: AsyncSession, *, agency: Agency, key_id: uuid.UUID, actor: str | None = None
) -> ApiKey:
    """Revoke now: the key mints nothing more and tokens minted from it are refused."""
    record = await _live_key_of(session, agency, key_id)
    if record.revoked_at is None:
        record.revoked_at = utcnow()
        await session.flush()
    await record_credential_event(
        session,
        action="api_key.revoke",
        agency_code=agency.code,
        credential_id=str(record.id),
        outcome="success",
        detail={"actor": actor or "system"},
    )
    return record


# --- policy and views, shared by the admin API and the command line ------------------------------


def expiry_after(days: int | None, now: datetime | None = None) -> datetime | None:
    """When a key issued now to live ``days`` days expires (None: it does not)."""
    return (now or utcnow()) + timedelta(days=days) if days else None


def rotation_grace(settings: Settings, hours: int | None) -> timedelta:
    """How long a rotated key keeps working: the hours asked for, else the configured default."""
    return timedelta(hours=hours if hours is not None else settings.api_key_rotation_grace_hours)


def key_view(key: ApiKey, now: datetime | None = None) -> ApiKeyRead:
    """A key row as the admin API lists it (never the key itself)."""
    return ApiKeyRead(
        id=key.id,
        prefix=key.display_prefix,
        status=key_status(key, now or utcnow()),
        created_at=key.created_at,
        last_used_at=key.last_used_at,
        expires_at=key.expires_at,
        revoked_at=key.revoked_at,
    )


def issued_view(issued: IssuedApiKey) -> ApiKeyIssued:
    """A key just issued, with its plain value (shown this once)."""
    return ApiKeyIssued(**key_view(issued.record).model_dump(), key=issued.key)


async def list_api_keys(session: AsyncSession, agency: Agency) -> list[ApiKeyRead]:
    """The agency's keys, oldest first."""
    now = utcnow()
    return [key_view(k, now) for k in await credentials_repo.api_keys_of(session, agency.id)]


def expires_soon(key: ApiKeyRead, settings: Settings, now: datetime | None = None) -> bool:
    """An active key that expires within ``SINERGI_API_KEY_EXPIRY_WARNING_DAYS``
    (warn the admin)."""
    if key.status != "active" or key.expires_at is None:
        return False
    window = timedelta(days=settings.api_key_expiry_warning_days)
    return key.expires_at <= (now or utcnow()) + window
