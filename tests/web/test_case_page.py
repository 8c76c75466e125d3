"""The case page (Kasus) over HTTP: its reports and persons within need-to-know, the network's
data, and the console's 404 for a case the officer's agency may not see."""

from __future__ import annotations

import json
import re
import uuid

import httpx
from fastapi import FastAPI

from tests.factories import Agencies, create_officer, sign_in, submit_report
from tests.report_samples import deferral, interception

HTML = {"accept": "text/html,application/xhtml+xml,*/*;q=0.8"}


async def officer_of(app: FastAPI, console: httpx.AsyncClient, code: str) -> str:
    officer = await create_officer(app, code, f"petugas.{code.lower()}")
    return await sign_in(console, officer)


def graph_of(page: str) -> dict[str, list[dict[str, object]]]:
    found = re.search(r'id="case-graph-data">(.*?)</script>', page, re.S)
    assert found is not None
    data: dict[str, list[dict[str, object]]] = json.loads(found.group(1))
    return data


async def test_the_holder_sees_its_report_the_persons_and_the_network(
    app: FastAPI, console: httpx.AsyncClient, client: httpx.AsyncClient, agencies: Agencies
) -> None:
    created = await submit_report(client, agencies["IMIGRASI-DUMAI"], deferral())
    await officer_of(app, console, "IMIGRASI-DUMAI")

    response = await console.get(f"/kasus/{created['case_id']}", headers=HTML)

    assert response.status_code == 200
    page = response.text
    assert f'href="/laporan/{created["id"]}"' in page
    assert "Siti Nurhaliza binti Ahmad" in page
    assert "/static/vendor/cytoscape/cytoscape.min.js" in page
    graph = graph_of(page)
    kinds = sorted(str(n["kind"]) for n in graph["nodes"])
    assert kinds == ["person", "report"]
    assert len(graph["edges"]) == 1


async def test_another_agencys_report_is_only_named_and_its_persons_stay_hidden(
    app: FastAPI, console: httpx.AsyncClient, client: httpx.AsyncClient, agencies: Agencies
) -> None:
    own = await submit_report(client, agencies["IMIGRASI-DUMAI"], deferral())
    other = await submit_report(client, agencies["LANAL-DUMAI"], interception())
    assert other["case_id"] == own["case_id"]
    await officer_of(app, console, "IMIGRASI-DUMAI")

    page = (await console.get(f"/kasus/{own['case_id']}", headers=HTML)).text

    assert "Laporan lain, dipegang oleh Agency LANAL-DUMAI" in page
    assert other["id"] not in page
    assert "Hendra Saputra" not in page  # named only in the Navy's report
    assert "Siti Nur Haliza" not in page  # the Navy's spelling of her name
    graph = graph_of(page)
    assert sorted(str(n["kind"]) for n in graph["nodes"]) == ["hidden", "person", "report"]


async def test_a_red_report_of_another_agency_does_not_appear_at_all(
    app: FastAPI, console: httpx.AsyncClient, client: httpx.AsyncClient, agencies: Agencies
) -> None:
    own = await submit_report(client, agencies["IMIGRASI-DUMAI"], deferral())
    await submit_report(
        client, agencies["LANAL-DUMAI"], interception(tlp="RED", recipients=["POLRES-DUMAI"])
    )
    await officer_of(app, console, "IMIGRASI-DUMAI")

    page = (await console.get(f"/kasus/{own['case_id']}", headers=HTML)).text

    assert "LANAL-DUMAI" not in page


async def test_an_outsider_gets_the_404_page_exactly_as_for_a_missing_case(
    app: FastAPI, console: httpx.AsyncClient, client: httpx.AsyncClient, agencies: Agencies
) -> None:
    created = await submit_report(client, agencies["IMIGRASI-DUMAI"], deferral())
    await officer_of(app, console, "POLRES-DUMAI")

    same_id = {**HTML, "X-Request-ID": "kasus-0001"}  # the error page quotes it
    hidden = await console.get(f"/kasus/{created['case_id']}", headers=same_id)
    missing = await console.get(f"/kasus/{uuid.uuid4()}", headers=same_id)
    malformed = await console.get("/kasus/bukan-kasus", headers=same_id)

    assert hidden.status_code == missing.status_code == malformed.status_code == 404
    assert hidden.headers["content-type"].startswith("text/html")
    assert "Siti" not in hidden.text
    assert hidden.text.replace(created["case_id"], "") == missing.text.replace(
        missing.url.path.rsplit("/", 1)[1], ""
    )
