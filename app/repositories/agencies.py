"""Queries on agencies."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.models.agency import Agency
from app.models.delivery import DeliverySequence


async def by_code(session: AsyncSession, code: str) -> Agency | None:
    result = await session.execute(select(Agency).where(Agency.code == code))
    return result.scalar_one_or_none()


async def by_id(session: AsyncSession, agency_id: uuid.UUID) -> Agency | None:
    return await session.get(Agency, agency_id)


async def page(session: AsyncSession, *, after_code: str | None, limit: int) -> Sequence[Agency]:
    """Agencies ordered by code, starting after ``after_code``."""
    query = select(Agency).order_by(Agency.code).limit(limit)
    if after_code is not None:
        query = query.where(Agency.code > after_code)
    return (await session.execute(query)).scalars().all()


async def add(session: AsyncSession, agency: Agency) -> Agency:
    """Store a new agency with its delivery counter at 0.

    The counter exists from the start, so ingest only ever locks existing counter rows, in
    agency order: creating a missing one while holding other counters' locks could deadlock two
    ingests (seen on a fresh database under load).
    """
    session.add(agency)
    await session.flush()  # the agency row first: the counter refers to it
    session.add(DeliverySequence(agency_id=agency.id, last_sequence=0))
    await session.flush()
    return agency
