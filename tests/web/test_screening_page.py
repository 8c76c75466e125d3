"""Counter screening (Pemeriksaan) over HTTP: the answer in words, errors beside the field,
need-to-know, CSRF, and nothing stored but the audit event."""

from __future__ import annotations

import re

import httpx
from fastapi import FastAPI

from tests.factories import Agencies, create_officer, sign_in, submit_report
from tests.report_samples import deferral

HTML = {"accept": "text/html,application/xhtml+xml,*/*;q=0.8"}
NIK = "1472035403990002"


async def polres_officer(app: FastAPI, console: httpx.AsyncClient) -> str:
    """A POLRES-DUMAI officer signed in on ``console``; the CSRF token."""
    officer = await create_officer(app, "POLRES-DUMAI", "petugas.polres")
    return await sign_in(console, officer)


async def test_screening_form_has_labelled_fields_and_the_csrf_token(
    app: FastAPI, console: httpx.AsyncClient, agencies: Agencies
) -> None:
    csrf = await polres_officer(app, console)

    response = await console.get("/pemeriksaan", headers=HTML)

    assert response.status_code == 200
    page = response.text
    for field in ("full_name", "date_of_birth", "nik", "passport_number"):
        assert f'<label class="field__label" for="{field}">' in page
    assert f'name="csrf_token" value="{csrf}"' in page
    assert response.headers["cache-control"] == "no-store"


async def test_a_hit_names_the_agency_to_contact_the_case_and_what_to_do(
    app: FastAPI, console: httpx.AsyncClient, client: httpx.AsyncClient, agencies: Agencies
) -> None:
    created = await submit_report(client, agencies["IMIGRASI-DUMAI"], deferral())
    csrf = await polres_officer(app, console)

    response = await console.post(
        "/pemeriksaan", data={"nik": NIK, "csrf_token": csrf}, headers=HTML
    )

    assert response.status_code == 200
    page = response.text
    assert "Ada laporan tentang orang ini" in page
    assert "Hubungi IMIGRASI-DUMAI" in page
    assert "Langkah berikutnya" in page
    assert f'href="/kasus/{created["case_id"]}"' in page
    assert f'value="{NIK}"' in page  # what was typed stays in the form

    audit = await client.get(
        "/v1/admin/audit", params={"action": "screening.query"}, headers=agencies["ADMIN"]
    )
    [event] = audit.json()["items"]
    assert event["actor_username"] == "petugas.polres"
    assert event["detail"]["persons_with_hits"] == "1"
    assert NIK not in audit.text


async def test_no_hit_says_so_and_to_go_on_as_usual(
    app: FastAPI, console: httpx.AsyncClient, agencies: Agencies
) -> None:
    csrf = await polres_officer(app, console)

    response = await console.post(
        "/pemeriksaan",
        data={"full_name": "Rina Marlina", "date_of_birth": "02/01/1990", "csrf_token": csrf},
        headers=HTML,
    )

    assert response.status_code == 200
    assert "Tidak ada laporan yang cocok" in response.text
    assert "lanjutkan prosedur biasa" in response.text


async def test_a_red_report_the_agency_may_not_read_is_not_a_hit(
    app: FastAPI, console: httpx.AsyncClient, client: httpx.AsyncClient, agencies: Agencies
) -> None:
    await submit_report(
        client, agencies["IMIGRASI-DUMAI"], deferral(tlp="RED", recipients=["LANAL-DUMAI"])
    )
    csrf = await polres_officer(app, console)

    response = await console.post(
        "/pemeriksaan", data={"nik": NIK, "csrf_token": csrf}, headers=HTML
    )

    assert "Tidak ada laporan yang cocok" in response.text
    assert "IMIGRASI-DUMAI" not in response.text


async def test_a_name_alone_is_refused_beside_the_date_of_birth_in_indonesian(
    app: FastAPI, console: httpx.AsyncClient, agencies: Agencies
) -> None:
    csrf = await polres_officer(app, console)

    response = await console.post(
        "/pemeriksaan", data={"full_name": "Siti Nurhaliza", "csrf_token": csrf}, headers=HTML
    )

    assert response.status_code == 422
    page = response.text
    assert 'href="#date_of_birth"' in page  # the error summary links to the field
    assert re.search(r'id="date_of_birth-error">.*Nama saja tidak cukup', page)
    assert 'value="Siti Nurhaliza"' in page


async def test_a_refused_screening_is_audited_as_refused(
    app: FastAPI, console: httpx.AsyncClient, client: httpx.AsyncClient, agencies: Agencies
) -> None:
    csrf = await polres_officer(app, console)

    await console.post(
        "/pemeriksaan", data={"full_name": "Siti Nurhaliza", "csrf_token": csrf}, headers=HTML
    )

    audit = await client.get(
        "/v1/admin/audit", params={"action": "screening.query"}, headers=agencies["ADMIN"]
    )
    [event] = audit.json()["items"]
    assert event["http_status"] == 422


async def test_a_malformed_nik_is_refused_beside_the_nik(
    app: FastAPI, console: httpx.AsyncClient, agencies: Agencies
) -> None:
    csrf = await polres_officer(app, console)

    response = await console.post(
        "/pemeriksaan", data={"nik": "12345", "csrf_token": csrf}, headers=HTML
    )

    assert response.status_code == 422
    assert re.search(r'id="nik-error">.*NIK harus 16 angka', response.text)
    assert 'value="12345"' in response.text


async def test_screening_needs_the_csrf_token_and_a_session(
    app: FastAPI, console: httpx.AsyncClient, agencies: Agencies
) -> None:
    signed_out = await console.get("/pemeriksaan", headers=HTML)
    assert signed_out.status_code == 303  # to the sign-in page
    assert signed_out.headers["location"] == "/"

    await polres_officer(app, console)
    forged = await console.post("/pemeriksaan", data={"nik": NIK}, headers=HTML)
    assert forged.status_code == 403
