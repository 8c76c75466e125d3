"""PostgreSQL: a process serving 32 concurrent audited reads keeps its connections open.

A connection beyond the pool (overflow) is closed when returned and opened again by the next
request, each time a new PostgreSQL backend: the default pool covers 32 concurrent requests
and the group commits' own connections, so none is closed and reopened under that load.
"""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest
from sqlalchemy import event

from tests.factories import submit_report
from tests.report_samples import interception

pytestmark = pytest.mark.pg

CONCURRENT_READERS = 32


async def test_thirty_two_concurrent_readers_never_close_and_reopen_a_connection(
    app: Any, client: httpx.AsyncClient, agencies: dict[str, dict[str, str]]
) -> None:
    created = await submit_report(
        client, agencies["LANAL-DUMAI"], interception(recipients=["POLRES-DUMAI"])
    )
    counts = {"connect": 0, "close": 0}
    pool = app.state.engine.sync_engine.pool

    def count(name: str) -> None:
        counts[name] += 1

    listeners = {name: (lambda *_, name=name: count(name)) for name in counts}
    for name, listener in listeners.items():
        event.listen(pool, name, listener)
    try:
        for _wave in range(5):
            reads = await asyncio.gather(
                *(
                    client.get(f"/v1/reports/{created['id']}", headers=agencies["POLRES-DUMAI"])
                    for _ in range(CONCURRENT_READERS)
                )
            )
            assert {read.status_code for read in reads} == {200}
    finally:
        for name, listener in listeners.items():
            event.remove(pool, name, listener)
    assert counts["close"] == 0, counts
    # each reader's session, the read audit events' group commit and the ingest's
    assert counts["connect"] <= CONCURRENT_READERS + 2, counts
