"""Group commit of audit events: concurrent requests share one INSERT and one COMMIT.

A read writes nothing but its audit event, and that event must be committed before the answer
leaves ("no answer without its audit event"). Committed one by one, each read pays a write, a
COMMIT that waits for the WAL flush and, on PostgreSQL, the chain lock. Here each request hands
its events to the process's ``AuditGroupCommit`` and waits: while one batch is being committed
the next gathers every request that finished meanwhile, so under load many events share one
statement and one COMMIT, and under light load a batch is one request with nothing added to
wait for (no timer: a batch starts as soon as the previous one has committed).

Each request still learns the fate of its own events only. A batch that fails is retried
request by request, so one request whose events cannot be written fails alone; when the
database cannot be reached at all, every request of the batch fails (as each would have alone).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from app.db import autocommit, is_database_unavailable, transaction
from app.repositories.audit import chains_at_commit
from app.services.audit import AuditEventIn, record_events, record_events_alone

logger = logging.getLogger("sinergi.audit")


@dataclass
class _Waiting:
    events: Sequence[AuditEventIn]
    done: asyncio.Future[None]


class AuditGroupCommit:
    """Writes the audit events of concurrent requests of one process in shared transactions."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession], *, max_batch: int = 256) -> None:
        self.sessions = sessions
        self.max_batch = max_batch
        self._queue: list[_Waiting] = []
        self._writer: asyncio.Task[None] | None = None
        #: Batches committed and events written, for the metrics and the tests.
        self.batches = 0
        self.events = 0

    async def append(self, events: Sequence[AuditEventIn]) -> None:
        """Return once ``events`` are committed; raise what their own commit raised."""
        if not events:
            return
        waiting = _Waiting(events, asyncio.get_running_loop().create_future())
        self._queue.append(waiting)
        if self._writer is None or self._writer.done():
            self._writer = asyncio.create_task(self._write_all())
        # shielded: a request cancelled while waiting must not cancel the others' commit
        await asyncio.shield(waiting.done)

    @asynccontextmanager
    async def _one_statement(self) -> AsyncIterator[AsyncSession]:
        """A session whose events are one multi-row INSERT, committed by itself (PostgreSQL,
        where the chain is made at COMMIT): no BEGIN and COMMIT round trips around it."""
        async with transaction(self.sessions) as session:
            if chains_at_commit(session):
                await autocommit(session)
            yield session

    async def _write_all(self) -> None:
        while self._queue:
            batch, self._queue = self._queue[: self.max_batch], self._queue[self.max_batch :]
            await self._write(batch)

    async def _write(self, batch: list[_Waiting]) -> None:
        events = [e for w in batch for e in w.events]
        try:
            if not await self._written_alone(events):
                async with self._one_statement() as session:
                    await record_events(session, events)
        except Exception as error:  # noqa: BLE001 - handed to the request it belongs to
            if len(batch) == 1 or is_database_unavailable(error):
                for waiting in batch:
                    _settle(waiting, error)
                return
            logger.warning("an audit batch of %d requests failed; retrying each", len(batch))
            for waiting in batch:
                await self._write_one(waiting)
            return
        self.batches += 1
        self.events += sum(len(w.events) for w in batch)
        for waiting in batch:
            _settle(waiting, None)

    async def _written_alone(self, events: list[AuditEventIn]) -> bool:
        """Whether ``events`` were committed by their one statement on a pooled connection,
        without a session (PostgreSQL); after an error the session sends it again, and its
        error decides (a database out of reach, or a request's events retried alone)."""
        engine = self.sessions.kw.get("bind")
        return isinstance(engine, AsyncEngine) and await record_events_alone(engine, events)

    async def _write_one(self, waiting: _Waiting) -> None:
        try:
            async with self._one_statement() as session:
                await record_events(session, waiting.events)
        except Exception as error:  # noqa: BLE001 - handed to the request it belongs to
            _settle(waiting, error)
            return
        self.batches += 1
        self.events += len(waiting.events)
        _settle(waiting, None)


def _settle(waiting: _Waiting, error: BaseException | None) -> None:
    if waiting.done.done():
        return
    if error is None:
        waiting.done.set_result(None)
    else:
        waiting.done.set_exception(error)
