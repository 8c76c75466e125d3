"""Every audit event names the objects it touched: `GET /v1/admin/audit?object_id=` answers
"who read report X", "who screened this person", "who acked this delivery" (DESIGN §7)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from app.models.agency import AgencyKind
from tests.factories import bearer, create_admin, create_agency, token_for
from tests.report_samples import deferral, interception

IMI, POLRES, NAVY = "IMIGRASI-DUMAI", "POLRES-DUMAI", "LANAL-DUMAI"


@pytest.fixture
async def headers(app: Any, client: httpx.AsyncClient) -> dict[str, dict[str, str]]:
    await create_admin(app)
    await create_agency(app, IMI, kind=AgencyKind.IMMIGRATION)
    await create_agency(app, POLRES, kind=AgencyKind.POLICE)
    await create_agency(app, NAVY, kind=AgencyKind.NAVY)
    return {
        code: bearer(await token_for(client, app, code)) for code in ("ADMIN", IMI, POLRES, NAVY)
    }


async def _ok(response: httpx.Response) -> dict[str, Any]:
    assert response.status_code in (200, 201, 204), response.text
    return response.json() if response.content else {}  # type: ignore[no-any-return]


async def naming(
    client: httpx.AsyncClient, headers: dict[str, dict[str, str]], object_id: str
) -> set[tuple[str, str | None, str]]:
    """(action, actor, outcome) of every audit event naming ``object_id``."""
    response = await client.get(
        "/v1/admin/audit", params={"object_id": object_id, "limit": 200}, headers=headers["ADMIN"]
    )
    assert response.status_code == 200, response.text
    return {(e["action"], e["actor_agency_code"], e["outcome"]) for e in response.json()["items"]}


async def test_report_events_name_the_report(
    client: httpx.AsyncClient, headers: dict[str, dict[str, str]]
) -> None:
    created = await _ok(
        await client.post("/v1/reports", json=deferral(recipients=[POLRES]), headers=headers[IMI])
    )
    report = created["id"]
    url = f"/v1/reports/{report}"
    read = await _ok(await client.get(url, headers=headers[POLRES]))
    await _ok(await client.get("/v1/reports", headers=headers[POLRES]))
    await _ok(await client.get(f"{url}/versions", headers=headers[IMI]))
    corrected = {**deferral(recipients=[POLRES]), "narrative": "Koreksi: tanggal keberangkatan."}
    await _ok(await client.put(url, json=corrected, headers={**headers[IMI], "If-Match": '"1"'}))
    await _ok(await client.post(f"{url}/close", json={}, headers=headers[IMI]))
    await _ok(
        await client.post(f"{url}/retract", json={"reason": "duplikat"}, headers=headers[IMI])
    )
    refused = await client.get(url, headers=headers[NAVY])
    assert refused.status_code == 404

    events = await naming(client, headers, report)
    assert events >= {
        ("report.create", IMI, "success"),
        ("report.read", POLRES, "success"),
        ("report.list", POLRES, "success"),
        ("report.versions", IMI, "success"),
        ("report.update", IMI, "success"),
        ("report.close", IMI, "success"),
        ("report.retract", IMI, "success"),
        ("report.read", NAVY, "not_found"),  # the refused read names the id it asked for
    }, events
    # The 201 names the case and the person entity too, so "who touched this case" finds it.
    assert ("report.create", IMI, "success") in await naming(client, headers, created["case_id"])
    entity = created["persons"][0]["entity_id"]
    assert ("report.create", IMI, "success") in await naming(client, headers, entity)
    assert read["id"] == report


async def test_case_person_screening_and_watch_events_name_their_objects(
    client: httpx.AsyncClient, headers: dict[str, dict[str, str]]
) -> None:
    first = await _ok(await client.post("/v1/reports", json=deferral(), headers=headers[IMI]))
    second = await _ok(await client.post("/v1/reports", json=interception(), headers=headers[NAVY]))
    case, entity = first["case_id"], first["persons"][0]["entity_id"]
    assert second["case_id"] == case

    await _ok(await client.get(f"/v1/cases/{case}", headers=headers[IMI]))
    await _ok(await client.get("/v1/cases", headers=headers[NAVY]))
    await _ok(await client.get(f"/v1/persons/{entity}/network", headers=headers[IMI]))
    refused = await client.get(f"/v1/cases/{case}", headers=headers[POLRES])
    assert refused.status_code == 404
    screened = await _ok(
        await client.post(
            "/v1/screenings", json={"persons": [{"nik": "1472035403990002"}]}, headers=headers[NAVY]
        )
    )
    assert screened["results"][0]["hit"]
    watch = await _ok(
        await client.post(
            "/v1/watches", json={"person": {"nik": "1472035403990002"}}, headers=headers[POLRES]
        )
    )
    await _ok(await client.get("/v1/watches", headers=headers[POLRES]))
    await _ok(await client.delete(f"/v1/watches/{watch['id']}", headers=headers[POLRES]))

    on_case = await naming(client, headers, case)
    assert {
        ("case.read", IMI, "success"),
        ("case.list", NAVY, "success"),
        ("case.read", POLRES, "not_found"),
    } <= on_case, on_case
    on_entity = await naming(client, headers, entity)
    assert ("person.network", IMI, "success") in on_entity, on_entity
    assert ("screening.query", NAVY, "success") in on_entity, on_entity
    on_watch = await naming(client, headers, watch["id"])
    assert {
        ("watch.create", POLRES, "success"),
        ("watch.list", POLRES, "success"),
        ("watch.delete", POLRES, "success"),
    } <= on_watch, on_watch
    # A case read names the reports it showed; the screening the reports it named.
    assert ("case.read", IMI, "success") in await naming(client, headers, first["id"])


async def test_inbox_events_name_the_deliveries(
    client: httpx.AsyncClient, headers: dict[str, dict[str, str]]
) -> None:
    created = await _ok(
        await client.post("/v1/reports", json=deferral(recipients=[POLRES]), headers=headers[IMI])
    )
    inbox = await _ok(await client.get("/v1/inbox", headers=headers[POLRES]))
    [delivery] = [item["id"] for item in inbox["items"]]
    await _ok(
        await client.post(
            "/v1/inbox/ack", json={"delivery_ids": [delivery]}, headers=headers[POLRES]
        )
    )
    on_delivery = await naming(client, headers, delivery)
    assert ("inbox.list", POLRES, "success") in on_delivery, on_delivery
    assert ("inbox.ack", POLRES, "success") in on_delivery, on_delivery
    # Pulling the inbox is reading the reports it carries.
    assert any(
        e[1] == POLRES for e in await naming(client, headers, created["id"]) if "inbox" in e[0]
    )


async def test_admin_events_name_agencies_keys_and_rules(
    client: httpx.AsyncClient, headers: dict[str, dict[str, str]]
) -> None:
    admin = headers["ADMIN"]
    agency = {"code": "DINSOS-DUMAI", "name": "Dinas Sosial", "kind": "SOCIAL_SERVICES"}
    await _ok(await client.post("/v1/admin/agencies", json=agency, headers=admin))
    await _ok(await client.get("/v1/admin/agencies/DINSOS-DUMAI", headers=admin))
    key = await _ok(
        await client.post("/v1/admin/agencies/DINSOS-DUMAI/keys", json={}, headers=admin)
    )
    await _ok(
        await client.delete(f"/v1/admin/agencies/DINSOS-DUMAI/keys/{key['id']}", headers=admin)
    )
    rule = await _ok(
        await client.post(
            "/v1/admin/routing-rules",
            json={"name": "dinsos", "recipients": ["DINSOS-DUMAI"]},
            headers=admin,
        )
    )
    await _ok(await client.delete(f"/v1/admin/routing-rules/{rule['id']}", headers=admin))

    on_agency = {e[0] for e in await naming(client, headers, "DINSOS-DUMAI")}
    assert {"agency.create", "agency.read"} <= on_agency, on_agency
    on_key = {e[0] for e in await naming(client, headers, key["id"])}
    assert len(on_key) == 2, on_key  # issued, then revoked
    on_rule = {e[0] for e in await naming(client, headers, rule["id"])}
    assert len(on_rule) == 2, on_rule  # created, then deleted


async def test_an_inbox_page_names_each_delivery_then_its_report_in_page_order(
    client: httpx.AsyncClient, headers: dict[str, dict[str, str]]
) -> None:
    """The page's event lists its objects as the page shows them: each delivery, then the
    report it carries (a report carried twice named once), the first type the event's."""
    for ref in ("ORDER/1", "ORDER/2"):
        body = deferral(external_ref=ref, recipients=[POLRES])
        await _ok(await client.post("/v1/reports", json=body, headers=headers[IMI]))
    page = await client.get("/v1/inbox", headers=headers[POLRES])
    items = (await _ok(page))["items"]
    assert len(items) >= 2
    expected: list[str] = []
    for item in items:
        for object_id in (item["id"], item["report_id"]):
            if object_id is not None and object_id not in expected:
                expected.append(object_id)
    listed = await client.get(
        "/v1/admin/audit", params={"object_id": items[0]["id"]}, headers=headers["ADMIN"]
    )
    [event] = [
        e for e in (await _ok(listed))["items"] if e["request_id"] == page.headers["x-request-id"]
    ]
    assert event["action"] == "inbox.list"
    assert event["object_type"] == "delivery"
    assert event["object_ids"] == expected
    assert event["detail"]["object_types"] == "delivery,report"
