"""Counter screening in Chromium: typed and answered with the keyboard alone."""

from __future__ import annotations

import pytest

pytest.importorskip("playwright", reason="playwright is not installed (pip install -e '.[test]')")

from playwright.sync_api import Page, expect

from tests.report_samples import deferral
from tests.web.browser_session import sign_in_page, submit_as_officer


def test_an_officer_screens_a_person_with_the_keyboard_and_reads_the_answer(page: Page) -> None:
    csrf = sign_in_page(page, "petugas.imigrasi-dumai")
    submit_as_officer(page, csrf, deferral(external_ref="IMI-DUMAI/2025/0901"))
    sign_in_page(page, "petugas.polres-dumai")

    page.goto("/pemeriksaan")
    expect(page.get_by_label("Nama lengkap")).to_be_focused()
    page.keyboard.press("Tab")  # date of birth
    page.keyboard.press("Tab")  # NIK
    page.keyboard.type("1472 0354 0399 0002")
    page.keyboard.press("Enter")

    expect(page.get_by_role("heading", name="Ada laporan tentang orang ini")).to_be_focused()
    expect(page.get_by_text("Hubungi IMIGRASI-DUMAI")).to_be_visible()
    expect(page.get_by_role("link", name="Lihat kasus")).to_be_visible()


def test_a_vague_description_brings_the_officer_to_the_error_summary(page: Page) -> None:
    sign_in_page(page)
    page.goto("/pemeriksaan")
    page.keyboard.type("Rina Marlina")
    page.keyboard.press("Enter")

    summary = page.locator("#error-summary")
    expect(summary).to_be_focused()
    summary.get_by_role("link").click()
    expect(page.get_by_label("Tanggal lahir")).to_be_focused()
    expect(page.get_by_label("Nama lengkap")).to_have_value("Rina Marlina")
