"""Queries of watches: an agency's own watches, and the live watches sharing a blocking key."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from datetime import datetime

from sqlalchemy import (
    ColumnElement,
    Select,
    and_,
    delete,
    func,
    or_,
    select,
)
from sqlalchemy.ext.asyncio import AsyncSession

from app.db import any_of, driver_rows
from app.models.agency import Agency
from app.models.delivery import Delivery, DeliveryEvent
from app.models.report import Report
from app.models.watch import Watch, WatchHit, WatchKey
from app.repositories.reports import visible_to

#: How many watches one report person is compared with at most.
MAX_WATCH_CANDIDATES = 200


def add(session: AsyncSession, watch: Watch, keys: Iterable[str]) -> None:
    session.add(watch)
    session.add_all(WatchKey(key=k, watch_id=watch.id) for k in dict.fromkeys(keys))


async def own(session: AsyncSession, agency_id: uuid.UUID, watch_id: uuid.UUID) -> Watch | None:
    query = select(Watch).where(Watch.id == watch_id, Watch.agency_id == agency_id)
    return (await session.execute(query)).scalar_one_or_none()


async def own_page(
    session: AsyncSession,
    agency_id: uuid.UUID,
    *,
    after: tuple[datetime, uuid.UUID] | None,
    limit: int,
) -> Sequence[Watch]:
    query = select(Watch).where(Watch.agency_id == agency_id)
    if after:
        at, last = after
        query = query.where(
            or_(Watch.created_at > at, and_(Watch.created_at == at, Watch.id > last))
        )
    query = query.order_by(Watch.created_at, Watch.id).limit(limit)
    return (await session.execute(query)).scalars().all()


async def remove(session: AsyncSession, watch: Watch) -> None:
    await session.execute(delete(WatchKey).where(WatchKey.watch_id == watch.id))
    await session.execute(delete(WatchHit).where(WatchHit.watch_id == watch.id))
    await session.delete(watch)


async def any_sharing_keys(session: AsyncSession, keys: Sequence[str]) -> bool:
    """Whether any watch holds any of these keys (one indexed probe; most reports hit none)."""
    if not keys:
        return False
    found = await driver_rows(session, _ANY_SHARING_KEYS, {"keys": sorted(set(keys))})
    return bool(found)


_ANY_SHARING_KEYS: Select[uuid.UUID] = (
    select(WatchKey.watch_id).where(any_of(WatchKey.key, "keys")).limit(1)
)


async def live_sharing_keys(
    session: AsyncSession, keys: Sequence[str], *, now: datetime
) -> Sequence[tuple[Watch, list[str]]]:
    """Unexpired watches sharing any key, bounded, each with its agency's scopes."""
    if not keys:
        return []
    matching = (
        select(WatchKey.watch_id)
        .where(WatchKey.key.in_(keys))
        .distinct()
        .limit(MAX_WATCH_CANDIDATES)
    ).subquery()
    query = (
        select(Watch, Agency.scopes)
        .join(matching, matching.c.watch_id == Watch.id)
        .join(Agency, Agency.id == Watch.agency_id)
        .where(Watch.expires_at > now, Agency.active.is_(True))
    )
    return [(watch, list(scopes or [])) for watch, scopes in (await session.execute(query)).all()]


async def fired(
    session: AsyncSession, watch_ids: Sequence[uuid.UUID], report_id: uuid.UUID
) -> set[uuid.UUID]:
    """Which of these watches already fired for this report."""
    if not watch_ids:
        return set()
    query = select(WatchHit.watch_id).where(
        WatchHit.watch_id.in_(watch_ids), WatchHit.report_id == report_id
    )
    return set((await session.execute(query)).scalars().all())


def record_hit(
    session: AsyncSession, watch_id: uuid.UUID, report_id: uuid.UUID, score: float
) -> None:
    session.add(WatchHit(watch_id=watch_id, report_id=report_id, score=score))


async def delete_expired(session: AsyncSession, now: datetime) -> list[uuid.UUID]:
    """Delete watches past their expiry (their keys and hits go with them); their ids."""
    ids = list(
        (await session.execute(select(Watch.id).where(Watch.expires_at < now))).scalars().all()
    )
    if ids:
        await session.execute(delete(Watch).where(Watch.id.in_(ids)))
    return ids


def _hit_of(agency_id: uuid.UUID) -> ColumnElement[bool]:
    """The agency's ``watch.hit`` deliveries: each is one hit, as the agency was told of it."""
    return and_(Delivery.agency_id == agency_id, Delivery.event == DeliveryEvent.WATCH_HIT.value)


def _watch_of_hit() -> ColumnElement[str]:
    """The watch a ``watch.hit`` delivery is about (its payload's ``watch_id``, as text)."""
    watch: ColumnElement[str] = Delivery.payload["watch_id"].as_string()
    return watch


async def hit_deliveries(
    session: AsyncSession,
    agency_id: uuid.UUID,
    watch_id: uuid.UUID,
    *,
    before_sequence: int | None,
    limit: int,
) -> Sequence[Delivery]:
    """The ``watch.hit`` deliveries of one of the agency's watches, newest first."""
    query = select(Delivery).where(_hit_of(agency_id), _watch_of_hit() == str(watch_id))
    if before_sequence is not None:
        query = query.where(Delivery.sequence < before_sequence)
    query = query.order_by(Delivery.sequence.desc()).limit(limit)
    return (await session.execute(query)).scalars().all()


async def unacked_hit_counts(
    session: AsyncSession, agency_id: uuid.UUID, watch_ids: Sequence[uuid.UUID]
) -> dict[str, int]:
    """How many hits of each watch (by id as text) the agency has not acknowledged yet."""
    if not watch_ids:
        return {}
    watch = _watch_of_hit()
    query = (
        select(watch, func.count())
        .where(
            _hit_of(agency_id),
            Delivery.acked_at.is_(None),
            watch.in_([str(w) for w in watch_ids]),
        )
        .group_by(watch)
    )
    return {str(w): int(n) for w, n in (await session.execute(query)).all()}


async def visible_report_refs(
    session: AsyncSession, agency_id: uuid.UUID | None, report_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, str]:
    """The external references of those reports the agency may read now (None: an admin)."""
    if not report_ids:
        return {}
    query = select(Report.id, Report.external_ref).where(Report.id.in_(set(report_ids)))
    if agency_id is not None:
        query = query.where(visible_to(agency_id))
    return dict((await session.execute(query)).all())
