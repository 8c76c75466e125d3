"""Watches (Pantauan) over HTTP: watch a person (typed, or from a screening), list, remove;
another agency's watches are neither listed nor removable."""

from __future__ import annotations

import re

import httpx
from fastapi import FastAPI

from tests.factories import Agencies, create_officer, sign_in

HTML = {"accept": "text/html,application/xhtml+xml,*/*;q=0.8"}
NIK = "1472035403990002"


async def officer_of(app: FastAPI, console: httpx.AsyncClient, code: str) -> str:
    officer = await create_officer(app, code, f"petugas.{code.lower()}")
    return await sign_in(console, officer)


async def test_an_officer_watches_a_person_sees_the_watch_and_removes_it(
    app: FastAPI, console: httpx.AsyncClient, client: httpx.AsyncClient, agencies: Agencies
) -> None:
    csrf = await officer_of(app, console, "IMIGRASI-DUMAI")

    created = await console.post(
        "/pantauan",
        data={
            "csrf_token": csrf,
            "full_name": "Siti Nurhaliza",
            "date_of_birth": "14/03/1999",
            "note": "PERM-0001",
        },
        headers=HTML,
    )
    assert created.status_code == 303
    listing = await console.get("/pantauan", headers=HTML)
    assert "Orang ini sekarang dipantau" in listing.text
    assert "Siti Nurhaliza" in listing.text
    assert "lahir 14 Maret 1999" in listing.text
    assert "PERM-0001" in listing.text
    api = await client.get("/v1/watches", headers=agencies["IMIGRASI-DUMAI"])
    [watch] = api.json()["items"]
    assert watch["person"]["date_of_birth"] == "1999-03-14"

    removed = await console.post(
        f"/pantauan/{watch['id']}/hapus", data={"csrf_token": csrf}, headers=HTML
    )
    assert removed.status_code == 303
    after = await console.get("/pantauan", headers=HTML)
    assert "Pantauan dihapus." in after.text
    assert "Siti Nurhaliza" not in after.text


async def test_a_screened_person_can_be_watched_from_the_answer(
    app: FastAPI, console: httpx.AsyncClient, client: httpx.AsyncClient, agencies: Agencies
) -> None:
    csrf = await officer_of(app, console, "IMIGRASI-DUMAI")
    answer = await console.post("/pemeriksaan", data={"nik": NIK, "csrf_token": csrf}, headers=HTML)
    form = re.search(r'<form method="post" action="/pantauan".*?</form>', answer.text, re.S)
    assert form is not None
    fields = dict(re.findall(r'name="([a-z_]+)" value="([^"]*)"', form.group(0)))
    assert fields["nik"] == NIK

    created = await console.post("/pantauan", data=fields, headers=HTML)

    assert created.status_code == 303
    api = await client.get("/v1/watches", headers=agencies["IMIGRASI-DUMAI"])
    assert [w["person"]["nik"] for w in api.json()["items"]] == [NIK]


async def test_a_vague_person_is_refused_beside_the_field_and_not_watched(
    app: FastAPI, console: httpx.AsyncClient, client: httpx.AsyncClient, agencies: Agencies
) -> None:
    csrf = await officer_of(app, console, "IMIGRASI-DUMAI")

    response = await console.post(
        "/pantauan", data={"csrf_token": csrf, "full_name": "Siti"}, headers=HTML
    )

    assert response.status_code == 422
    assert re.search(r'id="date_of_birth-error">.*Nama saja tidak cukup', response.text)
    assert 'value="Siti"' in response.text
    api = await client.get("/v1/watches", headers=agencies["IMIGRASI-DUMAI"])
    assert api.json()["items"] == []


async def test_another_agencys_watch_is_not_listed_and_removing_it_is_404(
    app: FastAPI, console: httpx.AsyncClient, client: httpx.AsyncClient, agencies: Agencies
) -> None:
    theirs = await client.post(
        "/v1/watches",
        json={"person": {"nik": NIK}, "note": "LANAL-0009"},
        headers=agencies["LANAL-DUMAI"],
    )
    assert theirs.status_code == 201
    csrf = await officer_of(app, console, "IMIGRASI-DUMAI")

    listing = await console.get("/pantauan", headers=HTML)
    removed = await console.post(
        f"/pantauan/{theirs.json()['id']}/hapus", data={"csrf_token": csrf}, headers=HTML
    )

    assert "LANAL-0009" not in listing.text
    assert NIK not in listing.text
    assert removed.status_code == 404
    assert removed.headers["content-type"].startswith("text/html")
    still = await client.get("/v1/watches", headers=agencies["LANAL-DUMAI"])
    assert len(still.json()["items"]) == 1
