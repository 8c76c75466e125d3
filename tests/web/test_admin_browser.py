"""The admin console in Chromium: a system admin onboards an agency end to end (issue 19).

Register the agency, create its agency administrator (the setup code shown once, which then
opens a session), issue its API key (shown once, with a working copy button) and use the key
to obtain a token, with no CSP violation on the way.
"""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

pytest.importorskip("playwright", reason="playwright is not installed (pip install -e '.[test]')")

from playwright.sync_api import Page, expect

from app.models.officer import OfficerRole
from tests.conftest import ON_POSTGRES
from tests.factories import SeededOfficer
from tests.web.browser_session import sign_in_seeded
from tests.web.live import live_server, seeded_database, seeded_officer

_CSP_LISTENER = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (e) => {
  window.__cspViolations.push(e.violatedDirective + " " + e.blockedURI);
});
"""


@pytest.fixture(scope="module")
def admin_world(
    migrated_template: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[str, SeededOfficer]]:
    """The demo's agencies plus a system admin whose TOTP secret the test knows; the server."""
    directory = tmp_path_factory.mktemp("admin-console")
    url = seeded_database(directory, template=None if ON_POSTGRES else migrated_template)
    sysadmin = seeded_officer(url, "ADMIN", "sysadmin.uji", OfficerRole.SYSTEM_ADMIN)
    with live_server(url) as base:
        yield base, sysadmin


@pytest.fixture(scope="module")
def base_url(admin_world: tuple[str, SeededOfficer]) -> str:
    return admin_world[0]


def test_a_system_admin_onboards_an_agency_end_to_end(
    page: Page, base_url: str, admin_world: tuple[str, SeededOfficer]
) -> None:
    page.add_init_script(_CSP_LISTENER)
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    sign_in_seeded(page, admin_world[1])

    page.goto("/admin")
    expect(page.get_by_role("heading", name="Instansi", exact=True)).to_be_visible()
    page.get_by_role("link", name="Daftarkan instansi").click()
    page.get_by_label("Kode instansi").fill("DINSOS-DUMAI")
    page.get_by_label("Nama instansi").fill("Dinas Sosial Kota Dumai")
    page.get_by_label("Jenis instansi").select_option("SOCIAL_SERVICES")
    page.get_by_label("Wilayah (kode Kemendagri)").fill("14.72")
    page.get_by_role("button", name="Daftarkan").click()
    expect(page.get_by_role("status")).to_contain_text("Instansi terdaftar")
    expect(page.locator("main")).to_contain_text("14.72 — Kota Dumai")

    page.get_by_role("link", name="Petugas", exact=True).click()
    page.get_by_role("link", name="Buat akun petugas").click()
    page.get_by_label("Nama pengguna").fill("admin.dinsos")
    page.get_by_label("Nama lengkap").fill("Budi Santoso")
    page.get_by_label("Peran").select_option("AGENCY_ADMIN")
    page.get_by_role("button", name="Buat akun").click()
    expect(page.get_by_role("heading", name="Akun dibuat")).to_be_visible()
    setup_code = page.locator("#secret").inner_text().strip()
    page.get_by_role("button", name="Salin").click()
    expect(page.locator(".copy-status")).to_have_text("Tersalin ke papan klip.")
    assert page.evaluate("navigator.clipboard.readText()") == setup_code

    with httpx.Client(base_url=base_url) as other:
        opened = other.post(
            "/v1/session", json={"username": "admin.dinsos", "setup_code": setup_code}
        )
        assert opened.status_code == 200, opened.text
        assert opened.json()["stage"] == "setup"

    page.goto("/admin/instansi/DINSOS-DUMAI/kunci")
    expect(page.locator("main")).to_contain_text("belum punya kunci")
    page.get_by_role("button", name="Terbitkan kunci").click()
    expect(page.get_by_role("heading", name="Kunci API diterbitkan")).to_be_visible()
    expect(page.locator(".warning-box")).to_contain_text("hanya ditampilkan sekali")
    key = page.locator("#secret").inner_text().strip()
    with httpx.Client(base_url=base_url) as system:
        token = system.post(
            "/v1/auth/token",
            data={
                "grant_type": "client_credentials",
                "client_id": "DINSOS-DUMAI",
                "client_secret": key,
            },
        )
        assert token.status_code == 200, token.text

    page.get_by_role("link", name="kembali ke daftar kunci").click()
    expect(page.locator("tbody tr")).to_have_count(1)
    expect(page.locator("tbody")).not_to_contain_text(key)
    assert page.evaluate("window.__cspViolations") == []
