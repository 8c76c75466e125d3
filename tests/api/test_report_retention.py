"""Closing a report and the retention purge of its personal data (UU PDP)."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import httpx

from app.db import transaction
from app.models.base import utcnow
from app.services.retention import run_retention
from tests.report_samples import deferral, interception, victim

NIK = "1472035403990002"


async def retention_after(app: Any, days: int) -> None:
    async with transaction(app.state.session_factory) as session:
        await run_retention(session, app.state.settings, now=utcnow() + timedelta(days=days))


async def test_only_the_source_closes_and_closed_reports_stay_readable(
    client: httpx.AsyncClient, agencies: dict[str, dict[str, str]]
) -> None:
    imi = agencies["IMIGRASI-DUMAI"]
    created = (
        await client.post("/v1/reports", json=deferral(recipients=["POLRES-DUMAI"]), headers=imi)
    ).json()
    url = f"/v1/reports/{created['id']}/close"
    assert (await client.post(url, json={}, headers=agencies["POLRES-DUMAI"])).status_code == 403
    assert (await client.post(url, json={}, headers=agencies["LANAL-DUMAI"])).status_code == 404
    closed = await client.post(url, json={"reason": "Berkas P21"}, headers=imi)
    assert closed.status_code == 200
    assert closed.json()["status"] == "CLOSED"
    assert closed.json()["version"] == 2
    read = await client.get(f"/v1/reports/{created['id']}", headers=agencies["POLRES-DUMAI"])
    assert read.json()["status"] == "CLOSED"


async def test_retention_removes_identities_and_keeps_structure(
    app: Any, client: httpx.AsyncClient, agencies: dict[str, dict[str, str]]
) -> None:
    imi = agencies["IMIGRASI-DUMAI"]
    created = (
        await client.post("/v1/reports", json=deferral(recipients=["POLRES-DUMAI"]), headers=imi)
    ).json()
    other = victim("Dewi Lestari", "2000-01-05", "3374014501000003")
    active_body = deferral(external_ref="ACTIVE-1", persons=[other])
    active = (await client.post("/v1/reports", json=active_body, headers=imi)).json()
    await client.post(f"/v1/reports/{created['id']}/close", json={}, headers=imi)

    await retention_after(app, days=10)  # within the retention period: nothing happens
    kept = (await client.get(f"/v1/reports/{created['id']}", headers=imi)).json()
    assert kept["persons"][0]["nik"] == NIK

    await retention_after(app, days=app.state.settings.retention_person_data_days + 1)
    purged = (await client.get(f"/v1/reports/{created['id']}", headers=imi)).json()
    person = purged["persons"][0]
    for field in ("full_name", "nik", "phone", "date_of_birth"):
        assert person.get(field) is None, field
    assert person["role"] == "POTENTIAL_VICTIM"
    assert person["sex"] == "FEMALE"
    assert purged["narrative"] is None
    assert purged["case_type"] == "TPPO"
    assert purged["modus_operandi"] == ["TOURIST_DISGUISE", "NONPROCEDURAL_MIGRANT_WORKER"]

    history = (await client.get(f"/v1/reports/{created['id']}/versions", headers=imi)).json()
    assert NIK not in json.dumps(history)
    assert "Siti" not in json.dumps(history)
    inbox = (
        await client.get(
            "/v1/inbox", params={"include_acked": "true"}, headers=agencies["POLRES-DUMAI"]
        )
    ).json()
    assert "Siti" not in json.dumps(inbox)
    assert NIK not in json.dumps(inbox)

    case = await client.get(f"/v1/cases/{created['case_id']}", headers=imi)
    assert case.status_code == 200  # the case structure survives

    still = (await client.get(f"/v1/reports/{active['id']}", headers=imi)).json()
    assert still["persons"][0]["nik"] == "3374014501000003"  # active reports are untouched

    # the purged person no longer matches: the same woman reported again is a new entity
    later = (
        await client.post("/v1/reports", json=interception(), headers=agencies["LANAL-DUMAI"])
    ).json()
    assert later["persons"][1]["entity_id"] != created["persons"][0]["entity_id"]
    assert later["case_id"] != created["case_id"]

    audit = (
        await client.get(
            "/v1/admin/audit", params={"action": "retention.purge"}, headers=agencies["ADMIN"]
        )
    ).json()
    assert any(created["id"] in e["object_ids"] for e in audit["items"])
