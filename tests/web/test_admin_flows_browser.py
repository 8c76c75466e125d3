"""The administrators' console in Chromium, the flows issue 19 names.

An agency admin onboards an officer who signs in (setup code → password → TOTP); an API key is
issued, used by an agency system to get a token, rotated with grace (both keys get tokens) and
revoked (the token stops working at once); the audit page finds who read a report and the chain
verifies; an agency admin cannot see another agency's officers or keys, and an officer cannot
open any admin page (404, as for everything unseen). No page breaks the CSP on the way.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import pytest

pytest.importorskip("playwright", reason="playwright is not installed (pip install -e '.[test]')")

from playwright.sync_api import Page, expect

from app.main import create_app
from app.models.base import utcnow
from app.models.officer import OfficerRole
from app.services import totp
from app.vocab.enums import AgencyKind
from tests.conftest import ON_POSTGRES, make_settings
from tests.factories import SeededOfficer, create_agency
from tests.report_samples import deferral
from tests.web.browser_session import sign_in_page, sign_in_seeded, submit_as_officer
from tests.web.live import live_server, seeded_database, seeded_officer

_CSP_LISTENER = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (e) => {
  window.__cspViolations.push(e.violatedDirective + " " + e.blockedURI);
});
"""

#: An agency of the exchange with no API key yet (the demo's agencies each hold one).
NEW_AGENCY = "BAPAS-DUMAI"


@dataclass(frozen=True)
class World:
    base_url: str
    sysadmin: SeededOfficer
    #: Agency admins of NEW_AGENCY, one per test (a TOTP code is accepted once).
    admins: dict[str, SeededOfficer]


def _register(database_url: str, code: str) -> None:
    async def register() -> None:
        app = create_app(make_settings(database_url))
        try:
            await create_agency(app, code, AgencyKind.OTHER, region_code="14.72")
        finally:
            await app.state.engine.dispose()

    asyncio.run(register())


@pytest.fixture(scope="module")
def world(migrated_template: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    """The demo's agencies, a new agency without keys, its admins and a system admin."""
    directory = tmp_path_factory.mktemp("admin-flows")
    url = seeded_database(directory, template=None if ON_POSTGRES else migrated_template)
    _register(url, NEW_AGENCY)
    sysadmin = seeded_officer(url, "ADMIN", "sysadmin.audit", OfficerRole.SYSTEM_ADMIN)
    admins = {
        name: seeded_officer(url, NEW_AGENCY, f"{name}.bapas", OfficerRole.AGENCY_ADMIN)
        for name in ("onboard", "keys", "fence")
    }
    with live_server(url) as base:
        yield World(base, sysadmin, admins)


@pytest.fixture(scope="module")
def base_url(world: World) -> str:
    return world.base_url


def _no_csp_violation(page: Page) -> None:
    assert page.evaluate("window.__cspViolations") == []


def test_an_agency_admin_onboards_an_officer_who_signs_in_with_password_and_totp(
    page: Page, world: World
) -> None:
    page.add_init_script(_CSP_LISTENER)
    sign_in_seeded(page, world.admins["onboard"])
    page.goto("/admin")
    expect(page.get_by_role("heading", level=1)).to_contain_text(NEW_AGENCY)
    page.get_by_role("link", name="Petugas", exact=True).click()
    page.get_by_role("link", name="Buat akun petugas").click()
    page.get_by_label("Nama pengguna").fill("wakil.bapas")
    page.get_by_label("Nama lengkap").fill("Rini Anggraini")
    # an admin role: TOTP is required, so the first sign-in has all three steps
    page.get_by_label("Peran").select_option("AGENCY_ADMIN")
    page.get_by_role("button", name="Buat akun").click()
    expect(page.get_by_role("heading", name="Akun dibuat")).to_be_visible()
    setup_code = page.locator("#secret").inner_text().strip()
    _no_csp_violation(page)

    newcomer = page.context.browser.new_context(base_url=world.base_url)  # type: ignore[union-attr]
    officer = newcomer.new_page()
    officer.add_init_script(_CSP_LISTENER)
    try:
        officer.goto("/masuk/kode-penyiapan")
        officer.get_by_label("Nama pengguna").fill("wakil.bapas")
        officer.get_by_label("Kode penyiapan").fill(setup_code)
        officer.get_by_role("button", name="Lanjutkan").click()

        expect(officer.get_by_role("heading", level=1)).to_have_text("Menyiapkan akun")
        password = "perahu kayu menyeberang ke rupat"
        officer.get_by_label("Kata sandi baru", exact=True).fill(password)
        officer.get_by_label("Ketik ulang kata sandi baru").fill(password)
        officer.get_by_role("button", name="Simpan kata sandi").click()

        officer.get_by_role("button", name="Tampilkan kode QR").click()
        secret = officer.locator("code.secret").inner_text().strip()
        officer.get_by_label("Kode dari aplikasi").fill(totp.code_at(secret, utcnow()))
        officer.get_by_role("button", name="Konfirmasi").click()
        expect(officer.get_by_role("heading", level=1)).to_have_text("Kode pemulihan Anda")
        officer.get_by_role("link", name="lanjut ke beranda").click()
        expect(officer.get_by_role("heading", level=1)).to_contain_text("Selamat datang")
        _no_csp_violation(officer)
    finally:
        newcomer.close()

    page.goto(f"/admin/instansi/{NEW_AGENCY}/petugas")
    row = page.locator("tr", has_text="wakil.bapas")
    expect(row).to_contain_text("Aktif")
    expect(row).to_contain_text("Terdaftar")  # TOTP enrolled
    expect(row).not_to_contain_text("Belum pernah")  # a last sign-in is shown


def _token(system: httpx.Client, key: str) -> httpx.Response:
    return system.post(
        "/v1/auth/token",
        data={"grant_type": "client_credentials", "client_id": NEW_AGENCY, "client_secret": key},
    )


def test_a_key_is_issued_used_rotated_with_grace_and_revoked_at_once(
    page: Page, world: World
) -> None:
    page.add_init_script(_CSP_LISTENER)
    sign_in_seeded(page, world.admins["keys"])
    page.goto(f"/admin/instansi/{NEW_AGENCY}/kunci")
    page.get_by_role("button", name="Terbitkan kunci").click()
    first = page.locator("#secret").inner_text().strip()
    with httpx.Client(base_url=world.base_url) as system:
        issued = _token(system, first)
        assert issued.status_code == 200, issued.text
        old_token = issued.json()["access_token"]
        inbox = {"Authorization": f"Bearer {old_token}"}
        assert system.get("/v1/inbox", headers=inbox).status_code == 200

        page.get_by_role("link", name="kembali ke daftar kunci").click()
        prefix = page.locator("tbody tr code").first.inner_text().strip().rstrip("…")
        page.get_by_role("link", name=f"Rotasi {prefix}").click()
        page.get_by_label("Masa tenggang (jam)").fill("2")
        page.get_by_role("button", name="Rotasi kunci").click()
        expect(page.locator("main")).to_contain_text("tetap berlaku sampai masa tenggang habis")
        second = page.locator("#secret").inner_text().strip()
        assert second != first
        assert _token(system, first).status_code == 200  # both keys get tokens in the grace
        assert _token(system, second).status_code == 200
        assert system.get("/v1/inbox", headers=inbox).status_code == 200

        page.get_by_role("link", name="kembali ke daftar kunci").click()
        expect(page.locator("tbody tr")).to_have_count(2)
        page.get_by_role("link", name=f"Cabut {prefix}").click()
        expect(page.locator(".warning-box")).to_contain_text("langsung ditolak")
        page.get_by_role("button", name=re.compile("^Ya, cabut kunci")).click()
        expect(page.get_by_role("status")).to_contain_text("Kunci API dicabut")
        assert system.get("/v1/inbox", headers=inbox).status_code == 401  # at once
        assert _token(system, first).status_code == 401
        assert _token(system, second).status_code == 200
    _no_csp_violation(page)


def test_the_audit_page_finds_who_read_a_report_and_the_chain_verifies(
    page: Page, world: World
) -> None:
    csrf = sign_in_page(page, "petugas.imigrasi-dumai")
    created = submit_as_officer(page, csrf, deferral(external_ref="IMI/AUDIT/2026/01"))
    recipient = created["routed_to"][0]["agency"]
    reader = f"petugas.{recipient.lower()}"
    page.context.clear_cookies()
    sign_in_page(page, reader)
    page.goto(f"/laporan/{created['id']}")
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    page.context.clear_cookies()

    page.add_init_script(_CSP_LISTENER)
    sign_in_seeded(page, world.sysadmin)
    page.goto("/admin")
    page.get_by_role("link", name="Log audit").click()
    page.get_by_label("ID objek").fill(created["id"])
    page.get_by_label("Tindakan").fill("report.read")
    page.get_by_role("button", name="Cari", exact=True).click()
    rows = page.locator("tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text(reader)
    expect(rows.first).to_contain_text("Berhasil")
    rows.first.get_by_role("link").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Catatan audit #")
    expect(page.locator("main")).to_contain_text(recipient)
    expect(page.locator("main")).to_contain_text("Hash catatan sebelumnya")

    page.get_by_role("link", name="Log audit", exact=True).first.click()
    page.get_by_role("link", name="Periksa keutuhan rantai").click()
    expect(page.locator("#anchor")).to_have_text(re.compile(r"^\d+:[0-9a-f]{64}$"))
    page.get_by_role("button", name="Periksa rantai").click()
    expect(page.locator("#result")).to_contain_text("Rantai utuh")
    _no_csp_violation(page)


def _is_not_found(page: Page, path: str) -> None:
    answer = page.goto(path)
    assert answer is not None
    assert answer.status == 404, path
    expect(page.get_by_role("heading", level=1)).to_have_text("Halaman tidak ditemukan")


def test_an_agency_admin_cannot_see_another_agencys_officers_or_keys(
    page: Page, world: World
) -> None:
    sign_in_seeded(page, world.admins["fence"])
    for path in (
        "/admin/instansi/IMIGRASI-DUMAI",
        "/admin/instansi/IMIGRASI-DUMAI/petugas",
        "/admin/instansi/IMIGRASI-DUMAI/kunci",
        "/admin/instansi/IMIGRASI-DUMAI/kunci-publik",
        "/admin/instansi/TIDAK-ADA/petugas",
        "/admin/instansi",
        "/admin/audit",
        "/admin/kunci-penandatangan",
    ):
        _is_not_found(page, path)
    page.goto(f"/admin/instansi/{NEW_AGENCY}/kunci")
    expect(page.get_by_role("heading", level=1)).to_contain_text(NEW_AGENCY)
    expect(page.get_by_role("link", name="Kunci publik")).to_have_count(0)


def test_an_officer_cannot_open_any_admin_page(page: Page) -> None:
    sign_in_page(page, "petugas.polres-dumai")
    for path in (
        "/admin",
        "/admin/instansi",
        "/admin/instansi/baru",
        "/admin/instansi/POLRES-DUMAI",
        "/admin/instansi/POLRES-DUMAI/petugas",
        "/admin/instansi/POLRES-DUMAI/kunci",
        "/admin/instansi/POLRES-DUMAI/kunci-publik",
        "/admin/audit",
        "/admin/audit/verifikasi",
        "/admin/kunci-penandatangan",
    ):
        _is_not_found(page, path)
    page.goto("/")
    expect(page.get_by_role("link", name="Administrasi")).to_have_count(0)
