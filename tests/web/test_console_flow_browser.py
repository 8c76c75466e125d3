"""Issue 18's walk through the console in Chromium, as the officers of three agencies do it.

An Immigration agency administrator (whose role needs TOTP) enrols an authenticator and signs in
with a code; files a RED report with two persons through the form, sees the field error, then the
success page; the case's network draws its nodes. The police, named as recipient, see it in the
inbox, open it and acknowledge it; their screening finds the person. The Navy, outside the
need-to-know, finds it nowhere: not in its inbox, not at the report's or the case's address (the
console's 404 page), not in a screening, not as a hit on its own watch of the person. The
language switch turns the Navy officer's console to English and keeps it so.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

import pyotp
import pytest

pytest.importorskip("playwright", reason="playwright is not installed (pip install -e '.[test]')")

from playwright.sync_api import Browser, Page, expect

from app.demo import DEMO_OFFICER_PASSWORD
from app.models.officer import OfficerRole
from tests.conftest import ON_POSTGRES
from tests.web.live import live_server, officer_to_set_up, seeded_database

ADMIN = "kepala.imigrasi"
NEW_PASSWORD = "pintu biru di pelabuhan dumai"
VICTIM = {"name": "Ratna Sari Dewi", "born": "17/08/2001", "nik": "1472035708010003"}

#: Records Content-Security-Policy violations (added before any page script runs).
_CSP_LISTENER = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (e) => {
  window.__cspViolations.push(e.violatedDirective + " " + e.blockedURI);
});
"""


@pytest.fixture(scope="module")
def world(
    migrated_template: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[str, str]]:
    """The demo's agencies and officers, plus an Immigration agency administrator who has only a
    setup code; the server's URL and that code."""
    directory = tmp_path_factory.mktemp("console-flow")
    url = seeded_database(directory, template=None if ON_POSTGRES else migrated_template)
    code = officer_to_set_up(url, "IMIGRASI-DUMAI", ADMIN, OfficerRole.AGENCY_ADMIN)
    with live_server(url) as base:
        yield base, code


@pytest.fixture(scope="module")
def base_url(world: tuple[str, str]) -> str:
    return world[0]


def tab(browser: Browser, base_url: str) -> Page:
    """A browser of its own (its own cookies) at 1366x768, recording CSP violations."""
    context = browser.new_context(base_url=base_url, viewport={"width": 1366, "height": 768})
    page = context.new_page()
    page.add_init_script(_CSP_LISTENER)
    return page


def sign_in(page: Page, username: str, password: str, code: str = "") -> None:
    page.goto("/")
    page.get_by_label("Nama pengguna").fill(username)
    page.get_by_label("Kata sandi").fill(password)
    if code:
        page.get_by_label("Kode autentikator").fill(code)
    page.get_by_role("button", name="Masuk", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Selamat datang")


def no_csp_violations(page: Page) -> None:
    assert page.evaluate("window.__cspViolations") == [], page.url


def enrol_and_sign_in_with_totp(page: Page, setup_code: str) -> None:
    page.goto("/")
    page.get_by_role("link", name="Masuk dengan kode penyiapan").click()
    page.get_by_label("Nama pengguna").fill(ADMIN)
    page.get_by_label("Kode penyiapan").fill(setup_code)
    page.get_by_role("button", name="Lanjutkan").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Menyiapkan akun")
    page.get_by_label("Kata sandi baru", exact=True).fill(NEW_PASSWORD)
    page.get_by_label("Ketik ulang kata sandi baru").fill(NEW_PASSWORD)
    page.get_by_role("button", name="Simpan kata sandi").click()
    page.get_by_role("button", name="Tampilkan kode QR").click()
    authenticator = pyotp.TOTP(page.locator("code.secret").inner_text().strip())
    page.get_by_label("Kode dari aplikasi").fill(authenticator.now())
    page.get_by_role("button", name="Konfirmasi").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Kode pemulihan Anda")
    page.get_by_role("link", name="Saya sudah menyimpannya, lanjut ke beranda").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Selamat datang")
    page.get_by_role("button", name="Keluar", exact=True).click()

    # Without the second factor the password alone does not open the console.
    page.get_by_label("Nama pengguna").fill(ADMIN)
    page.get_by_label("Kata sandi").fill(NEW_PASSWORD)
    page.get_by_role("button", name="Masuk", exact=True).click()
    expect(page.locator(".error-summary")).to_be_visible()
    # A code is accepted once: the next one (its app shows it 30 seconds later) signs in.
    sign_in(page, ADMIN, NEW_PASSWORD, authenticator.at(time.time() + 30))


def file_a_red_report_for_the_police(page: Page) -> dict[str, str]:
    page.goto("/laporan-baru")
    reference = page.locator("#external_ref").input_value()
    page.locator("#case_type").select_option("TPPO")
    page.locator("#tlp-RED").check()
    page.get_by_label("Tanggal kejadian").fill("02/06/2025")
    page.get_by_label("Kode wilayah", exact=True).fill("14.72")
    page.locator("#persons-0-full_name").fill(VICTIM["name"])
    page.locator("#persons-0-sex").select_option("FEMALE")
    page.locator("#persons-0-date_of_birth").fill(VICTIM["born"])
    page.locator("#persons-0-nik").fill("123")
    page.get_by_role("button", name="Tambah orang").click()
    page.locator("#persons-1-role").select_option("SUSPECT")
    page.locator("#persons-1-full_name").fill("Joko Pranoto")
    page.locator("#persons-1-phone").fill("0813-7100-9988")
    page.locator("#recipients-POLRES-DUMAI").check()
    page.get_by_role("button", name="Kirim laporan").click()

    expect(page.locator("#error-summary")).to_be_focused()
    expect(page.locator("#persons-0-nik-error")).to_contain_text("NIK harus 16 angka")
    expect(page.locator("#persons-1-full_name")).to_have_value("Joko Pranoto")  # nothing lost
    page.locator("#persons-0-nik").fill(VICTIM["nik"])
    page.get_by_role("button", name="Kirim laporan").click()

    expect(page.get_by_role("heading", name="Laporan terkirim")).to_be_visible()
    expect(page.locator("main")).to_contain_text("Kepolisian Resor Dumai")
    report = page.get_by_role("link", name="Lihat laporan").get_attribute("href") or ""
    case = page.get_by_role("link", name="Buka kasus").get_attribute("href") or ""
    assert report.startswith("/laporan/")
    assert case.startswith("/kasus/")
    return {"reference": reference, "report": report, "case": case}


def test_a_red_report_travels_from_a_totp_officer_to_the_police_and_not_to_the_navy(
    browser: Browser, base_url: str, world: tuple[str, str]
) -> None:
    navy = tab(browser, base_url)
    sign_in(navy, "petugas.lanal-dumai", DEMO_OFFICER_PASSWORD)
    navy.goto("/pantauan")
    navy.locator("form.form").get_by_label("Nama lengkap").fill(VICTIM["name"])
    navy.locator("form.form").get_by_label("NIK").fill(VICTIM["nik"])
    navy.get_by_role("button", name="Pantau", exact=True).click()
    expect(navy.get_by_role("status")).to_contain_text("Orang ini sekarang dipantau")

    immigration = tab(browser, base_url)
    enrol_and_sign_in_with_totp(immigration, world[1])
    filed = file_a_red_report_for_the_police(immigration)
    immigration.goto(filed["case"])
    network = immigration.locator("#case-network")
    expect(network).to_have_attribute("data-ready", "true")
    assert immigration.evaluate("window.__caseNetwork.nodes().length") == 3  # report, 2 persons
    assert immigration.evaluate("window.__caseNetwork.edges().length") == 2
    no_csp_violations(immigration)

    police = tab(browser, base_url)
    sign_in(police, "petugas.polres-dumai", DEMO_OFFICER_PASSWORD)
    police.get_by_role("link", name="Kotak masuk").first.click()
    row = police.locator("#inbox-rows tr", has_text=filed["reference"])
    expect(row).to_have_count(1)
    row.get_by_role("link", name=filed["reference"]).click()
    expect(police.get_by_role("heading", level=1)).to_have_text(f"Laporan {filed['reference']}")
    expect(police.locator("main")).to_contain_text("Joko Pranoto")
    police.goto("/kotak-masuk")
    police.locator("#inbox-rows tr", has_text=filed["reference"]).get_by_role(
        "button", name="Akui"
    ).click()
    expect(police.get_by_role("status")).to_contain_text("sudah diakui")
    expect(police.locator("#inbox-rows tr", has_text=filed["reference"])).to_have_count(0)
    police.goto("/pemeriksaan")
    police.get_by_label("NIK").fill(VICTIM["nik"])
    police.get_by_role("button", name="Periksa").click()
    expect(police.get_by_role("heading", name="Ada laporan tentang orang ini")).to_be_visible()
    expect(police.locator(".hit-list")).to_contain_text("IMIGRASI-DUMAI")
    no_csp_violations(police)

    navy.goto("/kotak-masuk?tampil=semua")
    expect(navy.get_by_role("heading", level=1)).to_have_text("Kotak masuk")
    expect(navy.locator("main")).not_to_contain_text(filed["reference"])
    for address in (filed["report"], filed["case"]):
        answer = navy.goto(address)
        assert answer is not None
        assert answer.status == 404
        expect(navy.get_by_role("heading", level=1)).to_have_text("Halaman tidak ditemukan")
    navy.goto("/pemeriksaan")
    navy.get_by_label("NIK").fill(VICTIM["nik"])
    navy.get_by_role("button", name="Periksa").click()
    expect(navy.get_by_role("heading", name="Tidak ada laporan yang cocok")).to_be_visible()
    navy.goto("/pantauan")
    expect(navy.locator("main")).to_contain_text("Tidak ada temuan baru")
    navy.get_by_role("link", name=VICTIM["name"]).click()
    expect(navy.locator("main")).to_contain_text("Belum ada temuan")

    navy.get_by_role("button", name="English").click()
    expect(navy.get_by_role("heading", level=1)).to_have_text(f"Watch: {VICTIM['name']}")
    expect(navy.locator("main")).to_contain_text("No hits yet")
    navy.get_by_role("link", name="Inbox").first.click()
    expect(navy.get_by_role("heading", level=1)).to_have_text("Inbox")
    navy.reload()
    expect(navy.get_by_role("heading", level=1)).to_have_text("Inbox")
    no_csp_violations(navy)
