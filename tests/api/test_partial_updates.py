"""PATCH and PUT bodies: an explicit null or a meaningless value is a 422 naming the field."""

from __future__ import annotations

import copy
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from app.models.agency import AgencyKind
from tests.factories import bearer, create_admin, create_agency, token_for

pytestmark = pytest.mark.anyio


async def test_the_body_schemathesis_found_is_refused_at_kind_and_changes_nothing(
    client: httpx.AsyncClient, app: Any
) -> None:
    """Issue 23: this exact body answered 500 (kind: null reached a NOT NULL column)."""
    await create_admin(app)
    await create_agency(app, "TPPO")
    admin = bearer(await token_for(client, app, "ADMIN"))
    before = (await client.get("/v1/admin/agencies/TPPO", headers=admin)).json()

    answer = await client.patch(
        "/v1/admin/agencies/TPPO",
        headers=admin,
        json={
            "scopes": ["screening:query", "inbox:read"],
            "name": "!8T",
            "region_code": "00",
            "active": True,
            "contact": {"phone": None},
            "kind": None,
        },
    )

    assert answer.status_code == 422, answer.text
    assert answer.headers["content-type"] == "application/problem+json"
    pointers = {e["pointer"] for e in answer.json()["errors"]}
    assert "/kind" in pointers
    assert "/region_code" in pointers
    assert (await client.get("/v1/admin/agencies/TPPO", headers=admin)).json() == before


@pytest.mark.parametrize(
    ("body", "pointer"),
    [
        ({"name": "   "}, "/name"),
        ({"region_code": "99.99"}, "/region_code"),
        ({"region_code": "14.72.01"}, "/region_code"),
        ({"scopes": []}, "/scopes"),
        ({"contact": {"phone": "not a phone"}}, "/contact/phone"),
        ({"contact": {"name": "\u0000"}}, "/contact/name"),
    ],
)
async def test_a_meaningless_agency_update_is_refused_at_its_field(
    client: httpx.AsyncClient, app: Any, body: dict[str, Any], pointer: str
) -> None:
    await create_admin(app)
    await create_agency(app, "TPPO")
    admin = bearer(await token_for(client, app, "ADMIN"))
    answer = await client.patch("/v1/admin/agencies/TPPO", headers=admin, json=body)
    assert answer.status_code == 422, answer.text
    assert [e["pointer"] for e in answer.json()["errors"]] == [pointer]


@pytest.mark.parametrize(
    ("change", "pointer"),
    [
        ({"region_prefixes": ["14", "99"]}, "/region_prefixes/1"),
        ({"region_prefixes": ["00.00.00"]}, "/region_prefixes/0"),
        ({"modus_operandi": ["TOURIST_DISGUISE", "NOT_A_MODUS"]}, "/modus_operandi/1"),
        ({"exploitation_types": ["SLAVERY_OF_SORTS"]}, "/exploitation_types/0"),
        ({"document_types": ["PASSPORT", "PASPOR"]}, "/document_types/1"),
        ({"document_statuses": ["LOST_IN_THE_POST"]}, "/document_statuses/0"),
    ],
)
async def test_a_routing_rule_that_could_never_match_is_refused_at_its_field(
    client: httpx.AsyncClient, app: Any, change: dict[str, Any], pointer: str
) -> None:
    await create_admin(app)
    await create_agency(app, "POLRES-DUMAI", kind=AgencyKind.POLICE)
    admin = bearer(await token_for(client, app, "ADMIN"))
    rule = {"name": "dumai", "region_prefixes": ["14.72"], "recipients": ["POLRES-DUMAI"]}
    created = await client.post("/v1/admin/routing-rules", headers=admin, json=rule)
    url = f"/v1/admin/routing-rules/{created.json()['id']}"

    answer = await client.put(url, headers=admin, json={**rule, **change})

    assert answer.status_code == 422, answer.text
    assert [e["pointer"] for e in answer.json()["errors"]] == [pointer]
    assert (await client.get(url, headers=admin)).json() == created.json()


# --- every PATCH and PUT of the spec, every field of its examples set to null ------------------

#: The agencies the spec's request examples name.
EXAMPLE_AGENCIES = {
    "IMIGRASI-DUMAI": AgencyKind.IMMIGRATION,
    "POLRES-DUMAI": AgencyKind.POLICE,
    "BP3MI-RIAU": AgencyKind.MIGRANT_WORKER_PROTECTION,
}
SENDER = "IMIGRASI-DUMAI"
#: Nullable fields that a cross-field rule keeps together: null in one alone is a 422 at the other.
ONLY_TOGETHER = {"/location/lat": "/location/lon", "/location/lon": "/location/lon"}


@dataclass
class Target:
    """Where one PATCH/PUT operation is sent in this test, and how to read what it changes."""

    url: str
    read_url: str
    token: str
    needs_version: bool = False


def _resolve(spec: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        schema = spec["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
    return schema


def _admits_null(spec: dict[str, Any], schema: dict[str, Any]) -> bool:
    schema = _resolve(spec, schema)
    return schema.get("type") == "null" or any(
        _admits_null(spec, member) for member in schema.get("anyOf", ())
    )


def _object_schema(spec: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    schema = _resolve(spec, schema)
    for member in schema.get("anyOf", ()):
        if "properties" in _resolve(spec, member):
            return _resolve(spec, member)
    return schema


def null_cases(
    spec: dict[str, Any], schema: dict[str, Any], value: Any, pointer: str = ""
) -> Iterator[tuple[str, bool]]:
    """(JSON pointer, whether the spec says it accepts null)
    for every field present in ``value``."""
    if isinstance(value, dict):
        properties = _object_schema(spec, schema).get("properties", {})
        for name, item in value.items():
            yield f"{pointer}/{name}", _admits_null(spec, properties[name])
            yield from null_cases(spec, properties[name], item, f"{pointer}/{name}")
    elif isinstance(value, list):
        items = _resolve(spec, schema).get("items") or next(
            m["items"] for m in _resolve(spec, schema)["anyOf"] if "items" in m
        )
        for i, item in enumerate(value):
            yield from null_cases(spec, items, item, f"{pointer}/{i}")


def with_null(body: Any, pointer: str) -> Any:
    changed = copy.deepcopy(body)
    *parents, last = pointer.strip("/").split("/")
    node = changed
    for part in parents:
        node = node[int(part)] if isinstance(node, list) else node[part]
    node[last] = None
    return changed


def at(document: Any, pointer: str) -> Any:
    for part in pointer.strip("/").split("/"):
        if isinstance(document, list):
            document = document[int(part)] if int(part) < len(document) else None
        elif isinstance(document, dict):
            document = document.get(part)
        if document is None:
            return None
    return document


def partial_and_replacing_operations(spec: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (method, path, op)
        for path, item in spec["paths"].items()
        for method, op in item.items()
        if method in ("patch", "put")
    ]


Prepare = Callable[[dict[str, Any]], Awaitable[Target]]


async def _targets(client: httpx.AsyncClient, app: Any) -> dict[str, Prepare]:
    """Per PATCH/PUT operation id: how to get an existing object the example body may change."""
    await create_admin(app)
    for code, kind in EXAMPLE_AGENCIES.items():
        await create_agency(app, code, kind=kind)
    admin = await token_for(client, app, "ADMIN")
    sender = await token_for(client, app, SENDER)
    rule = await client.post(
        "/v1/admin/routing-rules",
        json={"name": "fuzz", "recipients": [SENDER]},
        headers=bearer(admin),
    )
    assert rule.status_code == 201, rule.text
    rule_url = f"/v1/admin/routing-rules/{rule.json()['id']}"
    agency_url = f"/v1/admin/agencies/{SENDER}"

    async def report_submitted_as(example: dict[str, Any]) -> Target:
        report = await client.post("/v1/reports", json=example, headers=bearer(sender))
        assert report.status_code in (200, 201), report.text
        url = f"/v1/reports/{report.json()['id']}"
        return Target(url, url, sender, needs_version=True)

    async def rule(example: dict[str, Any]) -> Target:
        return Target(rule_url, rule_url, admin)

    async def agency(example: dict[str, Any]) -> Target:
        return Target(agency_url, agency_url, admin)

    async def webhook(example: dict[str, Any]) -> Target:
        return Target(f"{agency_url}/webhook", f"{agency_url}/webhook", admin)

    return {
        "reports_update": report_submitted_as,
        "admin_agencies_update": agency,
        "routing_rules_update": rule,
        "webhooks_update": webhook,
    }


async def test_explicit_null_in_every_patch_and_put_body_answers_as_the_spec_says(
    client: httpx.AsyncClient, app: Any
) -> None:
    """Null where the spec allows it clears the field; anywhere else it is a 422 at that field.

    Table-driven over the spec: every PATCH/PUT operation, every field of every example of its
    request body (nested ones too) set to null in turn. A refused null changes nothing.
    """
    spec = app.openapi()
    targets = await _targets(client, app)
    operations = partial_and_replacing_operations(spec)
    assert {op["operationId"] for _, _, op in operations} == set(targets), "a target per operation"

    tried = 0
    for method, _path, op in operations:
        schema = op["requestBody"]["content"]["application/json"]["schema"]
        for example in _resolve(spec, schema)["examples"]:
            target = await targets[op["operationId"]](example)
            for pointer, nullable in null_cases(spec, schema, example):
                tried += 1
                before = await client.get(target.read_url, headers=bearer(target.token))
                headers = bearer(target.token)
                if target.needs_version:
                    headers["If-Match"] = f'"{before.json()["version"]}"'
                answer = await client.request(
                    method, target.url, json=with_null(example, pointer), headers=headers
                )
                where = f"{method.upper()} {op['operationId']} {pointer}=null"
                assert answer.status_code != 500, f"{where}: {answer.text}"
                if nullable and pointer in ONLY_TOGETHER:
                    pointers = [e["pointer"] for e in answer.json()["errors"]]
                    assert pointers == [ONLY_TOGETHER[pointer]], f"{where}: {answer.text}"
                elif nullable:
                    assert answer.status_code == 200, f"{where}: {answer.text}"
                    assert at(answer.json(), pointer) is None, f"{where}: not cleared"
                else:
                    assert answer.status_code == 422, f"{where}: {answer.text}"
                    pointers = [e["pointer"] for e in answer.json()["errors"]]
                    assert pointers == [pointer], f"{where}: {pointers}"
                    after = await client.get(target.read_url, headers=bearer(target.token))
                    assert after.json() == before.json(), f"{where}: changed"
    assert tried > 50
