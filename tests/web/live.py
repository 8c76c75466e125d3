"""A live Sinergi server and Debian's Chromium for browser tests and the console screenshots.

The server is uvicorn in a thread, on a port between 18700 and 18799, over a throw-away SQLite
database migrated to head and seeded with the demo's Kota Dumai TIMPORA agencies (no reports).
Chromium is Debian's own (``.ci/run`` installs it), driven by Playwright through
``executable_path``: Playwright's browser download is never used.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import uvicorn

from app import migrate
from app.demo import seed_demo
from app.main import create_app
from app.models.officer import OfficerRole
from tests.chromium import chromium_path
from tests.conftest import make_settings
from tests.factories import SeededOfficer, create_officer, create_officer_to_set_up

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Playwright


def _ports() -> range:
    """The ports to try: ``SINERGI_TEST_PORTS=19050-19099`` narrows them on a shared machine."""
    low, _, high = os.environ.get("SINERGI_TEST_PORTS", "").partition("-")
    if low.isdecimal() and high.isdecimal() and int(low) <= int(high):
        return range(int(low), int(high) + 1)
    return range(18700, 18800)


#: The TCP ports this project's browser tests may use.
PORTS = _ports()


def bound_socket() -> socket.socket:
    """A listening-ready socket on the first free port of :data:`PORTS` (127.0.0.1 only)."""
    for port in PORTS:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            sock.close()
            continue
        return sock
    raise RuntimeError(f"no free port in {PORTS.start}-{PORTS.stop - 1}")


def seeded_database(directory: Path, template: str | None = None) -> str:
    """A migrated SQLite database in ``directory`` holding the demo's agencies; its URL.

    ``template`` is a migrated SQLite file to copy (tests' session template) instead of migrating.
    """
    path = directory / "console.db"
    url = f"sqlite+aiosqlite:///{path}"
    if template is not None:
        shutil.copyfile(template, path)
    else:
        migrate.upgrade(url)
    asyncio.run(seed_demo(make_settings(url), size=0))
    return url


def seeded_officer(
    database_url: str, agency_code: str, username: str, role: OfficerRole
) -> SeededOfficer:
    """An officer of ``agency_code`` who can sign in at once (admins with a TOTP secret)."""

    async def seed() -> SeededOfficer:
        app = create_app(make_settings(database_url))
        try:
            return await create_officer(app, agency_code, username, role)
        finally:
            await app.state.engine.dispose()

    return asyncio.run(seed())


def officer_to_set_up(database_url: str, agency_code: str, username: str, role: OfficerRole) -> str:
    """A new officer of ``agency_code`` with only a one-time setup code; the code."""

    async def seed() -> str:
        app = create_app(make_settings(database_url))
        try:
            return await create_officer_to_set_up(app, agency_code, username, role)
        finally:
            await app.state.engine.dispose()

    return asyncio.run(seed())


@contextmanager
def live_server(database_url: str, **settings: object) -> Iterator[str]:
    """Serve the app over ``database_url`` until the block ends; yields its base URL.

    ``settings`` override the tests' defaults (say, webhooks to a receiver on loopback)."""
    sock = bound_socket()
    port = sock.getsockname()[1]
    config = uvicorn.Config(
        create_app(make_settings(database_url, **settings)), log_level="warning", lifespan="on"
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the test server did not start")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=30)
        sock.close()


def launch_chromium(playwright: Playwright) -> Browser:
    """Debian's Chromium, headless, with nothing of its own going to the network."""
    binary = chromium_path()
    if binary is None:
        raise RuntimeError("chromium is not installed")
    return playwright.chromium.launch(
        executable_path=binary,
        headless=True,
        args=[
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
        ],
    )
