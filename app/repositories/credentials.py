"""Queries on API keys, agency public keys, signing keys and used client-assertion ids."""

from __future__ import annotations

import functools
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, String, Uuid, and_, bindparam, delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.db import driver_rows, table_of
from app.models.agency import Agency
from app.models.base import Base
from app.models.credentials import (
    AgencyPublicKey,
    ApiKey,
    SigningKey,
    SigningKeyState,
    UsedClientAssertion,
)


async def add(session: AsyncSession, record: Base) -> None:
    session.add(record)
    await session.flush()


async def api_keys_of(session: AsyncSession, agency_id: uuid.UUID) -> Sequence[ApiKey]:
    query = select(ApiKey).where(ApiKey.agency_id == agency_id).order_by(ApiKey.created_at)
    return (await session.execute(query)).scalars().all()


async def api_key_by_id(session: AsyncSession, key_id: uuid.UUID) -> ApiKey | None:
    return await session.get(ApiKey, key_id)


async def agency_with_credential(
    session: AsyncSession, code: str, credential_id: uuid.UUID
) -> tuple[Agency, ApiKey | None, AgencyPublicKey | None] | None:
    """The agency ``code`` with its API key or public key ``credential_id`` (None if not its own).

    One round trip for what every authenticated request checks: both joins are on primary keys.
    """
    query = (
        select(Agency, ApiKey, AgencyPublicKey)
        .outerjoin(ApiKey, and_(ApiKey.id == credential_id, ApiKey.agency_id == Agency.id))
        .outerjoin(
            AgencyPublicKey,
            and_(AgencyPublicKey.id == credential_id, AgencyPublicKey.agency_id == Agency.id),
        )
        .where(Agency.code == code)
    )
    row = (await session.execute(query)).first()
    if row is None:
        return None
    return row[0], row[1], row[2]


@dataclass(frozen=True)
class TokenHolder:
    """What every bearer-token request checks of its agency and credential."""

    agency_id: uuid.UUID
    agency_code: str
    active: bool
    scopes: list[str]
    #: The API key the token was minted from, when it is one of the agency's (its state).
    api_key: tuple[datetime | None, datetime | None] | None
    """``(revoked_at, expires_at)``."""
    #: The registered public key it was minted from, when it is one of the agency's.
    public_key_revoked_at: datetime | None
    public_key_found: bool


async def token_holder(
    session: AsyncSession, code: str, credential_id: uuid.UUID | None
) -> TokenHolder | None:
    """The agency ``code`` and the state of its credential ``credential_id``, in one query.

    A Core statement of columns sent as the driver's prepared statement (``driver_rows``: no
    ORM, no result processing): this runs on every authenticated request, and both joins are
    on primary keys.
    """
    params = {"code": code, "credential_id": credential_id}
    rows = await driver_rows(session, token_holder_query(), params)
    return holder_of_row(rows[0]) if rows else None


#: How many columns of a row of ``token_holder_query`` (or of a statement built on it) the
#: holder takes, at its start.
HOLDER_COLUMNS = 9


def holder_of_row(row: Sequence[Any]) -> TokenHolder:
    """The holder in the first ``HOLDER_COLUMNS`` columns of a row of ``token_holder_query``."""
    agency_id, agency_code, active, scopes, key_id, revoked, expires, public_id, public_revoked = (
        row[:HOLDER_COLUMNS]
    )
    return TokenHolder(
        # a plain UUID (asyncpg's own class is not one every serializer knows)
        agency_id=uuid.UUID(bytes=agency_id.bytes),
        agency_code=agency_code,
        active=active,
        scopes=list(scopes or []),
        api_key=(revoked, expires) if key_id is not None else None,
        public_key_revoked_at=public_revoked,
        public_key_found=public_id is not None,
    )


@functools.cache
def token_holder_query() -> Select[
    uuid.UUID,
    str,
    bool,
    list[str],
    uuid.UUID,
    datetime | None,
    datetime | None,
    uuid.UUID,
    datetime | None,
]:
    """``token_holder``'s statement on the tables, built once per process (its values are
    parameters: ``code``, ``credential_id``). A read may add its own columns and joins to it,
    after the holder's (``HOLDER_COLUMNS``), to check the token in its own statement."""
    credential_id = bindparam("credential_id", type_=Uuid)
    agencies, keys, public_keys = table_of(Agency), table_of(ApiKey), table_of(AgencyPublicKey)
    return (
        select(
            agencies.c.id,
            agencies.c.code,
            agencies.c.active,
            agencies.c.scopes,
            keys.c.id,
            keys.c.revoked_at,
            keys.c.expires_at,
            public_keys.c.id,
            public_keys.c.revoked_at,
        )
        .select_from(agencies)
        .outerjoin(keys, and_(keys.c.id == credential_id, keys.c.agency_id == agencies.c.id))
        .outerjoin(
            public_keys,
            and_(public_keys.c.id == credential_id, public_keys.c.agency_id == agencies.c.id),
        )
        .where(agencies.c.code == bindparam("code", type_=String))
    )


async def api_key_by_hash(session: AsyncSession, key_hash: str) -> ApiKey | None:
    query = select(ApiKey).where(ApiKey.key_hash == key_hash)
    return (await session.execute(query)).scalar_one_or_none()


async def public_keys_of(session: AsyncSession, agency_id: uuid.UUID) -> Sequence[AgencyPublicKey]:
    query = (
        select(AgencyPublicKey)
        .where(AgencyPublicKey.agency_id == agency_id)
        .order_by(AgencyPublicKey.created_at)
    )
    return (await session.execute(query)).scalars().all()


async def public_key_by_id(session: AsyncSession, key_id: uuid.UUID) -> AgencyPublicKey | None:
    return await session.get(AgencyPublicKey, key_id)


async def signing_keys(session: AsyncSession) -> Sequence[SigningKey]:
    """Every signing key, newest first."""
    query = select(SigningKey).order_by(SigningKey.created_at.desc())
    return (await session.execute(query)).scalars().all()


async def signing_keys_in_state(
    session: AsyncSession, state: SigningKeyState
) -> Sequence[SigningKey]:
    query = (
        select(SigningKey).where(SigningKey.state == state).order_by(SigningKey.created_at.desc())
    )
    return (await session.execute(query)).scalars().all()


async def signing_key_by_kid(session: AsyncSession, kid: str) -> SigningKey | None:
    query = select(SigningKey).where(SigningKey.kid == kid)
    return (await session.execute(query)).scalar_one_or_none()


async def assertion_seen(session: AsyncSession, agency_id: uuid.UUID, jti: str) -> bool:
    query = select(UsedClientAssertion.id).where(
        UsedClientAssertion.agency_id == agency_id, UsedClientAssertion.jti == jti
    )
    return (await session.execute(query)).first() is not None


async def forget_expired_assertions(session: AsyncSession, now: datetime) -> None:
    await session.execute(delete(UsedClientAssertion).where(UsedClientAssertion.expires_at < now))
