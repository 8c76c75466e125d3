"""Two `sinergi serve` processes with SINERGI_RATE_LIMIT_STORAGE_URL on one Redis share one budget.

Without the shared store each replica would give the agency a full budget of its own.
Needs Redis on 127.0.0.1:6379 (skipped otherwise); the keys it makes are deleted afterwards.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from app.config import Environment
from app.main import create_app
from app.services.rate_limits import KEY_PREFIX
from tests.conftest import TEST_SECRET, make_settings
from tests.factories import create_agency, issue_key

REDIS_HOST, REDIS_PORT, REDIS_DB = "127.0.0.1", 6379, 7
BURST = 4


def _redis_up() -> bool:
    try:
        with socket.create_connection((REDIS_HOST, REDIS_PORT), timeout=1) as conn:
            conn.sendall(b"PING\r\n")
            return conn.recv(16).startswith(b"+PONG")
    except OSError:
        return False


def _free_ports(count: int) -> list[int]:
    """Ports in 18500-18599 (the range this project's tests may listen on) nobody listens on."""
    ports = []
    for port in range(18540, 18600):
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
        ports.append(port)
        if len(ports) == count:
            return ports
    pytest.skip("no free port in 18540-18599")


def _redis_command(*args: str) -> bytes:
    """One RESP command to the test's Redis database; the raw reply."""
    parts = ["SELECT", str(REDIS_DB)]
    payload = f"*{len(parts)}\r\n" + "".join(f"${len(p)}\r\n{p}\r\n" for p in parts)
    payload += f"*{len(args)}\r\n" + "".join(f"${len(a)}\r\n{a}\r\n" for a in args)
    with socket.create_connection((REDIS_HOST, REDIS_PORT), timeout=2) as conn:
        conn.sendall(payload.encode())
        time.sleep(0.1)
        return conn.recv(65536)


@pytest.fixture
async def servers(database_url: str, tmp_path: Path) -> AsyncIterator[tuple[list[int], str, str]]:
    """Two servers on one database and one Redis; yields their ports, the agency's id and key."""
    if not _redis_up():
        pytest.skip(f"needs Redis on {REDIS_HOST}:{REDIS_PORT}")

    async def seed() -> tuple[str, str]:
        app = create_app(make_settings(database_url))
        try:
            agency = await create_agency(app, "IMIGRASI-DUMAI")
            return str(agency.id), await issue_key(app, "IMIGRASI-DUMAI")
        finally:
            await app.state.engine.dispose()

    agency_id, key = await seed()
    env = {
        **os.environ,
        "SINERGI_ENV": Environment.TEST.value,
        "SINERGI_DATABASE_URL": database_url,
        "SINERGI_SECRET_KEY": TEST_SECRET,
        "SINERGI_KEY_ENCRYPTION_KEY": TEST_SECRET,
        "SINERGI_RATE_LIMIT_STORAGE_URL": f"redis://{REDIS_HOST}:{REDIS_PORT}/{REDIS_DB}",
        "SINERGI_RATE_LIMIT_READS_BURST": str(BURST),
        "SINERGI_RATE_LIMIT_READS_RATE": "0.01",
    }
    ports = _free_ports(2)
    logs = [(tmp_path / f"serve-{port}.log").open("wb") for port in ports]
    processes = [
        subprocess.Popen(
            [sys.executable, "-m", "app.cli", "serve", "--no-migrate", "--port", str(port)],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=log,
        )
        for port, log in zip(ports, logs, strict=True)
    ]
    try:
        for port in ports:
            deadline = time.monotonic() + 60
            while True:
                try:
                    if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).is_success:
                        break
                except httpx.TransportError:
                    pass
                if time.monotonic() > deadline:
                    pytest.fail(f"sinergi serve on {port} did not start")
                time.sleep(0.2)
        yield ports, agency_id, key
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        for log in logs:
            log.close()
        keys = _redis_command("KEYS", f"{KEY_PREFIX}*{agency_id}*")
        for line in keys.split(b"\r\n"):
            if line.startswith(KEY_PREFIX.encode()):
                _redis_command("DEL", line.decode())


async def test_two_replicas_spend_one_budget(servers: tuple[list[int], str, str]) -> None:
    ports, agency_id, key = servers
    first, second = (f"http://127.0.0.1:{port}" for port in ports)
    token = httpx.post(
        f"{first}/v1/auth/token",
        data={"grant_type": "client_credentials"},
        auth=("IMIGRASI-DUMAI", key),
        timeout=10,
    ).json()["access_token"]
    headers = {"Authorization": f"Bearer {token}"}

    # Alternate between the replicas like a load balancer would.
    answers = [
        httpx.get(f"{(first, second)[n % 2]}/v1/reports", headers=headers, timeout=10)
        for n in range(BURST + 2)
    ]
    assert [a.status_code for a in answers] == [200] * BURST + [429, 429]
    assert [a.headers["RateLimit-Remaining"] for a in answers[:BURST]] == ["3", "2", "1", "0"]
    refused = answers[BURST]
    assert refused.headers["content-type"] == "application/problem+json"
    assert refused.headers["RateLimit-Limit"] == str(BURST)
    assert int(refused.headers["Retry-After"]) >= 1
    assert int(refused.headers["RateLimit-Reset"]) >= int(refused.headers["Retry-After"])
    # The windows live in Redis under Sinergi's prefix, keyed by the agency.
    assert agency_id.encode() in _redis_command("KEYS", f"{KEY_PREFIX}*")
