"""PostgreSQL: a statement sent alone on a pooled connection (``app.db.driver_alone``), as the
reads' audit events are committed in their group commit.

A batch of audit events is one INSERT that commits by itself; when the database refuses it,
nothing of it is written, its connection goes back to the pool and the caller is told to
send it again through a session, whose error then decides what each request answers.
"""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select, text

from app.db import driver_alone
from app.models.audit import AuditEvent
from app.services.audit import AuditEventIn, Outcome, record_events_alone, verify_chain

pytestmark = pytest.mark.pg


async def test_a_statement_sent_alone_that_fails_is_not_written_and_frees_its_connection(
    app: Any,
) -> None:
    engine = app.state.engine
    pool = engine.sync_engine.pool
    out_before = pool.checkedout()
    assert await driver_alone(engine, text("SELECT 1 / 0"), {}) is None
    assert pool.checkedout() == out_before
    assert await driver_alone(engine, text("SELECT 6 * 7"), {}) == [(42,)]
    assert pool.checkedout() == out_before


async def test_audit_events_sent_alone_are_committed_and_chained_in_order(app: Any) -> None:
    events = [
        AuditEventIn(action="report.read", outcome=Outcome.SUCCESS, request_id=f"alone-{i}")
        for i in range(3)
    ]
    assert await record_events_alone(app.state.engine, events)
    async with app.state.session_factory() as session:
        rows = await session.execute(
            select(AuditEvent.request_id)
            .where(AuditEvent.request_id.like("alone-%"))
            .order_by(AuditEvent.seq)
        )
        assert rows.scalars().all() == ["alone-0", "alone-1", "alone-2"]
        assert (await session.scalar(select(func.count()).select_from(AuditEvent))) >= 3
        assert (await verify_chain(session)).ok
