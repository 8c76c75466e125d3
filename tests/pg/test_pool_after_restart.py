"""PostgreSQL: after the database drops every connection (a restart), a process answers at most
one request per pooled connection with 503, never 500, and then serves again on fresh ones.

Pooled connections are not pinged before each use (SINERGI_DATABASE_PRE_PING is off: a round
trip per request saved); a broken one fails its request and the pool renews the others.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

pytestmark = pytest.mark.pg


async def _drop_every_connection(database_url: str) -> int:
    engine = create_async_engine(database_url)
    try:
        async with engine.connect() as conn:
            dropped = await conn.scalar(
                text(
                    "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                    "WHERE datname = current_database() AND pid <> pg_backend_pid()"
                )
            )
            return int(dropped or 0)
    finally:
        await engine.dispose()


async def test_requests_recover_after_the_database_dropped_every_connection(
    client: httpx.AsyncClient, agencies: dict[str, dict[str, str]], database_url: str, app: Any
) -> None:
    headers = agencies["POLRES-DUMAI"]
    assert (await client.get("/v1/inbox", headers=headers)).status_code == 200
    assert await _drop_every_connection(database_url) >= 1

    statuses = [(await client.get("/v1/inbox", headers=headers)).status_code for _ in range(6)]
    assert set(statuses) <= {200, 503}, statuses
    assert statuses.count(503) <= 1, statuses
    assert statuses[-3:] == [200, 200, 200], statuses
