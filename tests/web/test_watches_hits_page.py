"""One watch's page (Pantauan, one person) over HTTP: its hits with when, which report (linked
only when the officer's agency may read it) and why; the new hits counted on the watches list
and the home page, and acknowledged from the watch's page."""

from __future__ import annotations

import re

import httpx
from fastapi import FastAPI

from app.web.i18n import LANGUAGE_COOKIE
from tests.factories import HTML, Agencies, create_officer, form_csrf, sign_in, submit_report
from tests.report_samples import interception

WOMAN = {"full_name": "Siti Nurhaliza binti Ahmad", "date_of_birth": "1999-03-14"}
NIK = "1472035403990002"


async def imi_watches_the_woman(
    app: FastAPI, console: httpx.AsyncClient, client: httpx.AsyncClient, agencies: Agencies
) -> str:
    """Immigration's officer is signed in on ``console``; Immigration watches the woman."""
    officer = await create_officer(app, "IMIGRASI-DUMAI", "petugas.imigrasi")
    await sign_in(console, officer)
    created = await client.post(
        "/v1/watches",
        json={"person": {**WOMAN, "nik": NIK}, "note": "PERM-0001"},
        headers=agencies["IMIGRASI-DUMAI"],
    )
    assert created.status_code == 201, created.text
    watch_id: str = created.json()["id"]
    return watch_id


async def test_a_hit_on_a_report_the_agency_may_not_read_says_whom_to_contact(
    app: FastAPI, console: httpx.AsyncClient, client: httpx.AsyncClient, agencies: Agencies
) -> None:
    watch_id = await imi_watches_the_woman(app, console, client, agencies)
    empty = await console.get(f"/pantauan/{watch_id}", headers=HTML)
    assert "Belum ada temuan" in empty.text

    report = await submit_report(client, agencies["LANAL-DUMAI"], interception())

    page = (await console.get(f"/pantauan/{watch_id}", headers=HTML)).text
    assert "Pantauan: Siti Nurhaliza binti Ahmad" in page
    assert (
        "Disebut dalam laporan yang tidak dapat dibaca lembaga Anda. Hubungi LANAL-DUMAI." in page
    )
    assert re.search(r"Mengapa cocok:.*NIK", page, re.S)
    assert report["id"] not in page
    assert "LANAL-DUMAI/2025/0027" not in page
    assert "Siti Nur Haliza" not in page  # the Navy's spelling stays the Navy's
    assert "/kasus/" not in page


async def test_a_hit_on_a_routed_report_links_it_and_is_new_until_acknowledged(
    app: FastAPI, console: httpx.AsyncClient, client: httpx.AsyncClient, agencies: Agencies
) -> None:
    watch_id = await imi_watches_the_woman(app, console, client, agencies)
    report = await submit_report(
        client, agencies["LANAL-DUMAI"], interception(recipients=["IMIGRASI-DUMAI"])
    )

    listing = (await console.get("/pantauan", headers=HTML)).text
    home = (await console.get("/", headers=HTML)).text
    page = await console.get(f"/pantauan/{watch_id}", headers=HTML)

    assert f'<a class="tag tag--watch-hit" href="/pantauan/{watch_id}">1 temuan baru</a>' in listing
    assert "1 temuan belum diakui" in home
    assert page.status_code == 200
    assert f'<a href="/laporan/{report["id"]}">LANAL-DUMAI/2025/0027</a>' in page.text
    assert f'href="/kasus/{report["case_id"]}"' in page.text
    assert '<span class="tag tag--watch-hit">Baru</span>' in page.text

    acked = await console.post(
        "/kotak-masuk/akui",
        data={
            "csrf_token": form_csrf(page.text),
            "kembali": f"/pantauan/{watch_id}",
            "id": re.findall(r'name="id" value="([^"]+)"', page.text),
        },
        headers=HTML,
    )
    assert acked.status_code == 303
    assert acked.headers["location"] == f"/pantauan/{watch_id}"
    after = (await console.get(f"/pantauan/{watch_id}", headers=HTML)).text
    assert "tag--watch-hit" not in after
    assert "LANAL-DUMAI/2025/0027" in after
    assert "Tidak ada temuan baru" in (await console.get("/pantauan", headers=HTML)).text
    assert "temuan belum diakui" not in (await console.get("/", headers=HTML)).text


async def test_the_page_is_in_english_when_the_officer_chose_it(
    app: FastAPI, console: httpx.AsyncClient, client: httpx.AsyncClient, agencies: Agencies
) -> None:
    watch_id = await imi_watches_the_woman(app, console, client, agencies)
    await submit_report(client, agencies["LANAL-DUMAI"], interception())
    console.cookies.set(LANGUAGE_COOKIE, "en", domain="sinergi.test")

    page = (await console.get(f"/pantauan/{watch_id}", headers=HTML)).text

    assert "Watch: Siti Nurhaliza binti Ahmad" in page
    assert "Named in a report your agency may not read. Contact LANAL-DUMAI." in page
