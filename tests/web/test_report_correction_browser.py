"""Correcting a report in Chromium: the Navy's officer opens "Koreksi" on the report page,
finds the form filled in, adds a vessel in the collapsed section, fixes the narrative, saves,
and sees version 2 with what changed."""

from __future__ import annotations

import pytest

pytest.importorskip("playwright", reason="playwright is not installed (pip install -e '.[test]')")

from playwright.sync_api import Page, expect

from tests.report_samples import interception
from tests.web.browser_session import sign_in_page, submit_as_officer


def test_an_officer_corrects_a_report_and_sees_version_2(page: Page) -> None:
    errors: list[str] = []
    page.on("console", lambda message: errors.append(message.text))
    csrf = sign_in_page(page, "petugas.lanal-dumai")
    body = interception(external_ref="LANAL-DUMAI/BROWSER/KOREKSI", recipients=["POLRES-DUMAI"])
    created = submit_as_officer(page, csrf, body)

    page.goto(f"/laporan/{created['id']}")
    page.get_by_role("link", name="Koreksi", exact=True).click()

    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Koreksi laporan LANAL-DUMAI/BROWSER/KOREKSI"
    )
    expect(page.locator("#persons-0-full_name")).to_have_value("Hendra Saputra")
    expect(page.locator("#persons-1-full_name")).to_have_value("Siti Nur Haliza")
    expect(page.locator("#external_ref")).to_have_attribute("readonly", "")
    vessels = page.locator("details#conveyances")
    expect(vessels).not_to_have_attribute("open", "")
    vessels.get_by_text("Kapal dan kendaraan").click()
    vessels.get_by_role("button", name="Tambah kapal atau kendaraan").click()
    expect(page.locator("details#conveyances")).to_have_attribute("open", "")
    page.locator("#conveyances-0-type").select_option("SPEEDBOAT")
    page.get_by_label("Nama", exact=True).fill("KM Sinar Laut")
    page.get_by_label("Uraian kejadian").fill("Speedboat KM Sinar Laut dihentikan patroli.")
    page.get_by_role("button", name="Simpan koreksi").click()

    expect(page.get_by_role("status")).to_contain_text("Koreksi tersimpan sebagai versi baru")
    expect(page.locator(".lead")).to_contain_text("Versi 2")
    latest = page.locator("#versi-2")
    expect(latest).to_contain_text("dikoreksi")
    expect(latest).to_contain_text("KM Sinar Laut")
    expect(latest).to_contain_text("Speedboat KM Sinar Laut dihentikan patroli.")
    expect(page.locator("main")).to_contain_text("Kapal/kendaraan 1")
    assert [e for e in errors if "Content Security Policy" in e] == []
