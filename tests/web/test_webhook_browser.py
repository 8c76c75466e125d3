"""The webhook pages in Chromium (issue 19): an agency administrator registers a webhook
against a local receiver, copies the secret shown once with the copy button, sends the test
event and sees the receiver's answer; the receiver verifies the request with the Standard
Webhooks library using the copied secret. No CSP violation on the way.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

pytest.importorskip("playwright", reason="playwright is not installed (pip install -e '.[test]')")

from playwright.sync_api import Page, expect
from standardwebhooks import Webhook

from app.models.officer import OfficerRole
from tests.conftest import ON_POSTGRES
from tests.factories import SeededOfficer
from tests.web.browser_session import sign_in_seeded
from tests.web.live import live_server, seeded_database, seeded_officer
from tests.web.webhook_receiver import LOOPBACK_WEBHOOKS, Receiver

_CSP_LISTENER = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (e) => {
  window.__cspViolations.push(e.violatedDirective + " " + e.blockedURI);
});
"""


@pytest.fixture(scope="module")
def webhook_world(
    migrated_template: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[str, SeededOfficer]]:
    """The demo's agencies, an agency admin of IMIGRASI-DUMAI, and a server that may send
    webhooks to a receiver on loopback over http (as the webhook tests' settings allow)."""
    directory = tmp_path_factory.mktemp("webhook-console")
    url = seeded_database(directory, template=None if ON_POSTGRES else migrated_template)
    admin = seeded_officer(url, "IMIGRASI-DUMAI", "admin.imigrasi.uji", OfficerRole.AGENCY_ADMIN)
    with live_server(url, **LOOPBACK_WEBHOOKS) as base:
        yield base, admin


@pytest.fixture(scope="module")
def base_url(webhook_world: tuple[str, SeededOfficer]) -> str:
    return webhook_world[0]


def test_an_agency_admin_registers_a_webhook_and_its_test_event_verifies(
    page: Page, webhook_world: tuple[str, SeededOfficer]
) -> None:
    page.add_init_script(_CSP_LISTENER)
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    sign_in_seeded(page, webhook_world[1])
    with Receiver(status=204, body=b"") as receiver:
        page.goto("/admin")
        page.get_by_role("link", name="Webhook", exact=True).click()
        expect(page.locator("main")).to_contain_text("belum punya webhook")

        field = page.get_by_label("Alamat webhook (URL)")
        field.fill("https://10.1.2.3/sinergi/webhook")
        page.get_by_role("button", name="Daftarkan webhook").click()
        expect(page.locator("#url-error")).to_contain_text("jaringan internal")
        expect(page.locator("#error-summary")).to_be_visible()
        expect(field).to_have_value("https://10.1.2.3/sinergi/webhook")

        field.fill(receiver.url)
        page.get_by_role("button", name="Daftarkan webhook").click()
        expect(page.get_by_role("heading", name="Webhook terdaftar")).to_be_visible()
        expect(page.locator(".warning-box")).to_contain_text("hanya ditampilkan sekali")
        page.get_by_role("button", name="Salin").click()
        expect(page.locator(".copy-status")).to_have_text("Tersalin ke papan klip.")
        secret = str(page.evaluate("navigator.clipboard.readText()"))
        assert secret.startswith("whsec_")
        assert secret == page.locator("#secret").inner_text().strip()

        page.get_by_role("link", name="kembali ke halaman webhook").click()
        expect(page.locator("main")).to_contain_text(receiver.url)
        expect(page.locator("main")).not_to_contain_text(secret)
        page.get_by_role("button", name="Kirim peristiwa uji").click()
        expect(page.get_by_role("status")).to_contain_text("Penerima menjawab 204")
        [request] = receiver.received
    event = Webhook(secret).verify(request.body, request.headers)
    assert event["type"] == "webhook.test"
    assert event["data"]["agency_code"] == "IMIGRASI-DUMAI"
    expect(page.locator(".trial")).to_contain_text(request.headers["webhook-id"])

    page.get_by_role("link", name="Buka log pengiriman").click()
    expect(page.get_by_role("heading", name="Log pengiriman")).to_be_visible()
    assert page.evaluate("window.__cspViolations") == []
