"""Fixtures: an isolated, migrated database per test on the chosen backend, and an HTTP client.

``SINERGI_TEST_DATABASE_URL`` chooses the backend (``postgresql+asyncpg://…``); SQLite when unset.
"""

from __future__ import annotations

import asyncio
import os
import shutil
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine
from typer.testing import CliRunner, Result

from app import config, migrate
from app.cli import cli
from app.config import Environment, Settings
from app.main import create_app
from app.models.base import Base
from tests.factories import dumai_agencies

TEST_DATABASE_URL = os.environ.get("SINERGI_TEST_DATABASE_URL", "")
ON_POSTGRES = TEST_DATABASE_URL.startswith("postgresql")
TEST_SECRET = "test-secret-0123456789-0123456789-abcdef"

#: tests/fuzz (schemathesis, the `fuzz` extra) runs only when asked: `.ci/run` sets SINERGI_FUZZ=1.
collect_ignore = [] if os.environ.get("SINERGI_FUZZ") else ["fuzz"]


def pytest_report_header() -> str:
    database = "PostgreSQL " + TEST_DATABASE_URL if ON_POSTGRES else "SQLite (per-test file)"
    return f"sinergi test database: {database}"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "pg" in item.keywords and not ON_POSTGRES:
            item.add_marker(
                pytest.mark.skip(reason="needs SINERGI_TEST_DATABASE_URL=postgresql+asyncpg://…")
            )


@pytest.fixture(scope="session")
def anyio_backend() -> str:
    return "asyncio"


async def _reset_postgres(url: str) -> None:
    """Drop everything in the test database's public schema."""
    engine = create_async_engine(url)
    async with engine.begin() as conn:
        await conn.execute(text("DROP SCHEMA public CASCADE"))
        await conn.execute(text("CREATE SCHEMA public"))
    await engine.dispose()


@pytest.fixture(scope="session")
def migrated_template(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A database migrated to head once per session: a template file on SQLite,
    the DB on PostgreSQL."""
    if ON_POSTGRES:
        asyncio.run(_reset_postgres(TEST_DATABASE_URL))
        migrate.upgrade(TEST_DATABASE_URL)
        return TEST_DATABASE_URL
    path = tmp_path_factory.mktemp("template") / "template.db"
    migrate.upgrade(f"sqlite+aiosqlite:///{path}")
    return str(path)


async def _truncate_postgres(url: str) -> None:
    tables = [t.name for t in Base.metadata.sorted_tables]
    if not tables:
        return
    engine = create_async_engine(url)
    async with engine.begin() as conn:
        await conn.execute(text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))
    await engine.dispose()


async def _fresh_database(template: str, path: Path) -> str:
    if ON_POSTGRES:
        await _truncate_postgres(template)
        return template
    shutil.copyfile(template, path)
    return f"sqlite+aiosqlite:///{path}"


@pytest.fixture
async def database_url(migrated_template: str, tmp_path: Path) -> str:
    """A URL to a migrated database that no other test touches."""
    return await _fresh_database(migrated_template, tmp_path / "sinergi.db")


@pytest.fixture
def fresh_app(
    migrated_template: str, tmp_path: Path
) -> Callable[..., AbstractAsyncContextManager[Any]]:
    """``async with fresh_app("world") as app``: an app on an empty migrated database of its own
    (``fresh_app("world", setting=value)``: with those settings).

    For tests that compare what the same requests get in two worlds. On PostgreSQL every world
    empties the one test database, so finish with one world before opening the next.
    """

    @asynccontextmanager
    async def open_app(name: str, **overrides: object) -> AsyncIterator[Any]:
        url = await _fresh_database(migrated_template, tmp_path / f"{name}.db")
        application = create_app(make_settings(url, **overrides))
        try:
            yield application
        finally:
            await application.state.engine.dispose()

    return open_app


def make_settings(database_url: str, **overrides: object) -> Settings:
    values: dict[str, object] = {
        "env": Environment.TEST,
        "database_url": database_url,
        "secret_key": TEST_SECRET,
        "key_encryption_key": TEST_SECRET,
    }
    values.update(overrides)
    return Settings(**values)  # type: ignore[arg-type]


@pytest.fixture
def settings(database_url: str) -> Settings:
    return make_settings(database_url)


@pytest.fixture
async def app(settings: Settings) -> AsyncIterator[object]:
    application = create_app(settings)
    yield application
    await application.state.engine.dispose()


@pytest.fixture
async def client(app: object) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)  # type: ignore[arg-type]
    async with httpx.AsyncClient(transport=transport, base_url="http://sinergi.test") as c:
        yield c


@pytest.fixture
async def console(app: object) -> AsyncIterator[httpx.AsyncClient]:
    """A browser-like client over https: keeps the officer's Secure ``__Host-`` session cookie."""
    transport = httpx.ASGITransport(app=app, client=("203.0.113.7", 51000))  # type: ignore[arg-type]
    async with httpx.AsyncClient(transport=transport, base_url="https://sinergi.test") as c:
        yield c


@pytest.fixture
def repo_root() -> Path:
    return Path(__file__).resolve().parent.parent


@pytest.fixture
def cli_runner(database_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[CliRunner]:
    """Runs ``sinergi`` commands against the test's database (settings read afresh)."""
    monkeypatch.setenv("SINERGI_ENV", "development")
    monkeypatch.setenv("SINERGI_DATABASE_URL", database_url)
    config.get_settings.cache_clear()
    yield CliRunner()
    config.get_settings.cache_clear()


async def invoke_cli(runner: CliRunner, *args: str) -> Result:
    """Run a ``sinergi`` command in a thread: it starts its own event loop."""
    return await asyncio.to_thread(runner.invoke, cli, list(args))


@pytest.fixture
async def agencies(app: object, client: httpx.AsyncClient) -> dict[str, dict[str, str]]:
    """The admin and the Dumai TIMPORA agencies (tests/factories.py), each with a bearer header."""
    return await dumai_agencies(app, client)
