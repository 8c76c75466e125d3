"""On PostgreSQL the database itself refuses to edit or delete audit events; only the
retention purge's documented path may remove old ones."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.db import create_engine, create_session_factory, transaction
from app.services import audit
from app.services.audit import AuditEventIn, Outcome, record_event
from tests.conftest import ON_POSTGRES, make_settings

pytestmark = [
    pytest.mark.pg,
    pytest.mark.skipif(
        not ON_POSTGRES, reason="needs SINERGI_TEST_DATABASE_URL=postgresql+asyncpg://…"
    ),
]


@pytest.fixture
async def sessions(database_url: str) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    engine = create_engine(make_settings(database_url))
    yield create_session_factory(engine)
    await engine.dispose()


async def _seed(sessions: async_sessionmaker[AsyncSession], when: datetime) -> None:
    async with transaction(sessions) as session:
        for i in range(3):
            await record_event(
                session,
                AuditEventIn(
                    action="report.read",
                    outcome=Outcome.SUCCESS,
                    object_ids=(str(i),),
                    occurred_at=when,
                ),
            )


async def test_update_and_delete_are_refused(sessions: async_sessionmaker[AsyncSession]) -> None:
    await _seed(sessions, datetime.now(UTC))
    for statement in (
        "UPDATE audit_events SET action = 'report.list' WHERE seq = 2",
        "DELETE FROM audit_events WHERE seq = 2",
        "DELETE FROM audit_events",
    ):
        with pytest.raises(DBAPIError, match="append-only"):
            async with transaction(sessions) as session:
                await session.execute(text(statement))
    async with sessions() as session:
        result = await audit.verify_chain(session)
    assert (result.ok, result.events_checked) == (True, 3)


async def test_the_purge_flag_does_not_allow_updates(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    await _seed(sessions, datetime.now(UTC))

    async def update_with_the_purge_flag() -> None:
        async with transaction(sessions) as session:
            await session.execute(text("SELECT set_config('sinergi.audit_purge', 'on', true)"))
            await session.execute(text("UPDATE audit_events SET outcome = 'denied'"))

    with pytest.raises(DBAPIError, match="append-only"):
        await update_with_the_purge_flag()


async def test_the_retention_purge_is_the_one_path_that_removes_events(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    await _seed(sessions, datetime.now(UTC) - timedelta(days=30))
    async with transaction(sessions) as session:
        # the newest of the three stays: the chain keeps a head to continue from
        assert await audit.purge_events_before(session, datetime.now(UTC)) == 2
    # the permission ended with the purge's transaction
    with pytest.raises(DBAPIError, match="append-only"):
        async with transaction(sessions) as session:
            await session.execute(text("DELETE FROM audit_events"))
    async with sessions() as session:
        result = await audit.verify_chain(session)
    assert (result.ok, result.first_seq, result.head_seq) == (True, 3, 4)


async def test_concurrent_transactions_are_chained_at_commit_in_one_line(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    """Events wait in ``audit_pending`` until their transaction commits, then join the chain."""

    async def request(i: int, *, fail: bool = False) -> None:
        async with transaction(sessions) as session:
            for action in ("report.read", "report.list"):
                await record_event(
                    session,
                    AuditEventIn(action=action, outcome=Outcome.SUCCESS, object_ids=(str(i),)),
                )
            if fail:
                raise RuntimeError("the request failed after its events were written")

    async def failing(i: int) -> None:
        with pytest.raises(RuntimeError):
            await request(i, fail=True)

    await asyncio.gather(*(request(i) for i in range(30)), *(failing(i) for i in range(30, 35)))
    async with sessions() as session:
        result = await audit.verify_chain(session)
        pending = (await session.execute(text("SELECT count(*) FROM audit_pending"))).scalar()
        ids = (await session.execute(text("SELECT object_ids FROM audit_events"))).scalars().all()
    assert (result.ok, result.events_checked, result.head_seq) == (True, 60, 60)
    assert pending == 0
    # the failed requests' events went with their rollback
    assert sorted({int(i[0]) for i in ids}) == list(range(30))


async def test_a_commit_finds_its_pending_event_by_key_however_long_the_queue_grew(
    database_url: str,
) -> None:
    """The chain's trigger deletes each pending event by ``pk_audit_pending``, even on a
    connection that first ran it right after a vacuum, the queue empty, and after the queue's
    dead rows (one per audited request until the next vacuum) grew to many pages: the delete
    plan made on the first commit must not be a scan of the whole table."""
    engine = create_engine(
        make_settings(database_url, database_pool_size=1, database_max_overflow=0)
    )
    one_connection = create_session_factory(engine)
    other = create_engine(make_settings(database_url))
    event = AuditEventIn(action="report.read", outcome=Outcome.SUCCESS, object_ids=("1",))

    async def scans() -> tuple[int, int]:
        async with one_connection() as session:
            await session.execute(text("SELECT pg_stat_force_next_flush()"))
            await session.commit()
        await asyncio.sleep(0.2)
        async with one_connection() as session:
            await session.execute(text("SELECT pg_stat_clear_snapshot()"))
            row = (
                await session.execute(
                    text(
                        "SELECT seq_scan, coalesce(idx_scan, 0) FROM pg_stat_user_tables "
                        "WHERE relname = 'audit_pending'"
                    )
                )
            ).one()
        return int(row[0]), int(row[1])

    try:
        # a vacuumed queue, small as autovacuum leaves it: the plans are made for its size
        async with engine.connect() as connection:
            autocommit = await connection.execution_options(isolation_level="AUTOCOMMIT")
            await autocommit.execute(text("VACUUM ANALYZE audit_pending"))
        # PostgreSQL plans a function's statement for each of its first five runs, then keeps
        # one plan for the connection: made here, for a queue of a page
        for _ in range(6):
            async with transaction(one_connection) as session:
                await record_event(session, event)
        # dead rows, as audited requests leave them, written on another connection without
        # chaining anything (the setting would reset this connection's plans)
        async with transaction(create_session_factory(other)) as session:
            await session.execute(text("SET LOCAL session_replication_role = replica"))
            await session.execute(
                text(
                    "INSERT INTO audit_pending (document, before_prev_hash, before_seq, "
                    "after_seq) SELECT '{}', repeat('x', 200), '', '' FROM generate_series(1, 4000)"
                )
            )
            await session.execute(text("DELETE FROM audit_pending"))
        pages = await _scalar(one_connection, "SELECT pg_relation_size('audit_pending') / 8192")
        assert pages > 100
        seq_before, idx_before = await scans()
        for _ in range(3):
            async with transaction(one_connection) as session:
                await record_event(session, event)
        seq_after, idx_after = await scans()
        async with one_connection() as session:
            result = await audit.verify_chain(session)
    finally:
        await engine.dispose()
        await other.dispose()
    assert (result.ok, result.events_checked) == (True, 9)
    assert seq_after - seq_before == 0
    assert idx_after - idx_before >= 3


async def _scalar(sessions: async_sessionmaker[AsyncSession], query: str) -> int:
    async with sessions() as session:
        return int((await session.execute(text(query))).scalar_one())
