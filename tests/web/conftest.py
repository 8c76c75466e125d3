"""Browser fixtures: a live server over a seeded SQLite database, and Chromium through Playwright.

Browser tests are plain (sync) functions using the ``page`` fixture; they skip, saying why, when
Chromium is not installed. Keep them in modules of their own, apart from async tests.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.chromium import chromium_path
from tests.conftest import ON_POSTGRES
from tests.web.live import launch_chromium, live_server, seeded_database

try:
    from playwright.sync_api import Browser, Page, sync_playwright
except ImportError:  # the `test` extra installs it; say so instead of failing to collect
    sync_playwright = None  # type: ignore[assignment]

NO_BROWSER = (
    "Debian's chromium is not installed (.ci/run installs it)"
    if chromium_path() is None
    else "playwright is not installed (pip install -e '.[test]')"
    if sync_playwright is None
    else None
)


@pytest.fixture(scope="module")
def base_url(migrated_template: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A running server with the Kota Dumai agencies; its URL (always SQLite: it is the browser's
    view that is tested, the database paths are covered by tests/api on both backends)."""
    directory = tmp_path_factory.mktemp("console")
    url = seeded_database(directory, template=None if ON_POSTGRES else migrated_template)
    with live_server(url) as base:
        yield base


@pytest.fixture(scope="module")
def browser(base_url: str) -> Iterator[Browser]:
    """Chromium for one test module: Playwright's sync API keeps an event loop running in this
    thread, so it must be gone before async tests run (and the server is started before it)."""
    if NO_BROWSER:
        pytest.skip(NO_BROWSER)
    with sync_playwright() as playwright:
        chromium = launch_chromium(playwright)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser: Browser, base_url: str) -> Iterator[Page]:
    """A fresh browser context (no cookies) at 1366x768, the common office laptop."""
    context = browser.new_context(base_url=base_url, viewport={"width": 1366, "height": 768})
    tab = context.new_page()
    yield tab
    context.close()
