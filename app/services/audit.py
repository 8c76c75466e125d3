"""The tamper-evident audit trail: append, verify, anchor, query, export and purge.

Each event's ``hash`` is the SHA-256 of its canonical JSON form, which includes the previous
event's hash, so editing, deleting or reordering a stored event breaks the chain at that point.
Appends are serialized (PostgreSQL advisory lock; SQLite has a single writer) and ``seq`` is the
primary key, so two concurrent appends can never fork the chain.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta, timezone
from enum import StrEnum
from typing import Any, Protocol, TextIO

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from app.db import table_of
from app.errors import NotFound
from app.models.audit import GENESIS_HASH, AuditEvent, AuditPending
from app.models.base import utcnow
from app.pagination import decode_int_cursor, encode_cursor
from app.repositories import audit as repository
from app.repositories.audit import CHECKPOINT_ACTION, AuditFilter, ChainHead
from app.schemas.audit import AuditEventOut, AuditPage
from app.services.ingest_batch import add_at_end, gathers_rows

_CONTENT_COLUMNS = tuple(
    c.key for c in AuditEvent.__table__.columns if c.key not in ("seq", "prev_hash", "hash")
)

__all__ = [
    "CHECKPOINT_ACTION",
    "AuditEventIn",
    "AuditFilter",
    "ChainHead",
    "Outcome",
    "VerifyResult",
    "chain_head",
    "event_line",
    "event_out",
    "export_events",
    "get_event",
    "list_events",
    "outcome_for_status",
    "purge_events_before",
    "record_credential_event",
    "record_event",
    "record_events",
    "stream_export",
    "verify_chain",
    "wib_days",
]

#: ``session.info`` key under which the request's audit context waits for credential events.
REQUEST_AUDIT_KEY = "sinergi.request_audit"
VERIFY_BATCH = 1000
#: The largest ``seq`` the column holds (a signed 64-bit integer).
MAX_SEQ = 2**63 - 1


class Outcome(StrEnum):
    SUCCESS = "success"
    DENIED = "denied"
    NOT_FOUND = "not_found"
    INVALID = "invalid"
    ERROR = "error"


def outcome_for_status(status: int) -> Outcome:
    """The outcome an HTTP status stands for."""
    if status < 400:
        return Outcome.SUCCESS
    if status in {401, 403, 429}:
        return Outcome.DENIED
    if status == 404:
        return Outcome.NOT_FOUND
    if status < 500:
        return Outcome.INVALID
    return Outcome.ERROR


def _clip(value: str | None, length: int) -> str | None:
    return None if value is None else value[:length]


@dataclass(frozen=True)
class AuditEventIn:
    """One event to append: ids only, never a secret, token or personal identifier."""

    action: str
    outcome: Outcome
    actor_agency_id: uuid.UUID | None = None
    actor_agency_code: str | None = None
    #: The officer, when the request came through a signed-in session.
    actor_user_id: uuid.UUID | None = None
    actor_username: str | None = None
    credential_id: str | None = None
    token_id: str | None = None
    object_type: str | None = None
    object_ids: Sequence[str] = ()
    http_status: int | None = None
    request_id: str | None = None
    client_address: str | None = None
    user_agent: str | None = None
    detail: Mapping[str, str] = field(default_factory=dict)
    occurred_at: datetime | None = None


def _canonical_time(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _content(event: AuditEvent | UnchainedEvent) -> dict[str, Any]:
    """What an event says, as JSON values: every field but its time and chain fields.

    The officer fields are part of it only when set, so the canonical form (and the hash) of
    every event recorded before officers existed stays what it was.
    """
    officer: dict[str, Any] = {}
    if event.actor_user_id is not None:
        officer["actor_user_id"] = str(event.actor_user_id)
    if event.actor_username is not None:
        officer["actor_username"] = event.actor_username
    return {
        **officer,
        "actor_agency_id": str(event.actor_agency_id) if event.actor_agency_id else None,
        "actor_agency_code": event.actor_agency_code,
        "credential_id": event.credential_id,
        "token_id": event.token_id,
        "action": event.action,
        "object_type": event.object_type,
        "object_ids": list(event.object_ids),
        "outcome": event.outcome,
        "http_status": event.http_status,
        "request_id": event.request_id,
        "client_address": event.client_address,
        "user_agent": event.user_agent,
        "detail": dict(event.detail),
    }


#: The fields filled in when an event is chained, in canonical (sorted) order.
CHAIN_FIELDS = ("prev_hash", "seq")


def _json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def canonical_parts(event: AuditEvent | UnchainedEvent) -> tuple[str, str, str]:
    """The canonical form cut around the values of ``prev_hash`` and ``seq``.

    ``parts[0] + json(prev_hash) + parts[1] + json(seq) + parts[2]`` is the canonical form: the
    event as JSON with sorted keys and no whitespace. The chain fields are the only ones filled
    in when the event is chained, so on PostgreSQL the commit-time trigger (migration 0011)
    splices them into these parts, stored beside the pending event, and hashes the result.
    """
    document = {**_content(event), "occurred_at": _canonical_time(event.occurred_at)}
    # The keys before, between and after the chain fields, each run written by one json.dumps
    # (its keys sorted as they would be in the whole document), not a dumps per key and value.
    first, second = CHAIN_FIELDS
    runs: tuple[dict[str, Any], ...] = ({}, {}, {})
    for key, value in document.items():
        runs[(key > first) + (key > second)][key] = value
    head, middle, tail = (_json(run)[1:-1] for run in runs)
    return (
        "{" + head + ("," if head else "") + _json(first) + ":",
        ("," + middle if middle else "") + "," + _json(second) + ":",
        ("," + tail if tail else "") + "}",
    )


def canonical_form(event: AuditEvent) -> bytes:
    """The bytes an event's hash is computed over (sorted keys, no whitespace, UTF-8)."""
    head, middle, tail = canonical_parts(event)
    return (head + _json(event.prev_hash) + middle + _json(event.seq) + tail).encode("utf-8")


def event_hash(event: AuditEvent) -> str:
    return hashlib.sha256(canonical_form(event)).hexdigest()


#: The last event this process appended to a SQLite database: the next append proposes it as
#: the head and, when it still is, is written in the same statement that checks it. Only a
#: hint: ``repository.lock_and_add_after`` checks it under the write lock and answers the real
#: head when another process appended in between (then one insert follows).
_last_appended: dict[str, ChainHead] = {}


def _database_of(session: AsyncSession) -> str:
    return str(session.get_bind().engine.url)


async def _append(
    session: AsyncSession, event: AuditEventIn, head: ChainHead | None = None
) -> None:
    """Append ``event`` to the chain in the caller's transaction.

    PostgreSQL chains it when the transaction commits (``audit_pending``, migration 0011), so
    the chain lock is held only during the COMMIT. SQLite, whose one writer is serialized
    anyway, chains it now: under the write lock, after ``head`` when the caller already read it
    (the purge), else after the head remembered or read.
    """
    row = _unchained(event)
    if repository.chains_at_commit(session):
        await repository.add_pending(session, [(row, canonical_parts(row))])
        return
    database = _database_of(session)
    if head is None:
        remembered = _last_appended.get(database)
        proposed = _chained(row, remembered) if remembered is not None else None
        appended, head = await repository.lock_and_add_after(session, proposed, remembered)
        if appended and proposed is not None:
            _last_appended[database] = ChainHead(proposed.seq, proposed.hash)
            return
        # the head moved on (another process appended first): the lock is held
    else:
        await repository.lock_chain(session)
    chained = _chained(row, head)
    await repository.add(session, chained)
    _last_appended[database] = ChainHead(chained.seq, chained.hash)


@dataclass(slots=True)
class UnchainedEvent:
    """An event's stored columns, its chain fields (seq, prev_hash, hash) not yet set: a plain
    object (no ORM instance, ~10x cheaper to make), as PostgreSQL writes it to ``audit_pending``
    for its commit-time trigger; SQLite makes it an ``AuditEvent`` once chained (``_chained``).
    Its fields are ``audit_events``' columns but the chain's (``_CONTENT_COLUMNS``)."""

    occurred_at: datetime
    actor_agency_id: uuid.UUID | None
    actor_agency_code: str | None
    actor_user_id: uuid.UUID | None
    actor_username: str | None
    credential_id: str | None
    token_id: str | None
    action: str
    object_type: str | None
    object_ids: list[str]
    outcome: str
    http_status: int | None
    request_id: str | None
    client_address: str | None
    user_agent: str | None
    detail: dict[str, str]


def _unchained(event: AuditEventIn) -> UnchainedEvent:
    """The stored form of ``event``, its chain fields (seq, prev_hash, hash) not yet set."""
    occurred_at = (event.occurred_at or utcnow()).astimezone(UTC)
    return UnchainedEvent(
        # microseconds are what both backends store
        occurred_at=occurred_at,
        actor_agency_id=event.actor_agency_id,
        actor_agency_code=_clip(event.actor_agency_code, 64),
        actor_user_id=event.actor_user_id,
        actor_username=_clip(event.actor_username, 64),
        credential_id=_clip(event.credential_id, 100),
        token_id=_clip(event.token_id, 100),
        action=event.action[:64],
        object_type=_clip(event.object_type, 40),
        object_ids=[str(i) for i in event.object_ids],
        outcome=Outcome(event.outcome).value,
        http_status=event.http_status,
        request_id=_clip(event.request_id, 128),
        client_address=_clip(event.client_address, 64),
        user_agent=_clip(event.user_agent, 256),
        detail={str(k): str(v) for k, v in event.detail.items()},
    )


def _chained(row: UnchainedEvent, head: ChainHead | None) -> AuditEvent:
    """A copy of unchained ``row`` as the successor of ``head`` (None: the first event)."""
    chained = AuditEvent(
        **{c: getattr(row, c) for c in _CONTENT_COLUMNS},
        seq=head.seq + 1 if head else 1,
        prev_hash=head.hash if head else GENESIS_HASH,
    )
    chained.hash = event_hash(chained)
    return chained


async def record_event(session: AsyncSession, event: AuditEventIn) -> None:
    """Append ``event`` to the chain inside the caller's transaction (flushed, not committed)."""
    await _append(session, event)


async def record_events_alone(engine: AsyncEngine, events: Sequence[AuditEventIn]) -> bool:
    """Append ``events`` in one statement that commits by itself, on a pooled connection of
    its own (PostgreSQL, where the trigger chains them at that COMMIT, in order): what
    ``record_events`` writes in a session's AUTOCOMMIT, without the session. Whether it was
    written (False: not PostgreSQL, or an error; send them through ``record_events``)."""
    if engine.dialect.name != "postgresql":
        return False
    return await repository.add_pending_alone(
        engine, [(row, canonical_parts(row)) for row in map(_unchained, events)]
    )


async def record_events(session: AsyncSession, events: Sequence[AuditEventIn]) -> None:
    """Append ``events``, in order, inside the caller's transaction.

    PostgreSQL writes them in one statement (the trigger chains each at COMMIT, in order);
    SQLite appends them one after the other under its write lock.
    """
    if repository.chains_at_commit(session):
        rows = [_unchained(event) for event in events]
        pending = [(row, canonical_parts(row)) for row in rows]
        if gathers_rows(session):
            # an ingest batch: with all its requests' events, one INSERT before its COMMIT
            add_at_end(session, table_of(AuditPending), repository.pending_rows(pending))
        else:
            await repository.add_pending(session, pending)
        return
    for event in events:
        await _append(session, event)


class CredentialEventSink(Protocol):
    """The request's audit context (``app.api.audit_hook``), found in ``session.info``."""

    def take_credential_event(self, event: AuditEventIn) -> None: ...


async def record_credential_event(
    session: AsyncSession,
    *,
    action: str,
    agency_code: str | None,
    credential_id: str | None,
    outcome: str,
    detail: dict[str, str] | None = None,
    user_id: uuid.UUID | None = None,
    username: str | None = None,
) -> None:
    """Record a credential event (token issued or refused, key issued, rotated, revoked, …).

    Inside a request the event is handed to the request's audit context, which writes it with
    the route's work on success and in a transaction of its own when the request fails (so a
    refusal survives the rollback); elsewhere it is appended to ``session`` at once.
    """
    known = outcome in set(Outcome)
    event = AuditEventIn(
        action=action,
        # a refusal must stay a refusal even if its caller names the outcome its own way
        outcome=Outcome(outcome) if known else Outcome.DENIED,
        actor_agency_code=agency_code,
        actor_user_id=user_id,
        actor_username=username,
        credential_id=credential_id,
        detail={**(detail or {}), **({} if known else {"outcome_given": outcome})},
    )
    sink: CredentialEventSink | None = session.info.get(REQUEST_AUDIT_KEY)
    if sink is not None:
        sink.take_credential_event(event)
        return
    await record_event(session, event)


async def chain_head(session: AsyncSession) -> ChainHead | None:
    """The last event's ``seq`` and hash: what ``sinergi audit anchor`` prints."""
    return await repository.chain_head(session)


@dataclass(frozen=True)
class Anchor:
    """A head recorded earlier, outside the database."""

    seq: int
    hash: str

    @classmethod
    def parse(cls, text: str) -> Anchor:
        """``"<seq>:<hash>"`` as printed by ``sinergi audit anchor``."""
        seq, _, digest = text.strip().partition(":")
        if not seq.isdigit() or len(digest) != 64:
            raise ValueError(f"an anchor looks like 1234:<64 hex digits>, not {text!r}")
        return cls(seq=int(seq), hash=digest.lower())


@dataclass(frozen=True)
class VerifyResult:
    ok: bool
    events_checked: int
    first_seq: int | None
    head_seq: int | None
    head_hash: str | None
    #: The first event found broken (or missing), when ``ok`` is false.
    broken_seq: int | None = None
    problem: str | None = None


async def _expected_start(session: AsyncSession) -> tuple[int, str] | None:
    """Where the chain must start: seq 1 after genesis, or just after the latest purge."""
    checkpoint = await repository.latest_checkpoint(session)
    if checkpoint is None:
        return None
    through = checkpoint.detail.get("purged_through_seq", "")
    digest = checkpoint.detail.get("purged_through_hash", "")
    if not str(through).isdigit():
        return None
    return int(through) + 1, str(digest)


async def verify_chain(session: AsyncSession, anchors: Sequence[Anchor] = ()) -> VerifyResult:
    """Walk the chain in batches; name the first edited, missing or reordered event."""
    start = await _expected_start(session)
    checked = 0
    first_seq: int | None = None
    previous: AuditEvent | None = None
    last_seq = 0

    def broken(seq: int, problem: str) -> VerifyResult:
        return VerifyResult(
            ok=False,
            events_checked=checked,
            first_seq=first_seq,
            head_seq=previous.seq if previous else None,
            head_hash=previous.hash if previous else None,
            broken_seq=seq,
            problem=problem,
        )

    while True:
        batch = await repository.events_after(session, last_seq, VERIFY_BATCH)
        if not batch:
            break
        for event in batch:
            if previous is None:
                first_seq = event.seq
                if event.seq == 1:
                    expected_prev = GENESIS_HASH
                elif start is not None and event.seq == start[0]:
                    expected_prev = start[1]
                else:
                    wanted = start[0] if start else 1
                    if event.seq > wanted:
                        return broken(
                            wanted, f"event {wanted} is missing (the chain starts at {event.seq})"
                        )
                    expected_prev = ""  # an event older than the last purge: cannot be linked
                if event.prev_hash != expected_prev:
                    return broken(event.seq, "prev_hash does not continue from the chain's start")
            else:
                if event.seq != previous.seq + 1:
                    return broken(previous.seq + 1, f"event {previous.seq + 1} is missing")
                if event.prev_hash != previous.hash:
                    return broken(event.seq, "prev_hash does not match the previous event's hash")
            if event_hash(event) != event.hash:
                return broken(event.seq, "the event's contents do not match its hash")
            checked += 1
            previous = event
        last_seq = batch[-1].seq

    for anchor in anchors:
        stored = await repository.event_at(session, anchor.seq)
        if stored is None:
            if first_seq is not None and anchor.seq < first_seq and start and anchor.seq < start[0]:
                continue  # purged by retention, the checkpoint vouches for it
            return broken(anchor.seq, f"anchored event {anchor.seq} is missing")
        if stored.hash != anchor.hash:
            return broken(anchor.seq, f"event {anchor.seq} differs from its anchor")

    return VerifyResult(
        ok=True,
        events_checked=checked,
        first_seq=first_seq,
        head_seq=previous.seq if previous else None,
        head_hash=previous.hash if previous else None,
    )


async def list_events(
    session: AsyncSession, query: AuditFilter, *, cursor: str | None, limit: int
) -> AuditPage:
    """A page of matching events, newest first, and the cursor to continue with (older ones)."""
    before_seq = decode_int_cursor(cursor) if cursor else None
    rows = await repository.find(session, query, before_seq=before_seq, limit=limit + 1)
    page = rows[:limit]
    return AuditPage(
        items=[event_out(row) for row in page],
        next_cursor=encode_cursor(page[-1].seq) if len(rows) > limit else None,
    )


def event_out(event: AuditEvent) -> AuditEventOut:
    """An event as the admin API shows it."""
    return AuditEventOut.model_validate(event)


def event_document(event: AuditEvent) -> dict[str, Any]:
    """An event as plain JSON (the export and API form), including both hashes."""
    return {
        "seq": event.seq,
        "occurred_at": event.occurred_at.astimezone(UTC).isoformat(),
        **_content(event),
        "prev_hash": event.prev_hash,
        "hash": event.hash,
    }


async def iter_events(session: AsyncSession, query: AuditFilter) -> AsyncIterator[AuditEvent]:
    """Matching events in chain order, read in batches."""
    last = 0
    while True:
        batch = await repository.in_chain_order(session, query, after_seq=last, limit=VERIFY_BATCH)
        if not batch:
            return
        for event in batch:
            yield event
        last = batch[-1].seq


def event_line(event: AuditEvent) -> str:
    """One event as a line of JSON Lines (the export's format), ending in a newline."""
    return json.dumps(event_document(event), ensure_ascii=False, sort_keys=True) + "\n"


async def export_events(
    session: AsyncSession,
    out: TextIO,
    *,
    since: datetime | None = None,
    until: datetime | None = None,
) -> int:
    """Write events as JSON Lines, in chain order; returns how many were written."""
    count = 0
    async for event in iter_events(session, AuditFilter(since=since, until=until)):
        out.write(event_line(event))
        count += 1
    return count


async def stream_export(
    factory: async_sessionmaker[AsyncSession], query: AuditFilter
) -> AsyncIterator[str]:
    """The events matching ``query`` as JSON Lines, in chain order, for a streamed download.

    Each batch is read in a short transaction of its own, so a slow download holds no database
    connection between batches; events appended meanwhile are included up to the last batch.
    """
    last = 0
    while True:
        async with factory() as session, session.begin():
            batch = await repository.in_chain_order(
                session, query, after_seq=last, limit=VERIFY_BATCH
            )
            lines = "".join(event_line(event) for event in batch)
        if not batch:
            return
        yield lines
        last = batch[-1].seq


async def get_event(session: AsyncSession, seq: int) -> AuditEventOut:
    """One event by its place in the chain (404 when there is none: never written, or purged)."""
    if not 0 < seq <= MAX_SEQ:
        raise NotFound(detail=f"No audit event {seq}")
    event = await repository.event_at(session, seq)
    if event is None:
        raise NotFound(detail=f"No audit event {seq}")
    return event_out(event)


#: The console's days are WIB days (UTC+7, no daylight saving).
WIB = timezone(timedelta(hours=7))


def wib_days(first: date | None, last: date | None) -> tuple[datetime | None, datetime | None]:
    """``since`` and ``until`` for the WIB days ``first`` to ``last``, both included."""
    since = datetime.combine(first, time(), WIB) if first else None
    until = datetime.combine(last + timedelta(days=1), time(), WIB) if last else None
    return since, until


async def purge_events_before(session: AsyncSession, cutoff: datetime) -> int:
    """Delete the chain's prefix older than ``cutoff`` and append a checkpoint continuing it.

    The one path that removes events: the checkpoint carries the hash of the last removed
    event, so ``verify_chain`` still passes, and it is itself an audit event. The newest event
    always stays, even when older than ``cutoff``: the chain keeps a head to continue from (on
    PostgreSQL the checkpoint, and any event of the same transaction, is chained after the head
    it finds at COMMIT).
    """
    await repository.lock_chain(session)
    head = await repository.chain_head(session)
    if head is None:
        return 0
    through = await repository.last_seq_before(session, cutoff, below=head.seq)
    if through is None:
        return 0
    last_removed = await repository.event_at(session, through)
    assert last_removed is not None
    removed = await repository.delete_through(session, through)
    await _append(
        session,
        AuditEventIn(
            action=CHECKPOINT_ACTION,
            outcome=Outcome.SUCCESS,
            object_type="audit_event",
            detail={
                "purged_through_seq": str(through),
                "purged_through_hash": last_removed.hash,
                "purged_count": str(removed),
                "cutoff": cutoff.astimezone(UTC).isoformat(),
            },
        ),
        head,
    )
    return removed
