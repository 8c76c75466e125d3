"""Signing in, the home page, the inbox and signing out, as an officer does it in Chromium."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from app.demo import DEMO_OFFICER_PASSWORD


def test_officer_signs_in_by_keyboard_reaches_the_inbox_and_signs_out(page: Page) -> None:
    page.goto("/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Masuk ke Sinergi")
    page.get_by_label("Nama pengguna").fill("petugas.polres-dumai")
    page.get_by_label("Kata sandi").fill(DEMO_OFFICER_PASSWORD)
    page.get_by_label("Kata sandi").press("Enter")

    expect(page.get_by_role("heading", level=1)).to_contain_text("Selamat datang")
    expect(page.locator(".masthead__identity")).to_contain_text("Kepolisian Resor Dumai")
    page.get_by_role("link", name="Kotak masuk").first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Kotak masuk")
    expect(page.locator("#inbox-poll")).to_have_attribute("hx-trigger", "every 15s")

    page.get_by_role("button", name="Keluar").click()
    expect(page.get_by_role("status")).to_contain_text("Anda sudah keluar")
    page.goto("/kotak-masuk")
    expect(page.get_by_role("heading", level=1)).to_have_text("Masuk ke Sinergi")


def test_a_wrong_password_is_refused_beside_the_form_and_the_username_stays(page: Page) -> None:
    page.goto("/")
    page.get_by_label("Nama pengguna").fill("petugas.polres-dumai")
    page.get_by_label("Kata sandi").fill("bukan kata sandinya")
    page.get_by_role("button", name="Masuk", exact=True).click()
    expect(page.locator(".error-summary")).to_contain_text("Tidak dapat masuk")
    expect(page.get_by_label("Nama pengguna")).to_have_value("petugas.polres-dumai")
