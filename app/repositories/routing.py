"""Queries for routing rules (and the agency codes rules name)."""

from __future__ import annotations

import uuid

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.models.agency import Agency
from app.models.routing import RoutingRule


async def list_rules(session: AsyncSession) -> list[RoutingRule]:
    result = await session.scalars(
        select(RoutingRule).order_by(RoutingRule.position, RoutingRule.name)
    )
    return list(result)


async def get_rule(session: AsyncSession, rule_id: uuid.UUID) -> RoutingRule | None:
    return await session.get(RoutingRule, rule_id)


async def get_rule_by_name(session: AsyncSession, name: str) -> RoutingRule | None:
    result = await session.scalars(select(RoutingRule).where(RoutingRule.name == name))
    return result.first()


async def next_position(session: AsyncSession) -> int:
    highest = await session.scalar(select(func.max(RoutingRule.position)))
    return (highest or 0) + 10


async def agency_codes(session: AsyncSession) -> list[str]:
    return list(await session.scalars(select(Agency.code)))


async def active_agency_codes(session: AsyncSession) -> list[str]:
    return list(await session.scalars(select(Agency.code).where(Agency.active.is_(True))))


async def active_agency_ids(session: AsyncSession) -> dict[str, uuid.UUID]:
    """Code → id of every active agency (what routing needs to both choose and address)."""
    rows = await session.execute(select(Agency.code, Agency.id).where(Agency.active.is_(True)))
    return dict(rows.all())


async def active_agencies(session: AsyncSession) -> list[Agency]:
    return list(await session.scalars(select(Agency).where(Agency.active.is_(True))))
