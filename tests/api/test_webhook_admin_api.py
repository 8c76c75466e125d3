"""The admin API's webhook additions (issue 19): a test event answered with the receiver's
reply and signed like deliveries, and disabling and enabling an endpoint."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import httpx
import pytest
from fastapi import FastAPI
from standardwebhooks import Webhook

from app.config import Settings
from app.db import transaction
from app.models.agency import Agency, AgencyKind
from app.services.delivery import enqueue
from app.worker import Worker
from tests.api.delivery_support import act_as
from tests.conftest import make_settings
from tests.factories import create_agency
from tests.web.webhook_receiver import LOOPBACK_WEBHOOKS, Receiver

BASE = "/v1/admin/agencies/POL/webhook"


@pytest.fixture
def settings(database_url: str) -> Settings:
    return make_settings(database_url, **LOOPBACK_WEBHOOKS)  # type: ignore[arg-type]


@pytest.fixture
async def police(app: FastAPI) -> Agency:
    admin = await create_agency(app, "ADMIN", AgencyKind.OTHER, region_code=None)
    agency = await create_agency(app, "POL", AgencyKind.POLICE, region_code="14.72")
    act_as(app, admin, admin=True)
    return agency


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with Receiver(status=200, body=b"ok") as running:
        yield running


async def test_the_test_event_is_signed_like_a_delivery_and_answers_the_reply(
    client: httpx.AsyncClient, police: Agency, receiver: Receiver
) -> None:
    assert (await client.post(f"{BASE}/test")).status_code == 404  # no endpoint yet
    secret = (await client.put(BASE, json={"url": receiver.url})).json()["secret"]
    answer = await client.post(f"{BASE}/test")
    assert answer.status_code == 200
    body = answer.json()
    assert body["status_code"] == 200
    assert body["verdict"] == "delivered"
    assert body["body_excerpt"] == "ok"
    assert body["error"] is None
    [request] = receiver.received
    event = Webhook(secret).verify(request.body, request.headers)
    assert event["type"] == "webhook.test"
    assert request.headers["webhook-id"] == body["webhook_id"]
    assert request.headers["user-agent"] == "Sinergi-Webhooks/1"

    receiver.status = 503
    failed = (await client.post(f"{BASE}/test")).json()
    assert failed["verdict"] == "retried"
    assert failed["error"] == "HTTP 503"


async def test_a_delivery_and_the_test_event_carry_the_same_signature_scheme(
    app: FastAPI, client: httpx.AsyncClient, police: Agency, receiver: Receiver, settings: Settings
) -> None:
    secret = (await client.put(BASE, json={"url": receiver.url})).json()["secret"]
    async with transaction(app.state.session_factory) as session:
        delivery = await enqueue(
            session,
            event="report.routed",
            recipient_agency_id=police.id,
            payload={"summary": "TPPO, Kota Dumai"},
            rule="criminal-investigation",
            report_id=uuid.uuid4(),
        )
    worker = Worker(settings, app.state.session_factory, name="w1")
    try:
        assert await worker.run_once() == 1
    finally:
        await worker.aclose()
    await client.post(f"{BASE}/test")
    routed, tested = receiver.received
    assert Webhook(secret).verify(routed.body, routed.headers)["id"] == str(delivery.id)
    assert Webhook(secret).verify(tested.body, tested.headers)["type"] == "webhook.test"
    assert routed.headers.keys() == tested.headers.keys()


async def test_disable_keeps_deliveries_waiting_and_enable_sends_them(
    app: FastAPI, client: httpx.AsyncClient, police: Agency, receiver: Receiver, settings: Settings
) -> None:
    await client.put(BASE, json={"url": receiver.url})
    disabled = await client.post(f"{BASE}/disable")
    assert disabled.status_code == 200
    assert disabled.json()["enabled"] is False
    assert disabled.json()["disabled_reason"] == "Disabled by the administrator ADMIN"
    async with transaction(app.state.session_factory) as session:
        await enqueue(
            session,
            event="report.routed",
            recipient_agency_id=police.id,
            payload={},
            rule=None,
            report_id=None,
        )
    worker = Worker(settings, app.state.session_factory, name="w1")
    try:
        assert await worker.run_once() == 0  # nothing pushed while disabled
        assert (await client.get("/v1/admin/deliveries?status=PENDING")).json()["items"]
        enabled = await client.post(f"{BASE}/enable")
        assert enabled.json()["enabled"] is True
        assert await worker.run_once() == 1
    finally:
        await worker.aclose()
    assert len(receiver.received) == 1
    assert (await client.post("/v1/admin/agencies/NOPE/webhook/disable")).status_code == 404
