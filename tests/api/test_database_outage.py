"""A database that cannot be reached: every request answers 503 with Retry-After, never 500.

The shared PostgreSQL is never stopped: the app is pointed at a closed port (or, for SQLite, at
a file that cannot be opened) instead.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from jose import jwt

from app.db import create_engine, create_session_factory
from app.main import create_app
from app.worker import Worker
from tests.conftest import make_settings
from tests.report_samples import deferral

pytestmark = pytest.mark.anyio

#: Nothing listens here (outside the ports the engineers' servers use).
CLOSED_PORT_URL = "postgresql+asyncpg://postgres@127.0.0.1:1/sinergi"


def _unopenable_sqlite(tmp_path: Path) -> str:
    return f"sqlite+aiosqlite:///{tmp_path}/no-such-directory/sinergi.db"


@pytest.fixture(params=["postgresql", "sqlite"])
async def down(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    url = CLOSED_PORT_URL if request.param == "postgresql" else _unopenable_sqlite(tmp_path)
    app = create_app(make_settings(url))
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://sinergi.test") as client:
        yield client
    await app.state.engine.dispose()
    # aiosqlite stops the thread of a connection that failed to open without waiting for it;
    # let it finish while this test's event loop still runs.
    await asyncio.to_thread(_join_connection_threads)


def _join_connection_threads() -> None:
    for thread in threading.enumerate():
        if "_connection_worker_thread" in thread.name:
            thread.join(timeout=5)


def _assert_unavailable(response: httpx.Response) -> None:
    assert response.status_code == 503, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert int(response.headers["retry-after"]) > 0
    body: dict[str, Any] = response.json()
    assert body["status"] == 503
    assert body["type"] == "urn:sinergi:problem:database-unavailable"
    assert body["instance"] == response.request.url.path


def _bearer() -> dict[str, str]:
    """A well-formed token: checking it needs the database (the signing key named by kid)."""
    token = jwt.encode(
        {"sub": "IMIGRASI-DUMAI"},
        "k" * 32,
        algorithm="HS256",
        headers={"kid": "k1", "typ": "at+jwt"},
    )
    return {"Authorization": f"Bearer {token}"}


async def test_token_requests_reads_and_writes_answer_503(down: httpx.AsyncClient) -> None:
    token = await down.post(
        "/v1/auth/token",
        data={
            "grant_type": "client_credentials",
            "client_id": "IMIGRASI-DUMAI",
            "client_secret": "sng_whatever",
        },
    )
    _assert_unavailable(token)
    _assert_unavailable(await down.get("/v1/reports", headers=_bearer()))
    _assert_unavailable(await down.post("/v1/reports", json=deferral(), headers=_bearer()))
    _assert_unavailable(await down.get("/.well-known/jwks.json"))


async def test_liveness_stays_up_and_readiness_says_not_ready(down: httpx.AsyncClient) -> None:
    assert (await down.get("/healthz")).status_code == 200
    assert (await down.get("/readyz")).status_code == 503


async def test_the_worker_backs_off_logs_once_and_recovers(
    app: Any, caplog: pytest.LogCaptureFixture
) -> None:
    settings = make_settings(CLOSED_PORT_URL, worker_poll_seconds=0.01, retention_interval_hours=0)
    engine = create_engine(settings)
    worker = Worker(settings, create_session_factory(engine), name="outage")
    attempts = 0
    real_claim = worker.claim

    async def counted_claim() -> Any:
        nonlocal attempts
        attempts += 1
        if attempts == 6:  # the database is back
            worker.session_factory = app.state.session_factory
        return await real_claim()

    worker.claim = counted_claim  # type: ignore[method-assign]
    stop = asyncio.Event()
    with caplog.at_level(logging.INFO, logger="sinergi"):
        task = asyncio.create_task(worker.run(stop))
        async with asyncio.timeout(30):
            while attempts < 8:
                await asyncio.sleep(0.01)
        stop.set()
        await task
    await worker.aclose()
    await engine.dispose()
    messages = [r.getMessage() for r in caplog.records if "outage" in r.getMessage()]
    assert sum("cannot be reached" in m for m in messages) == 1
    assert sum("reachable again after 5 failed attempts" in m for m in messages) == 1
    assert not [r for r in caplog.records if r.name.startswith("sinergi") and r.exc_info]
    assert [worker._pause(n) for n in (0, 1, 2, 3)] == [0.01, 0.02, 0.04, 0.08]
    assert worker._pause(100) == 30
