"""The console in Chromium: public pages render offline, under the CSP, in both languages."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest

pytest.importorskip("playwright", reason="playwright is not installed (pip install -e '.[test]')")

from playwright.sync_api import ConsoleMessage, Page, Request, Route, expect

#: Records Content-Security-Policy violations in the page (added before any page script runs).
_CSP_LISTENER = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (e) => {
  window.__cspViolations.push(e.violatedDirective + " " + e.blockedURI);
});
"""


@dataclass
class Watch:
    """What a page did: every request, requests that would have left the server, console errors."""

    base_url: str
    requests: list[str] = field(default_factory=list)
    blocked: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def csp_violations(self, page: Page) -> list[str]:
        found: list[str] = page.evaluate("window.__cspViolations || []")
        return found + [e for e in self.errors if "Content Security Policy" in e]


@pytest.fixture
def watch(page: Page, base_url: str) -> Watch:
    """Blocks and records any request that would leave the test server; collects console errors."""
    seen = Watch(base_url)
    local = (base_url + "/", "data:", "blob:")

    def route(route: Route) -> None:
        url = route.request.url
        if url.startswith(local):
            route.continue_()
        else:
            seen.blocked.append(url)
            route.abort()

    def on_console(message: ConsoleMessage) -> None:
        if message.type == "error":
            seen.errors.append(message.text)

    def on_request(request: Request) -> None:
        seen.requests.append(request.url)

    page.context.route("**/*", route)
    page.on("console", on_console)
    page.on("request", on_request)
    page.add_init_script(_CSP_LISTENER)
    return seen


def test_about_page_lists_the_agencies_under_a_strict_csp(page: Page, watch: Watch) -> None:
    response = page.goto("/tentang")
    assert response is not None
    assert response.status == 200
    csp = response.headers["content-security-policy"]
    assert "script-src 'self'" in csp
    assert "frame-ancestors 'none'" in csp
    assert response.headers["cache-control"] == "no-store"

    expect(page.locator("html")).to_have_attribute("lang", "id")
    expect(page.get_by_role("heading", level=1)).to_have_text("Tentang Sinergi")
    agencies = page.get_by_role("table").get_by_role("row")
    expect(agencies.filter(has_text="Kantor Imigrasi Kelas II TPI Dumai")).to_have_count(1)
    expect(agencies.filter(has_text="Imigrasi")).not_to_have_count(0)
    expect(page.get_by_role("table")).not_to_contain_text("Sinergi administrators")
    # htmx loaded, configured by the meta tag and without its inline indicator style
    assert page.evaluate("window.htmx.config.includeIndicatorStyles") is False
    assert watch.csp_violations(page) == []
    assert watch.errors == []
    assert watch.blocked == []


def test_language_switch_is_remembered(page: Page, watch: Watch) -> None:
    page.goto("/tentang")
    page.get_by_role("button", name="English").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("About Sinergi")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.get_by_role("status")).to_have_text("The display language is now English.")
    expect(page.get_by_role("button", name="English")).to_have_attribute("aria-pressed", "true")

    page.reload()  # remembered by the cookie; the one-time message is gone
    expect(page.get_by_role("heading", level=1)).to_have_text("About Sinergi")
    expect(page.get_by_role("status")).to_have_count(0)
    page.goto("/halaman-yang-tidak-ada")
    expect(page.get_by_role("heading", level=1)).to_have_text("Page not found")

    page.goto("/tentang")
    page.get_by_role("button", name="Bahasa Indonesia").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Tentang Sinergi")
    assert watch.csp_violations(page) == []


def test_keyboard_reaches_the_skip_link_first_and_it_is_visible(page: Page) -> None:
    page.goto("/tentang")
    page.keyboard.press("Tab")
    skip = page.get_by_role("link", name="Langsung ke isi halaman")
    expect(skip).to_be_focused()
    expect(skip).to_be_in_viewport()
    page.keyboard.press("Enter")
    expect(page.locator("main")).to_be_focused()


def test_swagger_ui_renders_the_operations_offline(page: Page, watch: Watch) -> None:
    response = page.goto("/docs")
    assert response is not None
    assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
    operations = page.locator(".opblock")
    expect(operations.first).to_be_visible(timeout=20_000)
    expect(page.locator("#swagger-ui")).to_contain_text("/v1/reports")
    expect(page.locator("#swagger-ui")).to_contain_text("Submit a report")
    assert operations.count() > 40
    assert watch.blocked == []
    assert all(url.startswith(watch.base_url) for url in watch.requests)
    assert watch.csp_violations(page) == []


def test_redoc_renders_the_operations_offline(page: Page, watch: Watch) -> None:
    page.goto("/redoc")
    heading = page.get_by_role("heading", name="Submit a report")
    expect(heading).to_be_attached(timeout=30_000)
    expect(page.locator("redoc")).to_contain_text("/v1/auth/token")
    assert watch.blocked == []
    assert [u for u in watch.requests if not u.startswith((watch.base_url, "blob:", "data:"))] == []
    assert watch.csp_violations(page) == []


#: Text elements whose colour contrast with their effective background is below 4.5:1 (WCAG AA).
_LOW_CONTRAST = """
() => {
  const rgb = (s) => (s.match(/[\\d.]+/g) || []).map(Number);
  const lum = ([r, g, b]) => {
    const c = [r, g, b].map((v) => {
      v /= 255;
      return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4;
    });
    return 0.2126 * c[0] + 0.7152 * c[1] + 0.0722 * c[2];
  };
  const background = (el) => {
    for (let e = el; e; e = e.parentElement) {
      const c = rgb(getComputedStyle(e).backgroundColor);
      if (c.length === 3 || (c.length === 4 && c[3] > 0)) return c.slice(0, 3);
    }
    return [255, 255, 255];
  };
  const low = [];
  for (const el of document.querySelectorAll("body *")) {
    const own = [...el.childNodes].some((n) => n.nodeType === 3 && n.textContent.trim());
    if (!own || !el.checkVisibility()) continue;
    const [a, b] = [lum(rgb(getComputedStyle(el).color).slice(0, 3)), lum(background(el))];
    const ratio = (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
    if (ratio < 4.5) {
      low.push(el.tagName + " " + el.textContent.trim().slice(0, 40) + " " + ratio.toFixed(2));
    }
  }
  return low;
}
"""


@pytest.mark.parametrize("width", [1366, 375])
def test_every_text_on_the_about_page_has_enough_contrast(page: Page, width: int) -> None:
    page.set_viewport_size({"width": width, "height": 800})
    page.goto("/tentang")
    assert page.evaluate(_LOW_CONTRAST) == []
    # nothing sticks out sideways at phone width
    assert page.evaluate("document.documentElement.scrollWidth") <= width
