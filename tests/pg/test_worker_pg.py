"""PostgreSQL: concurrent sequencing, two workers at once, a SIGKILLed worker, end to end."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import func, select

from app.config import Settings
from app.db import create_engine, create_session_factory, transaction
from app.models.agency import AgencyKind
from app.models.delivery import Delivery, DeliveryStatus
from app.services.delivery import enqueue, enqueue_many
from app.services.routing import seed_default_rules
from app.services.webhooks import verify
from app.worker import Worker
from tests.api.delivery_support import act_as
from tests.conftest import ON_POSTGRES, TEST_SECRET, make_settings
from tests.factories import create_agency
from tests.report_samples import deferral

# skipif as well: the conftest's added skip marker is not honoured for async tests
pytestmark = [
    pytest.mark.pg,
    pytest.mark.skipif(
        not ON_POSTGRES, reason="needs SINERGI_TEST_DATABASE_URL=postgresql+asyncpg://…"
    ),
]


@pytest.fixture
def settings(database_url: str) -> Settings:
    return make_settings(
        database_url,
        webhook_allow_http=True,
        webhook_allowed_networks="127.0.0.0/8",
        webhook_timeout_seconds=1.0,
        worker_lease_seconds=3,
        worker_poll_seconds=0.1,
        worker_batch_size=5,
    )


class Receiver:
    """A real HTTP receiver on 127.0.0.1 that records every request and watches for overlaps."""

    def __init__(self, delay: Callable[[str], float] = lambda _id: 0.0) -> None:
        self.delay = delay
        self.lock = threading.Lock()
        self.received: list[tuple[str, dict[str, str], bytes]] = []
        self.in_flight: Counter[str] = Counter()
        self.overlaps: list[str] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["content-length"]))
                webhook_id = self.headers["webhook-id"]
                with receiver.lock:
                    receiver.in_flight[webhook_id] += 1
                    if receiver.in_flight[webhook_id] > 1:
                        receiver.overlaps.append(webhook_id)
                try:
                    time.sleep(receiver.delay(webhook_id))
                    with receiver.lock:
                        receiver.received.append((webhook_id, dict(self.headers), body))
                    self.send_response(204)
                    self.end_headers()
                finally:
                    with receiver.lock:
                        receiver.in_flight[webhook_id] -= 1

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def ids(self) -> list[str]:
        with self.lock:
            return [r[0] for r in self.received]


@pytest.fixture
def receiver_factory() -> Iterator[Callable[..., Receiver]]:
    made: list[Receiver] = []

    def make(**kwargs: Any) -> Receiver:
        r = Receiver(**kwargs)
        made.append(r)
        return r

    yield make
    for r in made:
        r.close()


async def register(client: httpx.AsyncClient, code: str, url: str) -> str:
    response = await client.put(f"/v1/admin/agencies/{code}/webhook", json={"url": url})
    assert response.status_code == 200, response.text
    return str(response.json()["secret"])


async def statuses(app: FastAPI) -> Counter[str]:
    async with transaction(app.state.session_factory) as session:
        rows = await session.execute(
            select(Delivery.status, func.count()).group_by(Delivery.status)
        )
        return Counter(dict(rows.all()))


async def wait_until(predicate: Callable[[], Any], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = predicate()
        if asyncio.iscoroutine(result):
            result = await result
        if result:
            return
        await asyncio.sleep(0.1)
    raise AssertionError("condition not reached in time")


async def test_concurrent_enqueues_get_gap_free_sequences(app: FastAPI, settings: Settings) -> None:
    agency = await create_agency(app, "POL", AgencyKind.POLICE, region_code="14.72")
    engine = create_engine(settings)
    factory = create_session_factory(engine)

    async def one(i: int) -> None:
        async with transaction(factory) as session:
            await enqueue(
                session,
                event="report.routed",
                recipient_agency_id=agency.id,
                payload={"i": i},
                rule="r",
                report_id=None,
            )
            await asyncio.sleep(0.01)  # hold the counter lock a little: force contention

    await asyncio.gather(*(one(i) for i in range(40)))
    await engine.dispose()
    async with transaction(app.state.session_factory) as session:
        sequences = sorted(await session.scalars(select(Delivery.sequence)))
    assert sequences == list(range(1, 41))


async def test_two_workers_never_send_one_delivery_twice_at_once(
    client: httpx.AsyncClient,
    app: FastAPI,
    settings: Settings,
    receiver_factory: Callable[..., Receiver],
) -> None:
    act_as(app, await create_agency(app, "ADMIN", AgencyKind.OTHER, region_code=None), admin=True)
    receiver = receiver_factory(delay=lambda _id: 0.02)
    agencies = [
        await create_agency(app, f"A{i}", AgencyKind.OTHER, region_code="14.72") for i in range(12)
    ]
    for agency in agencies:
        await register(client, agency.code, receiver.url)
    expected: dict[str, list[str]] = {}
    async with transaction(app.state.session_factory) as session:
        for agency in agencies:
            for n in range(5):
                d = await enqueue(
                    session,
                    event="report.routed",
                    recipient_agency_id=agency.id,
                    payload={"n": n},
                    rule="r",
                    report_id=None,
                )
                expected.setdefault(agency.code, []).append(f"msg_{d.id.hex}")

    engines = [create_engine(settings) for _ in range(2)]
    workers = [
        Worker(settings, create_session_factory(e), name=f"w{i}") for i, e in enumerate(engines)
    ]
    stop = asyncio.Event()
    tasks = [asyncio.create_task(w.run(stop)) for w in workers]
    await wait_until(lambda: len(receiver.ids()) >= 60, timeout=60)
    stop.set()
    await asyncio.gather(*tasks)
    for w in workers:
        await w.aclose()
    for e in engines:
        await e.dispose()

    assert receiver.overlaps == []
    assert sorted(receiver.ids()) == sorted(i for ids in expected.values() for i in ids)
    for ids in expected.values():  # each agency in sequence order
        got = [i for i in receiver.ids() if i in set(ids)]
        assert got == ids
    assert await statuses(app) == Counter({DeliveryStatus.DELIVERED: 60})


def worker_process(settings: Settings) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "SINERGI_ENV": "test",
        "SINERGI_DATABASE_URL": settings.database_url,
        "SINERGI_SECRET_KEY": TEST_SECRET,
        "SINERGI_KEY_ENCRYPTION_KEY": TEST_SECRET,
        "SINERGI_WEBHOOK_ALLOW_HTTP": "true",
        "SINERGI_WEBHOOK_ALLOWED_NETWORKS": "127.0.0.0/8",
        "SINERGI_WEBHOOK_TIMEOUT_SECONDS": str(settings.webhook_timeout_seconds),
        "SINERGI_WORKER_LEASE_SECONDS": str(settings.worker_lease_seconds),
        "SINERGI_WORKER_POLL_SECONDS": "0.1",
        "SINERGI_LOG_LEVEL": "WARNING",
    }
    return subprocess.Popen([sys.executable, "-m", "app.cli", "worker"], env=env)


async def test_a_sigkilled_worker_loses_nothing(
    client: httpx.AsyncClient,
    app: FastAPI,
    settings: Settings,
    receiver_factory: Callable[..., Receiver],
) -> None:
    act_as(app, await create_agency(app, "ADMIN", AgencyKind.OTHER, region_code=None), admin=True)
    hold = threading.Event()
    # the receiver stalls (below the timeout) until the first worker has been killed
    receiver = receiver_factory(delay=lambda _id: 0.0 if hold.is_set() else 0.8)
    agencies = [
        await create_agency(app, f"K{i}", AgencyKind.OTHER, region_code="14.72") for i in range(4)
    ]
    ids: list[str] = []
    for agency in agencies:
        await register(client, agency.code, receiver.url)
    async with transaction(app.state.session_factory) as session:
        for agency in agencies:
            for n in range(3):
                d = await enqueue(
                    session,
                    event="report.routed",
                    recipient_agency_id=agency.id,
                    payload={"n": n},
                    rule="r",
                    report_id=None,
                )
                ids.append(f"msg_{d.id.hex}")

    first = worker_process(settings)
    try:
        await wait_until(lambda: sum(receiver.in_flight.values()) > 0, timeout=20)
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=10)
    finally:
        if first.poll() is None:
            first.kill()
    hold.set()
    assert len(receiver.ids()) < len(ids)  # it died mid-way

    second = worker_process(settings)
    try:
        await wait_until(
            lambda: _all_delivered(app, len(ids)), timeout=settings.worker_lease_seconds + 30
        )
        second.send_signal(signal.SIGTERM)  # graceful stop
        assert second.wait(timeout=15) == 0
    finally:
        if second.poll() is None:
            second.kill()
    received = receiver.ids()
    assert set(received) == set(ids)  # every delivery arrived; any duplicate has the same id
    assert receiver.overlaps == []


async def _all_delivered(app: FastAPI, count: int) -> bool:
    return (await statuses(app)).get(DeliveryStatus.DELIVERED, 0) == count


async def test_end_to_end_default_rules_pull_and_push_in_order(
    client: httpx.AsyncClient,
    app: FastAPI,
    settings: Settings,
    receiver_factory: Callable[..., Receiver],
) -> None:
    """Three agencies: IMI reports, POL pulls, BP3MI receives signed webhooks from a real worker."""
    admin = await create_agency(app, "ADMIN", AgencyKind.OTHER, region_code=None)
    imi = await create_agency(app, "IMI", AgencyKind.IMMIGRATION, region_code="14.72")
    pol = await create_agency(app, "POL", AgencyKind.POLICE, region_code="14.72")
    await create_agency(app, "BP3MI", AgencyKind.MIGRANT_WORKER_PROTECTION, region_code="14.72")
    act_as(app, admin, admin=True)
    receiver = receiver_factory()
    secret = await register(client, "BP3MI", receiver.url)
    async with transaction(app.state.session_factory) as session:
        await seed_default_rules(session, region_code="14.72")

    # Immigration submits, corrects and retracts through the API; the default rules route it.
    act_as(app, imi)
    body = deferral(
        modus_operandi=["NONPROCEDURAL_MIGRANT_WORKER"], recipients=[], external_ref="IMI/E2E/1"
    )
    created = await client.post("/v1/reports", json=body, headers={"Idempotency-Key": "e2e-1"})
    assert created.status_code == 201, created.text
    assert {r["agency"]: r["rule"] for r in created.json()["routed_to"]} == {
        "POL": "criminal-investigation",
        "BP3MI": "migrant-worker-recruitment",
    }
    report_id = created.json()["id"]
    corrected = {**body, "narrative": "Koreksi: tujuan Kuala Lumpur."}
    updated = await client.put(
        f"/v1/reports/{report_id}", json=corrected, headers={"If-Match": '"1"'}
    )
    assert updated.status_code == 200, updated.text
    retracted = await client.post(
        f"/v1/reports/{report_id}/retract", json={"reason": "Salah orang."}
    )
    assert retracted.status_code == 200, retracted.text

    process = worker_process(settings)
    try:
        await wait_until(lambda: len(receiver.ids()) >= 3, timeout=30)
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=15) == 0
    finally:
        if process.poll() is None:
            process.kill()

    pushed = [json.loads(raw) for _, _, raw in receiver.received]
    assert all(m["report_id"] == report_id for m in pushed)
    assert pushed[1]["data"]["report"]["narrative"] == "Koreksi: tujuan Kuala Lumpur."
    assert [(m["type"], m["sequence"]) for m in pushed] == [
        ("report.routed", 1),
        ("report.updated", 2),
        ("report.retracted", 3),
    ]
    for webhook_id, headers, body in receiver.received:
        assert verify(secret, headers, body) == webhook_id

    act_as(app, pol)
    inbox = (await client.get("/v1/inbox")).json()["items"]
    assert [(i["event"], i["sequence"]) for i in inbox] == [
        ("report.routed", 1),
        ("report.updated", 2),
        ("report.retracted", 3),
    ]
    ack = await client.post("/v1/inbox/ack", json={"delivery_ids": [i["id"] for i in inbox]})
    assert len(ack.json()["acked"]) == 3
    assert (await client.get("/v1/inbox")).json()["items"] == []
    # the source agency got nothing of its own report
    act_as(app, imi)
    assert (await client.get("/v1/inbox")).json()["items"] == []


async def test_fan_outs_in_opposite_orders_do_not_deadlock(
    app: FastAPI, settings: Settings
) -> None:
    a = await create_agency(app, "AG-A", AgencyKind.OTHER, region_code="14.72")
    b = await create_agency(app, "AG-B", AgencyKind.OTHER, region_code="14.72")
    engine = create_engine(settings)
    factory = create_session_factory(engine)

    async def fan_out(order: list[uuid.UUID]) -> None:
        async with transaction(factory) as session:
            made = await enqueue_many(
                session,
                event="report.routed",
                recipients=[(agency_id, "r") for agency_id in order],
                payload={},
                report_id=None,
            )
            assert [d.agency_id for d in made] == order
            await asyncio.sleep(0.02)

    await asyncio.wait_for(
        asyncio.gather(*(fan_out([a.id, b.id] if i % 2 else [b.id, a.id]) for i in range(20))),
        timeout=60,
    )
    await engine.dispose()
    async with transaction(app.state.session_factory) as session:
        rows = (await session.execute(select(Delivery.agency_id, Delivery.sequence))).all()
    for agency in (a, b):
        assert sorted(s for i, s in rows if i == agency.id) == list(range(1, 21))
