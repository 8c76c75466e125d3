"""Queries for secret rotation: the canaries, and everything hashed or encrypted under a secret."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.models.agency import Agency
from app.models.credentials import ApiKey
from app.models.delivery import WebhookEndpoint
from app.models.officer import Officer
from app.models.secrets import SecretCanary


async def canary(session: AsyncSession, name: str) -> SecretCanary | None:
    return await session.get(SecretCanary, name)


async def add_canary(session: AsyncSession, record: SecretCanary) -> None:
    session.add(record)
    await session.flush()


async def webhook_endpoints(session: AsyncSession) -> Sequence[WebhookEndpoint]:
    """Every webhook endpoint (each holds secrets encrypted under the key-encryption key)."""
    query = select(WebhookEndpoint).order_by(WebhookEndpoint.id)
    return (await session.execute(query)).scalars().all()


async def officers_with_totp(session: AsyncSession) -> Sequence[Officer]:
    """Officers holding a TOTP secret (encrypted under the key-encryption key)."""
    query = select(Officer).where(Officer.totp_secret_encrypted.is_not(None)).order_by(Officer.id)
    return (await session.execute(query)).scalars().all()


async def api_keys_unused_since(
    session: AsyncSession, since: datetime, now: datetime
) -> Sequence[tuple[ApiKey, str]]:
    """Live API keys (with their agency code) issued before ``since`` and not used after it."""
    query = (
        select(ApiKey, Agency.code)
        .join(Agency, Agency.id == ApiKey.agency_id)
        .where(
            ApiKey.created_at < since,
            ApiKey.revoked_at.is_(None),
            or_(ApiKey.expires_at.is_(None), ApiKey.expires_at > now),
            or_(ApiKey.last_used_at.is_(None), ApiKey.last_used_at < since),
        )
        .order_by(Agency.code, ApiKey.created_at)
    )
    return [(key, code) for key, code in (await session.execute(query)).all()]
