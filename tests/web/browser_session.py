"""Signing a demo officer in from a Playwright page (until the console's sign-in page exists):
``POST /v1/session`` through the page's own request context, so the cookie lands in its jar."""

from __future__ import annotations

from typing import Any

from playwright.sync_api import Page

from app.demo import DEMO_OFFICER_PASSWORD
from tests.factories import SeededOfficer


def sign_in_page(page: Page, username: str = "petugas.polres-dumai") -> str:
    """Sign the demo officer ``username`` in on ``page``'s browser context; the CSRF token."""
    response = page.request.post(
        "/v1/session", data={"username": username, "password": DEMO_OFFICER_PASSWORD}
    )
    assert response.ok, response.text()
    csrf: str = response.json()["csrf_token"]
    return csrf


def sign_in_seeded(page: Page, officer: SeededOfficer) -> str:
    """Sign ``officer`` (password and its next TOTP code) in on ``page``'s browser context;
    the CSRF token."""
    response = page.request.post(
        "/v1/session",
        data={
            "username": officer.username,
            "password": officer.password,
            "totp_code": officer.totp_code(),
        },
    )
    assert response.status == 200, response.text()
    csrf: str = response.json()["csrf_token"]
    return csrf


def submit_as_officer(page: Page, csrf: str, body: dict[str, Any]) -> dict[str, Any]:
    """File ``body`` as the signed-in officer's agency through the API; the 201 answer."""
    response = page.request.post("/v1/reports", data=body, headers={"X-CSRF-Token": csrf})
    assert response.status == 201, response.text()
    created: dict[str, Any] = response.json()
    return created
