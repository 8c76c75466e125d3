"""Routing rules in Chromium (issue 19): a rule is edited to add a recipient, the dry run shows
the new recipient, and a report then submitted is routed by that rule into the recipient's inbox.

The demo's Kota Dumai agencies and default TIMPORA rules; a system admin whose TOTP secret the
test knows; no CSP violation on the way.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator

import pytest

pytest.importorskip("playwright", reason="playwright is not installed (pip install -e '.[test]')")

from playwright.sync_api import Browser, Page, expect

from app.models.officer import OfficerRole
from tests.conftest import ON_POSTGRES
from tests.factories import SeededOfficer
from tests.report_samples import deferral
from tests.web.browser_session import sign_in_page, sign_in_seeded, submit_as_officer
from tests.web.live import live_server, seeded_database, seeded_officer

_CSP_LISTENER = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (e) => {
  window.__cspViolations.push(e.violatedDirective + " " + e.blockedURI);
});
"""

#: Immigration defers a seafarer's passport application: the demo's rules send it to the
#: police, prosecutor, BP3MI, manpower office, port authority and city, not to the Navy base.
SEAFARER = deferral(
    external_ref="IMI-DUMAI/2026/0420",
    documents=[{"type": "SEAMAN_BOOK", "number": "F 123456", "status": "DEFERRED"}],
)


@pytest.fixture(scope="module")
def routing_world(
    migrated_template: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[str, SeededOfficer]]:
    """The demo's agencies and rules plus a system admin; the server's URL."""
    directory = tmp_path_factory.mktemp("routing-console")
    url = seeded_database(directory, template=None if ON_POSTGRES else migrated_template)
    sysadmin = seeded_officer(url, "ADMIN", "sysadmin.rute", OfficerRole.SYSTEM_ADMIN)
    with live_server(url) as base:
        yield base, sysadmin


@pytest.fixture(scope="module")
def base_url(routing_world: tuple[str, SeededOfficer]) -> str:
    return routing_world[0]


def _try_the_seafarer(page: Page, button: str) -> None:
    page.get_by_label("Tempel laporan (JSON)").fill(json.dumps(SEAFARER))
    page.get_by_label("Instansi pengirim laporan yang ditempel").select_option("IMIGRASI-DUMAI")
    page.get_by_role("button", name=button, exact=True).click()


def test_an_edited_rule_shows_in_the_dry_run_and_routes_the_next_report_to_its_new_recipient(
    page: Page, browser: Browser, base_url: str, routing_world: tuple[str, SeededOfficer]
) -> None:
    page.add_init_script(_CSP_LISTENER)
    sign_in_seeded(page, routing_world[1])

    page.goto("/admin")
    page.get_by_role("link", name="Aturan rute").click()
    seafarers = page.locator("li.rule", has_text="seafarers")
    expect(seafarers).to_contain_text(
        "Semua laporan dengan dokumen buku pelaut dikirim ke KSOP-DUMAI."
    )

    # move it up without leaving the page (htmx), then edit it
    before = page.locator("li.rule code").all_inner_texts()
    seafarers.get_by_role("button", name="Naikkan seafarers").click()
    expect(page.locator("li.rule code").nth(before.index("seafarers") - 1)).to_have_text(
        "seafarers"
    )
    page.get_by_role("link", name="Ubah seafarers").click()
    expect(page.get_by_role("heading", name="Ubah aturan seafarers")).to_be_visible()
    page.get_by_label("LANAL-DUMAI").check()

    # try the edit before saving it: the Navy base would receive the seafarer's report
    _try_the_seafarer(page, "Coba aturan ini")
    result = page.locator("#dry-run-result")
    navy = result.locator("li", has=page.locator(".dry-run__agency", has_text="LANAL-DUMAI"))
    expect(navy).to_contain_text("seafarers")
    expect(result).to_contain_text("dikirim ke KSOP-DUMAI, LANAL-DUMAI.")
    expect(page.get_by_label("LANAL-DUMAI")).to_be_checked()  # the edit is kept, not saved

    page.get_by_role("button", name="Simpan perubahan").click()
    expect(page.get_by_role("status")).to_contain_text("Perubahan aturan disimpan")
    expect(page.locator("li.rule", has_text="seafarers")).to_contain_text(
        "dikirim ke KSOP-DUMAI, LANAL-DUMAI."
    )

    # the dry run of the stored rules names the new recipient and the rule
    page.get_by_role("link", name="Uji dengan laporan").click()
    _try_the_seafarer(page, "Uji")
    stored = page.locator(
        "#dry-run-result li", has=page.locator(".dry-run__agency", has_text="LANAL-DUMAI")
    )
    expect(stored).to_contain_text("lewat aturan seafarers")
    expect(page.locator("#dry-run-result")).not_to_contain_text(
        "IMIGRASI-DUMAI —"
    )  # not the sender
    assert page.evaluate("window.__cspViolations") == []

    # Immigration submits the report; it lands in the Navy base's inbox by that rule
    immigration = browser.new_context(base_url=base_url).new_page()
    created = submit_as_officer(
        immigration, sign_in_page(immigration, "petugas.imigrasi-dumai"), SEAFARER
    )
    assert {"agency": "LANAL-DUMAI", "rule": "seafarers"} in created["routed_to"]
    immigration.context.close()

    navy_officer = browser.new_context(base_url=base_url).new_page()
    sign_in_page(navy_officer, "petugas.lanal-dumai")
    navy_officer.goto("/kotak-masuk")
    row = navy_officer.locator("tr.inbox-row", has_text=SEAFARER["external_ref"])
    expect(row).to_be_visible()
    expect(row).to_contain_text("IMIGRASI-DUMAI")
    row.get_by_role("link", name=SEAFARER["external_ref"]).click()
    expect(navy_officer).to_have_url(re.compile(r"/laporan/[0-9a-f-]{36}$"))
    navy_officer.context.close()
