"""`sinergi serve` on SIGTERM: in-flight requests finish, new connections are refused, and a
request that never finishes is cut off after SINERGI_SHUTDOWN_TIMEOUT_SECONDS."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from app import migrate

BODY = b"grant_type=client_credentials&client_id=NOBODY&client_secret=sng_not_a_key"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def server(tmp_path: Path) -> Iterator[tuple[subprocess.Popen[bytes], int]]:
    port = _free_port()
    env = {
        **os.environ,
        "SINERGI_ENV": "development",
        "SINERGI_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'serve.db'}",
        "SINERGI_SHUTDOWN_TIMEOUT_SECONDS": "3",
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "app.cli", "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                break
        except httpx.TransportError:
            time.sleep(0.2)
    else:
        process.kill()
        pytest.fail("sinergi serve did not start")
    yield process, port
    if process.poll() is None:
        process.kill()
    process.wait()
    if process.stderr is not None:
        process.stderr.close()


def _start_request(port: int) -> socket.socket:
    """A token request whose headers are sent but whose body is still on its way."""
    conn = socket.create_connection(("127.0.0.1", port), timeout=10)
    conn.sendall(
        b"POST /v1/auth/token HTTP/1.1\r\nHost: sinergi\r\n"
        b"Content-Type: application/x-www-form-urlencoded\r\n"
        + f"Content-Length: {len(BODY)}\r\n\r\n".encode()
        + BODY[:10]
    )
    time.sleep(0.5)  # the server has parsed the headers: the request is in flight
    return conn


def _read_all(conn: socket.socket) -> bytes:
    chunks = []
    while chunk := conn.recv(65536):
        chunks.append(chunk)
    return b"".join(chunks)


def test_sigterm_lets_the_request_in_flight_finish(
    server: tuple[subprocess.Popen[bytes], int],
) -> None:
    process, port = server
    conn = _start_request(port)
    process.send_signal(signal.SIGTERM)
    time.sleep(1.0)
    assert process.poll() is None, "the server quit with a request in flight"
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2)  # no new connections

    conn.sendall(BODY[10:])
    answer = _read_all(conn)
    conn.close()
    assert answer.startswith(b"HTTP/1.1 401"), answer[:200]
    assert b"invalid_client" in answer  # the whole answer, not a cut-off one
    # uvicorn shuts down cleanly, then re-raises the signal it caught, so the exit status is
    # that of SIGTERM (143 in a shell), as process supervisors expect.
    assert process.wait(timeout=10) == -signal.SIGTERM
    assert process.stderr is not None
    log = process.stderr.read()
    assert b"Application shutdown complete" in log
    assert b"timeout graceful shutdown exceeded" not in log


def test_a_request_that_never_finishes_is_cut_off_after_the_timeout(
    server: tuple[subprocess.Popen[bytes], int],
) -> None:
    process, port = server
    conn = _start_request(port)
    signalled = time.monotonic()
    process.send_signal(signal.SIGTERM)
    process.wait(timeout=20)
    waited = time.monotonic() - signalled
    conn.close()
    assert 2.5 <= waited < 15, waited  # SINERGI_SHUTDOWN_TIMEOUT_SECONDS=3
    assert process.stderr is not None
    assert b"timeout graceful shutdown exceeded" in process.stderr.read()


def test_the_worker_stops_on_sigterm_and_says_so(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'worker.db'}"
    migrate.upgrade(url)
    env = {**os.environ, "SINERGI_ENV": "development", "SINERGI_DATABASE_URL": url}
    process = subprocess.Popen(
        [sys.executable, "-m", "app.cli", "worker"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        assert process.stderr is not None
        started = process.stderr.readline()  # "worker … started" once the loop runs
        assert b"started" in started, started
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=15) == 0
        assert b"stopped" in process.stderr.read()
    finally:
        if process.poll() is None:
            process.kill()
        process.wait()
        if process.stderr is not None:
            process.stderr.close()


@pytest.mark.parametrize("log_format", ["json", "text"])
def test_the_worker_logs_in_the_servers_format(tmp_path: Path, log_format: str) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'worker.db'}"
    migrate.upgrade(url)
    env = {
        **os.environ,
        "SINERGI_ENV": "development",
        "SINERGI_DATABASE_URL": url,
        "SINERGI_LOG_FORMAT": log_format,
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "app.cli", "worker"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        assert process.stderr is not None
        started = process.stderr.readline().decode()
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=15)
    finally:
        if process.poll() is None:
            process.kill()
        process.wait()
        if process.stderr is not None:
            process.stderr.close()
    if log_format == "json":
        line = json.loads(started)
        assert line["level"] == "INFO"
        assert line["logger"] == "sinergi.worker"
        assert line["message"].endswith("started")
    else:
        assert " INFO sinergi.worker: worker " in started
        assert started.rstrip().endswith("started")
