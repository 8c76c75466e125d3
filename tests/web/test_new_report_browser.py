"""The new-report form in Chromium: a common case filled in with the region search, sent."""

from __future__ import annotations

import pytest

pytest.importorskip("playwright", reason="playwright is not installed (pip install -e '.[test]')")

from playwright.sync_api import Page, expect

from tests.web.browser_session import sign_in_page


def test_an_officer_files_a_report_with_the_region_search(page: Page) -> None:
    sign_in_page(page, "petugas.imigrasi-dumai")
    page.goto("/laporan-baru")

    page.get_by_label("Tanggal kejadian").fill("02/06/2025")
    page.get_by_label("Cari wilayah").fill("dumai")
    page.get_by_role("button", name="Kota Dumai (14.72)").click()
    expect(page.get_by_label("Kode wilayah", exact=True)).to_have_value("14.72")
    expect(page.get_by_label("Kode wilayah", exact=True)).to_be_focused()
    page.get_by_label("Tempat", exact=True).fill("Kantor Imigrasi Dumai")
    page.get_by_label("Berkedok wisata").check()
    page.get_by_label("Nama lengkap").fill("Rina Marlina")
    page.get_by_label("Tanggal lahir").fill("02/01/1990")
    page.get_by_role("button", name="Tambah orang").click()
    expect(page.get_by_label("Nama lengkap").first).to_have_value("Rina Marlina")
    page.locator("#persons-1-role").select_option("SUSPECT")
    page.locator("#persons-1-full_name").fill("Hendra Saputra")
    page.locator("#persons-1-phone").fill("0813-7100-2211")
    page.get_by_role("button", name="Kirim laporan").click()

    expect(page.get_by_role("heading", name="Laporan terkirim")).to_be_visible()
    expect(page.get_by_role("link", name="Buka kasus")).to_be_visible()


def test_a_refused_form_brings_the_officer_to_the_field(page: Page) -> None:
    sign_in_page(page, "petugas.imigrasi-dumai")
    page.goto("/laporan-baru")
    page.get_by_label("NIK", exact=True).fill("123")
    page.get_by_role("button", name="Kirim laporan").click()

    summary = page.locator("#error-summary")
    expect(summary).to_be_focused()
    summary.get_by_role("link", name="NIK harus 16 angka.").click()
    expect(page.get_by_label("NIK", exact=True)).to_be_focused()
    expect(page.get_by_label("NIK", exact=True)).to_have_value("123")
