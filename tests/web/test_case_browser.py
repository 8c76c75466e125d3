"""The case page in Chromium: the network draws under the CSP and can be explored."""

from __future__ import annotations

import pytest

pytest.importorskip("playwright", reason="playwright is not installed (pip install -e '.[test]')")

from playwright.sync_api import Page, expect

from tests.report_samples import deferral, interception
from tests.web.browser_session import sign_in_page, submit_as_officer

#: Records Content-Security-Policy violations (added before any page script runs).
_CSP_LISTENER = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (e) => {
  window.__cspViolations.push(e.violatedDirective + " " + e.blockedURI);
});
"""


def test_the_network_draws_and_a_tapped_person_is_explained(page: Page) -> None:
    csrf = sign_in_page(page, "petugas.lanal-dumai")
    created = submit_as_officer(
        page, csrf, interception(external_ref="LANAL/2025/0777", tlp="GREEN")
    )
    csrf = sign_in_page(page, "petugas.imigrasi-dumai")
    submit_as_officer(page, csrf, deferral(external_ref="IMI/2025/0777"))
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.add_init_script(_CSP_LISTENER)

    page.goto(f"/kasus/{created['case_id']}")

    canvas = page.locator("#case-network")
    expect(canvas).to_have_attribute("data-ready", "true")
    assert page.evaluate("window.__cspViolations") == []
    assert errors == []
    box = canvas.bounding_box()
    assert box is not None
    assert box["height"] > 200
    # tap the person node where cytoscape drew it (its rendered position inside the canvas)
    spot = page.evaluate(
        """() => {
          const data = JSON.parse(document.getElementById('case-graph-data').textContent);
          const id = data.nodes.find((n) => n.kind === 'person').id;
          return window.__caseNetwork.getElementById(id).renderedPosition();
        }"""
    )
    page.mouse.click(box["x"] + spot["x"], box["y"] + spot["y"])
    detail = page.locator("#case-network-detail")
    expect(detail).to_contain_text("Orang")
    expect(detail).to_contain_text("Disebut di 2 laporan")
    expect(page.get_by_role("button", name="Tampilkan semua")).to_be_visible()
    expect(page.get_by_role("cell", name="Hendra Saputra")).to_be_visible()
