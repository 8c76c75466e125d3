"""The pull inbox: order, cursor, ack, need-to-know across recipients."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from app.db import transaction
from app.models.agency import Agency, AgencyKind
from app.schemas.delivery import InboxPage
from app.services.delivery import enqueue
from tests.api.delivery_support import act_as
from tests.factories import create_agency


async def deliver(
    app: FastAPI, agency: Agency, count: int, event: str = "report.routed"
) -> list[uuid.UUID]:
    ids = []
    async with transaction(app.state.session_factory) as session:
        for i in range(count):
            report_id = uuid.uuid4()
            d = await enqueue(
                session,
                event=event,
                recipient_agency_id=agency.id,
                payload={"report_id": str(report_id), "n": i},
                rule="criminal-investigation",
                report_id=report_id,
            )
            ids.append(d.id)
    return ids


@pytest.fixture
async def recipients(app: FastAPI) -> dict[str, Agency]:
    """Two agencies as rows (the tests act as them), named apart from the shared ``agencies``."""
    return {
        "POL": await create_agency(app, "POL", AgencyKind.POLICE, region_code="14.72"),
        "IMI": await create_agency(app, "IMI", AgencyKind.IMMIGRATION, region_code="14.72"),
    }


async def test_inbox_lists_oldest_first_with_gap_free_sequences(
    client: httpx.AsyncClient, app: FastAPI, recipients: dict[str, Agency]
) -> None:
    await deliver(app, recipients["POL"], 2)
    await deliver(app, recipients["IMI"], 1)
    await deliver(app, recipients["POL"], 1, event="report.updated")
    act_as(app, recipients["POL"])
    body = (await client.get("/v1/inbox")).json()
    assert [i["sequence"] for i in body["items"]] == [1, 2, 3]
    assert [i["event"] for i in body["items"]] == [
        "report.routed",
        "report.routed",
        "report.updated",
    ]
    assert body["items"][0]["rule"] == "criminal-investigation"
    assert body["items"][0]["payload"]["n"] == 0
    assert body["next_cursor"] is None


async def test_cursor_pages_through_everything_once(
    client: httpx.AsyncClient, app: FastAPI, recipients: dict[str, Agency]
) -> None:
    await deliver(app, recipients["POL"], 7)
    act_as(app, recipients["POL"])
    seen: list[int] = []
    cursor = None
    while True:
        params: dict[str, Any] = {"limit": 3}
        if cursor:
            params["cursor"] = cursor
        page = (await client.get("/v1/inbox", params=params)).json()
        seen += [i["sequence"] for i in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == list(range(1, 8))
    assert (await client.get("/v1/inbox", params={"limit": 0})).status_code == 422
    assert (await client.get("/v1/inbox", params={"limit": 100000})).status_code == 422
    bad = await client.get("/v1/inbox", params={"cursor": "not-a-cursor"})
    assert bad.status_code == 400
    assert bad.headers["content-type"] == "application/problem+json"


async def test_ack_is_idempotent_and_hides_acked_deliveries(
    client: httpx.AsyncClient, app: FastAPI, recipients: dict[str, Agency]
) -> None:
    ids = await deliver(app, recipients["POL"], 3)
    act_as(app, recipients["POL"])
    first = await client.post("/v1/inbox/ack", json={"delivery_ids": [str(ids[0]), str(ids[1])]})
    assert first.status_code == 200
    assert first.json() == {"acked": [str(ids[0]), str(ids[1])], "unknown": []}
    again = await client.post("/v1/inbox/ack", json={"delivery_ids": [str(ids[0])]})
    assert again.json() == {"acked": [str(ids[0])], "unknown": []}

    remaining = (await client.get("/v1/inbox")).json()["items"]
    assert [i["id"] for i in remaining] == [str(ids[2])]
    everything = (await client.get("/v1/inbox", params={"include_acked": "true"})).json()["items"]
    assert [i["sequence"] for i in everything] == [1, 2, 3]
    assert everything[0]["acked_at"] is not None
    assert everything[2]["acked_at"] is None


async def test_an_agency_never_sees_or_acks_another_agencys_deliveries(
    client: httpx.AsyncClient, app: FastAPI, recipients: dict[str, Agency]
) -> None:
    pol_ids = await deliver(app, recipients["POL"], 2)
    await deliver(app, recipients["IMI"], 1)
    act_as(app, recipients["IMI"])
    items = (await client.get("/v1/inbox", params={"include_acked": "true"})).json()["items"]
    assert len(items) == 1
    assert all(i["id"] not in {str(x) for x in pol_ids} for i in items)

    # acking someone else's delivery looks exactly like acking a delivery that does not exist
    stranger = await client.post(
        "/v1/inbox/ack", json={"delivery_ids": [str(pol_ids[0]), str(uuid.uuid4())]}
    )
    assert stranger.status_code == 200
    assert stranger.json()["acked"] == []
    assert len(stranger.json()["unknown"]) == 2

    act_as(app, recipients["POL"])
    still = (await client.get("/v1/inbox")).json()["items"]
    assert [i["id"] for i in still] == [str(x) for x in pol_ids]


async def test_inbox_needs_authentication(client: httpx.AsyncClient) -> None:
    response = await client.get("/v1/inbox")
    assert response.status_code == 401


async def test_ack_rejects_bad_bodies(
    client: httpx.AsyncClient, app: FastAPI, recipients: dict[str, Agency]
) -> None:
    act_as(app, recipients["POL"])
    assert (await client.post("/v1/inbox/ack", json={"delivery_ids": []})).status_code == 422
    assert (await client.post("/v1/inbox/ack", json={"delivery_ids": ["x"]})).status_code == 422
    assert (await client.post("/v1/inbox/ack", json={"ids": []})).status_code == 422


async def test_the_page_is_what_the_inbox_schema_serializes_with_each_payload_as_stored(
    client: httpx.AsyncClient, app: FastAPI, recipients: dict[str, Agency]
) -> None:
    """The inbox copies each stored payload into the answer without parsing it: the answer is
    still, byte for byte, the ``InboxPage`` schema's JSON of the same deliveries (UTC times with
    ``Z``, a null report id, an acked delivery, names beyond ASCII, numbers, nesting)."""
    payloads: list[dict[str, Any]] = [
        {"report_id": None, "persons": [{"full_name": "Siti Nur'aini", "score": 0.9375}]},
        {"narrative": 'Kapal dari Dumai → Malaysia, "malam"\n', "count": 3, "ok": True},
        {"nested": {"list": [1, 2.5, None, {"x": "é"}]}, "empty": {}},
    ]
    ids = []
    async with transaction(app.state.session_factory) as session:
        for i, payload in enumerate(payloads):
            d = await enqueue(
                session,
                event="report.routed",
                recipient_agency_id=recipients["POL"].id,
                payload=payload,
                rule=None if i == 1 else "explicit",
                report_id=None if i == 0 else uuid.uuid4(),
            )
            ids.append(d.id)
    act_as(app, recipients["POL"])
    await client.post("/v1/inbox/ack", json={"delivery_ids": [str(ids[2])]})
    answer = await client.get("/v1/inbox", params={"include_acked": "true", "limit": 2})
    assert answer.status_code == 200
    assert answer.headers["content-type"] == "application/json"
    assert "RateLimit-Remaining" in answer.headers
    body = answer.json()
    assert [i["payload"] for i in body["items"]] == payloads[:2]
    assert body["items"][0]["report_id"] is None
    assert body["next_cursor"] is not None
    assert answer.content == InboxPage.model_validate(body).model_dump_json().encode()
    last = await client.get(
        "/v1/inbox", params={"include_acked": "true", "cursor": body["next_cursor"]}
    )
    (acked,) = last.json()["items"]
    assert acked["payload"] == payloads[2]
    assert acked["acked_at"].endswith("Z")
    assert last.content == InboxPage.model_validate(last.json()).model_dump_json().encode()
