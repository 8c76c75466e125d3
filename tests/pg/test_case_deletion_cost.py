"""An ingest whose report joins a stored case deletes the case the report was stored with; the
foreign keys PostgreSQL then checks are each found through an index, not a scan of the table
(issue 21: a scan of every case cost 3-5 ms of the database's CPU per such ingest at 70,000
cases, a quarter of its CPU per ingest)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from app.db import create_engine
from tests.conftest import ON_POSTGRES, make_settings

pytestmark = [
    pytest.mark.pg,
    pytest.mark.skipif(
        not ON_POSTGRES, reason="needs SINERGI_TEST_DATABASE_URL=postgresql+asyncpg://…"
    ),
]


@pytest.fixture
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(make_settings(database_url))
    yield engine
    await engine.dispose()


async def test_every_key_referencing_a_case_is_checked_through_an_index(
    engine: AsyncEngine,
) -> None:
    async with engine.connect() as conn:
        referencing = (
            await conn.execute(
                text(
                    "SELECT c.conrelid::regclass::text, a.attname FROM pg_constraint c "
                    "JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = c.conkey[1] "
                    "WHERE c.contype = 'f' AND c.confrelid = 'cases'::regclass"
                )
            )
        ).all()
        assert ("cases", "merged_into_id") in referencing
        assert len(referencing) >= 3  # reports.case_id and case_links.case_id besides
        # the planner's choice for a tiny test table means nothing: a scan is only taken here
        # where no index can serve the check at all
        await conn.execute(text("SET enable_seqscan = off"))
        await conn.execute(text("SET plan_cache_mode = force_generic_plan"))
        scanned = []
        for table, column in referencing:
            # the statement PostgreSQL's referential check runs for each row deleted
            name = f"check_{table}_{column}"
            await conn.execute(
                text(
                    f"PREPARE {name}(uuid) AS SELECT 1 FROM ONLY {table} x "  # noqa: S608 - catalog names
                    f"WHERE {column} = $1 FOR KEY SHARE OF x"
                )
            )
            plan = "\n".join(
                row[0]
                for row in await conn.execute(text(f"EXPLAIN EXECUTE {name}(gen_random_uuid())"))
            )
            if "Seq Scan" in plan:
                scanned.append(f"{table}.{column}:\n{plan}")
        assert not scanned, scanned
