"""Queries on agencies."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.models.agency import Agency


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
    session.add(agency)
    await session.flush()
    return agency
