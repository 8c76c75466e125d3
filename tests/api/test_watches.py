"""Watches through the HTTP API: create, list, delete, and watch.hit through the inbox."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import update

from app.models import Watch
from tests.factories import (
    Agencies,
    submit_report,
)
from tests.report_samples import deferral, interception

#: The woman of the sample reports, as Immigration recorded her when it deferred her application.
WOMAN = {
    "full_name": "Siti Nurhaliza binti Ahmad",
    "date_of_birth": "1999-03-14",
    "sex": "FEMALE",
    "nik": "1472035403990002",
}


async def watch(
    client: httpx.AsyncClient, headers: dict[str, str], person: dict[str, Any], **extra: Any
) -> dict[str, Any]:
    response = await client.post("/v1/watches", json={"person": person, **extra}, headers=headers)
    assert response.status_code == 201, response.text
    assert response.headers["location"] == f"/v1/watches/{response.json()['id']}"
    created: dict[str, Any] = response.json()
    return created


async def watch_hits(client: httpx.AsyncClient, headers: dict[str, str]) -> list[dict[str, Any]]:
    response = await client.get("/v1/inbox", params={"limit": 200}, headers=headers)
    assert response.status_code == 200, response.text
    return [item for item in response.json()["items"] if item["event"] == "watch.hit"]


async def test_a_later_report_on_the_watched_person_reaches_the_watcher_once(
    client: httpx.AsyncClient, agencies: Agencies
) -> None:
    imi = agencies["IMIGRASI-DUMAI"]
    watched = await watch(client, imi, WOMAN, note="PERM-0001")
    assert watched["active"] is True
    assert {k: v for k, v in watched["person"].items() if v not in (None, [])} == WOMAN

    report = await submit_report(client, agencies["LANAL-DUMAI"], interception())
    [hit] = await watch_hits(client, imi)
    payload = hit["payload"]
    assert payload["watch_id"] == watched["id"]
    assert payload["note"] == "PERM-0001"
    assert payload["contact_agency"] == "LANAL-DUMAI"
    assert payload["case_id"] == report["case_id"]
    assert payload["entity_id"] == report["persons"][1]["entity_id"]  # the woman, not the recruiter
    assert payload["score"] >= 0.95
    assert any("NIK" in reason for reason in payload["reasons"])
    assert payload["report_id"] is None  # IMI was not routed the interception
    assert hit["report_id"] is None

    # Nobody else hears of it; a correction of the same report does not fire again.
    assert await watch_hits(client, agencies["POLRES-DUMAI"]) == []
    assert await watch_hits(client, agencies["LANAL-DUMAI"]) == []
    corrected = interception(narrative="Speedboat tanpa nama, 12 penumpang.")
    put = await client.put(
        f"/v1/reports/{report['id']}",
        json=corrected,
        headers={**agencies["LANAL-DUMAI"], "If-Match": '"1"'},
    )
    assert put.status_code == 200, put.text
    assert len(await watch_hits(client, imi)) == 1

    # A second report about her is a second hit.
    await submit_report(
        client, agencies["POLRES-DUMAI"], interception(external_ref="POLRES/2025/9")
    )
    hits = await watch_hits(client, imi)
    assert [h["payload"]["contact_agency"] for h in hits] == ["LANAL-DUMAI", "POLRES-DUMAI"]


async def test_a_recipient_watcher_gets_the_report_id(
    client: httpx.AsyncClient, agencies: Agencies
) -> None:
    imi = agencies["IMIGRASI-DUMAI"]
    await watch(client, imi, WOMAN)
    report = await submit_report(
        client, agencies["LANAL-DUMAI"], interception(recipients=["IMIGRASI-DUMAI"])
    )
    [hit] = await watch_hits(client, imi)
    assert hit["payload"]["report_id"] == report["id"]
    assert hit["report_id"] == report["id"]


async def test_a_correction_that_names_the_person_fires(
    client: httpx.AsyncClient, agencies: Agencies
) -> None:
    imi = agencies["IMIGRASI-DUMAI"]
    await watch(client, imi, WOMAN)
    only_recruiter = interception()
    only_recruiter["persons"] = only_recruiter["persons"][:1]
    report = await submit_report(client, agencies["LANAL-DUMAI"], only_recruiter)
    assert await watch_hits(client, imi) == []
    put = await client.put(
        f"/v1/reports/{report['id']}",
        json=interception(),
        headers={**agencies["LANAL-DUMAI"], "If-Match": '"1"'},
    )
    assert put.status_code == 200, put.text
    assert len(await watch_hits(client, imi)) == 1


@pytest.mark.parametrize("tlp", ["RED", "AMBER_STRICT"])
async def test_restricted_reports_fire_only_for_recipients(
    client: httpx.AsyncClient, agencies: Agencies, tlp: str
) -> None:
    imi, polres = agencies["IMIGRASI-DUMAI"], agencies["POLRES-DUMAI"]
    await watch(client, imi, WOMAN)
    await watch(client, polres, WOMAN)
    report = await submit_report(
        client, agencies["LANAL-DUMAI"], interception(tlp=tlp, recipients=["POLRES-DUMAI"])
    )
    assert await watch_hits(client, imi) == []
    [hit] = await watch_hits(client, polres)
    assert hit["payload"]["report_id"] == report["id"]


async def test_no_hit_for_the_watchers_own_report(
    client: httpx.AsyncClient, agencies: Agencies
) -> None:
    imi = agencies["IMIGRASI-DUMAI"]
    await watch(client, imi, WOMAN)
    await submit_report(client, imi, deferral())
    assert await watch_hits(client, imi) == []


async def test_an_expired_watch_never_fires(
    app: Any, client: httpx.AsyncClient, agencies: Agencies
) -> None:
    imi = agencies["IMIGRASI-DUMAI"]
    watched = await watch(client, imi, WOMAN)
    async with app.state.session_factory() as session, session.begin():
        await session.execute(
            update(Watch).values(expires_at=datetime.now(UTC) - timedelta(minutes=1))
        )
    await submit_report(client, agencies["LANAL-DUMAI"], interception())
    assert await watch_hits(client, imi) == []
    listed = (await client.get("/v1/watches", headers=imi)).json()["items"]
    assert [(w["id"], w["active"]) for w in listed] == [(watched["id"], False)]


async def test_someone_else_does_not_fire(client: httpx.AsyncClient, agencies: Agencies) -> None:
    imi = agencies["IMIGRASI-DUMAI"]
    await watch(
        client, imi, {"full_name": "Siti Rahayu", "date_of_birth": "1999-03-14", "sex": "FEMALE"}
    )
    await submit_report(client, agencies["LANAL-DUMAI"], interception())
    assert await watch_hits(client, imi) == []


async def test_list_and_delete_own_watches_only(
    client: httpx.AsyncClient, agencies: Agencies
) -> None:
    imi, polres = agencies["IMIGRASI-DUMAI"], agencies["POLRES-DUMAI"]
    first = await watch(client, imi, WOMAN)
    second = await watch(client, imi, {"passport_number": "C1234567", "nationality": "IDN"})
    theirs = await watch(client, polres, {"phone": "0812-6612-3344"})

    page = (await client.get("/v1/watches", params={"limit": 1}, headers=imi)).json()
    assert [w["id"] for w in page["items"]] == [first["id"]]
    rest = (
        await client.get("/v1/watches", params={"cursor": page["next_cursor"]}, headers=imi)
    ).json()
    assert [w["id"] for w in rest["items"]] == [second["id"]]
    assert rest["next_cursor"] is None
    polres_list = (await client.get("/v1/watches", headers=polres)).json()["items"]
    assert [w["id"] for w in polres_list] == [theirs["id"]]

    assert (await client.delete(f"/v1/watches/{theirs['id']}", headers=imi)).status_code == 404
    assert (await client.delete(f"/v1/watches/{first['id']}", headers=imi)).status_code == 204
    assert (await client.delete(f"/v1/watches/{first['id']}", headers=imi)).status_code == 404
    remaining = (await client.get("/v1/watches", headers=imi)).json()["items"]
    assert [w["id"] for w in remaining] == [second["id"]]

    # The deleted watch no longer fires.
    await submit_report(client, agencies["LANAL-DUMAI"], interception())
    assert await watch_hits(client, imi) == []


async def test_default_expiry_is_a_year(client: httpx.AsyncClient, agencies: Agencies) -> None:
    created = await watch(client, agencies["IMIGRASI-DUMAI"], WOMAN)
    expires = datetime.fromisoformat(created["expires_at"])
    made = datetime.fromisoformat(created["created_at"])
    assert timedelta(days=364) < expires - made <= timedelta(days=365)


async def test_vague_or_malformed_watches_are_refused(
    client: httpx.AsyncClient, agencies: Agencies
) -> None:
    imi = agencies["IMIGRASI-DUMAI"]

    async def refused(body: dict[str, Any]) -> list[tuple[str, str]]:
        response = await client.post("/v1/watches", json=body, headers=imi)
        assert response.status_code == 422, response.text
        return [(e["pointer"], e["code"]) for e in response.json()["errors"]]

    assert await refused({"person": {"full_name": "Siti"}}) == [
        ("/person/date_of_birth", "name_needs_birth_date")
    ]
    assert await refused({"person": {}}) == [("/person", "no_identifying_field")]
    assert (await refused({"person": {"nik": "12"}}))[0][0] == "/person/nik"
    past = (datetime.now(UTC) - timedelta(days=1)).isoformat()
    assert await refused({"person": WOMAN, "expires_at": past}) == [
        ("/expires_at", "expires_at_out_of_range")
    ]
    assert await refused({"person": WOMAN, "expires_at": "9999-12-31T23:00:00-05:00"}) == [
        ("/expires_at", "datetime_out_of_range")
    ]
    assert (await client.get("/v1/watches", headers=imi)).json()["items"] == []


async def test_hit_reasons_leave_out_the_reports_values_for_a_non_recipient(
    client: httpx.AsyncClient, agencies: Agencies
) -> None:
    imi = agencies["IMIGRASI-DUMAI"]
    await watch(client, imi, {**WOMAN, "nik": "1472035403990009"})  # one digit off
    await submit_report(client, agencies["LANAL-DUMAI"], interception())
    [hit] = await watch_hits(client, imi)
    reasons = hit["payload"]["reasons"]
    assert any(r.startswith("NIK differs by one character") for r in reasons), reasons
    assert "1472035403990002" not in " ".join(reasons)
    assert "Siti Nur Haliza" not in " ".join(reasons)


async def test_retention_removes_expired_watches(
    app: Any, client: httpx.AsyncClient, agencies: dict[str, dict[str, str]]
) -> None:
    from datetime import timedelta

    from sqlalchemy import update

    from app.db import transaction
    from app.models.base import utcnow
    from app.models.watch import Watch
    from app.services.retention import run_retention

    imi = agencies["IMIGRASI-DUMAI"]
    body = {"person": {"full_name": "Siti Nurhaliza", "date_of_birth": "1999-03-14"}}
    kept = (await client.post("/v1/watches", json=body, headers=imi)).json()
    expired = (await client.post("/v1/watches", json=body, headers=imi)).json()
    async with transaction(app.state.session_factory) as session:
        past = utcnow() - timedelta(days=1)
        await session.execute(
            update(Watch).where(Watch.id == uuid.UUID(expired["id"])).values(expires_at=past)
        )
    async with transaction(app.state.session_factory) as session:
        run = await run_retention(session, app.state.settings)
    assert run.purged["watches.expired"].object_ids == [expired["id"]]
    listed = (await client.get("/v1/watches", headers=imi)).json()["items"]
    assert [w["id"] for w in listed] == [kept["id"]]
