"""Push delivery: webhook endpoints managed by admins, and the worker's retries, 410, timeouts."""

from __future__ import annotations

import json
import socket
import time
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from datetime import timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from prometheus_client import REGISTRY
from sqlalchemy import update

from app.config import Settings
from app.db import transaction
from app.models.agency import Agency, AgencyKind
from app.models.base import utcnow
from app.models.delivery import Delivery
from app.services.delivery import enqueue
from app.services.webhooks import verify
from app.worker import Worker
from tests.api.delivery_support import act_as
from tests.conftest import make_settings
from tests.factories import create_agency

RECEIVER = "http://127.0.0.1:9/hook"


@pytest.fixture
def settings(database_url: str) -> Settings:
    return make_settings(
        database_url,
        webhook_allow_http=True,
        webhook_allowed_networks="127.0.0.0/8",
        webhook_timeout_seconds=0.5,
        worker_lease_seconds=5,
    )


@pytest.fixture
async def setup(app: FastAPI) -> dict[str, Agency]:
    agencies = {
        "ADMIN": await create_agency(app, "ADMIN", AgencyKind.OTHER, region_code=None),
        "POL": await create_agency(app, "POL", AgencyKind.POLICE, region_code="14.72"),
        "IMI": await create_agency(app, "IMI", AgencyKind.IMMIGRATION, region_code="14.72"),
    }
    act_as(app, agencies["ADMIN"], admin=True)
    return agencies


class Receiver:
    """An httpx MockTransport receiver answering a scripted list of statuses."""

    def __init__(self, *answers: int | Callable[[httpx.Request], httpx.Response]) -> None:
        self.answers = list(answers)
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        answer = self.answers.pop(0) if self.answers else 200
        return answer(request) if callable(answer) else httpx.Response(answer)


@pytest.fixture
async def worker_for(
    app: FastAPI, settings: Settings
) -> AsyncIterator[Callable[[Receiver], Worker]]:
    clients: list[httpx.AsyncClient] = []

    def make(receiver: Receiver) -> Worker:
        client = httpx.AsyncClient(transport=httpx.MockTransport(receiver))
        clients.append(client)
        return Worker(
            settings, app.state.session_factory, client=client, name="w1", rand=lambda: 0.5
        )

    yield make
    for c in clients:
        await c.aclose()


async def register(client: httpx.AsyncClient, code: str, url: str = RECEIVER) -> str:
    response = await client.put(f"/v1/admin/agencies/{code}/webhook", json={"url": url})
    assert response.status_code == 200, response.text
    secret = response.json()["secret"]
    assert secret.startswith("whsec_")
    return str(secret)


async def deliver(
    app: FastAPI, agency: Agency, event: str = "report.routed", **payload: Any
) -> uuid.UUID:
    async with transaction(app.state.session_factory) as session:
        d = await enqueue(
            session,
            event=event,
            recipient_agency_id=agency.id,
            payload={"summary": "TPPO, Kota Dumai", **payload},
            rule="criminal-investigation",
            report_id=uuid.uuid4(),
        )
    return d.id


async def make_all_due(app: FastAPI) -> None:
    async with transaction(app.state.session_factory) as session:
        await session.execute(update(Delivery).values(next_attempt_at=utcnow()))


async def admin_delivery(client: httpx.AsyncClient, delivery_id: uuid.UUID) -> dict[str, Any]:
    response = await client.get(f"/v1/admin/deliveries/{delivery_id}")
    assert response.status_code == 200
    body: dict[str, Any] = response.json()
    return body


# --- endpoint management -------------------------------------------------------------------


async def test_secret_is_shown_once_and_never_read_back(
    client: httpx.AsyncClient, setup: dict[str, Agency]
) -> None:
    await register(client, "POL")
    read = (await client.get("/v1/admin/agencies/POL/webhook")).json()
    assert read["secret"] is None
    assert read["enabled"] is True
    changed = await client.put(
        "/v1/admin/agencies/POL/webhook", json={"url": "http://127.0.0.1:8/x"}
    )
    assert changed.json()["secret"] is None  # the URL changed, the secret stays
    assert changed.json()["url"] == "http://127.0.0.1:8/x"


async def test_unsafe_urls_are_refused_at_registration(
    client: httpx.AsyncClient, app: FastAPI, database_url: str, setup: dict[str, Agency]
) -> None:
    for url in (
        "http://169.254.169.254/latest/meta-data",
        "http://10.0.0.5/hook",
        "ftp://127.0.0.1/",
    ):
        response = await client.put("/v1/admin/agencies/POL/webhook", json={"url": url})
        assert response.status_code == 422, url
        assert response.json()["errors"][0]["pointer"] == "/url"
    assert (await client.get("/v1/admin/agencies/POL/webhook")).status_code == 404


@pytest.mark.parametrize(
    "url",
    [
        "http://[64:ff9b::a9fe:a9fe]/hook",  # NAT64 of the metadata address
        "http://[2002:a9fe:a9fe::]/hook",  # 6to4
        "http://[::a9fe:a9fe]/hook",  # IPv4-compatible
        "http://[::ffff:169.254.169.254]/hook",  # IPv4-mapped
        "http://[64:ff9b::a00:5]/hook",  # NAT64 of 10.0.0.5 (not allow-listed here)
        "http://[2001:0:4136:e378:8000:63bf:3fff:fdd2]/hook",  # Teredo, client 192.0.2.45
    ],
)
async def test_ipv6_addresses_embedding_an_unsafe_ipv4_are_refused(
    client: httpx.AsyncClient, setup: dict[str, Agency], url: str
) -> None:
    response = await client.put("/v1/admin/agencies/POL/webhook", json={"url": url})
    assert response.status_code == 422, response.text
    assert response.json()["errors"][0]["pointer"] == "/url"
    assert "embeds" in response.json()["errors"][0]["detail"]


@pytest.mark.parametrize("character", ["\r", "\n", "\t", "\x00", "\x1b", "\x7f", " "])
async def test_urls_with_control_characters_are_refused_at_registration(
    client: httpx.AsyncClient, setup: dict[str, Agency], character: str
) -> None:
    url = f"http://127.0.0.1:9/ho{character}ok"
    response = await client.put("/v1/admin/agencies/POL/webhook", json={"url": url})
    assert response.status_code == 422, response.text
    assert response.json()["errors"][0]["pointer"] == "/url"
    assert (await client.get("/v1/admin/agencies/POL/webhook")).status_code == 404


async def test_https_required_unless_allowed(database_url: str) -> None:
    from app.main import create_app

    strict = create_app(make_settings(database_url, webhook_allowed_networks="127.0.0.0/8"))
    admin = await create_agency(strict, "ADMIN", AgencyKind.OTHER, region_code=None)
    await create_agency(strict, "POL", AgencyKind.OTHER, region_code="14.72")
    act_as(strict, admin, admin=True)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=strict), base_url="http://t"
    ) as c:
        response = await c.put("/v1/admin/agencies/POL/webhook", json={"url": "http://127.0.0.1/h"})
        assert response.status_code == 422
        assert "https" in response.json()["detail"]
        ok = await c.put("/v1/admin/agencies/POL/webhook", json={"url": "https://127.0.0.1/h"})
        assert ok.status_code == 200
    await strict.state.engine.dispose()


async def test_unknown_agency_is_404(client: httpx.AsyncClient, setup: dict[str, Agency]) -> None:
    response = await client.put("/v1/admin/agencies/NOPE/webhook", json={"url": RECEIVER})
    assert response.status_code == 404


# --- the worker ----------------------------------------------------------------------------


async def test_signed_push_is_verifiable_and_counts_as_ack(
    client: httpx.AsyncClient,
    app: FastAPI,
    setup: dict[str, Agency],
    worker_for: Callable[[Receiver], Worker],
) -> None:
    secret = await register(client, "POL")
    delivery_id = await deliver(app, setup["POL"])
    receiver = Receiver(200)
    assert await worker_for(receiver).run_once() == 1

    request = receiver.requests[0]
    assert verify(secret, dict(request.headers), request.content) == f"msg_{delivery_id.hex}"
    envelope = json.loads(request.content)
    assert envelope["type"] == "report.routed"
    assert envelope["sequence"] == 1
    assert envelope["rule"] == "criminal-investigation"
    assert envelope["data"]["summary"] == "TPPO, Kota Dumai"
    assert request.headers["content-type"] == "application/json"

    state = await admin_delivery(client, delivery_id)
    assert state["status"] == "DELIVERED"
    assert state["acked_at"] is not None
    act_as(app, setup["POL"])
    assert (await client.get("/v1/inbox")).json()["items"] == []


async def test_500_then_200_retries_with_the_same_webhook_id(
    client: httpx.AsyncClient,
    app: FastAPI,
    setup: dict[str, Agency],
    worker_for: Callable[[Receiver], Worker],
) -> None:
    await register(client, "POL")
    delivery_id = await deliver(app, setup["POL"])
    receiver = Receiver(500, 200)
    worker = worker_for(receiver)
    before = utcnow()
    assert await worker.run_once() == 1
    state = await admin_delivery(client, delivery_id)
    assert state["status"] == "PENDING"
    assert state["attempts"] == 1
    assert state["last_error"] == "HTTP 500"
    wait = utcnow().fromisoformat(state["next_attempt_at"]) - before
    assert timedelta(seconds=4) <= wait <= timedelta(seconds=7)  # 5 s ± jitter
    assert await worker.run_once() == 0  # not due yet

    await make_all_due(app)
    assert await worker.run_once() == 1
    ids = [r.headers["webhook-id"] for r in receiver.requests]
    assert ids == [f"msg_{delivery_id.hex}"] * 2
    assert (await admin_delivery(client, delivery_id))["status"] == "DELIVERED"
    attempts = (await client.get(f"/v1/admin/deliveries/{delivery_id}/attempts")).json()["items"]
    assert [a["status_code"] for a in attempts] == [500, 200]
    assert all(a["duration_ms"] >= 0 for a in attempts)


async def test_410_disables_the_endpoint_and_the_admin_sees_why(
    client: httpx.AsyncClient,
    app: FastAPI,
    setup: dict[str, Agency],
    worker_for: Callable[[Receiver], Worker],
) -> None:
    await register(client, "POL")
    delivery_id = await deliver(app, setup["POL"])
    receiver = Receiver(410)
    worker = worker_for(receiver)
    assert await worker.run_once() == 1
    endpoint = (await client.get("/v1/admin/agencies/POL/webhook")).json()
    assert endpoint["enabled"] is False
    assert "410" in endpoint["disabled_reason"]
    # nothing is lost: the delivery waits in the inbox, and no more pushes go out
    await deliver(app, setup["POL"])
    assert await worker.run_once() == 0
    act_as(app, setup["POL"])
    inbox = (await client.get("/v1/inbox")).json()["items"]
    assert inbox[0]["id"] == str(delivery_id)
    # re-registering re-enables the push, from the oldest undelivered event on
    act_as(app, setup["ADMIN"], admin=True)
    await client.put("/v1/admin/agencies/POL/webhook", json={"url": RECEIVER})
    assert await worker.run_once() == 1
    assert receiver.requests[-1].headers["webhook-id"] == f"msg_{delivery_id.hex}"


@pytest.fixture
def silent_server() -> Iterator[int]:
    """A TCP port on 127.0.0.1 that accepts connections and never answers."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(16)
    yield server.getsockname()[1]
    server.close()


async def test_a_hanging_receiver_does_not_hold_the_worker_past_the_timeout(
    client: httpx.AsyncClient,
    app: FastAPI,
    settings: Settings,
    setup: dict[str, Agency],
    silent_server: int,
) -> None:
    await register(client, "POL", f"http://127.0.0.1:{silent_server}/hook")
    delivery_id = await deliver(app, setup["POL"])
    worker = Worker(settings, app.state.session_factory, name="w-real")
    started = time.monotonic()
    assert await worker.run_once() == 1
    elapsed = time.monotonic() - started
    await worker.aclose()
    assert elapsed < settings.webhook_timeout_seconds + 1.5
    state = await admin_delivery(client, delivery_id)
    assert state["status"] == "PENDING"
    assert "no answer within" in state["last_error"]
    attempts = (await client.get(f"/v1/admin/deliveries/{delivery_id}/attempts")).json()["items"]
    assert attempts[0]["status_code"] is None
    assert attempts[0]["duration_ms"] >= 400


async def test_redirects_are_not_followed(
    client: httpx.AsyncClient,
    app: FastAPI,
    setup: dict[str, Agency],
    worker_for: Callable[[Receiver], Worker],
) -> None:
    await register(client, "POL")
    delivery_id = await deliver(app, setup["POL"])
    receiver = Receiver(
        lambda r: httpx.Response(307, headers={"location": "http://169.254.169.254/"})
    )
    assert await worker_for(receiver).run_once() == 1
    assert len(receiver.requests) == 1
    state = await admin_delivery(client, delivery_id)
    assert state["status"] == "PENDING"
    assert "redirect" in state["last_error"]


async def test_retry_after_is_honoured_on_429(
    client: httpx.AsyncClient,
    app: FastAPI,
    setup: dict[str, Agency],
    worker_for: Callable[[Receiver], Worker],
) -> None:
    await register(client, "POL")
    delivery_id = await deliver(app, setup["POL"])
    receiver = Receiver(lambda r: httpx.Response(429, headers={"retry-after": "120"}))
    before = utcnow()
    await worker_for(receiver).run_once()
    state = await admin_delivery(client, delivery_id)
    wait = utcnow().fromisoformat(state["next_attempt_at"]) - before
    assert timedelta(seconds=119) <= wait <= timedelta(seconds=125)


async def test_dead_letter_after_the_last_attempt_then_admin_retry(
    client: httpx.AsyncClient,
    app: FastAPI,
    setup: dict[str, Agency],
    worker_for: Callable[[Receiver], Worker],
) -> None:
    await register(client, "POL")
    delivery_id = await deliver(app, setup["POL"])
    receiver = Receiver(*([503] * 8), 200)
    worker = worker_for(receiver)
    for _ in range(8):
        await make_all_due(app)
        assert await worker.run_once() == 1
    state = await admin_delivery(client, delivery_id)
    assert state["status"] == "DEAD"
    assert state["attempts"] == 8
    dead = (await client.get("/v1/admin/deliveries", params={"status": "DEAD"})).json()["items"]
    assert [d["id"] for d in dead] == [str(delivery_id)]
    await make_all_due(app)
    assert await worker.run_once() == 0  # dead stays dead

    assert (await client.post(f"/v1/admin/deliveries/{delivery_id}/retry")).status_code == 200
    assert await worker.run_once() == 1
    assert (await admin_delivery(client, delivery_id))["status"] == "DELIVERED"
    again = await client.post(f"/v1/admin/deliveries/{delivery_id}/retry")
    assert again.status_code == 409
    assert {r.headers["webhook-id"] for r in receiver.requests} == {f"msg_{delivery_id.hex}"}


async def test_pull_only_agencies_are_left_to_the_inbox(
    client: httpx.AsyncClient,
    app: FastAPI,
    setup: dict[str, Agency],
    worker_for: Callable[[Receiver], Worker],
) -> None:
    delivery_id = await deliver(app, setup["IMI"])
    receiver = Receiver()
    assert await worker_for(receiver).run_once() == 0
    assert receiver.requests == []
    assert (await admin_delivery(client, delivery_id))["status"] == "PENDING"


async def test_each_agency_receives_its_events_in_sequence_order(
    client: httpx.AsyncClient,
    app: FastAPI,
    setup: dict[str, Agency],
    worker_for: Callable[[Receiver], Worker],
) -> None:
    await register(client, "POL")
    first = await deliver(app, setup["POL"])
    await deliver(app, setup["POL"], event="report.updated")
    await deliver(app, setup["POL"], event="report.retracted")
    receiver = Receiver(500)
    worker = worker_for(receiver)
    await worker.run_once()  # the first fails: the later ones must wait behind it
    assert [json.loads(r.content)["sequence"] for r in receiver.requests] == [1]
    assert await worker.run_once() == 0
    await make_all_due(app)
    for _ in range(3):
        await worker.run_once()
    assert [json.loads(r.content)["sequence"] for r in receiver.requests] == [1, 1, 2, 3]
    assert receiver.requests[1].headers["webhook-id"] == f"msg_{first.hex}"


async def test_rotation_signs_with_both_secrets_during_the_overlap(
    client: httpx.AsyncClient,
    app: FastAPI,
    setup: dict[str, Agency],
    worker_for: Callable[[Receiver], Worker],
) -> None:
    old = await register(client, "POL")
    rotated = (await client.post("/v1/admin/agencies/POL/webhook/rotate-secret")).json()
    new = rotated["secret"]
    assert new.startswith("whsec_")
    assert new != old
    assert rotated["previous_secret_expires_at"] is not None
    await deliver(app, setup["POL"])
    receiver = Receiver(200)
    await worker_for(receiver).run_once()
    request = receiver.requests[0]
    assert len(request.headers["webhook-signature"].split()) == 2
    verify(old, dict(request.headers), request.content)
    verify(new, dict(request.headers), request.content)


async def test_deleting_the_endpoint_makes_the_agency_pull_only(
    client: httpx.AsyncClient,
    app: FastAPI,
    setup: dict[str, Agency],
    worker_for: Callable[[Receiver], Worker],
) -> None:
    await register(client, "POL")
    assert (await client.delete("/v1/admin/agencies/POL/webhook")).status_code == 204
    await deliver(app, setup["POL"])
    receiver = Receiver()
    assert await worker_for(receiver).run_once() == 0
    assert (await client.delete("/v1/admin/agencies/POL/webhook")).status_code == 404


async def test_admin_delivery_filters(
    client: httpx.AsyncClient, app: FastAPI, setup: dict[str, Agency]
) -> None:
    await deliver(app, setup["POL"])
    await deliver(app, setup["IMI"], event="watch.hit")
    await deliver(app, setup["IMI"])
    by_agency = (await client.get("/v1/admin/deliveries", params={"agency": "IMI"})).json()["items"]
    assert {d["agency_code"] for d in by_agency} == {"IMI"}
    assert len(by_agency) == 2
    hits = (await client.get("/v1/admin/deliveries", params={"event": "watch.hit"})).json()["items"]
    assert [d["event"] for d in hits] == ["watch.hit"]
    page = (await client.get("/v1/admin/deliveries", params={"limit": 2})).json()
    rest = (await client.get("/v1/admin/deliveries", params={"cursor": page["next_cursor"]})).json()
    assert len(page["items"]) + len(rest["items"]) == 3
    assert rest["next_cursor"] is None
    assert (await client.get("/v1/admin/deliveries", params={"event": "nope"})).status_code == 422
    assert (await client.get(f"/v1/admin/deliveries/{uuid.uuid4()}")).status_code == 404
    act_as(app, setup["POL"])
    assert (await client.get("/v1/admin/deliveries")).status_code == 403


async def test_the_url_is_checked_again_at_send_time(
    client: httpx.AsyncClient, app: FastAPI, database_url: str, setup: dict[str, Agency]
) -> None:
    await register(client, "POL")  # accepted while 127.0.0.0/8 was allowed
    delivery_id = await deliver(app, setup["POL"])
    tightened = make_settings(
        database_url, webhook_allow_http=True, webhook_timeout_seconds=0.5, worker_lease_seconds=5
    )
    receiver = Receiver()
    async with httpx.AsyncClient(transport=httpx.MockTransport(receiver)) as http:
        worker = Worker(tightened, app.state.session_factory, client=http, name="w2")
        assert await worker.run_once() == 1
    assert receiver.requests == []
    state = await admin_delivery(client, delivery_id)
    assert state["status"] == "PENDING"
    assert "refused URL" in state["last_error"]
    assert "not a public address" in state["last_error"]


async def test_an_embedded_ipv4_is_judged_again_at_send_time(
    client: httpx.AsyncClient, app: FastAPI, database_url: str, setup: dict[str, Agency]
) -> None:
    await register(client, "POL", "http://[64:ff9b::7f00:1]:9/hook")  # 127.0.0.1, allowed here
    delivery_id = await deliver(app, setup["POL"])
    tightened = make_settings(
        database_url, webhook_allow_http=True, webhook_timeout_seconds=0.5, worker_lease_seconds=5
    )
    receiver = Receiver()
    async with httpx.AsyncClient(transport=httpx.MockTransport(receiver)) as http:
        worker = Worker(tightened, app.state.session_factory, client=http, name="w2")
        assert await worker.run_once() == 1
    assert receiver.requests == []
    state = await admin_delivery(client, delivery_id)
    assert "embeds 127.0.0.1 is not a public address" in state["last_error"]


async def test_deactivated_agencies_get_no_pushes(
    client: httpx.AsyncClient,
    app: FastAPI,
    setup: dict[str, Agency],
    worker_for: Callable[[Receiver], Worker],
) -> None:
    await register(client, "POL")
    await deliver(app, setup["POL"])
    async with transaction(app.state.session_factory) as session:
        await session.execute(update(Agency).where(Agency.code == "POL").values(active=False))
    receiver = Receiver()
    assert await worker_for(receiver).run_once() == 0
    assert receiver.requests == []


def _attempts(outcome: str) -> float:
    return REGISTRY.get_sample_value("sinergi_webhook_attempts_total", {"outcome": outcome}) or 0.0


def _timed(outcome: str) -> float:
    name = "sinergi_webhook_attempt_duration_seconds_count"
    return REGISTRY.get_sample_value(name, {"outcome": outcome}) or 0.0


async def test_the_worker_counts_attempts_by_outcome_and_times_them(
    client: httpx.AsyncClient,
    app: FastAPI,
    setup: dict[str, Agency],
    worker_for: Callable[[Receiver], Worker],
) -> None:
    await register(client, "POL")
    await deliver(app, setup["POL"])
    before = {o: (_attempts(o), _timed(o)) for o in ("delivered", "retry")}
    worker = worker_for(Receiver(503, 200))
    assert await worker.run_once() == 1
    await make_all_due(app)
    assert await worker.run_once() == 1
    for outcome in ("delivered", "retry"):
        assert _attempts(outcome) == before[outcome][0] + 1
        assert _timed(outcome) == before[outcome][1] + 1
