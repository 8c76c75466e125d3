"""Admin routing rules over HTTP: CRUD, validation naming the field, reorder, dry run, seeding."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from app.db import transaction
from app.models.agency import AgencyKind
from app.services.routing import seed_default_rules
from tests.api.delivery_support import act_as
from tests.factories import create_agency

BASE = "/v1/admin/routing-rules"


@pytest.fixture
async def timpora(app: FastAPI) -> dict[str, Any]:
    """A city TIMPORA (Kota Dumai, 14.72) and the admin agency, with the admin acting."""
    agencies = {
        "ADMIN": await create_agency(app, "ADMIN", AgencyKind.OTHER, region_code=None),
        "IMI": await create_agency(app, "IMI", AgencyKind.IMMIGRATION, region_code="14.72"),
        "POL": await create_agency(app, "POL", AgencyKind.POLICE, region_code="14.72"),
        "BP3MI": await create_agency(
            app, "BP3MI", AgencyKind.MIGRANT_WORKER_PROTECTION, region_code="14"
        ),
        "DISNAKER": await create_agency(app, "DISNAKER", AgencyKind.MANPOWER, region_code="14.72"),
        "PEMKOT": await create_agency(
            app, "PEMKOT", AgencyKind.LOCAL_GOVERNMENT, region_code="14.72"
        ),
        "POL-MEDAN": await create_agency(app, "POL-MEDAN", AgencyKind.POLICE, region_code="12.71"),
    }
    act_as(app, agencies["ADMIN"], admin=True)
    return agencies


def rule(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"name": "police-all", "recipients": ["POL"]}
    body.update(overrides)
    return body


def pointers(response: httpx.Response) -> set[str]:
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    return {e["pointer"] for e in response.json()["errors"]}


async def test_create_read_update_delete(
    client: httpx.AsyncClient, timpora: dict[str, Any]
) -> None:
    created = await client.post(BASE, json=rule(case_types=["TPPO"], region_prefixes=["14"]))
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["recipients"] == ["POL"]
    assert body["region_prefixes"] == ["14"]
    rule_id = body["id"]

    assert (await client.get(f"{BASE}/{rule_id}")).json()["name"] == "police-all"
    updated = await client.put(f"{BASE}/{rule_id}", json=rule(recipients=["POL", "IMI"]))
    assert updated.status_code == 200
    assert updated.json()["recipients"] == ["POL", "IMI"]
    assert updated.json()["position"] == body["position"]

    assert (await client.delete(f"{BASE}/{rule_id}")).status_code == 204
    assert (await client.get(f"{BASE}/{rule_id}")).status_code == 404
    assert (await client.get(BASE)).json()["items"] == []


async def test_unknown_agency_is_422_naming_the_recipient(
    client: httpx.AsyncClient, timpora: dict[str, Any]
) -> None:
    response = await client.post(BASE, json=rule(recipients=["POL", "NO-SUCH"]))
    assert pointers(response) == {"/recipients/1"}
    assert "NO-SUCH" in response.json()["detail"]


async def test_rules_that_can_never_match_are_422_naming_the_field(
    client: httpx.AsyncClient, timpora: dict[str, Any]
) -> None:
    assert pointers(await client.post(BASE, json=rule(tlps=["RED"]))) == {"/tlps/0"}
    assert pointers(await client.post(BASE, json=rule(region_prefixes=["Dumai"]))) == {
        "/region_prefixes/0"
    }
    assert pointers(await client.post(BASE, json=rule(recipients=[]))) == {"/recipients"}
    assert pointers(await client.post(BASE, json=rule(case_types=["MURDER"]))) == {"/case_types/0"}
    assert pointers(await client.post(BASE, json=rule(destination_countries=["XYZ"]))) == {
        "/destination_countries"
    }
    assert pointers(await client.post(BASE, json=rule(colour="red"))) == {"/colour"}
    assert (await client.get(BASE)).json()["items"] == []


async def test_duplicate_name_is_409(client: httpx.AsyncClient, timpora: dict[str, Any]) -> None:
    assert (await client.post(BASE, json=rule())).status_code == 201
    assert (await client.post(BASE, json=rule())).status_code == 409


async def test_reorder_changes_evaluation_order(
    client: httpx.AsyncClient, timpora: dict[str, Any]
) -> None:
    a = (await client.post(BASE, json=rule(name="a", recipients=["POL"]))).json()
    b = (await client.post(BASE, json=rule(name="b", recipients=["POL", "IMI"]))).json()
    sample = {"source_agency_code": "BP3MI", "case_type": "TPPO", "tlp": "AMBER"}
    first = (await client.post(f"{BASE}/dry-run", json={"sample": sample})).json()["routed_to"]
    assert first == [{"agency_code": "POL", "rule": "a"}, {"agency_code": "IMI", "rule": "b"}]

    reordered = await client.post(f"{BASE}/reorder", json={"rule_ids": [b["id"], a["id"]]})
    assert [r["name"] for r in reordered.json()["items"]] == ["b", "a"]
    second = (await client.post(f"{BASE}/dry-run", json={"sample": sample})).json()["routed_to"]
    assert second == [{"agency_code": "POL", "rule": "b"}, {"agency_code": "IMI", "rule": "b"}]

    missing = await client.post(f"{BASE}/reorder", json={"rule_ids": [a["id"]]})
    assert pointers(missing) == {"/rule_ids"}


async def test_dry_run_of_an_unsaved_rule_set_saves_nothing(
    client: httpx.AsyncClient, timpora: dict[str, Any]
) -> None:
    sample = {
        "source_agency_code": "IMI",
        "case_type": "TPPO",
        "tlp": "AMBER",
        "modus_operandi": ["NONPROCEDURAL_MIGRANT_WORKER"],
        "recipients": ["PEMKOT"],
    }
    rules = [
        rule(
            name="workers",
            recipients=["BP3MI", "DISNAKER"],
            modus_operandi=["NONPROCEDURAL_MIGRANT_WORKER"],
        ),
        rule(name="immigration", recipients=["IMI"]),
    ]
    response = await client.post(f"{BASE}/dry-run", json={"sample": sample, "rules": rules})
    assert response.status_code == 200, response.text
    assert response.json()["routed_to"] == [
        {"agency_code": "PEMKOT", "rule": "explicit"},
        {"agency_code": "BP3MI", "rule": "workers"},
        {"agency_code": "DISNAKER", "rule": "workers"},
    ]
    assert (await client.get(BASE)).json()["items"] == []
    bad = await client.post(
        f"{BASE}/dry-run", json={"sample": sample, "rules": [rules[0], rule(recipients=["X"])]}
    )
    assert pointers(bad) == {"/rules/1/recipients/0"}


async def test_dry_run_enforces_red(client: httpx.AsyncClient, timpora: dict[str, Any]) -> None:
    await client.post(BASE, json=rule(recipients=["POL", "IMI"]))
    sample = {
        "source_agency_code": "BP3MI",
        "case_type": "TPPO",
        "tlp": "RED",
        "recipients": ["IMI"],
    }
    routed = (await client.post(f"{BASE}/dry-run", json={"sample": sample})).json()["routed_to"]
    assert routed == [{"agency_code": "IMI", "rule": "explicit"}]


async def test_non_admin_is_403(
    client: httpx.AsyncClient, app: FastAPI, timpora: dict[str, Any]
) -> None:
    act_as(app, timpora["POL"])
    response = await client.get(BASE)
    assert response.status_code == 403
    assert response.headers["content-type"] == "application/problem+json"


async def test_seeded_default_rules_route_a_nonprocedural_migrant_worker_case(
    client: httpx.AsyncClient, app: FastAPI, timpora: dict[str, Any]
) -> None:
    async with transaction(app.state.session_factory) as session:
        created = await seed_default_rules(session, region_code="14.72")
    names = {r.name for r in created}
    # no NAVY/PORT/PROSECUTOR/SOCIAL agency exists here: those rules are skipped
    assert "maritime-routes" not in names
    assert {"foreign-nationals", "criminal-investigation", "local-government"} <= names
    stored = (await client.get(BASE)).json()["items"]
    by_name = {r["name"]: r for r in stored}
    # Medan's police is outside Kota Dumai; the province's BP3MI serves the city
    assert by_name["criminal-investigation"]["recipients"] == ["POL"]
    assert by_name["migrant-worker-recruitment"]["recipients"] == ["BP3MI", "DISNAKER"]
    assert by_name["local-government"]["region_prefixes"] == ["14.72"]

    sample = {
        "source_agency_code": "IMI",
        "case_type": "TPPO",
        "tlp": "AMBER",
        "region_code": "14.72",
        "modus_operandi": ["NONPROCEDURAL_MIGRANT_WORKER", "TOURIST_DISGUISE"],
        "document_types": ["PASSPORT_APPLICATION"],
        "document_statuses": ["DEFERRED"],
        "destination_countries": ["MYS"],
    }
    routed = (await client.post(f"{BASE}/dry-run", json={"sample": sample})).json()["routed_to"]
    assert {(r["agency_code"], r["rule"]) for r in routed} == {
        ("POL", "criminal-investigation"),
        ("BP3MI", "migrant-worker-recruitment"),
        ("DISNAKER", "migrant-worker-recruitment"),
        ("PEMKOT", "local-government"),
    }
    # seeding again adds nothing
    async with transaction(app.state.session_factory) as session:
        assert await seed_default_rules(session, region_code="14.72") == []


async def test_load_defaults_over_http_dry_run_then_load_then_again(
    client: httpx.AsyncClient, timpora: dict[str, Any]
) -> None:
    body = {"region_code": "14.72", "dry_run": True}
    planned = await client.post(f"{BASE}/load-defaults", json=body)
    assert planned.status_code == 200, planned.text
    outcomes = {r["name"]: r for r in planned.json()["rules"]}
    assert planned.json()["created"] == 0
    assert outcomes["criminal-investigation"]["outcome"] == "would_create"
    assert outcomes["criminal-investigation"]["recipients"] == ["POL"]
    assert outcomes["maritime-routes"]["outcome"] == "no_recipient"
    assert (await client.get(BASE)).json()["items"] == []  # a dry run stores nothing

    loaded = await client.post(f"{BASE}/load-defaults", json={"region_code": "14.72"})
    assert loaded.status_code == 200
    created = {r["name"] for r in loaded.json()["rules"] if r["outcome"] == "created"}
    assert loaded.json()["created"] == len(created) > 0
    stored = {r["name"] for r in (await client.get(BASE)).json()["items"]}
    assert stored == created

    again = (await client.post(f"{BASE}/load-defaults", json={"region_code": "14.72"})).json()
    assert again["created"] == 0
    assert {r["name"] for r in again["rules"] if r["outcome"] == "exists"} == created


async def test_load_defaults_refuses_a_bad_region_naming_the_field(
    client: httpx.AsyncClient, timpora: dict[str, Any]
) -> None:
    response = await client.post(f"{BASE}/load-defaults", json={"region_code": "Dumai"})
    assert pointers(response) == {"/region_code"}
    assert (await client.get(BASE)).json()["items"] == []
