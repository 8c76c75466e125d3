"""Migrations go up and down cleanly on the test backend, and agree with the models."""

from __future__ import annotations

import asyncio
from pathlib import Path

from sqlalchemy import inspect
from sqlalchemy.ext.asyncio import create_async_engine

from app import migrate
from app.models.base import Base
from tests.conftest import ON_POSTGRES, TEST_DATABASE_URL, _reset_postgres


def _tables(url: str) -> set[str]:
    async def read() -> set[str]:
        engine = create_async_engine(url)
        async with engine.connect() as conn:
            names = await conn.run_sync(lambda c: set(inspect(c).get_table_names()))
        await engine.dispose()
        return names

    return asyncio.run(read())


def test_upgrade_check_downgrade_upgrade(tmp_path: Path) -> None:
    if ON_POSTGRES:
        url = TEST_DATABASE_URL
        asyncio.run(_reset_postgres(url))
    else:
        url = f"sqlite+aiosqlite:///{tmp_path / 'm.db'}"
    migrate.upgrade(url)
    model_tables = {t.name for t in Base.metadata.sorted_tables}
    assert model_tables <= _tables(url)
    migrate.check(url)  # raises when models and migrations disagree
    migrate.downgrade(url, "base")
    assert _tables(url) - {"alembic_version"} == set()
    migrate.upgrade(url)
    assert model_tables <= _tables(url)
