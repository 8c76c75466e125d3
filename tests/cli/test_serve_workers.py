"""`sinergi serve --workers 2`: both processes get connections, and SIGTERM stops them all.

Uvicorn's own workers share one listening socket, and the process that wakes first accepted all
32 keep-alive connections of a load test (issue 21). Each process now listens on its own
SO_REUSEPORT socket and the kernel spreads new connections over them.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest

from tests.web.live import bound_socket

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="SO_REUSEPORT balances on Linux")

CONNECTIONS = 32


def _wait_until_serving(port: int, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        assert process.poll() is None, "the server exited"
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1) as conn:
                conn.sendall(b"GET /healthz HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
                if conn.recv(64).startswith(b"HTTP/1.1 200"):
                    return
        except OSError:
            pass
        time.sleep(0.3)
    pytest.fail("the server did not come up")


def _connections_per_process(parent: psutil.Process, port: int) -> list[int]:
    counts = []
    for child in parent.children(recursive=True):
        held = [
            c
            for c in child.net_connections("tcp")
            if c.status == psutil.CONN_ESTABLISHED and c.laddr.port == port
        ]
        listening = any(
            c.status == psutil.CONN_LISTEN and c.laddr.port == port
            for c in child.net_connections("tcp")
        )
        if listening:
            counts.append(len(held))
    return counts


def test_two_processes_share_the_connections_and_stop_together(tmp_path: Path) -> None:
    with bound_socket() as probe:
        port = probe.getsockname()[1]
    env = {
        **os.environ,
        "SINERGI_ENV": "development",
        "SINERGI_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'serve.db'}",
        "SINERGI_SHUTDOWN_TIMEOUT_SECONDS": "3",
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "app.cli", "serve", "--port", str(port), "--workers", "2"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        _wait_until_serving(port, process)
        # both processes listen before the load starts (the second may start a moment later)
        parent = psutil.Process(process.pid)
        deadline = time.monotonic() + 60
        while len(_connections_per_process(parent, port)) < 2 and time.monotonic() < deadline:
            time.sleep(0.3)
        # a load test's clients: all connections opened at once, kept alive
        clients = [socket.create_connection(("127.0.0.1", port)) for _ in range(CONNECTIONS)]
        for client in clients:
            client.sendall(b"GET /healthz HTTP/1.1\r\nHost: t\r\n\r\n")
        for client in clients:
            assert client.recv(4096).startswith(b"HTTP/1.1 200")
        counts = _connections_per_process(parent, port)
        assert len(counts) == 2, counts
        assert sum(counts) == CONNECTIONS
        # hashed over two sockets: fewer than 4 of 32 on one side happens once in ~10^6 runs
        assert min(counts) >= 4, counts
        for client in clients:
            client.close()

        children = parent.children(recursive=True)
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=30) == 0
        _, alive = psutil.wait_procs(children, timeout=10)
        assert not alive
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
