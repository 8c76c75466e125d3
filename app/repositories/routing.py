"""Queries for routing rules (and the agency codes rules name)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Row, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.models.agency import Agency
from app.models.routing import RoutingRule


async def list_rules(session: AsyncSession) -> list[RoutingRule]:
    result = await session.scalars(
        select(RoutingRule).order_by(RoutingRule.position, RoutingRule.name)
    )
    return list(result)


#: What routing evaluates of every rule, in evaluation order (``RuleSpec``'s fields).
_RULE_FIELDS = select(
    RoutingRule.name,
    RoutingRule.recipients,
    RoutingRule.case_types,
    RoutingRule.modus_operandi,
    RoutingRule.exploitation_types,
    RoutingRule.region_prefixes,
    RoutingRule.foreign_nationals,
    RoutingRule.document_types,
    RoutingRule.document_statuses,
    RoutingRule.destination_countries,
    RoutingRule.tlps,
    RoutingRule.active,
).order_by(RoutingRule.position, RoutingRule.name)


async def rule_fields(session: AsyncSession) -> Sequence[Row[*tuple[Any, ...]]]:
    """Every rule's routing fields, in evaluation order, as plain rows: ingest reads them for
    each report, and building ORM objects for them cost more than the query."""
    return (await (await session.connection()).execute(_RULE_FIELDS)).all()


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
    rows = await (await session.connection()).execute(_ACTIVE_AGENCY_IDS)
    return dict(rows.all())


_ACTIVE_AGENCY_IDS = select(Agency.code, Agency.id).where(Agency.active.is_(True))


async def active_agencies(session: AsyncSession) -> list[Agency]:
    return list(await session.scalars(select(Agency).where(Agency.active.is_(True))))
