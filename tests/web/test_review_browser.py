"""The match review queue in Chromium: the demo analyst opens the queue, opens a pair, merges it
after the confirmation, finds the merge among the resolution actions and undoes it."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from app.demo import DEMO_OFFICER_PASSWORD
from tests.report_samples import deferral, interception, victim
from tests.web.browser_session import sign_in_page, submit_as_officer


def sign_in(page: Page, username: str) -> None:
    page.context.clear_cookies()
    page.goto("/")
    page.get_by_label("Nama pengguna").fill(username)
    page.get_by_label("Kata sandi").fill(DEMO_OFFICER_PASSWORD)
    page.get_by_label("Kata sandi").press("Enter")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Selamat datang")


def seed_possible_match(page: Page) -> None:
    """Immigration names Siti Rahmawati with her birth date; the Navy by name alone."""
    csrf = sign_in_page(page, "petugas.imigrasi-dumai")
    submit_as_officer(
        page,
        csrf,
        deferral(external_ref="IMI/REVIEW/1", persons=[victim("Siti Rahmawati", "1995-06-10")]),
    )
    csrf = sign_in_page(page, "petugas.lanal-dumai")
    undated = {"role": "VICTIM", "full_name": "Siti Rahmawati", "sex": "FEMALE"}
    submit_as_officer(page, csrf, interception(external_ref="LANAL/REVIEW/1", persons=[undated]))


def test_an_analyst_merges_a_pair_and_undoes_the_merge(page: Page) -> None:
    errors: list[str] = []
    page.on("console", lambda message: errors.append(message.text))
    seed_possible_match(page)

    sign_in(page, "analis.admin")
    page.get_by_role("link", name="Tinjauan kecocokan").first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Tinjauan kecocokan")
    page.get_by_role("link", name="Siti Rahmawati ↔ Siti Rahmawati").click()

    expect(page.get_by_role("heading", level=1)).to_contain_text("Kemungkinan kecocokan")
    table = page.locator("table.compare")
    expect(table).to_contain_text("Laporan IMIGRASI-DUMAI")
    expect(table).to_contain_text("Laporan LANAL-DUMAI")
    expect(table).to_contain_text("10 Juni 1995")
    expect(page.locator("main")).to_contain_text("Nama sama")

    page.get_by_role("link", name="Gabungkan: orang yang sama").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Kemungkinan kecocokan")
    expect(page.locator(".warning-box")).to_contain_text("pindah dari entitas")
    page.get_by_role("button", name="Ya, gabungkan").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Tindakan resolusi")
    expect(page.get_by_role("status")).to_contain_text("Kedua catatan digabung")
    first_row = page.locator("tbody tr").first
    expect(first_row).to_contain_text("Kecocokan digabung")
    expect(first_row).to_contain_text("analis.admin")

    first_row.get_by_role("link", name="Urungkan").click()
    expect(page.locator(".warning-box")).to_contain_text("kembali ke entitas sebelumnya")
    page.get_by_role("button", name="Ya, urungkan").click()
    expect(page.get_by_role("status")).to_contain_text("Tindakan diurungkan")
    expect(page.locator("tbody tr").first).to_contain_text("Diurungkan")

    # the pair is back in the queue, to be decided again
    page.get_by_role("link", name="Antrean tinjauan").click()
    expect(page.get_by_role("link", name="Siti Rahmawati ↔ Siti Rahmawati")).to_be_visible()
    assert [e for e in errors if "Content Security Policy" in e] == []
