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
