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

from playwright.sync_api import Browser, Page, sync_playwright

from app.models.officer import OfficerRole
from tests.factories import SeededOfficer
from tests.web.live import launch_chromium, live_server, seeded_database, seeded_officer

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


SHOTS = (
    Shot("tentang", "/tentang"),
    Shot("tentang-en", "/tentang", language="en"),
    Shot("404", "/halaman-yang-tidak-ada"),
    Shot("docs", "/docs", full_page=False, ready=".opblock"),
    Shot("redoc", "/redoc", full_page=False, ready="redoc h2"),
)


def take(page: Page, base_url: str, shot: Shot, png: Path) -> None:
    page.context.clear_cookies()
    page.context.add_cookies([{"name": "lang", "value": shot.language, "url": base_url}])
    page.goto(shot.path)
    page.wait_for_selector(shot.ready, timeout=30_000)
    page.screenshot(path=str(png), full_page=shot.full_page)


def main(out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as directory:
        database = seeded_database(Path(directory))
        # before Playwright starts: its sync API keeps an event loop running in this thread
        admins = {
            label: seeded_officer(database, "ADMIN", f"sysadmin.{label}", OfficerRole.SYSTEM_ADMIN)
            for label in VIEWPORTS
        }
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
                for shot in SHOTS:
                    png = out / f"{shot.name}-{label}.png"
                    take(page, base_url, shot, png)
                    print(png)
                context.close()
                admin_shots(browser, base_url, admins[label], label, (width, height), out)
            browser.close()


def admin_shots(
    browser: Browser,
    base_url: str,
    admin: SeededOfficer,
    label: str,
    size: tuple[int, int],
    out: Path,
) -> None:
    """The admin console (issue 19) as a system admin: agencies, officers, API keys."""
    context = browser.new_context(base_url=base_url, viewport={"width": size[0], "height": size[1]})
    page = context.new_page()
    signed_in = page.request.post(
        "/v1/session",
        data={
            "username": admin.username,
            "password": admin.password,
            "totp_code": admin.totp_code(),
        },
    )
    assert signed_in.ok, signed_in.text()

    def shot(name: str) -> None:
        png = out / f"admin-{name}-{label}.png"
        page.wait_for_selector("main")
        page.screenshot(path=str(png), full_page=True)
        print(png)

    code = "POLRES-DUMAI" if label == "desktop" else "LANAL-DUMAI"  # two keys each at most
    page.goto("/admin/instansi")
    shot("instansi")
    page.goto("/admin/instansi/baru")
    shot("instansi-baru")
    page.get_by_label("Kode instansi").fill("kode salah")
    page.get_by_label("Nama instansi").fill("Dinas Sosial Kota Dumai")
    page.get_by_role("button", name="Daftarkan").click()
    shot("instansi-baru-salah")
    page.goto(f"/admin/instansi/{code}")
    shot("instansi-detail")
    page.goto(f"/admin/instansi/{code}/nonaktifkan")
    shot("instansi-nonaktifkan")
    page.goto(f"/admin/instansi/{code}/petugas/baru")
    shot("petugas-baru")
    page.get_by_label("Nama pengguna").fill(f"siti.{label}")
    page.get_by_label("Nama lengkap").fill("Siti Rahmawati")
    page.get_by_role("button", name="Buat akun").click()
    shot("petugas-kode-penyiapan")
    page.goto(f"/admin/instansi/{code}/petugas")
    shot("petugas")
    page.goto(f"/admin/instansi/{code}/kunci")
    page.get_by_label("Masa berlaku (hari, tidak wajib)").fill("5")
    page.get_by_role("button", name="Terbitkan kunci").click()
    shot("kunci-terbit")
    page.goto(f"/admin/instansi/{code}/kunci")
    shot("kunci")
    page.get_by_role("link", name="Rotasi").first.click()
    shot("kunci-rotasi")
    page.goto(f"/admin/instansi/{code}/kunci")
    page.get_by_role("link", name="Cabut").first.click()
    shot("kunci-cabut")
    context.close()


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else Path("docs/console"))
