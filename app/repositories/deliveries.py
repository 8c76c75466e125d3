"""Queries for the outbox: sequences, deliveries, attempts, webhook endpoints, claims."""

from __future__ import annotations

import functools
import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import (
    ARRAY,
    Integer,
    Select,
    Text,
    Uuid,
    and_,
    bindparam,
    case,
    cast,
    exists,
    func,
    insert,
    or_,
    select,
    text,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from app.db import add_rows, driver_rows, table_of
from app.models.agency import Agency
from app.models.delivery import (
    Delivery,
    DeliveryAttempt,
    DeliverySequence,
    DeliveryStatus,
    WebhookEndpoint,
)
from app.models.report import Report


def _dialect(session: AsyncSession) -> str:
    return session.get_bind().dialect.name


def add_deliveries(session: AsyncSession, rows: list[dict[str, Any]]) -> None:
    """Delivery rows (every column named), written at the next flush in one INSERT."""
    add_rows(session, table_of(Delivery), rows)


async def take_sequences(
    session: AsyncSession, counts: dict[uuid.UUID, int]
) -> dict[uuid.UUID, int]:
    """Advance each agency's counter by its count in one statement; the new last numbers.

    The counter rows stay locked until commit, so concurrent transactions never share or skip a
    number. On PostgreSQL the rows are locked in agency-id order (``ORDER BY … FOR UPDATE`` in a
    materialized CTE, before any is updated), so two transactions reaching overlapping agencies
    cannot deadlock; SQLite's transactions hold the database's one write lock already. A
    counter that does not exist yet is created at 0 first.
    """
    taken = await _advance(session, counts)
    missing = {a: n for a, n in counts.items() if a not in taken}
    if missing:
        first: Any
        if _dialect(session) == "postgresql":
            first = postgresql.insert(DeliverySequence).on_conflict_do_nothing()
        elif _dialect(session) == "sqlite":
            first = sqlite.insert(DeliverySequence).on_conflict_do_nothing()
        else:  # pragma: no cover - only SQLite and PostgreSQL are supported
            first = insert(DeliverySequence)
        await session.execute(
            first, [{"agency_id": a, "last_sequence": 0} for a in sorted(missing)]
        )
        taken.update(await _advance(session, missing))
    return taken


#: PostgreSQL's counter bump: one statement text whatever the number of agencies (prepared once
#: per connection), the counters locked in agency-id order before any is updated.
_PG_ADVANCE = (
    text(
        "WITH locked AS MATERIALIZED (SELECT agency_id FROM delivery_sequences"
        " WHERE agency_id = ANY(:ids) ORDER BY agency_id FOR UPDATE)"
        " UPDATE delivery_sequences AS s SET last_sequence = s.last_sequence + w.n"
        " FROM unnest(:ids, :steps) AS w(agency_id, n)"
        " WHERE s.agency_id = w.agency_id AND s.agency_id IN (SELECT agency_id FROM locked)"
        " RETURNING s.agency_id, s.last_sequence"
    )
).bindparams(bindparam("ids", type_=ARRAY(Uuid)), bindparam("steps", type_=ARRAY(Integer)))


async def _advance(session: AsyncSession, counts: dict[uuid.UUID, int]) -> dict[uuid.UUID, int]:
    if not counts:
        return {}
    ids = sorted(counts)
    if _dialect(session) == "postgresql":
        # straight through the driver: no execution context or result processing per ingest
        found = await driver_rows(
            session, _PG_ADVANCE, {"ids": ids, "steps": [counts[a] for a in ids]}, writes=True
        )
        return {agency_id: int(last) for agency_id, last in found}
    if len(ids) == 1:
        step: Any = counts[ids[0]]
    else:
        step = case(
            *((DeliverySequence.agency_id == a, counts[a]) for a in ids),
            else_=0,
        )
    bump = (
        update(DeliverySequence)
        .values(last_sequence=DeliverySequence.last_sequence + step)
        .where(DeliverySequence.agency_id.in_(ids))
        .returning(DeliverySequence.agency_id, DeliverySequence.last_sequence)
        .execution_options(synchronize_session=False)
    )
    rows = (await session.execute(bump)).all()
    return {agency_id: int(last) for agency_id, last in rows}


async def agency_by_code(session: AsyncSession, code: str) -> Agency | None:
    return (await session.scalars(select(Agency).where(Agency.code == code))).first()


async def endpoint_for(session: AsyncSession, agency_id: uuid.UUID) -> WebhookEndpoint | None:
    result = await session.scalars(
        select(WebhookEndpoint).where(WebhookEndpoint.agency_id == agency_id)
    )
    return result.first()


class InboxRow(NamedTuple):
    """An inbox row, the payload as the JSON text stored (the API answers it as it is,
    unparsed); ids as the driver gives them (``app.db.driver_rows``)."""

    id: uuid.UUID
    sequence: int
    event: str
    created_at: datetime
    rule: str | None
    report_id: uuid.UUID | None
    acked_at: datetime | None
    payload: str


async def inbox_page(
    session: AsyncSession,
    agency_id: uuid.UUID,
    *,
    after_sequence: int,
    limit: int,
    include_acked: bool,
) -> Sequence[InboxRow]:
    params = {"agency_id": agency_id, "after_sequence": after_sequence, "limit": limit}
    # the driver's prepared statement on PostgreSQL: no ORM, no result processing per row
    rows = await driver_rows(session, _inbox_query(include_acked=include_acked), params)
    return [InboxRow(*row) for row in rows]


@functools.cache
def _inbox_query(
    *, include_acked: bool
) -> Select[uuid.UUID, int, str, datetime, str | None, uuid.UUID | None, datetime | None, str]:
    """``inbox_page``'s statement, built once per process (its values are parameters): columns,
    not ORM objects, and the payload as text (a JSON column holds the text it was given)."""
    query = select(
        Delivery.id,
        Delivery.sequence,
        Delivery.event,
        Delivery.created_at,
        Delivery.rule,
        Delivery.report_id,
        Delivery.acked_at,
        cast(Delivery.payload, Text),
    ).where(
        Delivery.agency_id == bindparam("agency_id", type_=Uuid),
        Delivery.sequence > bindparam("after_sequence", type_=Integer),
    )
    if not include_acked:
        query = query.where(Delivery.acked_at.is_(None))
    return query.order_by(Delivery.sequence).limit(bindparam("limit", type_=Integer))


async def inbox_newest(
    session: AsyncSession,
    agency_id: uuid.UUID,
    *,
    before_sequence: int | None,
    limit: int,
    include_acked: bool,
    after_sequence: int = 0,
    event: str | None = None,
    case_type: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
) -> list[Delivery]:
    """The agency's deliveries newest first, filtered by event, report case type and time."""
    query = select(Delivery).where(
        Delivery.agency_id == agency_id, Delivery.sequence > after_sequence
    )
    if before_sequence is not None:
        query = query.where(Delivery.sequence < before_sequence)
    if not include_acked:
        query = query.where(Delivery.acked_at.is_(None))
    if event is not None:
        query = query.where(Delivery.event == event)
    if case_type is not None:
        query = query.where(
            exists().where(Report.id == Delivery.report_id, Report.case_type == case_type)
        )
    if since is not None:
        query = query.where(Delivery.created_at >= since)
    if until is not None:
        query = query.where(Delivery.created_at < until)
    result = await session.scalars(query.order_by(Delivery.sequence.desc()).limit(limit))
    return list(result)


async def unacked_counts(session: AsyncSession, agency_id: uuid.UUID) -> dict[str, int]:
    """How many of the agency's deliveries wait to be acknowledged, per event."""
    rows = await session.execute(
        select(Delivery.event, func.count())
        .where(Delivery.agency_id == agency_id, Delivery.acked_at.is_(None))
        .group_by(Delivery.event)
    )
    return {str(event): int(count) for event, count in rows}


async def ack(
    session: AsyncSession, agency_id: uuid.UUID, ids: Sequence[uuid.UUID], now: datetime
) -> list[uuid.UUID]:
    """Mark the agency's own deliveries among ``ids`` acked; answers which ids were its own."""
    if not ids:
        return []
    own = list(
        await session.scalars(
            select(Delivery.id).where(Delivery.agency_id == agency_id, Delivery.id.in_(ids))
        )
    )
    if own:
        await session.execute(
            update(Delivery)
            .where(Delivery.id.in_(own), Delivery.acked_at.is_(None))
            .values(acked_at=now)
            .execution_options(synchronize_session=False)
        )
        await session.execute(
            update(Delivery)
            .where(Delivery.id.in_(own), Delivery.status == DeliveryStatus.PENDING)
            .values(status=DeliveryStatus.DELIVERED, delivered_at=now)
            .execution_options(synchronize_session=False)
        )
    return own


async def get_delivery(session: AsyncSession, delivery_id: uuid.UUID) -> Delivery | None:
    return await session.get(Delivery, delivery_id)


async def list_deliveries(
    session: AsyncSession,
    *,
    agency_id: uuid.UUID | None,
    status: str | None,
    event: str | None,
    before: tuple[datetime, uuid.UUID] | None,
    limit: int,
) -> list[tuple[Delivery, str]]:
    """Deliveries newest first, with the recipient agency's code."""
    query = select(Delivery, Agency.code).join(Agency, Agency.id == Delivery.agency_id)
    if agency_id is not None:
        query = query.where(Delivery.agency_id == agency_id)
    if status is not None:
        query = query.where(Delivery.status == status)
    if event is not None:
        query = query.where(Delivery.event == event)
    if before is not None:
        created, last_id = before
        query = query.where(
            or_(
                Delivery.created_at < created,
                and_(Delivery.created_at == created, Delivery.id < last_id),
            )
        )
    query = query.order_by(Delivery.created_at.desc(), Delivery.id.desc()).limit(limit)
    return [(d, code) for d, code in (await session.execute(query)).all()]


async def agency_code_of(session: AsyncSession, agency_id: uuid.UUID) -> str:
    return str(await session.scalar(select(Agency.code).where(Agency.id == agency_id)))


async def attempts_of(session: AsyncSession, delivery_id: uuid.UUID) -> list[DeliveryAttempt]:
    result = await session.scalars(
        select(DeliveryAttempt)
        .where(DeliveryAttempt.delivery_id == delivery_id)
        .order_by(DeliveryAttempt.started_at, DeliveryAttempt.id)
    )
    return list(result)


async def claim_due(
    session: AsyncSession, *, now: datetime, lease_until: datetime, worker: str, limit: int
) -> list[tuple[Delivery, WebhookEndpoint]]:
    """Lease due webhook deliveries: per agency only the lowest pending sequence (in order).

    One ``UPDATE … WHERE id IN (SELECT …) RETURNING`` statement, so the choice and the lease
    are atomic on both backends. On PostgreSQL the chosen rows are locked ``FOR UPDATE SKIP
    LOCKED``, so concurrent workers never claim the same row; an earlier pending delivery of
    the same agency (leased or not) holds back the later ones, so each receiver gets its
    events in sequence order.
    """
    earlier = aliased(Delivery)
    due = (
        select(Delivery.id)
        .join(WebhookEndpoint, WebhookEndpoint.agency_id == Delivery.agency_id)
        .join(Agency, Agency.id == Delivery.agency_id)
        .where(
            Agency.active.is_(True),
            Delivery.status == DeliveryStatus.PENDING,
            Delivery.next_attempt_at <= now,
            or_(Delivery.lease_expires_at.is_(None), Delivery.lease_expires_at < now),
            WebhookEndpoint.disabled_at.is_(None),
            ~exists().where(
                earlier.agency_id == Delivery.agency_id,
                earlier.status == DeliveryStatus.PENDING,
                earlier.sequence < Delivery.sequence,
            ),
        )
        .order_by(Delivery.next_attempt_at, Delivery.sequence)
        .limit(limit)
    )
    if _dialect(session) == "postgresql":
        due = due.with_for_update(of=Delivery, skip_locked=True)
    claimed = list(
        await session.scalars(
            update(Delivery)
            .where(Delivery.id.in_(due.scalar_subquery()))
            .values(lease_expires_at=lease_until, leased_by=worker)
            .returning(Delivery.id)
            .execution_options(synchronize_session=False)
        )
    )
    if not claimed:
        return []
    rows = await session.execute(
        select(Delivery, WebhookEndpoint)
        .join(WebhookEndpoint, WebhookEndpoint.agency_id == Delivery.agency_id)
        .where(Delivery.id.in_(claimed))
        .order_by(Delivery.next_attempt_at, Delivery.sequence)
        .execution_options(populate_existing=True)
    )
    return [(d, e) for d, e in rows.all()]


async def settle(
    session: AsyncSession, delivery_id: uuid.UUID, worker: str, values: dict[str, Any]
) -> bool:
    """Update a delivery still leased by ``worker`` and pending; ``False`` if the lease was lost."""
    result = await session.execute(
        update(Delivery)
        .where(
            Delivery.id == delivery_id,
            Delivery.leased_by == worker,
            Delivery.status == DeliveryStatus.PENDING,
        )
        .values(lease_expires_at=None, leased_by=None, **values)
        .execution_options(synchronize_session=False)
    )
    return bool(getattr(result, "rowcount", 0))


async def disable_endpoint(
    session: AsyncSession, endpoint_id: uuid.UUID, now: datetime, reason: str
) -> None:
    await session.execute(
        update(WebhookEndpoint)
        .where(WebhookEndpoint.id == endpoint_id, WebhookEndpoint.disabled_at.is_(None))
        .values(disabled_at=now, disabled_reason=reason)
        .execution_options(synchronize_session=False)
    )


async def outbox_state(session: AsyncSession) -> tuple[int, int, datetime | None]:
    """(pending count, dead count, creation time of the oldest pending delivery).

    Both read through the ``(status, next_attempt_at)`` index: the cost follows the number of
    pending and dead deliveries, not the size of the history.
    """
    pending, oldest = (
        await session.execute(
            select(func.count(), func.min(Delivery.created_at)).where(
                Delivery.status == DeliveryStatus.PENDING
            )
        )
    ).one()
    dead = await session.scalar(
        select(func.count()).select_from(Delivery).where(Delivery.status == DeliveryStatus.DEAD)
    )
    return int(pending), int(dead or 0), oldest
