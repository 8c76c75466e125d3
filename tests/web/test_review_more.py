"""Merging two cases or entities and splitting a case by their ids (/tinjauan/lainnya): the
console's page for /v1/admin/cases/merge, /v1/admin/entities/merge and …/cases/{id}/split."""

from __future__ import annotations

from typing import Any

import httpx
from fastapi import FastAPI

from app.models.officer import OfficerRole
from tests.factories import HTML, Agencies, create_officer, sign_in, submit_report
from tests.report_samples import deferral, interception, victim


async def _case(client: httpx.AsyncClient, agencies: Agencies, case_id: str) -> Any:
    answer = await client.get(f"/v1/cases/{case_id}", headers=agencies["ADMIN"])
    assert answer.status_code == 200, answer.text
    return answer.json()


async def _two_cases(client: httpx.AsyncClient, agencies: Agencies) -> tuple[Any, Any]:
    """Two reports about two different women: two cases."""
    one = await submit_report(
        client, agencies["IMIGRASI-DUMAI"], deferral(persons=[victim("Rina Marlina", "1990-01-02")])
    )
    two = await submit_report(
        client,
        agencies["LANAL-DUMAI"],
        interception(persons=[victim("Dewi Lestari", "1988-07-15")]),
    )
    assert one["case_id"] != two["case_id"]
    return one, two


async def test_an_analyst_merges_two_cases_by_id_and_undoes_it(
    app: FastAPI, console: httpx.AsyncClient, client: httpx.AsyncClient, agencies: Agencies
) -> None:
    one, two = await _two_cases(client, agencies)
    analyst = await create_officer(app, "ADMIN", "analis.dua", OfficerRole.ANALYST)
    csrf = await sign_in(console, analyst)
    page = await console.get("/tinjauan/lainnya", headers=HTML)
    assert page.status_code == 200
    assert "Gabungkan dua kasus" in page.text

    refused = await console.post(
        "/tinjauan/lainnya/gabung-kasus",
        data={
            "source_case_id": "bukan-nomor",
            "target_case_id": two["case_id"],
            "csrf_token": csrf,
        },
        headers=HTML,
    )
    assert refused.status_code == 422
    assert 'id="source_case_id-error"' in refused.text
    assert "bukan nomor (id) yang sah" in refused.text
    assert f'value="{two["case_id"]}"' in refused.text  # nothing typed is lost
    same = await console.post(
        "/tinjauan/lainnya/gabung-kasus",
        data={
            "source_case_id": two["case_id"],
            "target_case_id": two["case_id"],
            "csrf_token": csrf,
        },
        headers=HTML,
    )
    assert same.status_code == 422
    assert 'id="target_case_id-error"' in same.text
    assert len((await _case(client, agencies, two["case_id"]))["reports"]) == 1  # unchanged

    merged = await console.post(
        "/tinjauan/lainnya/gabung-kasus",
        data={
            "source_case_id": one["case_id"],
            "target_case_id": two["case_id"],
            "csrf_token": csrf,
        },
    )
    assert merged.status_code == 303
    assert merged.headers["location"] == "/tinjauan/tindakan"
    joined = await _case(client, agencies, two["case_id"])
    assert {r["report_id"] for r in joined["reports"]} == {one["id"], two["id"]}

    actions = await console.get("/tinjauan/tindakan", headers=HTML)
    undo_path = next(
        line.split('href="')[1].split('"')[0]
        for line in actions.text.splitlines()
        if "/urungkan" in line and 'href="' in line
    )
    undone = await console.post(undo_path, data={"csrf_token": csrf})
    assert undone.status_code == 303
    back = await _case(client, agencies, two["case_id"])
    assert {r["report_id"] for r in back["reports"]} == {two["id"]}


async def test_splitting_every_report_out_is_refused_beside_the_field(
    app: FastAPI, console: httpx.AsyncClient, client: httpx.AsyncClient, agencies: Agencies
) -> None:
    one, _two = await _two_cases(client, agencies)
    analyst = await create_officer(app, "ADMIN", "analis.tiga", OfficerRole.ANALYST)
    csrf = await sign_in(console, analyst)
    refused = await console.post(
        "/tinjauan/lainnya/pisah-kasus",
        data={"case_id": one["case_id"], "report_ids": one["id"], "csrf_token": csrf},
        headers=HTML,
    )
    assert refused.status_code == 422
    assert 'id="report_ids-error"' in refused.text
    assert "Sisakan paling sedikit satu laporan" in refused.text
    no_csrf = await console.post(
        "/tinjauan/lainnya/gabung-entitas",
        data={"source_entity_id": one["case_id"], "target_entity_id": one["case_id"]},
    )
    assert no_csrf.status_code == 403


async def test_an_officer_gets_the_consoles_404(
    app: FastAPI, console: httpx.AsyncClient, agencies: Agencies
) -> None:
    del agencies
    officer = await create_officer(app, "IMIGRASI-DUMAI", "petugas.empat")
    csrf = await sign_in(console, officer)
    assert (await console.get("/tinjauan/lainnya", headers=HTML)).status_code == 404
    answer = await console.post(
        "/tinjauan/lainnya/gabung-kasus", data={"csrf_token": csrf}, headers=HTML
    )
    assert answer.status_code == 404
