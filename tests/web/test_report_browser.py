"""The report page in Chromium: the police open the Navy's report from their inbox and read
it; the Navy retracts it after the confirmation; the police's inbox then says so."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from app.demo import DEMO_OFFICER_PASSWORD
from tests.report_samples import interception


def sign_in(page: Page, username: str) -> None:
    page.context.clear_cookies()
    page.goto("/")
    page.get_by_label("Nama pengguna").fill(username)
    page.get_by_label("Kata sandi").fill(DEMO_OFFICER_PASSWORD)
    page.get_by_label("Kata sandi").press("Enter")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Selamat datang")


def test_recipient_opens_from_inbox_and_source_retracts(page: Page) -> None:
    errors: list[str] = []
    page.on("console", lambda message: errors.append(message.text))
    sign_in(page, "petugas.lanal-dumai")
    csrf = page.input_value("form[action='/keluar'] input[name=csrf_token]")
    body = interception(external_ref="LANAL-DUMAI/BROWSER/1", recipients=["POLRES-DUMAI"])
    created = page.request.post("/v1/reports", headers={"X-CSRF-Token": csrf}, data=body)
    assert created.ok, created.text()
    report_id = created.json()["id"]

    sign_in(page, "petugas.polres-dumai")
    page.get_by_role("link", name="Kotak masuk").first.click()
    page.get_by_role("link", name="LANAL-DUMAI/BROWSER/1").first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Laporan LANAL-DUMAI/BROWSER/1")
    expect(page.locator("main")).to_contain_text("Hendra Saputra")
    expect(page.locator("main")).to_contain_text("Malaysia")
    expect(page.get_by_role("link", name="Tarik laporan…")).to_have_count(0)

    sign_in(page, "petugas.lanal-dumai")
    page.goto(f"/laporan/{report_id}")
    page.get_by_role("link", name="Tarik laporan…").click()
    expect(page.locator("main")).to_contain_text("POLRES-DUMAI")
    expect(page.get_by_label("Alasan penarikan")).to_have_attribute("required", "")
    page.get_by_label("Alasan penarikan").fill("Salah input: laporan ganda.")
    page.get_by_role("button", name="Ya, tarik laporan").click()
    expect(page.get_by_role("status")).to_contain_text("Laporan sudah ditarik")
    expect(page.locator(".tag--status-retracted")).to_have_text("Ditarik")
    expect(page.locator("main")).to_contain_text("Salah input: laporan ganda.")

    sign_in(page, "petugas.polres-dumai")
    page.goto("/kotak-masuk")
    expect(page.locator("#inbox-rows")).to_contain_text("Laporan ditarik")
    assert [e for e in errors if "Content Security Policy" in e] == []
