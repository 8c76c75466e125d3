"""Statistik over HTTP: the meeting report inside the console with the officer's session, the
period and grouping chosen in a form (errors beside the field), and the CSV download, the same
file the API answers; both audited as ``stats.read``."""

from __future__ import annotations

import re
from typing import Any

import httpx
from fastapi import FastAPI

from tests.factories import HTML, Agencies, create_officer, sign_in, submit_report
from tests.report_samples import deferral

YEAR = {"dari": "01/01/2025", "sampai": "31/12/2025"}


async def immigration_officer(app: FastAPI, console: httpx.AsyncClient) -> None:
    officer = await create_officer(app, "IMIGRASI-DUMAI", "petugas.imigrasi")
    await sign_in(console, officer)


def deferrals(count: int) -> list[dict[str, Any]]:
    """``count`` deferred passport applications at Immigration in May 2025, no persons."""
    return [
        deferral(
            external_ref=f"IMI/D/{i}", reported_at=f"2025-05-12T09:{i:02d}:00+07:00", persons=[]
        )
        for i in range(count)
    ]


async def test_the_report_opens_with_the_session_for_the_chosen_period(
    app: FastAPI, console: httpx.AsyncClient, client: httpx.AsyncClient, agencies: Agencies
) -> None:
    for body in deferrals(6):
        await submit_report(client, agencies["IMIGRASI-DUMAI"], body)
    await submit_report(  # one in June: a month below the threshold
        client,
        agencies["IMIGRASI-DUMAI"],
        deferral(external_ref="IMI/J", reported_at="2025-06-02T10:00:00+07:00", persons=[]),
    )
    await immigration_officer(app, console)

    response = await console.get("/statistik", params={**YEAR, "kelompok": "modus"}, headers=HTML)

    assert response.status_code == 200
    assert response.headers["cache-control"] == "no-store"
    page = response.text
    assert 'href="/statistik" aria-current="page">Statistik</a>' in page  # in the menu
    assert "2025-01-01 &ndash; 2025-12-31" in page
    assert "Laporan yang dapat dilihat IMIGRASI-DUMAI" in page
    totals = re.search(r'data-table="totals">(.*?)</div></div></div>', page, re.S)
    assert totals is not None
    assert '<div class="n">7</div>' in totals.group(1)
    assert 'data-chart="month"' in page
    assert 'data-chart="modus"' in page
    assert "Rincian menurut Modus operandi" in page
    detail = re.search(r'<table data-table="modus">.*?</table>', page, re.S)
    assert detail is not None
    assert "Berkedok wisata" in detail.group(0)
    assert "&lt; 5" in page  # June's single report is hidden, never shown as 1
    assert (
        'href="/statistik/csv?dari=01%2F01%2F2025&amp;sampai=31%2F12%2F2025&amp;kelompok=modus"'
        in page
    )
    assert "<style" not in page
    assert "style=" not in page


async def test_without_a_choice_the_page_counts_the_last_twelve_months_by_month(
    app: FastAPI, console: httpx.AsyncClient, agencies: Agencies
) -> None:
    await immigration_officer(app, console)

    page = (await console.get("/statistik", headers=HTML)).text

    assert re.search(r'id="from" name="dari" type="text" value="01/\d\d/\d{4}"', page)
    assert re.search(r'<option value="month" selected>Bulan</option>', page)
    assert "Rincian menurut Bulan" in page


async def test_the_csv_is_the_file_the_api_answers(
    app: FastAPI, console: httpx.AsyncClient, client: httpx.AsyncClient, agencies: Agencies
) -> None:
    for body in deferrals(6):
        await submit_report(client, agencies["IMIGRASI-DUMAI"], body)
    await immigration_officer(app, console)

    download = await console.get(
        "/statistik/csv", params={**YEAR, "kelompok": "month"}, headers=HTML
    )
    api = await client.get(
        "/v1/stats",
        params={"from": "2025-01-01", "to": "2025-12-31", "group_by": "month", "format": "csv"},
        headers=agencies["IMIGRASI-DUMAI"],
    )

    assert download.status_code == 200
    assert download.headers["content-type"] == "text/csv; charset=utf-8"
    assert download.headers["content-disposition"] == (
        'attachment; filename="sinergi-stats-month-2025-01-01-2025-12-31.csv"'
    )
    assert download.content == api.content
    assert "month,2025-05,Mei 2025" in download.text


async def test_unusable_dates_are_refused_beside_their_field_and_kept(
    app: FastAPI, console: httpx.AsyncClient, agencies: Agencies
) -> None:
    await immigration_officer(app, console)
    cases = [
        ({"dari": "31/02/2025", "sampai": "31/12/2025"}, "from", "Tanggal tidak dikenali"),
        ({"dari": "", "sampai": "31/12/2025"}, "from", "Isi tanggal"),
        ({"dari": "01/01/2000", "sampai": "31/12/2025"}, "to", "paling lama 1827 hari"),
        ({"dari": "01/06/2025", "sampai": "01/05/2025"}, "to", "sesudah tanggal awal"),
        ({**YEAR, "kelompok": "zodiak"}, "group_by", "Pilih salah satu pengelompokan"),
    ]
    for params, field, words in cases:
        for path in ("/statistik", "/statistik/csv"):
            response = await console.get(path, params=params, headers=HTML)
            assert response.status_code == 422, (params, path)
            assert re.search(rf'id="{field}-error">.*{words}', response.text), (params, path)
            assert f'href="#{field}"' in response.text  # the summary leads to the field
            assert f'value="{params["dari"]}"' in response.text
            assert "data-table" not in response.text  # no figures for a refused period


async def test_signed_out_browsers_are_sent_to_sign_in_and_reads_are_audited(
    app: FastAPI, console: httpx.AsyncClient, client: httpx.AsyncClient, agencies: Agencies
) -> None:
    signed_out = await console.get("/statistik", params=YEAR, headers=HTML)
    assert signed_out.status_code == 303
    assert signed_out.headers["location"] == "/"
    await immigration_officer(app, console)
    await console.get("/statistik", params={**YEAR, "kelompok": "region"}, headers=HTML)
    await console.get("/statistik/csv", params={**YEAR, "kelompok": "region"}, headers=HTML)

    audit = await client.get(
        "/v1/admin/audit", params={"action": "stats.read"}, headers=agencies["ADMIN"]
    )

    events = audit.json()["items"]
    assert {
        (e["actor_username"], e["detail"]["group_by"], e["detail"]["format"]) for e in events
    } == {
        ("petugas.imigrasi", "region", "html"),
        ("petugas.imigrasi", "region", "csv"),
    }
