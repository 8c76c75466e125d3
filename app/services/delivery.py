"""The outbox (DESIGN.md §6): deliveries written in the caller's transaction, pulled or pushed.

A delivery is one event for one recipient agency, numbered 1, 2, 3, … per recipient without
gaps. The recipient pulls it (``GET /v1/inbox``, then ack) or the worker pushes it to the
agency's webhook; a 2xx from the receiver counts as the ack. Nothing here touches the network.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app import metrics
from app.errors import Conflict, NotFound
from app.models.base import utcnow
from app.models.delivery import Delivery, DeliveryEvent, DeliveryStatus
from app.pagination import decode_int_cursor, decode_time_cursor, encode_cursor
from app.repositories import deliveries as repo
from app.schemas.delivery import AttemptOut, DeliveryOut, InboxItem

EVENTS = frozenset(e.value for e in DeliveryEvent)


@dataclass(frozen=True)
class Outgoing:
    """One event for one recipient, before it has a sequence number."""

    agency_id: uuid.UUID
    event: str
    payload: dict[str, Any]
    rule: str | None = None
    report_id: uuid.UUID | None = None


async def enqueue_all(session: AsyncSession, items: Sequence[Outgoing]) -> list[uuid.UUID]:
    """Write deliveries in the caller's transaction (pending: the caller's flush inserts them,
    as plain rows in one statement); their ids, in the order given.

    All recipients' sequence numbers are taken in one statement, which locks their counters
    until commit (gap-free, never shared); each agency's items are numbered in the order given.
    Take them as late in the transaction as possible: the counters are hot rows.
    """
    rows = _rows(items)
    await _number_and_add(session, rows)
    return [row["id"] for row in rows]


#: ``session.info`` key of the deliveries a shared transaction numbers only before its COMMIT.
_DEFERRED = "sinergi.deferred_deliveries"


def defer_numbering(session: AsyncSession) -> None:
    """Let ``enqueue_at_commit`` collect this transaction's deliveries until ``number_deferred``.

    For a group-commit batch: one counter bump for all its requests, the counters locked once,
    in agency-id order, just before the COMMIT (locked request by request, a batch would hold
    them in request order and could deadlock with another process's batch).
    """
    session.info[_DEFERRED] = []


def deferred_count(session: AsyncSession) -> int:
    """How many deliveries wait for ``number_deferred`` (0 when not deferring)."""
    return len(session.info.get(_DEFERRED, ()))


def forget_deferred_after(session: AsyncSession, count: int) -> None:
    """Drop the deliveries collected after the first ``count`` (a request rolled back)."""
    deferred = session.info.get(_DEFERRED)
    if deferred is not None:
        del deferred[count:]


async def number_deferred(session: AsyncSession) -> None:
    """Number and write (flushed) what ``enqueue_at_commit`` collected; stop deferring."""
    rows: list[dict[str, Any]] = session.info.pop(_DEFERRED, [])
    if rows:
        await _number_and_add(session, rows)
        await session.flush()


async def enqueue_at_commit(session: AsyncSession, items: Sequence[Outgoing]) -> None:
    """``enqueue_all``, or, in a transaction that defers numbering (``defer_numbering``), the
    deliveries kept in order to be numbered and written together before its COMMIT."""
    deferred: list[dict[str, Any]] | None = session.info.get(_DEFERRED)
    if deferred is None:
        await enqueue_all(session, items)
        return
    deferred.extend(_rows(items))


def _rows(items: Sequence[Outgoing]) -> list[dict[str, Any]]:
    """The delivery rows of ``items``, not numbered yet (``sequence`` None)."""
    for item in items:
        if item.event not in EVENTS:
            raise ValueError(f"unknown delivery event {item.event!r}")
    now = utcnow()
    return [
        {
            "id": uuid.uuid4(),
            "agency_id": item.agency_id,
            "sequence": None,
            "event": item.event,
            "payload": item.payload,
            "rule": item.rule,
            "report_id": item.report_id,
            "status": DeliveryStatus.PENDING,
            "created_at": now,
            "next_attempt_at": now,
            "attempts": 0,
        }
        for item in items
    ]


async def _number_and_add(session: AsyncSession, rows: list[dict[str, Any]]) -> None:
    """Number ``rows`` per agency in their order (one counter statement) and add them."""
    if not rows:
        return
    counts: dict[uuid.UUID, int] = {}
    for row in rows:
        counts[row["agency_id"]] = counts.get(row["agency_id"], 0) + 1
    last = await repo.take_sequences(session, counts)
    following = {a: last[a] - n for a, n in counts.items()}
    for row in rows:
        following[row["agency_id"]] += 1
        row["sequence"] = following[row["agency_id"]]
    repo.add_deliveries(session, rows)


async def enqueue(
    session: AsyncSession,
    *,
    event: str,
    recipient_agency_id: uuid.UUID,
    payload: dict[str, Any],
    rule: str | None,
    report_id: uuid.UUID | None,
) -> Delivery:
    """Write one delivery in the caller's transaction (flushed, not committed).

    Takes the recipient's next sequence number under a row lock held until commit, so two
    concurrent transactions never share or skip a number. For several deliveries in one
    transaction use :func:`enqueue_all`, which numbers them all in one statement.
    """
    [delivery_id] = await enqueue_all(
        session, [Outgoing(recipient_agency_id, event, payload, rule, report_id)]
    )
    await session.flush()
    delivery = await session.get(Delivery, delivery_id)
    assert delivery is not None
    return delivery


async def enqueue_many(
    session: AsyncSession,
    *,
    event: str,
    recipients: Sequence[tuple[uuid.UUID, str | None]],
    payload: dict[str, Any],
    report_id: uuid.UUID | None,
) -> list[Delivery]:
    """One delivery per ``(recipient agency id, rule)``, in the order given (flushed).

    An agency named twice gets one delivery, with the first rule that named it.
    """
    rules: dict[uuid.UUID, str | None] = {}
    for agency_id, rule in recipients:
        rules.setdefault(agency_id, rule)
    made = await enqueue_all(
        session,
        [Outgoing(agency_id, event, payload, rules[agency_id], report_id) for agency_id in rules],
    )
    await session.flush()
    deliveries = [await session.get(Delivery, delivery_id) for delivery_id in made]
    by_agency = {d.agency_id: d for d in deliveries if d is not None}
    return [by_agency[agency_id] for agency_id, _ in dict(recipients).items()]


def envelope(delivery: Delivery) -> dict[str, Any]:
    """The JSON body of a webhook (and of an inbox item): the event and its payload."""
    return {
        "id": str(delivery.id),
        "type": delivery.event,
        "sequence": delivery.sequence,
        "timestamp": delivery.created_at.isoformat(),
        "rule": delivery.rule,
        "report_id": str(delivery.report_id) if delivery.report_id else None,
        "data": delivery.payload,
    }


# --- pull ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class InboxPage:
    items: list[Delivery]
    next_cursor: str | None


@dataclass(frozen=True)
class InboxRows:
    """A page of ``GET /v1/inbox``: rows, each payload as the JSON text stored."""

    items: Sequence[repo.InboxRow]
    next_cursor: str | None


async def inbox(
    session: AsyncSession,
    agency_id: uuid.UUID,
    *,
    cursor: str | None,
    limit: int,
    include_acked: bool = False,
) -> InboxRows:
    """The agency's own deliveries, oldest first by sequence (unacked only by default)."""
    after = decode_int_cursor(cursor) if cursor else 0
    items = await repo.inbox_page(
        session, agency_id, after_sequence=after, limit=limit + 1, include_acked=include_acked
    )
    next_cursor = encode_cursor(items[limit - 1].sequence) if len(items) > limit else None
    return InboxRows(items=items[:limit], next_cursor=next_cursor)


#: The officer console's days are WIB days (UTC+7, no daylight saving).
_WIB = timezone(timedelta(hours=7))


@dataclass(frozen=True)
class InboxFilter:
    """What the console's inbox shows: events, a report case type, WIB days, acknowledged too."""

    event: str | None = None
    case_type: str | None = None
    since: date | None = None
    until: date | None = None
    include_acked: bool = False


async def inbox_newest(
    session: AsyncSession,
    agency_id: uuid.UUID,
    filters: InboxFilter,
    *,
    cursor: str | None,
    limit: int,
    after_sequence: int = 0,
) -> InboxPage:
    """The agency's own deliveries newest first (the officer's inbox), one page of them.

    ``after_sequence`` keeps only those newer than one already shown (the inbox's polling).
    """
    before = decode_int_cursor(cursor) if cursor else None
    items = await repo.inbox_newest(
        session,
        agency_id,
        before_sequence=before,
        limit=limit + 1,
        include_acked=filters.include_acked,
        after_sequence=after_sequence,
        event=filters.event,
        case_type=filters.case_type,
        since=datetime.combine(filters.since, time(), _WIB) if filters.since else None,
        until=(
            datetime.combine(filters.until + timedelta(days=1), time(), _WIB)
            if filters.until
            else None
        ),
    )
    next_cursor = encode_cursor(items[limit - 1].sequence) if len(items) > limit else None
    return InboxPage(items=items[:limit], next_cursor=next_cursor)


async def unacked_counts(session: AsyncSession, agency_id: uuid.UUID) -> dict[str, int]:
    """How many deliveries wait to be acknowledged, per event (the console's home page)."""
    return await repo.unacked_counts(session, agency_id)


async def ack(
    session: AsyncSession, agency_id: uuid.UUID, delivery_ids: Sequence[uuid.UUID]
) -> tuple[list[uuid.UUID], list[uuid.UUID]]:
    """Ack the caller's deliveries; answers (acked, unknown). Repeating an ack changes nothing.

    An id that is another agency's is reported exactly like one that does not exist.
    """
    own = set(await repo.ack(session, agency_id, list(dict.fromkeys(delivery_ids)), utcnow()))
    acked = [i for i in dict.fromkeys(delivery_ids) if i in own]
    unknown = [i for i in dict.fromkeys(delivery_ids) if i not in own]
    return acked, unknown


@dataclass(frozen=True)
class OutboxState:
    """How much waits in the outbox, for monitoring."""

    pending: int
    dead: int
    oldest_pending_at: datetime | None


async def outbox_state(session: AsyncSession) -> OutboxState:
    """Pending and dead deliveries and when the oldest pending one was written."""
    return OutboxState(*await repo.outbox_state(session))


async def outbox_snapshot(session: AsyncSession) -> metrics.OutboxSnapshot:
    """The outbox as ``GET /metrics`` exposes it, taken now."""
    state = await outbox_state(session)
    return metrics.OutboxSnapshot(state.pending, state.dead, state.oldest_pending_at, utcnow())


# --- admin ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class DeliveryPage:
    items: list[tuple[Delivery, str]]
    next_cursor: str | None


async def list_deliveries(
    session: AsyncSession,
    *,
    agency_code: str | None,
    status: str | None,
    event: str | None,
    cursor: str | None,
    limit: int,
) -> DeliveryPage:
    """Deliveries newest first, filtered by recipient agency, status and event."""
    agency_id: uuid.UUID | None = None
    if agency_code is not None:
        agency = await repo.agency_by_code(session, agency_code)
        if agency is None:
            return DeliveryPage(items=[], next_cursor=None)
        agency_id = agency.id
    before = decode_time_cursor(cursor) if cursor else None
    rows = await repo.list_deliveries(
        session, agency_id=agency_id, status=status, event=event, before=before, limit=limit + 1
    )
    next_cursor = None
    if len(rows) > limit:
        last = rows[limit - 1][0]
        next_cursor = encode_cursor(last.created_at, last.id)
    return DeliveryPage(items=rows[:limit], next_cursor=next_cursor)


async def get_delivery(
    session: AsyncSession, delivery_id: uuid.UUID, *, agency_code: str | None = None
) -> tuple[Delivery, str]:
    """A delivery and its recipient's code; with ``agency_code``, only one to that agency
    (another agency's is answered like one that does not exist)."""
    delivery = await repo.get_delivery(session, delivery_id)
    if delivery is None:
        raise NotFound(detail=f"No delivery {delivery_id}")
    code = await repo.agency_code_of(session, delivery.agency_id)
    if agency_code is not None and code != agency_code:
        raise NotFound(detail=f"No delivery {delivery_id}")
    return delivery, code


async def attempts(
    session: AsyncSession, delivery_id: uuid.UUID, *, agency_code: str | None = None
) -> list[AttemptOut]:
    """Every webhook attempt of a delivery, oldest first (404 for an unknown delivery)."""
    await get_delivery(session, delivery_id, agency_code=agency_code)
    return [AttemptOut.model_validate(a) for a in await repo.attempts_of(session, delivery_id)]


async def retry(
    session: AsyncSession, delivery_id: uuid.UUID, *, agency_code: str | None = None
) -> tuple[Delivery, str]:
    """Put a dead delivery back in the queue with a fresh retry schedule (same webhook-id)."""
    delivery, code = await get_delivery(session, delivery_id, agency_code=agency_code)
    if delivery.status != DeliveryStatus.DEAD:
        raise Conflict(detail=f"Only a dead delivery can be retried; this one is {delivery.status}")
    delivery.status = DeliveryStatus.PENDING
    delivery.attempts = 0
    delivery.next_attempt_at = utcnow()
    delivery.lease_expires_at = None
    delivery.leased_by = None
    await session.flush()
    return delivery, code


# --- rows as the API answers them ------------------------------------------------------------


def inbox_item(delivery: Delivery) -> InboxItem:
    """A delivery as the agency's inbox lists it."""
    return InboxItem.model_validate(
        {
            "id": delivery.id,
            "sequence": delivery.sequence,
            "event": delivery.event,
            "created_at": delivery.created_at,
            "rule": delivery.rule,
            "report_id": delivery.report_id,
            "acked_at": delivery.acked_at,
            "payload": delivery.payload,
        }
    )


def delivery_out(delivery: Delivery, agency_code: str) -> DeliveryOut:
    """A delivery as the admin API shows it."""
    return DeliveryOut.model_validate(
        {
            "id": delivery.id,
            "agency_code": agency_code,
            "sequence": delivery.sequence,
            "event": delivery.event,
            "rule": delivery.rule,
            "report_id": delivery.report_id,
            "status": delivery.status,
            "created_at": delivery.created_at,
            "acked_at": delivery.acked_at,
            "delivered_at": delivery.delivered_at,
            "attempts": delivery.attempts,
            "next_attempt_at": delivery.next_attempt_at,
            "last_error": delivery.last_error,
        }
    )
