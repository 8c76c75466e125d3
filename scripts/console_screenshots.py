"""Screenshots of every console page at 1366x768 (office laptop) and 375x812 (phone), for docs/console/.

    .venv/bin/python scripts/console_screenshots.py [docs/console]

Serves the app on a throw-away SQLite database with the demo's Kota Dumai agencies (the same
harness as the browser tests, tests/web/live.py) and drives Debian's Chromium with Playwright.
Look at every PNG it writes before committing them: spacing, wrapping, contrast, overflow.
"""

from __future__ import annotations

import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from playwright.sync_api import Page, sync_playwright

from tests.web.live import launch_chromium, live_server, seeded_database

VIEWPORTS = {"desktop": (1366, 768), "phone": (375, 812)}


@dataclass(frozen=True)
class Shot:
    """One page to photograph: its file name, path, language, and whether to take the whole page."""

    name: str
    path: str
    language: str = "id"
    full_page: bool = True
    #: A selector that is visible once the page has finished drawing itself.
    ready: str = "main"
    #: The demo officer to sign in as first (their pages need a session), if any.
    officer: str | None = None


SHOTS = (
    Shot("tentang", "/tentang"),
    Shot("tentang-en", "/tentang", language="en"),
    Shot("404", "/halaman-yang-tidak-ada"),
    Shot("docs", "/docs", full_page=False, ready=".opblock"),
    Shot("redoc", "/redoc", full_page=False, ready="redoc h2"),
    # console2: signing in, home, inbox
    Shot("masuk", "/"),
    Shot("masuk-kode-penyiapan", "/masuk/kode-penyiapan"),
    Shot("beranda", "/", officer="petugas.polres-dumai"),
    Shot("beranda-en", "/", language="en", officer="petugas.polres-dumai"),
    Shot("kotak-masuk", "/kotak-masuk", officer="petugas.polres-dumai"),
)

#: The demo officers' development password (app/demo.py).
DEMO_PASSWORD = "demo sinergi dumai"  # noqa: S105


def sign_in(page: Page, username: str) -> str:
    """Sign ``username`` in through the console's form; the session's CSRF token."""
    page.goto("/")
    page.fill("#username", username)
    page.fill("#password", DEMO_PASSWORD)
    page.click("form[action='/masuk'] button[type=submit]")
    page.wait_for_url("**/")
    token = page.input_value("form[action='/keluar'] input[name=csrf_token]")
    return token


def seed_reports(page: Page) -> None:
    """Reports routed to the police, so the inbox and home have something to show."""
    csrf = sign_in(page, "petugas.imigrasi-dumai")
    for number, case_type in ((1, "TPPO"), (2, "TPPO_TPPM"), (3, "TPPM")):
        response = page.request.post(
            "/v1/reports",
            headers={"X-CSRF-Token": csrf},
            data={
                "external_ref": f"IMI-DUMAI/2026/000{number}",
                "case_type": case_type,
                "tlp": "AMBER",
                "reported_at": f"2026-11-0{number}T09:30:00+07:00",
                "location": {"region_code": "14.72", "place": "Kantor Imigrasi Dumai"},
                "recipients": ["POLRES-DUMAI"],
                "narrative": "Pemohon paspor mengaku berwisata; ditemukan tawaran kerja di Johor.",
            },
        )
        assert response.ok, response.text()
    page.context.clear_cookies()


def take(page: Page, base_url: str, shot: Shot, png: Path) -> None:
    page.context.clear_cookies()
    page.context.add_cookies([{"name": "lang", "value": shot.language, "url": base_url}])
    if shot.officer is not None:
        sign_in(page, shot.officer)
    page.goto(shot.path)
    page.wait_for_selector(shot.ready, timeout=30_000)
    page.screenshot(path=str(png), full_page=shot.full_page)


def main(out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as directory:
        database = seeded_database(Path(directory))
        with live_server(database) as base_url, sync_playwright() as playwright:
            browser = launch_chromium(playwright)
            for label, (width, height) in VIEWPORTS.items():
                context = browser.new_context(
                    base_url=base_url,
                    viewport={"width": width, "height": height},
                    # the error page quotes the request id: a fixed one keeps the PNGs stable
                    extra_http_headers={"X-Request-ID": "contoh-0001"},
                )
                page = context.new_page()
                if label == "desktop":
                    seed_reports(page)
                for shot in SHOTS:
                    png = out / f"{shot.name}-{label}.png"
                    take(page, base_url, shot, png)
                    print(png)
                context.close()
            browser.close()


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else Path("docs/console"))
