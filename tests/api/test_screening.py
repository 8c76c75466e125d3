"""Screening through the HTTP API: hits, need-to-know across agencies, validation, audit."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import orjson
import pytest
from sqlalchemy import func, select

from app.main import create_app
from app.models import PersonEntity, PersonKey, ReportPerson
from tests.api.audit_support import audit_events
from tests.conftest import make_settings
from tests.factories import (
    Agencies,
    dumai_agencies,
    submit_report,
)
from tests.report_samples import deferral, interception

NIK = "1472035403990002"
#: The woman of the sample deferral, as an officer at another counter would type her in.
WOMAN = {"full_name": "SITI NURHALIZA", "date_of_birth": "1999-03-14", "nik": "1472-0354-0399-0002"}
STRANGER = {
    "full_name": "Bambang Pamungkas",
    "date_of_birth": "1980-06-10",
    "nik": "3374011006800005",
}


async def screen(
    client: httpx.AsyncClient, headers: dict[str, str], *persons: dict[str, Any]
) -> list[dict[str, Any]]:
    response = await client.post("/v1/screenings", json={"persons": list(persons)}, headers=headers)
    assert response.status_code == 200, response.text
    results: list[dict[str, Any]] = response.json()["results"]
    return results


async def test_hit_names_the_agency_to_contact_but_not_the_report(
    client: httpx.AsyncClient, agencies: Agencies
) -> None:
    created = await submit_report(client, agencies["IMIGRASI-DUMAI"], deferral())
    woman = created["persons"][0]

    [result] = await screen(client, agencies["POLRES-DUMAI"], WOMAN)
    assert result["hit"] is True
    [hit] = result["hits"]
    assert hit["match"] == "LINK"
    assert hit["contact_agency"] == "IMIGRASI-DUMAI"
    assert hit["entity_id"] == woman["entity_id"]
    assert hit["case_id"] == created["case_id"]
    assert hit["score"] >= 0.95
    assert any("NIK" in reason for reason in hit["reasons"]), hit["reasons"]
    assert hit["report_id"] is None  # POLRES may not read the deferral
    assert hit["restricted"] is False

    # The holder itself and an admin may read the report: they get its id.
    [own] = await screen(client, agencies["IMIGRASI-DUMAI"], WOMAN)
    assert own["hits"][0]["report_id"] == created["id"]
    [admin] = await screen(client, agencies["ADMIN"], WOMAN)
    assert admin["hits"][0]["report_id"] == created["id"]


async def test_a_recipient_gets_the_report_id(
    client: httpx.AsyncClient, agencies: Agencies
) -> None:
    created = await submit_report(
        client, agencies["IMIGRASI-DUMAI"], deferral(recipients=["POLRES-DUMAI"])
    )
    [polres] = await screen(client, agencies["POLRES-DUMAI"], WOMAN)
    assert polres["hits"][0]["report_id"] == created["id"]
    [lanal] = await screen(client, agencies["LANAL-DUMAI"], WOMAN)
    assert lanal["hits"][0]["report_id"] is None


async def test_no_hit_for_someone_never_reported(
    client: httpx.AsyncClient, agencies: Agencies
) -> None:
    await submit_report(client, agencies["IMIGRASI-DUMAI"], deferral())
    [result] = await screen(client, agencies["POLRES-DUMAI"], STRANGER)
    assert result == {"index": 0, "hit": False, "hits": [], "warnings": []}


async def test_batch_answers_each_person_in_order(
    client: httpx.AsyncClient, agencies: Agencies
) -> None:
    deferred = await submit_report(client, agencies["IMIGRASI-DUMAI"], deferral())
    intercepted = await submit_report(client, agencies["LANAL-DUMAI"], interception())
    recruiter = {"full_name": "Hendra Saputra", "birth_year": 1985, "phone": "081371002211"}
    results = await screen(client, agencies["POLRES-DUMAI"], STRANGER, WOMAN, recruiter)
    assert [r["index"] for r in results] == [0, 1, 2]
    assert [r["hit"] for r in results] == [False, True, True]
    # The woman appears in both reports: one hit per holding agency, both in one case.
    assert {h["contact_agency"] for h in results[1]["hits"]} == {"IMIGRASI-DUMAI", "LANAL-DUMAI"}
    assert {h["case_id"] for h in results[1]["hits"]} == {deferred["case_id"]}
    [recruiter_hit] = results[2]["hits"]
    assert recruiter_hit["contact_agency"] == "LANAL-DUMAI"
    assert recruiter_hit["entity_id"] == intercepted["persons"][0]["entity_id"]


@pytest.mark.parametrize("tlp", ["RED", "AMBER_STRICT"])
async def test_restricted_reports_are_left_out_for_outsiders(
    client: httpx.AsyncClient, agencies: Agencies, tlp: str
) -> None:
    created = await submit_report(
        client,
        agencies["LANAL-DUMAI"],
        interception(tlp=tlp, recipients=["POLRES-DUMAI"]),
    )
    [outsider] = await screen(client, agencies["IMIGRASI-DUMAI"], WOMAN)
    assert outsider == {"index": 0, "hit": False, "hits": [], "warnings": []}

    [recipient] = await screen(client, agencies["POLRES-DUMAI"], WOMAN)
    assert recipient["hit"] is True
    assert recipient["hits"][0]["report_id"] == created["id"]
    assert recipient["hits"][0]["restricted"] is False


@pytest.fixture
async def revealing_app(database_url: str) -> AsyncIterator[Any]:
    application = create_app(make_settings(database_url, screening_reveal_red=True))
    yield application
    await application.state.engine.dispose()


async def test_red_hit_only_says_whom_to_contact_when_the_setting_allows(
    revealing_app: Any,
) -> None:
    transport = httpx.ASGITransport(app=revealing_app)
    async with httpx.AsyncClient(transport=transport, base_url="http://sinergi.test") as client:
        agencies = await dumai_agencies(revealing_app, client)
        await submit_report(
            client, agencies["LANAL-DUMAI"], interception(tlp="RED", recipients=["POLRES-DUMAI"])
        )
        [outsider] = await screen(client, agencies["IMIGRASI-DUMAI"], WOMAN)
        assert outsider["hit"] is True
        assert outsider["hits"] == [
            {
                "match": "LINK",
                "contact_agency": "LANAL-DUMAI",
                "restricted": True,
                "entity_id": None,
                "score": None,
                "reasons": [],
                "case_id": None,
                "report_id": None,
            }
        ]
        [recipient] = await screen(client, agencies["POLRES-DUMAI"], WOMAN)
        assert recipient["hits"][0]["restricted"] is False
        assert recipient["hits"][0]["report_id"] is not None


async def test_retracted_reports_never_hit(client: httpx.AsyncClient, agencies: Agencies) -> None:
    created = await submit_report(client, agencies["IMIGRASI-DUMAI"], deferral())
    [before] = await screen(client, agencies["POLRES-DUMAI"], WOMAN)
    assert before["hit"] is True
    retracted = await client.post(
        f"/v1/reports/{created['id']}/retract",
        json={"reason": "Salah input"},
        headers=agencies["IMIGRASI-DUMAI"],
    )
    assert retracted.status_code == 200, retracted.text
    [after] = await screen(client, agencies["POLRES-DUMAI"], WOMAN)
    assert after["hit"] is False
    assert after["hits"] == []


async def _counts(app: Any) -> tuple[int, int, int]:
    async with app.state.session_factory() as session:
        return (
            await session.scalar(select(func.count()).select_from(ReportPerson)),
            await session.scalar(select(func.count()).select_from(PersonKey)),
            await session.scalar(select(func.count()).select_from(PersonEntity)),
        )


async def test_screening_stores_nothing_and_audits_counts_only(
    app: Any, client: httpx.AsyncClient, agencies: Agencies
) -> None:
    await submit_report(client, agencies["IMIGRASI-DUMAI"], deferral())
    before = await _counts(app)
    await screen(client, agencies["POLRES-DUMAI"], WOMAN, STRANGER)
    assert await _counts(app) == before

    [event] = await audit_events(app, action="screening.query")
    assert event.outcome == "success"
    assert event.detail["persons"] == "2"
    assert event.detail["persons_with_hits"] == "1"
    recorded = orjson.dumps(
        {c.name: getattr(event, c.name) for c in event.__table__.columns}, default=str
    ).decode()
    for identifier in (NIK, "1472-0354", "NURHALIZA", "Nurhaliza", "Bambang", "1999-03-14"):
        assert identifier not in recorded


async def _problem(
    client: httpx.AsyncClient, headers: dict[str, str], body: dict[str, Any]
) -> dict[str, Any]:
    response = await client.post("/v1/screenings", json=body, headers=headers)
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    problem: dict[str, Any] = response.json()
    return problem


async def test_vague_persons_are_refused_naming_the_fields(
    client: httpx.AsyncClient, agencies: Agencies
) -> None:
    headers = agencies["POLRES-DUMAI"]
    problem = await _problem(
        client,
        headers,
        {"persons": [WOMAN, {"sex": "FEMALE", "nationality": "IDN"}, {"full_name": "Siti"}]},
    )
    assert [(e["pointer"], e["code"]) for e in problem["errors"]] == [
        ("/persons/1", "no_identifying_field"),
        ("/persons/2/date_of_birth", "name_needs_birth_date"),
    ]
    # A birth date alone is no better than nothing.
    problem = await _problem(client, headers, {"persons": [{"date_of_birth": "1999-03-14"}]})
    assert problem["errors"][0]["pointer"] == "/persons/0"


async def test_malformed_identifiers_are_refused(
    client: httpx.AsyncClient, agencies: Agencies
) -> None:
    headers = agencies["POLRES-DUMAI"]
    body = {
        "persons": [
            {"nik": "14720354"},
            {"phone": "not a phone"},
            {"passport_number": "???", "nationality": "IDN"},
        ]
    }
    problem = await _problem(client, headers, body)
    pointers = {e["pointer"] for e in problem["errors"]}
    assert pointers == {"/persons/0/nik", "/persons/1/phone", "/persons/2/passport_number"}


async def test_batch_bounds_and_unknown_fields(
    client: httpx.AsyncClient, agencies: Agencies
) -> None:
    headers = agencies["POLRES-DUMAI"]
    assert (await _problem(client, headers, {"persons": []}))["errors"][0]["pointer"] == "/persons"
    too_many = {"persons": [STRANGER] * 101}
    assert (await _problem(client, headers, too_many))["errors"][0]["pointer"] == "/persons"
    extra = {"persons": [{**WOMAN, "role": "VICTIM"}]}
    assert (await _problem(client, headers, extra))["errors"][0]["pointer"] == "/persons/0/role"
    ok = await client.post("/v1/screenings", json={"persons": [STRANGER] * 100}, headers=headers)
    assert ok.status_code == 200
    assert len(ok.json()["results"]) == 100


async def test_screening_needs_a_token(client: httpx.AsyncClient) -> None:
    response = await client.post("/v1/screenings", json={"persons": [WOMAN]})
    assert response.status_code == 401


async def test_reasons_do_not_reveal_stored_values_to_outsiders(
    client: httpx.AsyncClient, agencies: Agencies
) -> None:
    await submit_report(client, agencies["IMIGRASI-DUMAI"], deferral())
    # One digit of the NIK mistyped, the name spelled apart: a near miss compare explains with
    # values.
    near_miss = {
        "full_name": "Siti Nur Haliza",
        "date_of_birth": "1999-03-14",
        "nik": NIK[:-1] + "9",
    }

    [outsider] = await screen(client, agencies["POLRES-DUMAI"], near_miss)
    [holder] = await screen(client, agencies["IMIGRASI-DUMAI"], near_miss)
    assert outsider["hits"]
    assert holder["hits"]
    holder_reasons = " ".join(holder["hits"][0]["reasons"])
    outsider_reasons = " ".join(outsider["hits"][0]["reasons"])
    assert NIK in holder_reasons  # the holder may read its own report's values
    assert "Nurhaliza" in holder_reasons
    assert NIK not in outsider_reasons
    assert "Nurhaliza" not in outsider_reasons
    assert any(r.startswith("NIK differs by one character") for r in outsider["hits"][0]["reasons"])
