"""Queries of calibration: candidate pairs from the blocking index, stored weights."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from app.models.report import ReportPerson
from app.models.resolution import MatchWeights, PersonKey


async def candidate_groups(
    session: AsyncSession, *, max_group: int, limit: int
) -> Sequence[Sequence[uuid.UUID]]:
    """Persons sharing a blocking key, one group per key (groups of 2 to ``max_group``)."""
    sizes = (
        select(PersonKey.key)
        .group_by(PersonKey.key)
        .having(func.count() >= 2, func.count() <= max_group)
        .limit(limit)
        .subquery()
    )
    rows = await session.execute(
        select(PersonKey.key, PersonKey.report_person_id)
        .join(sizes, sizes.c.key == PersonKey.key)
        .order_by(PersonKey.key)
    )
    groups: dict[str, list[uuid.UUID]] = {}
    for key, person_id in rows.all():
        groups.setdefault(key, []).append(person_id)
    return list(groups.values())


async def features(
    session: AsyncSession, person_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, dict[str, Any]]:
    rows = await session.execute(
        select(ReportPerson.id, ReportPerson.features).where(ReportPerson.id.in_(person_ids))
    )
    return {pid: feats for pid, feats in rows.all() if feats}


async def latest(session: AsyncSession) -> MatchWeights | None:
    query = select(MatchWeights).order_by(MatchWeights.created_at.desc()).limit(1)
    return (await session.execute(query)).scalar_one_or_none()


async def calibrated_by_operator(session: AsyncSession) -> bool:
    """Whether a full calibration (m and u, not only term counts) was ever stored."""
    query = select(MatchWeights.id).where(MatchWeights.pairs > 0).limit(1)
    return (await session.execute(query)).first() is not None


async def count_resolved(session: AsyncSession) -> int:
    """Stored persons resolved to an entity: those the term frequencies are counted over."""
    query = (
        select(func.count()).select_from(ReportPerson).where(ReportPerson.entity_id.is_not(None))
    )
    return int((await session.execute(query)).scalar_one())


#: Key of the PostgreSQL advisory lock that serializes the worker's storing of term counts.
WEIGHTS_LOCK_KEY = 0x53_49_4E_54_46_43  # "SINTFC"


async def lock_weights(session: AsyncSession) -> None:
    """Serialize stores of weights until the transaction ends (PostgreSQL: an advisory lock;
    SQLite: a write that changes nothing takes the single write lock before the latest weights
    are read)."""
    if session.get_bind().dialect.name == "postgresql":
        await session.execute(select(func.pg_advisory_xact_lock(WEIGHTS_LOCK_KEY)))
    else:
        await session.execute(text("UPDATE match_weights SET pairs = pairs WHERE 0 = 1"))


async def random_persons(session: AsyncSession, count: int) -> dict[uuid.UUID, dict[str, Any]]:
    """A random sample of stored persons (with their features), for estimating u."""
    rows = await session.execute(
        select(ReportPerson.id, ReportPerson.features)
        .where(ReportPerson.entity_id.is_not(None))
        .order_by(func.random())
        .limit(count)
    )
    return {pid: feats for pid, feats in rows.all() if feats}


async def features_after(
    session: AsyncSession, after: uuid.UUID | None, limit: int
) -> list[tuple[uuid.UUID, dict[str, Any]]]:
    """The next ``limit`` resolved persons' features by id, after ``after`` (a page of the
    store, for counting term frequencies)."""
    query = select(ReportPerson.id, ReportPerson.features).where(
        ReportPerson.entity_id.is_not(None)
    )
    if after is not None:
        query = query.where(ReportPerson.id > after)
    rows = await session.execute(query.order_by(ReportPerson.id).limit(limit))
    return [(pid, feats) for pid, feats in rows.all()]
