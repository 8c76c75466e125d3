"""Queries on the audit chain: the only place that builds SQL for ``audit_events``."""

from __future__ import annotations

import contextlib
import functools
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson
from sqlalchemy import (
    ColumnElement,
    Table,
    and_,
    delete,
    exists,
    func,
    insert,
    literal,
    or_,
    select,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from app.db import driver_alone, driver_rows, table_of
from app.models.audit import AuditEvent

#: Key of the PostgreSQL advisory lock that serializes appends to the chain.
CHAIN_LOCK_KEY = 0x53_49_4E_45_52_47_49  # "SINERGI"
#: Action of the checkpoint event the retention purge appends.
CHECKPOINT_ACTION = "audit.purge"


@dataclass(frozen=True)
class ChainHead:
    seq: int
    hash: str


@dataclass(frozen=True)
class AuditFilter:
    """What to look for; every field given narrows the search (``None``: any)."""

    #: An agency code, or an officer's username or user id (the API's ``actor``).
    actor: str | None = None
    #: The acting agency's code (its systems and its officers).
    agency: str | None = None
    #: An officer's username or user id (what they did through a signed-in session).
    officer: str | None = None
    action: str | None = None
    object_id: str | None = None
    outcome: str | None = None
    since: datetime | None = None
    until: datetime | None = None


def _officer_is(officer: str) -> list[ColumnElement[bool]]:
    """Events by an officer, named by username or user id."""
    matches = [AuditEvent.actor_username == officer.lower()]
    with contextlib.suppress(ValueError):
        matches.append(AuditEvent.actor_user_id == uuid.UUID(officer))
    return matches


def _actor_is(actor: str) -> ColumnElement[bool]:
    """Events by an agency (its code) or an officer (username or user id)."""
    return or_(AuditEvent.actor_agency_code == actor, *_officer_is(actor))


def _is_postgres(session: AsyncSession) -> bool:
    return session.get_bind().dialect.name == "postgresql"


async def lock_chain(session: AsyncSession) -> None:
    """Serialize appends until the transaction ends.

    PostgreSQL: a transaction-scoped advisory lock. SQLite: a write that changes nothing takes
    the database's single write lock now, before the head is read (the driver opens the
    transaction lazily, at the first write).
    """
    if _is_postgres(session):
        await session.execute(select(func.pg_advisory_xact_lock(CHAIN_LOCK_KEY)))
    else:
        await session.execute(text("UPDATE audit_events SET seq = seq WHERE 0 = 1"))


async def chain_head(session: AsyncSession) -> ChainHead | None:
    row = (
        await session.execute(
            select(AuditEvent.seq, AuditEvent.hash).order_by(AuditEvent.seq.desc()).limit(1)
        )
    ).first()
    return ChainHead(seq=row.seq, hash=row.hash) if row else None


async def add(session: AsyncSession, event: AuditEvent) -> None:
    session.add(event)
    await session.flush()


def chains_at_commit(session: AsyncSession) -> bool:
    """Whether events are chained by the database at COMMIT (PostgreSQL, migration 0011)."""
    return _is_postgres(session)


def _json_value(value: object) -> object:
    """A column value as json_populate_record reads it back exactly (UUID and time as text)."""
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, datetime):
        return value.isoformat()
    return value


async def add_pending(
    session: AsyncSession, events: Sequence[tuple[object, tuple[str, str, str]]]
) -> None:
    """Write unchained events for the commit-time trigger to chain (PostgreSQL), in order, in
    one statement whatever their number (prepared once per connection, ``driver_rows``): each
    event (its ``audit_events`` columns but the chain's, as attributes) with the three parts of
    its canonical form."""
    if not events:
        return
    await driver_rows(session, _ADD_PENDING, _pending_params(events), writes=True)


async def add_pending_alone(
    engine: AsyncEngine, events: Sequence[tuple[object, tuple[str, str, str]]]
) -> bool:
    """``add_pending``'s statement on a pooled connection of its own, committing by itself
    (``driver_alone``): no session around it. Whether it was written (False: send it through
    a session, which tells what went wrong)."""
    return await driver_alone(engine, _ADD_PENDING, _pending_params(events)) is not None


def _pending_params(events: Sequence[tuple[object, tuple[str, str, str]]]) -> dict[str, Any]:
    rows = pending_rows(events)
    return {
        "documents": [orjson.dumps(row["document"]).decode() for row in rows],
        **{part: [row[part] for row in rows] for part in _CANONICAL_PARTS},
    }


@functools.cache
def _pending_keys() -> tuple[str, ...]:
    """The columns of ``audit_events`` a pending event's document holds (all but the chain's)."""
    chain = {"seq", "prev_hash", "hash"}
    return tuple(c.key for c in table_of(AuditEvent).columns if c.key not in chain)


#: ``add_pending``'s statement: arrays of the same length, unnested in order (the trigger
#: chains the rows in the order they were inserted).
_ADD_PENDING = text(
    "INSERT INTO audit_pending (document, before_prev_hash, before_seq, after_seq) "
    "SELECT CAST(u.document AS JSON), u.before_prev_hash, u.before_seq, u.after_seq "
    "FROM unnest(CAST(:documents AS TEXT[]), CAST(:before_prev_hash AS TEXT[]), "
    "CAST(:before_seq AS TEXT[]), CAST(:after_seq AS TEXT[])) "
    "AS u(document, before_prev_hash, before_seq, after_seq)"
)


def pending_rows(
    events: Sequence[tuple[object, tuple[str, str, str]]],
) -> list[dict[str, Any]]:
    """The ``audit_pending`` rows of unchained events (each with its canonical form's parts),
    for an ingest batch that writes all its requests' events in one INSERT before its COMMIT
    (``app.db.add_at_end``)."""
    keys = _pending_keys()
    return [
        {
            "document": {k: _json_value(getattr(event, k)) for k in keys},
            **dict(zip(_CANONICAL_PARTS, parts, strict=True)),
        }
        for event, parts in events
    ]


#: The ``audit_pending`` columns holding the three parts of an event's canonical form.
_CANONICAL_PARTS = ("before_prev_hash", "before_seq", "after_seq")


async def lock_and_add_after(
    session: AsyncSession, event: AuditEvent | None, head: ChainHead | None
) -> tuple[bool, ChainHead | None]:
    """SQLite: take the write lock; append ``event`` if ``head`` is still the chain's last event.

    Answers (appended, the real head when not appended). Either way the lock is held until the
    transaction ends. One statement takes the write lock, ``INSERT … SELECT … WHERE`` the head
    still holds tries the append, and the head is read only when it did not.
    """
    await lock_chain(session)
    if event is not None and head is not None and await _add_after(session, event, head):
        return True, None
    return False, await chain_head(session)


async def _add_after(session: AsyncSession, event: AuditEvent, head: ChainHead) -> bool:
    table = AuditEvent.__table__
    assert isinstance(table, Table)
    columns = list(table.columns)
    values = select(*(literal(getattr(event, c.key), c.type) for c in columns)).where(
        exists().where(and_(AuditEvent.seq == head.seq, AuditEvent.hash == head.hash)),
        ~exists().where(AuditEvent.seq > head.seq),
    )
    result = await session.execute(insert(table).from_select(columns, values))
    return int(result.rowcount) == 1  # type: ignore[attr-defined]


async def events_after(session: AsyncSession, seq: int, limit: int) -> Sequence[AuditEvent]:
    """Up to ``limit`` events with a larger ``seq``, in chain order."""
    result = await session.execute(
        select(AuditEvent).where(AuditEvent.seq > seq).order_by(AuditEvent.seq).limit(limit)
    )
    return result.scalars().all()


async def event_at(session: AsyncSession, seq: int) -> AuditEvent | None:
    return await session.get(AuditEvent, seq)


async def latest_checkpoint(session: AsyncSession) -> AuditEvent | None:
    result = await session.execute(
        select(AuditEvent)
        .where(AuditEvent.action == CHECKPOINT_ACTION)
        .order_by(AuditEvent.seq.desc())
        .limit(1)
    )
    return result.scalars().first()


def _conditions(session: AsyncSession, query: AuditFilter) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = []
    if query.actor is not None:
        conditions.append(_actor_is(query.actor))
    if query.agency is not None:
        conditions.append(AuditEvent.actor_agency_code == query.agency)
    if query.officer is not None:
        conditions.append(or_(*_officer_is(query.officer)))
    if query.action is not None:
        conditions.append(AuditEvent.action == query.action)
    if query.outcome is not None:
        conditions.append(AuditEvent.outcome == query.outcome)
    if query.since is not None:
        conditions.append(AuditEvent.occurred_at >= query.since)
    if query.until is not None:
        conditions.append(AuditEvent.occurred_at < query.until)
    if query.object_id is not None:
        if _is_postgres(session):
            conditions.append(AuditEvent.object_ids.cast(JSONB).contains([query.object_id]))
        else:
            member = (
                select(text("1"))
                .select_from(func.json_each(AuditEvent.object_ids).table_valued("value"))
                .where(text("value = :object_id"))
                .params(object_id=query.object_id)
            )
            conditions.append(exists(member))
    return conditions


async def find(
    session: AsyncSession, query: AuditFilter, *, before_seq: int | None, limit: int
) -> Sequence[AuditEvent]:
    """Matching events, newest first, with ``seq`` below ``before_seq`` when given."""
    statement = select(AuditEvent).where(*_conditions(session, query))
    if before_seq is not None:
        statement = statement.where(AuditEvent.seq < before_seq)
    result = await session.execute(statement.order_by(AuditEvent.seq.desc()).limit(limit))
    return result.scalars().all()


async def in_chain_order(
    session: AsyncSession, query: AuditFilter, *, after_seq: int, limit: int
) -> Sequence[AuditEvent]:
    """A batch of matching events in chain order (for export), ``seq`` above ``after_seq``."""
    statement = select(AuditEvent).where(*_conditions(session, query), AuditEvent.seq > after_seq)
    result = await session.execute(statement.order_by(AuditEvent.seq).limit(limit))
    return result.scalars().all()


async def last_seq_before(session: AsyncSession, cutoff: datetime, *, below: int) -> int | None:
    """The largest ``seq`` under ``below`` of an event older than ``cutoff``."""
    return (
        await session.execute(
            select(func.max(AuditEvent.seq)).where(
                AuditEvent.occurred_at < cutoff, AuditEvent.seq < below
            )
        )
    ).scalar_one_or_none()


async def delete_through(session: AsyncSession, seq: int) -> int:
    """Delete events ``1..seq``: the retention purge's path past the PostgreSQL trigger."""
    if _is_postgres(session):
        # Read by the trigger; SET LOCAL semantics: only for this transaction.
        await session.execute(select(func.set_config("sinergi.audit_purge", "on", True)))
    result = await session.execute(delete(AuditEvent).where(AuditEvent.seq <= seq))
    if _is_postgres(session):
        await session.execute(select(func.set_config("sinergi.audit_purge", "off", True)))
    return int(result.rowcount)  # type: ignore[attr-defined]
