"""Group commit of ingests: concurrent submissions share one transaction and one COMMIT.

On PostgreSQL each ingest pays, besides its statements, a COMMIT that waits for the WAL flush
and the hot rows and locks it holds until then (the recipients' delivery counters, the
blocking keys it resolved under, the audit chain at COMMIT). Here a request whose body and
token passed hands its work to the process's ``IngestGroupCommit`` and waits: while one batch
runs and commits, the next gathers every request that arrived meanwhile (no timer: a lone
request waits for nothing). A batch is one transaction; its requests run in it one after the
other, so a request sees the earlier requests of its batch exactly as it would see them
committed (two reports about one new person resolve to one entity). They run first without
savepoints; if one fails, the batch is rolled back and runs again with each request in a
SAVEPOINT, so that the failed one rolls back only itself. Up to ``writers`` batches run at
once, each on its own connection: while one waits for PostgreSQL (a batch's ~15 statements
per request are as many round trips), the process works on the next (locks on the blocking
keys still make reports about one person resolve one after the other, as across processes).

Rows nothing reads back before the COMMIT (a new report's version, modus and facets, the audit
events) are gathered (``add_at_end``) and written once for the whole batch, one INSERT per
table, as its deliveries are: those statements do not grow with the batch.

Each request still gets the answer it would get alone:

- a refusal of its own (409, 422, 403 …, any error not of the database) is its answer, its
  savepoint rolled back;
- a database error inside its savepoint (a deadlock with another process, a lock timeout) is
  not the request's fault: it runs again alone, in a transaction of its own, once the batch has
  committed;
- a request running alone that loses a race with another process's transaction (a deadlock, a
  serialization failure: nothing of it was stored) runs again, up to ``ALONE_ATTEMPTS`` times:
  a batch takes its requests' locks in request order, so with two processes (or replicas) a
  transaction of one can deadlock with a batch of the other, and either may be the victim;
- a batch whose COMMIT fails runs again request by request, each in its own transaction;
- when the database cannot be reached at all, every request of the batch fails as it would
  have alone (503).
"""

from __future__ import annotations

import asyncio
import contextvars
import logging
from collections import deque
from collections.abc import Callable, Coroutine, Iterable
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy import Table
from sqlalchemy import exc as sa_exc
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app import metrics
from app.db import add_rows, is_database_unavailable, transaction
from app.repositories.resolution import lock_keys
from app.services.delivery import (
    defer_numbering,
    deferred_count,
    forget_deferred_after,
    number_deferred,
)
from app.services.routing import share_rules

logger = logging.getLogger("sinergi.ingest")

T = TypeVar("T")

#: SQLSTATEs of a transaction that lost a race with another and stored nothing (a deadlock, a
#: serialization failure): running it again succeeds once the other has committed.
LOST_RACE_SQLSTATES = frozenset({"40P01", "40001"})
#: How often a request running alone is tried when it keeps losing such races.
ALONE_ATTEMPTS = 3
#: A request's work: run in the session given, which it must neither commit nor roll back.
Job = Callable[[AsyncSession], Coroutine[Any, Any, T]]


#: ``session.info`` key of the blocking keys a batch locked for all its requests at its start.
_KEYS_LOCKED = "sinergi.keys_locked"


def keys_locked(session: AsyncSession, keys: Iterable[str]) -> bool:
    """Whether this transaction (a batch) already holds the locks of all ``keys`` (read only
    in a batch: a lone request pays nothing for asking)."""
    held: frozenset[str] | None = session.info.get(_KEYS_LOCKED)
    return held is not None and held.issuperset(keys)


def note_keys_locked(session: AsyncSession, keys: frozenset[str]) -> None:
    """Note that this transaction now holds the locks of ``keys`` (taken by a statement other
    than ``lock_keys``: a report's claim), so that resolution does not ask for them again."""
    session.info[_KEYS_LOCKED] = keys | session.info.get(_KEYS_LOCKED, frozenset())


#: ``session.info`` key of the rows a batch writes at its end (``add_at_end``), by table.
_AT_END = "sinergi.rows_at_end"


def add_at_end(session: AsyncSession, table: Table, rows: list[dict[str, Any]]) -> None:
    """Rows nothing reads back before the transaction ends (a report's modus, facets and
    versions, audit events): in a batch, written with all its requests' rows, one INSERT per
    table just before its COMMIT; alone, at the next flush (``add_rows``)."""
    gathered: dict[Table, list[dict[str, Any]]] | None = session.info.get(_AT_END)
    if gathered is None:
        add_rows(session, table, rows)
    elif rows:
        gathered.setdefault(table, []).extend(rows)


def gathers_rows(session: AsyncSession) -> bool:
    """Whether ``session`` is a batch's, writing ``add_at_end``'s rows at its end."""
    return _AT_END in session.info


def _rows_at_end(session: AsyncSession) -> dict[Table, int]:
    """How many rows of each table the batch gathered so far (``_forget_rows_after``)."""
    return {table: len(rows) for table, rows in session.info.get(_AT_END, {}).items()}


def _forget_rows_after(session: AsyncSession, counts: dict[Table, int]) -> None:
    """Drop the rows gathered after ``counts`` (a request of the batch rolled back)."""
    for table, rows in session.info.get(_AT_END, {}).items():
        del rows[counts.get(table, 0) :]


async def _write_rows_at_end(session: AsyncSession) -> None:
    for table, rows in session.info.pop(_AT_END, {}).items():
        add_rows(session, table, rows)
    await session.flush()


@dataclass
class _Waiting:
    job: Job[Any]
    #: The blocking keys its job will lock (taken for the whole batch at its start; lazy, as
    #: a request running alone never needs them).
    keys: Iterable[str]
    #: The request's context (log fields, the request being handled), for its job to run in.
    context: contextvars.Context
    done: asyncio.Future[Any]


class _Undo(Exception):
    """A request of a batch run without savepoints failed: the batch is rolled back."""


@dataclass
class _Outcome:
    waiting: _Waiting
    result: Any = None
    error: BaseException | None = None
    #: Failed on a database error: run again alone after the batch.
    again: bool = False


class IngestGroupCommit:
    """Runs the ingests of concurrent requests of one process in shared transactions."""

    def __init__(
        self, sessions: async_sessionmaker[AsyncSession], *, max_batch: int = 64, writers: int = 2
    ) -> None:
        self.sessions = sessions
        self.max_batch = max_batch
        #: Batches that may run at once (each holds a connection while it runs).
        self.writers = writers
        self._queue: list[_Waiting] = []
        self._writers: set[asyncio.Task[None]] = set()
        self._held = False
        #: Batches committed, requests committed in them and requests run again alone: for the
        #: metrics and the tests. ``sizes``: requests per batch, newest last.
        self.batches = 0
        self.requests = 0
        self.retried = 0
        self.sizes: deque[int] = deque(maxlen=1000)

    @property
    def waiting(self) -> int:
        """Requests gathered for the next batch."""
        return len(self._queue)

    def hold(self) -> None:
        """Start no batch until ``release`` (for tests that need requests to share a batch)."""
        self._held = True

    def release(self) -> None:
        self._held = False
        self._start()

    async def run(self, job: Job[T], keys: Iterable[str] = ()) -> T:
        """Run ``job`` in a batch; its result once the batch committed, or what it raised.

        ``keys``: the blocking keys ``job`` will lock, taken with every other request's of the
        batch in one statement, in one global order, before any request runs (locked request
        by request, two batches naming two people in opposite orders could deadlock)."""
        waiting = _Waiting(
            job, keys, contextvars.copy_context(), asyncio.get_running_loop().create_future()
        )
        self._queue.append(waiting)
        self._start()
        # shielded: a request cancelled while waiting must not cancel the others' batch
        result: T = await asyncio.shield(waiting.done)
        return result

    def _start(self) -> None:
        # A writer that returned saw the queue empty; one more starts while fewer than
        # ``writers`` run, so a request arriving while a batch waits on the database is taken.
        running = {w for w in self._writers if not w.done()}
        if self._queue and not self._held and len(running) < self.writers:
            running.add(asyncio.create_task(self._write_all()))
        self._writers = running

    async def _write_all(self) -> None:
        while self._queue and not self._held:
            batch, self._queue = self._queue[: self.max_batch], self._queue[self.max_batch :]
            try:
                await self._write(batch)
            except BaseException as error:  # never leave a request waiting forever
                for waiting in batch:
                    _settle(waiting, error=error)
                raise

    async def _write(self, batch: list[_Waiting]) -> None:
        if len(batch) == 1:
            # Alone: its own transaction, no savepoint (two round trips fewer).
            await self._run_alone(batch[0], retry=False)
            return
        # First without savepoints (a SAVEPOINT and a RELEASE per request fewer): a request that
        # fails, refused or on a database error, undoes the whole batch, which then runs again
        # with a savepoint per request, so that only the failed one's work is dropped.
        try:
            outcomes = await self._in_one_transaction(batch, self._attempt_plain)
        except _Undo:
            outcomes = None
        except Exception as error:  # noqa: BLE001 - handed to the requests it belongs to
            await self._batch_failed(batch, error)
            return
        if outcomes is None:
            try:
                outcomes = await self._in_one_transaction(batch, self._attempt)
            except Exception as error:  # noqa: BLE001 - handed to the requests it belongs to
                await self._batch_failed(batch, error)
                return
        committed = [o for o in outcomes if not o.again]
        self.batches += 1
        self.requests += len(committed)
        self.sizes.append(len(committed))
        metrics.INGEST_BATCH.observe(len(committed))
        for outcome in committed:
            _settle(outcome.waiting, outcome.result, outcome.error)
        for outcome in outcomes:
            if outcome.again:
                await self._run_alone(outcome.waiting)

    async def _in_one_transaction(
        self,
        batch: list[_Waiting],
        attempt: Callable[[AsyncSession, _Waiting], Coroutine[Any, Any, _Outcome]],
    ) -> list[_Outcome]:
        """The batch's requests in one transaction, each through ``attempt``, then committed."""
        outcomes: list[_Outcome] = []
        async with transaction(self.sessions) as session:
            # the requests' deliveries numbered together, counters locked in one order;
            # the routing rules and agencies read once
            defer_numbering(session)
            share_rules(session)
            session.info[_AT_END] = {}
            keys = frozenset(k for waiting in batch for k in waiting.keys)
            await lock_keys(session, keys)
            session.info[_KEYS_LOCKED] = keys
            for waiting in batch:
                outcomes.append(await attempt(session, waiting))
            await _write_rows_at_end(session)
            await number_deferred(session)
        return outcomes

    async def _batch_failed(self, batch: list[_Waiting], error: Exception) -> None:
        if is_database_unavailable(error):
            for waiting in batch:
                _settle(waiting, error=error)
            return
        # The COMMIT (or a savepoint's rollback) failed: nothing of the batch is stored,
        # and what a request was told may rest on an earlier request's work. Each again.
        logger.warning("an ingest batch of %d requests failed; running each alone", len(batch))
        for waiting in batch:
            await self._run_alone(waiting)

    async def _attempt_plain(self, session: AsyncSession, waiting: _Waiting) -> _Outcome:
        """One request straight in the batch's transaction; any error of it undoes the batch
        (``_Undo``), except the database's being unreachable."""
        try:
            return _Outcome(waiting, result=await _call(waiting, session))
        except Exception as error:
            if is_database_unavailable(error):
                raise
            raise _Undo from error
        finally:
            # The next request starts from the database, not from objects this one loaded.
            session.expunge_all()

    async def _attempt(self, session: AsyncSession, waiting: _Waiting) -> _Outcome:
        """One request in a savepoint of the batch; raises only when the batch cannot go on."""
        counted = metrics.pending_count(session)
        deliveries = deferred_count(session)
        rows = _rows_at_end(session)
        held = session.info.get(_KEYS_LOCKED)
        try:
            async with session.begin_nested():
                return _Outcome(waiting, result=await _call(waiting, session))
        except Exception as error:  # the request's own, or run again alone
            metrics.forget_pending_after(session, counted)
            forget_deferred_after(session, deliveries)
            _forget_rows_after(session, rows)
            # locks taken inside the savepoint (a claim's) were released with it
            session.info[_KEYS_LOCKED] = held
            if is_database_unavailable(error):
                raise
            again = isinstance(error, sa_exc.DBAPIError)
            if again:
                logger.warning(
                    "a request of an ingest batch hit a database error (%s); running it alone",
                    _sqlstate(error) or type(error).__name__,
                )
            return _Outcome(waiting, error=error, again=again)
        finally:
            # The next request starts from the database, not from objects this one loaded.
            session.expunge_all()

    async def _run_alone(self, waiting: _Waiting, *, retry: bool = True) -> None:
        self.retried += retry
        for attempt in range(1, ALONE_ATTEMPTS + 1):
            try:
                async with transaction(self.sessions) as session:
                    result = await _call(waiting, session)
            except Exception as error:  # noqa: BLE001 - handed to the request it belongs to
                if attempt < ALONE_ATTEMPTS and _sqlstate(error) in LOST_RACE_SQLSTATES:
                    logger.warning(
                        "an ingest lost a race with another transaction (%s); running it again",
                        _sqlstate(error),
                    )
                    continue
                _settle(waiting, error=error)
                return
            self.batches += 1
            self.requests += 1
            self.sizes.append(1)
            metrics.INGEST_BATCH.observe(1)
            _settle(waiting, result)
            return


def _sqlstate(error: BaseException) -> str | None:
    """The PostgreSQL error code behind a driver error, if any."""
    code = getattr(getattr(error, "orig", None), "sqlstate", None)
    return code if isinstance(code, str) else None


async def _call(waiting: _Waiting, session: AsyncSession) -> Any:
    """The request's job, in the request's own context."""
    return await asyncio.get_running_loop().create_task(
        waiting.job(session), context=waiting.context
    )


def _settle(waiting: _Waiting, result: Any = None, error: BaseException | None = None) -> None:
    if waiting.done.done():
        return
    if error is None:
        waiting.done.set_result(result)
    else:
        waiting.done.set_exception(error)
