"""One watch and its hits through the HTTP API (``GET /v1/watches/{id}`` and ``…/hits``): what
each hit says, the report only while the watcher may read it, new until acknowledged, and
another agency's watch answered exactly like one that does not exist."""

from __future__ import annotations

import uuid
from typing import Any

import httpx

from tests.factories import Agencies, submit_report
from tests.report_samples import interception

WOMAN = {"full_name": "Siti Nurhaliza binti Ahmad", "date_of_birth": "1999-03-14"}
WOMAN_NIK = "1472035403990002"


async def watched(client: httpx.AsyncClient, headers: dict[str, str]) -> str:
    response = await client.post(
        "/v1/watches",
        json={"person": {**WOMAN, "nik": WOMAN_NIK}, "note": "PERM-0001"},
        headers=headers,
    )
    assert response.status_code == 201, response.text
    watch_id: str = response.json()["id"]
    return watch_id


async def hits_of(
    client: httpx.AsyncClient, headers: dict[str, str], watch_id: str, **params: Any
) -> dict[str, Any]:
    response = await client.get(f"/v1/watches/{watch_id}/hits", params=params, headers=headers)
    assert response.status_code == 200, response.text
    page: dict[str, Any] = response.json()
    return page


async def test_a_hit_on_a_report_the_watcher_may_not_read_names_only_whom_to_contact(
    client: httpx.AsyncClient, agencies: Agencies
) -> None:
    imi = agencies["IMIGRASI-DUMAI"]
    watch_id = await watched(client, imi)
    assert (await hits_of(client, imi, watch_id))["items"] == []

    report = await submit_report(client, agencies["LANAL-DUMAI"], interception())

    [hit] = (await hits_of(client, imi, watch_id))["items"]
    assert hit["new"] is True
    assert hit["contact_agency"] == "LANAL-DUMAI"
    assert hit["report_id"] is None
    assert hit["external_ref"] is None
    assert hit["score"] >= 0.95
    assert any("NIK" in reason for reason in hit["reasons"])
    assert not any("Siti Nur Haliza" in reason for reason in hit["reasons"])  # LANAL's spelling
    assert report["id"] not in str(hit)
    read = await client.get(f"/v1/watches/{watch_id}", headers=imi)
    assert read.status_code == 200
    assert read.json()["new_hits"] == 1
    [listed] = (await client.get("/v1/watches", headers=imi)).json()["items"]
    assert listed["new_hits"] == 1


async def test_a_hit_on_a_report_routed_to_the_watcher_names_it_and_acking_makes_it_old(
    client: httpx.AsyncClient, agencies: Agencies
) -> None:
    imi = agencies["IMIGRASI-DUMAI"]
    watch_id = await watched(client, imi)
    report = await submit_report(
        client, agencies["LANAL-DUMAI"], interception(recipients=["IMIGRASI-DUMAI"])
    )

    [hit] = (await hits_of(client, imi, watch_id))["items"]
    assert hit["report_id"] == report["id"]
    assert hit["external_ref"] == "LANAL-DUMAI/2025/0027"
    assert hit["case_id"] == report["case_id"]
    acked = await client.post("/v1/inbox/ack", json={"delivery_ids": [hit["id"]]}, headers=imi)
    assert acked.json()["acked"] == [hit["id"]]

    [after] = (await hits_of(client, imi, watch_id))["items"]
    assert after["new"] is False
    assert (await client.get(f"/v1/watches/{watch_id}", headers=imi)).json()["new_hits"] == 0


async def test_hits_come_newest_first_a_page_at_a_time(
    client: httpx.AsyncClient, agencies: Agencies
) -> None:
    imi = agencies["IMIGRASI-DUMAI"]
    watch_id = await watched(client, imi)
    for number in (27, 28, 29):
        await submit_report(
            client, agencies["LANAL-DUMAI"], interception(external_ref=f"LANAL/2025/{number}")
        )
    police = interception(external_ref="POLRES/2025/1", recipients=["IMIGRASI-DUMAI"])
    await submit_report(client, agencies["POLRES-DUMAI"], police)

    first = await hits_of(client, imi, watch_id, limit=2)
    second = await hits_of(client, imi, watch_id, limit=2, cursor=first["next_cursor"])

    assert [h["contact_agency"] for h in first["items"]] == ["POLRES-DUMAI", "LANAL-DUMAI"]
    assert first["items"][0]["external_ref"] == "POLRES/2025/1"
    assert len(second["items"]) == 2
    assert second["next_cursor"] is None
    assert len({h["id"] for h in first["items"] + second["items"]}) == 4


async def test_another_agencys_watch_answers_exactly_as_a_missing_one(
    client: httpx.AsyncClient, agencies: Agencies
) -> None:
    watch_id = await watched(client, agencies["IMIGRASI-DUMAI"])
    await submit_report(client, agencies["LANAL-DUMAI"], interception())
    missing = str(uuid.uuid4())
    police = agencies["POLRES-DUMAI"]

    for path in ("", "/hits"):
        theirs = await client.get(f"/v1/watches/{watch_id}{path}", headers=police)
        none = await client.get(f"/v1/watches/{missing}{path}", headers=police)
        assert theirs.status_code == none.status_code == 404
        # the same body but for the path it echoes as `instance`
        assert theirs.text.replace(watch_id, missing) == none.text
