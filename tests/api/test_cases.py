"""Person resolution, cases and networks through the API, within need-to-know."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
from sqlalchemy import select

from app.db import transaction
from app.models.resolution import Case
from tests.factories import (
    submit_report,
)
from tests.report_samples import deferral, interception, recruiter, victim


async def test_same_woman_from_two_agencies_lands_in_one_case(
    client: httpx.AsyncClient, agencies: dict[str, dict[str, str]]
) -> None:
    first = await submit_report(client, agencies["IMIGRASI-DUMAI"], deferral())
    second = await submit_report(client, agencies["LANAL-DUMAI"], interception())
    woman_first = first["persons"][0]
    woman_second = second["persons"][1]
    assert woman_second["entity_id"] == woman_first["entity_id"]
    assert second["case_id"] == first["case_id"]
    assert woman_second["score"] >= 0.95
    assert any("NIK" in reason for reason in woman_second["reasons"]), woman_second["reasons"]
    assert "binti Ahmad" not in str(second)  # Immigration's spelling is not the Navy's to see
    assert second["persons"][0]["entity_id"] != woman_first["entity_id"]  # the recruiter


async def test_a_report_joining_a_case_leaves_no_case_of_its_own(
    app: Any, client: httpx.AsyncClient, agencies: dict[str, dict[str, str]]
) -> None:
    """A new report is stored with a case opened for it (PostgreSQL); joining the case of a
    report sharing its victim drops that one: the store holds one case, not an empty second."""
    first = await submit_report(client, agencies["IMIGRASI-DUMAI"], deferral())
    second = await submit_report(client, agencies["LANAL-DUMAI"], interception())
    assert second["case_id"] == first["case_id"]
    async with transaction(app.state.session_factory) as session:
        cases = (await session.execute(select(Case.id, Case.merged_into_id))).all()
    assert [tuple(c) for c in cases] == [(uuid.UUID(first["case_id"]), None)]


async def test_case_view_hides_what_the_caller_may_not_read(
    client: httpx.AsyncClient, agencies: dict[str, dict[str, str]]
) -> None:
    first = await submit_report(client, agencies["IMIGRASI-DUMAI"], deferral())
    await submit_report(client, agencies["LANAL-DUMAI"], interception())
    red = interception(external_ref="LANAL-RED-1", tlp="RED", recipients=["POLRES-DUMAI"])
    await submit_report(client, agencies["LANAL-DUMAI"], red)
    case_url = f"/v1/cases/{first['case_id']}"

    seen_by_imi = (await client.get(case_url, headers=agencies["IMIGRASI-DUMAI"])).json()
    reports = seen_by_imi["reports"]
    assert [r["visible"] for r in reports] == [True, False]  # the RED one is absent
    assert reports[1] == {
        "visible": False,
        "held_by": "LANAL-DUMAI",
        "report_id": None,
        "case_type": None,
        "tlp": None,
        "status": None,
        "region_code": None,
        "reported_at": None,
    }
    assert all(link["report_id"] == first["id"] for link in seen_by_imi["links"])

    seen_by_admin = (await client.get(case_url, headers=agencies["ADMIN"])).json()
    assert [r["visible"] for r in seen_by_admin["reports"]] == [True, True, True]
    shared = [link for link in seen_by_admin["links"] if link["kind"] == "shared_person"]
    assert shared
    assert all(link["score"] and link["reasons"] for link in shared)

    seen_by_polres = (await client.get(case_url, headers=agencies["POLRES-DUMAI"])).json()
    assert [r["visible"] for r in seen_by_polres["reports"]] == [False, False, True]

    cases = (await client.get("/v1/cases", headers=agencies["IMIGRASI-DUMAI"])).json()
    assert [c["id"] for c in cases["items"]] == [first["case_id"]]
    assert cases["items"][0]["visible_reports"] == 1


async def test_case_of_no_visible_report_is_404(
    client: httpx.AsyncClient, agencies: dict[str, dict[str, str]]
) -> None:
    first = await submit_report(client, agencies["IMIGRASI-DUMAI"], deferral())
    response = await client.get(f"/v1/cases/{first['case_id']}", headers=agencies["POLRES-DUMAI"])
    assert response.status_code == 404
    network = await client.get(
        f"/v1/persons/{first['persons'][0]['entity_id']}/network", headers=agencies["POLRES-DUMAI"]
    )
    assert network.status_code == 404


async def test_recruiter_in_five_reports_is_one_person_with_five_victims(
    client: httpx.AsyncClient, agencies: dict[str, dict[str, str]]
) -> None:
    victims = [
        ("Dewi Lestari", "2000-01-05", "3374014501000003"),
        ("Ayu Wulandari", "1998-07-21", "3374016107980001"),
        ("Rina Marlina", "2001-12-30", "3201017012010002"),
        ("Sri Mulyani", "1997-02-11", "3578015102970004"),
        ("Nur Aini", "2002-09-09", "1471014909020001"),
    ]
    spellings = [
        "Hendra Saputra",
        "HENDRA SAPUTRA",
        "Hendra  Saputra",
        "hendra saputra",
        "Hendra Saputra",
    ]
    phones = [
        "+62 813-7100-2211",
        "081371002211",
        "6281371002211",
        "0813 7100 2211",
        "+6281371002211",
    ]
    recruiter_ids = set()
    for i, ((name, dob, nik), spelled, phone) in enumerate(
        zip(victims, spellings, phones, strict=True)
    ):
        body = interception(
            external_ref=f"LANAL/{i}", persons=[recruiter(spelled, phone), victim(name, dob, nik)]
        )
        result = await submit_report(client, agencies["LANAL-DUMAI"], body)
        recruiter_ids.add(result["persons"][0]["entity_id"])
    assert len(recruiter_ids) == 1
    entity = recruiter_ids.pop()
    network = await client.get(f"/v1/persons/{entity}/network", headers=agencies["LANAL-DUMAI"])
    assert network.status_code == 200
    body = network.json()
    assert len(body["appearances"]) == 5
    victims_seen = [a for a in body["associates"] if "VICTIM" in a["roles"]]
    assert len(victims_seen) == 5
    assert {n for a in victims_seen for n in a["names"]} == {v[0] for v in victims}
    cases = (await client.get("/v1/cases", headers=agencies["LANAL-DUMAI"])).json()["items"]
    assert len(cases) == 5  # a recruiter connects cases in the network; he does not merge them


async def test_retracted_report_stops_linking(
    client: httpx.AsyncClient, agencies: dict[str, dict[str, str]]
) -> None:
    first = await submit_report(client, agencies["IMIGRASI-DUMAI"], deferral())
    retract = await client.post(
        f"/v1/reports/{first['id']}/retract",
        json={"reason": "salah input"},
        headers=agencies["IMIGRASI-DUMAI"],
    )
    assert retract.status_code == 200
    second = await submit_report(client, agencies["LANAL-DUMAI"], interception())
    assert second["persons"][1]["entity_id"] != first["persons"][0]["entity_id"]
    assert second["case_id"] != first["case_id"]


async def test_admin_merges_and_splits_entities_and_undoes(
    client: httpx.AsyncClient, agencies: dict[str, dict[str, str]]
) -> None:
    a = await submit_report(
        client, agencies["IMIGRASI-DUMAI"], deferral(persons=[victim("Wati", "1990-01-01")])
    )
    b = await submit_report(
        client,
        agencies["IMIGRASI-DUMAI"],
        deferral(external_ref="X2", persons=[victim("Suwarni", "1980-05-05")]),
    )
    ea, eb = a["persons"][0]["entity_id"], b["persons"][0]["entity_id"]
    assert ea != eb
    assert a["case_id"] != b["case_id"]
    admin = agencies["ADMIN"]
    denied = await client.post(
        "/v1/admin/entities/merge",
        json={"source_entity_id": eb, "target_entity_id": ea},
        headers=agencies["IMIGRASI-DUMAI"],
    )
    assert denied.status_code == 403
    merged = await client.post(
        "/v1/admin/entities/merge",
        json={"source_entity_id": eb, "target_entity_id": ea},
        headers=admin,
    )
    assert merged.status_code == 201, merged.text
    read_b = await client.get(f"/v1/cases/{b['case_id']}", headers=admin)
    assert read_b.json()["id"] == a["case_id"]  # the shared victim joined the two cases
    network = (await client.get(f"/v1/persons/{eb}/network", headers=admin)).json()
    assert network["entity_id"] == ea
    assert len(network["appearances"]) == 2

    undone = await client.post(
        f"/v1/admin/resolution-actions/{merged.json()['id']}/undo", headers=admin
    )
    assert undone.status_code == 200
    assert undone.json()["undone_at"]
    again = await client.post(
        f"/v1/admin/resolution-actions/{merged.json()['id']}/undo", headers=admin
    )
    assert again.status_code == 409
    assert (await client.get(f"/v1/cases/{b['case_id']}", headers=admin)).json()["id"] == b[
        "case_id"
    ]
    assert (
        len((await client.get(f"/v1/persons/{ea}/network", headers=admin)).json()["appearances"])
        == 1
    )

    split = await client.post(
        f"/v1/admin/entities/{ea}/split",
        json={"persons": [{"report_id": a["id"], "person_index": 0}]},
        headers=admin,
    )
    assert split.status_code == 201, split.text
    new_entity = split.json()["result_id"]
    assert (await client.get(f"/v1/persons/{new_entity}/network", headers=admin)).status_code == 200
    wrong = await client.post(
        f"/v1/admin/entities/{ea}/split",
        json={"persons": [{"report_id": b["id"], "person_index": 0}]},
        headers=admin,
    )
    assert wrong.status_code == 422
    assert wrong.json()["errors"][0]["pointer"] == "/persons/0"


async def test_admin_splits_and_merges_cases(
    client: httpx.AsyncClient, agencies: dict[str, dict[str, str]]
) -> None:
    first = await submit_report(client, agencies["IMIGRASI-DUMAI"], deferral())
    second = await submit_report(client, agencies["LANAL-DUMAI"], interception())
    admin = agencies["ADMIN"]
    split = await client.post(
        f"/v1/admin/cases/{first['case_id']}/split",
        json={"report_ids": [second["id"]]},
        headers=admin,
    )
    assert split.status_code == 201, split.text
    new_case = split.json()["result_id"]
    assert [
        r["report_id"]
        for r in (await client.get(f"/v1/cases/{new_case}", headers=admin)).json()["reports"]
    ] == [second["id"]]
    merged = await client.post(
        "/v1/admin/cases/merge",
        json={"source_case_id": new_case, "target_case_id": first["case_id"]},
        headers=admin,
    )
    assert merged.status_code == 201
    assert (
        len((await client.get(f"/v1/cases/{first['case_id']}", headers=admin)).json()["reports"])
        == 2
    )


async def test_possible_match_is_reviewed_by_an_admin(
    client: httpx.AsyncClient, agencies: dict[str, dict[str, str]]
) -> None:
    a = await submit_report(
        client,
        agencies["IMIGRASI-DUMAI"],
        deferral(persons=[victim("Siti Rahmawati", "1995-06-10")]),
    )
    # the same name with no birth date at all: not enough to link, enough to ask an analyst
    undated = {
        "role": "VICTIM",
        "full_name": "Siti Rahmawati",
        "sex": "FEMALE",
        "nationality": "IDN",
    }
    b = await submit_report(client, agencies["LANAL-DUMAI"], interception(persons=[undated]))
    assert b["persons"][0]["entity_id"] != a["persons"][0]["entity_id"]
    admin = agencies["ADMIN"]
    matches = (await client.get("/v1/admin/possible-matches", headers=admin)).json()["items"]
    assert [m["candidate_entity_id"] for m in matches] == [a["persons"][0]["entity_id"]]
    assert matches[0]["report_id"] == b["id"]
    assert 0.5 <= matches[0]["score"] < 0.9
    denied = await client.get("/v1/admin/possible-matches", headers=agencies["LANAL-DUMAI"])
    assert denied.status_code == 403
    decided = await client.post(
        f"/v1/admin/possible-matches/{matches[0]['id']}/decision",
        json={"decision": "accept"},
        headers=admin,
    )
    assert decided.status_code == 200
    assert decided.json()["status"] == "accepted"
    assert decided.json()["person_entity_id"] == matches[0]["candidate_entity_id"]
    twice = await client.post(
        f"/v1/admin/possible-matches/{matches[0]['id']}/decision",
        json={"decision": "reject"},
        headers=admin,
    )
    assert twice.status_code == 409
