"""The new-report form (Laporan baru) over HTTP: filled in, refused beside the field with
nothing lost or stored, sent through the ingest service, and what resolution found told
within need-to-know."""

from __future__ import annotations

import re
from typing import Any

import httpx
from fastapi import FastAPI

from tests.factories import Agencies, create_officer, sign_in, submit_report
from tests.report_samples import deferral

HTML = {"accept": "text/html,application/xhtml+xml,*/*;q=0.8"}
NIK = "1472035403990002"


async def officer_of(app: FastAPI, console: httpx.AsyncClient, code: str) -> str:
    officer = await create_officer(app, code, f"petugas.{code.lower()}")
    return await sign_in(console, officer)


def filled_form(csrf: str, **extra: str) -> dict[str, Any]:
    """The form as an officer fills it for a deferred passport application."""
    form: dict[str, Any] = {
        "csrf_token": csrf,
        "reported_at": "2025-06-02T10:00:00+07:00",
        "external_ref": "WEB/2025/0001",
        "case_type": "TPPO",
        "tlp": "AMBER",
        "occurred_from": "02/06/2025",
        "location-region_code": "14.72",
        "location-place": "Kantor Imigrasi Dumai",
        "destination_countries": "mys, sgp",
        "modus_operandi": ["TOURIST_DISGUISE", "HIGH_SALARY_JOB_OFFER"],
        "actions_taken": ["PASSPORT_DEFERRED"],
        "person_count": "1",
        "persons-0-role": "POTENTIAL_VICTIM",
        "persons-0-full_name": "Siti Nurhaliza binti Ahmad",
        "persons-0-aliases": "Siti, Ita",
        "persons-0-sex": "FEMALE",
        "persons-0-date_of_birth": "14/03/1999",
        "persons-0-nationality": "IDN",
        "persons-0-nik": NIK,
        "document_count": "1",
        "documents-0-type": "PASSPORT_APPLICATION",
        "documents-0-number": "PERM-0002",
        "documents-0-status": "DEFERRED",
        "narrative": "Pemohon mengaku berwisata ke Malaysia.",
        "action": "submit",
    }
    form.update(extra)
    return form


async def test_the_form_explains_each_tlp_level_and_suggests_a_reference(
    app: FastAPI, console: httpx.AsyncClient, agencies: Agencies
) -> None:
    csrf = await officer_of(app, console, "IMIGRASI-DUMAI")

    response = await console.get("/laporan-baru", headers=HTML)

    assert response.status_code == 200
    page = response.text
    assert f'value="{csrf}"' in page
    assert 'value="IMIGRASI-DUMAI/WEB/' in page
    for level in ("CLEAR", "GREEN", "AMBER", "AMBER_STRICT", "RED"):
        assert f'id="tlp-{level}-hint"' in page
    assert "Hanya lembaga yang Anda sebut sebagai penerima" in page
    assert '<label class="field__label" for="persons-0-full_name">' in page
    assert 'value="POLRES-DUMAI"' in page  # another agency as a possible recipient
    assert 'name="recipients" value="IMIGRASI-DUMAI"' not in page  # not its own


async def test_adding_a_person_keeps_everything_typed(
    app: FastAPI, console: httpx.AsyncClient, agencies: Agencies
) -> None:
    csrf = await officer_of(app, console, "IMIGRASI-DUMAI")

    response = await console.post(
        "/laporan-baru", data=filled_form(csrf, action="add_person"), headers=HTML
    )

    assert response.status_code == 200
    page = response.text
    assert 'id="persons-1"' in page
    assert 'value="Siti Nurhaliza binti Ahmad"' in page
    assert 'value="14/03/1999"' in page
    assert re.search(r'value="TOURIST_DISGUISE" checked', page)
    assert "Pemohon mengaku berwisata ke Malaysia." in page

    removed = await console.post(
        "/laporan-baru", data=filled_form(csrf, action="remove_person-0"), headers=HTML
    )
    assert 'id="persons-0"' not in removed.text
    assert 'value="Kantor Imigrasi Dumai"' in removed.text


async def test_a_report_is_sent_and_the_success_page_shows_case_and_routing(
    app: FastAPI, console: httpx.AsyncClient, client: httpx.AsyncClient, agencies: Agencies
) -> None:
    csrf = await officer_of(app, console, "IMIGRASI-DUMAI")

    response = await console.post("/laporan-baru", data=filled_form(csrf), headers=HTML)

    assert response.status_code == 200, response.text
    page = response.text
    assert "Laporan terkirim" in page
    assert "WEB/2025/0001" in page
    case_id = re.search(r'href="/kasus/([0-9a-f-]{36})"', page)
    assert case_id is not None
    assert "belum muncul di laporan lain" in page

    listed = await client.get("/v1/reports", headers=agencies["IMIGRASI-DUMAI"])
    [stored] = listed.json()["items"]
    assert stored["external_ref"] == "WEB/2025/0001"
    assert stored["destination_countries"] == ["MYS", "SGP"]
    assert stored["persons"][0]["aliases"] == ["Siti", "Ita"]
    assert stored["persons"][0]["date_of_birth"] == "1999-03-14"
    assert stored["documents"][0]["status"] == "DEFERRED"


async def test_the_person_count_covers_only_reports_the_officer_may_see(
    app: FastAPI, console: httpx.AsyncClient, client: httpx.AsyncClient, agencies: Agencies
) -> None:
    # Immigration's own earlier report about Siti: the officer may see it …
    await submit_report(client, agencies["IMIGRASI-DUMAI"], deferral())
    # … the Navy's (AMBER, not routed to Immigration) it may not.
    await submit_report(client, agencies["LANAL-DUMAI"], deferral(external_ref="LANAL/2025/0003"))
    csrf = await officer_of(app, console, "IMIGRASI-DUMAI")

    response = await console.post("/laporan-baru", data=filled_form(csrf), headers=HTML)

    assert "muncul di 1 laporan lain yang boleh Anda lihat" in response.text
    assert "LANAL-DUMAI" not in response.text.split("Dikirim ke")[0]


async def test_a_bad_nik_is_refused_beside_the_field_and_nothing_is_stored(
    app: FastAPI, console: httpx.AsyncClient, client: httpx.AsyncClient, agencies: Agencies
) -> None:
    csrf = await officer_of(app, console, "IMIGRASI-DUMAI")

    response = await console.post(
        "/laporan-baru",
        data=filled_form(csrf, **{"persons-0-nik": "14720354"}),
        headers=HTML,
    )

    assert response.status_code == 422
    page = response.text
    assert re.search(r'id="persons-0-nik-error">.*NIK harus 16 angka', page)
    assert 'href="#persons-0-nik"' in page
    assert 'value="14720354"' in page
    assert 'value="Siti Nurhaliza binti Ahmad"' in page
    listed = await client.get("/v1/reports", headers=agencies["IMIGRASI-DUMAI"])
    assert listed.json()["items"] == []


async def test_an_unknown_country_is_refused_beside_the_countries(
    app: FastAPI, console: httpx.AsyncClient, agencies: Agencies
) -> None:
    csrf = await officer_of(app, console, "IMIGRASI-DUMAI")

    response = await console.post(
        "/laporan-baru", data=filled_form(csrf, destination_countries="MYS, QQQ"), headers=HTML
    )

    assert response.status_code == 422
    assert 'id="destination_countries-error"' in response.text
    assert 'value="MYS, QQQ"' in response.text


async def test_a_reference_used_before_is_refused_beside_the_reference(
    app: FastAPI, console: httpx.AsyncClient, client: httpx.AsyncClient, agencies: Agencies
) -> None:
    csrf = await officer_of(app, console, "IMIGRASI-DUMAI")
    await console.post("/laporan-baru", data=filled_form(csrf), headers=HTML)

    again = await console.post(
        "/laporan-baru", data=filled_form(csrf, narrative="Versi lain."), headers=HTML
    )

    assert again.status_code == 422
    assert 'id="external_ref-error"' in again.text


async def test_the_region_search_finds_a_city_by_name(
    app: FastAPI, console: httpx.AsyncClient, agencies: Agencies
) -> None:
    await officer_of(app, console, "IMIGRASI-DUMAI")

    response = await console.get("/laporan-baru/wilayah", params={"q": "dumai"}, headers=HTML)

    assert response.status_code == 200
    assert 'data-region-code="14.72"' in response.text
    assert "Kota Dumai" in response.text


async def test_the_form_needs_the_csrf_token(
    app: FastAPI, console: httpx.AsyncClient, client: httpx.AsyncClient, agencies: Agencies
) -> None:
    csrf = await officer_of(app, console, "IMIGRASI-DUMAI")
    form = filled_form(csrf)
    del form["csrf_token"]

    response = await console.post("/laporan-baru", data=form, headers=HTML)

    assert response.status_code == 403
    listed = await client.get("/v1/reports", headers=agencies["IMIGRASI-DUMAI"])
    assert listed.json()["items"] == []
