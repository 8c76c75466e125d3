"""The coordination-meeting report: self-contained HTML, need-to-know, suppression, the CLI, and
a render in headless Chromium that proves the charts are drawn."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.chromium import chromium_path, count_colour, dump_dom, screenshot
from tests.conftest import TEST_SECRET
from tests.factories import Agencies, dumai_agencies, submit_report
from tests.report_samples import deferral
from tests.stats_samples import AGENCIES, meeting_year

YEAR = {"from": "2025-01-01", "to": "2025-12-31"}
CHARTS = ["month", "modus", "destination_country", "region"]
BAR_BLUE = (0x1F, 0x5F, 0x8B)
HATCH_GREY = (0x8A, 0x97, 0xA3)


@pytest.fixture
async def agencies(app: Any, client: httpx.AsyncClient) -> Agencies:
    """The shared Dumai agencies and the province's BP3MI, which the meeting's year names too."""
    return await dumai_agencies(app, client, more=AGENCIES)


async def seed_year(
    client: httpx.AsyncClient, agencies: dict[str, dict[str, str]], limit: int = 40
) -> None:
    for source, body in meeting_year()[:limit]:
        await submit_report(client, agencies[source], body)


async def page(client: httpx.AsyncClient, headers: dict[str, str]) -> str:
    response = await client.get("/v1/stats/report", params=YEAR, headers=headers)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/html")
    return response.text


def charts_in(html: str) -> list[str]:
    return re.findall(r'<svg class="chart" data-chart="([a-z_]+)"', html)


def totals(html: str) -> list[str]:
    """The three totals as shown: reports, deferred passport applications, prevented departures."""
    return re.findall(r'<div class="card"><div class="n[^"]*">([^<]+)</div>', html)


def assert_self_contained(html: str) -> None:
    lowered = html.lower()
    for fetches in ("<script", "<link", "<img", "<iframe", "@import", " src=", " href="):
        assert fetches not in lowered, fetches
    assert re.findall(r"url\((?!#)", lowered) == []
    # The only URL is the SVG namespace, which browsers never fetch.
    assert set(re.findall(r"https?://[^\"' )<]+", html)) <= {"http://www.w3.org/2000/svg"}


async def test_the_report_is_one_self_contained_page_with_four_charts_and_totals(
    client: httpx.AsyncClient, agencies: dict[str, dict[str, str]]
) -> None:
    await seed_year(client, agencies)
    html = await page(client, agencies["ADMIN"])
    assert_self_contained(html)
    assert charts_in(html) == CHARTS
    assert "Laporan per bulan" in html
    assert "Reports per month" in html
    assert "Negara tujuan" in html
    assert "Destination country" in html
    assert "Deferred passport applications" in html
    reports, deferred, prevented = totals(html)  # admins: every report, as is
    assert reports == "40"
    assert int(deferred) + int(prevented) > 0


async def test_the_report_counts_what_the_caller_may_see_and_hides_small_counts(
    client: httpx.AsyncClient, agencies: dict[str, dict[str, str]]
) -> None:
    immigration = agencies["IMIGRASI-DUMAI"]
    for i in range(6):
        body = deferral(
            external_ref=f"IMI/{i}", persons=[], reported_at="2025-03-04T10:00:00+07:00"
        )
        if i == 0:
            body["destination_countries"] = ["KHM"]
        assert (await client.post("/v1/reports", json=body, headers=immigration)).status_code == 201

    own = await page(client, immigration)
    assert "Reports visible to IMIGRASI-DUMAI" in own
    assert "Kamboja / Cambodia: &lt; 5" in own  # the one Cambodia report is hidden
    assert 'class="bar suppressed"' in own
    assert totals(own) == ["6", "6", "0"]

    navy = await page(client, agencies["LANAL-DUMAI"])  # nothing was routed to the Navy
    assert charts_in(navy) == CHARTS
    assert "Cambodia" not in navy
    assert totals(navy) == ["0", "0", "0"]
    assert "No reports" in navy

    admin = await page(client, agencies["ADMIN"])
    assert "Kamboja / Cambodia: 1" in admin


async def test_the_report_refuses_an_unusable_period(
    client: httpx.AsyncClient, agencies: dict[str, dict[str, str]]
) -> None:
    response = await client.get(
        "/v1/stats/report",
        params={"from": "2025-12-31", "to": "2025-01-01"},
        headers=agencies["ADMIN"],
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["pointer"] == "/to"
    assert (await client.get("/v1/stats/report", params=YEAR)).status_code == 401


def _cli(database_url: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "SINERGI_ENV": "test",
        "SINERGI_DATABASE_URL": database_url,
        "SINERGI_SECRET_KEY": TEST_SECRET,
        "SINERGI_KEY_ENCRYPTION_KEY": TEST_SECRET,
    }
    return subprocess.run(
        [sys.executable, "-m", "app.cli", "stats", "report", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


async def test_the_cli_writes_the_same_report_to_a_file(
    client: httpx.AsyncClient,
    agencies: dict[str, dict[str, str]],
    database_url: str,
    tmp_path: Path,
) -> None:
    await seed_year(client, agencies, limit=12)  # every one routed to all four agencies
    unrouted = deferral(external_ref="IMI/UNROUTED", persons=[])  # stays with Immigration
    created = await client.post("/v1/reports", json=unrouted, headers=agencies["IMIGRASI-DUMAI"])
    assert created.status_code == 201, created.text
    out = tmp_path / "report.html"
    done = _cli(database_url, "--from", "2025-01-01", "--to", "2025-12-31", "--out", str(out))
    assert done.returncode == 0, done.stderr
    html = out.read_text(encoding="utf-8")
    assert_self_contained(html)
    assert charts_in(html) == CHARTS
    assert "All reports" in html
    assert totals(html)[0] == "13"
    assert "Counts below 5 are hidden" in html  # safe for a shared screen by default

    as_navy = tmp_path / "navy.html"
    done = _cli(
        database_url,
        "--from",
        "2025-01-01",
        "--to",
        "2025-12-31",
        "--out",
        str(as_navy),
        "--agency",
        "LANAL-DUMAI",
    )
    assert done.returncode == 0, done.stderr
    navy_html = as_navy.read_text(encoding="utf-8")
    assert "Reports visible to LANAL-DUMAI" in navy_html
    assert totals(navy_html)[0] == "12"


@pytest.mark.skipif(
    chromium_path() is None,
    reason="chromium is not installed (apt-get install chromium; .ci/run installs it as root)",
)
async def test_the_report_renders_its_charts_in_headless_chromium(
    client: httpx.AsyncClient, agencies: dict[str, dict[str, str]], tmp_path: Path
) -> None:
    await seed_year(client, agencies)
    report = tmp_path / "report.html"
    report.write_text(await page(client, agencies["POLRES-DUMAI"]), encoding="utf-8")

    dom = dump_dom(report)
    assert re.findall(r'<svg class="chart" data-chart="([a-z_]+)"', dom) == CHARTS
    assert dom.count('class="bar"') >= 12 + 3  # twelve months and at least a few categories

    png = tmp_path / "report.png"
    screenshot(report, png, width=1280, height=3600)
    assert count_colour(png, BAR_BLUE) > 40_000, "the bars are not drawn"
    assert count_colour(png, HATCH_GREY) > 50, "suppressed bars are not hatched"


async def test_a_count_hidden_only_to_protect_a_small_one_has_its_own_mark_and_footnote(
    client: httpx.AsyncClient, agencies: dict[str, dict[str, str]]
) -> None:
    immigration = agencies["IMIGRASI-DUMAI"]
    for i in range(8):  # 7 TPPO and 1 TPPM: TPPM is small, TPPO is hidden to protect it
        body = deferral(
            external_ref=f"IMI/C/{i}",
            persons=[],
            reported_at="2025-03-04T10:00:00+07:00",
            case_type="TPPM" if i == 0 else "TPPO",
        )
        assert (await client.post("/v1/reports", json=body, headers=immigration)).status_code == 201

    own = await page(client, immigration)
    table = own[own.index('data-table="case_type"') :].split("</table>")[0]
    rows = dict(re.findall(r"<tr><td>([^<]+).*?<td class=\"n[^\"]*\">([^<]+)</td>", table))
    assert rows["Tindak pidana penyelundupan manusia "] == "&lt; 5"  # TPPM
    assert rows["Tindak pidana perdagangan orang "] == "*"  # TPPO, not "< 5": it is 7
    assert "Hidden although not small, so that a small count cannot be worked out" in own

    as_json = await client.get(
        "/v1/stats", params={**YEAR, "group_by": "case_type"}, headers=immigration
    )
    cells = {c["code"]: c for c in as_json.json()["cells"]}
    assert (cells["TPPM"]["suppression"], cells["TPPO"]["suppression"]) == (
        "small",
        "complementary",
    )
    assert cells["TPPO"]["count"] is None

    # Without a complementary cell the footnote is not there.
    admin = await page(client, agencies["ADMIN"])
    assert "Hidden although not small" not in admin
