"""Ingests sharing one transaction (issue 21): batching changes no answer.

The same requests go once one by one to a fresh database with group commit off, and once into
one batch (the group held until all have arrived, so they share it): an invalid report, a
replay, a reused reference, two reports about one new person, a RED report and a report about
its person by an agency that may not see it, a correction, and a request that hits a database
error. Each gets the answer it gets alone, and both databases end the same: the same entity
grouping, deliveries, audit events and a chain that verifies.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from prometheus_client import REGISTRY
from sqlalchemy import event, select, text

from app.api.reports import ingest_group_commit
from app.main import create_app
from app.models.agency import AgencyKind
from app.models.audit import AuditEvent
from tests.factories import Agencies, dumai_agencies
from tests.report_samples import deferral, interception, victim

pytestmark = pytest.mark.pg

#: The reference whose INSERT the database refuses (``_failing_statement``).
BROKEN_REF = "IMI-DUMAI/2025/DB-ERROR"

NEW_PERSON = victim("Dewi Lestari", "2001-01-05", "3374014501010003")
HIDDEN_PERSON = victim("Rina Marlina", "2000-02-03", "3374014302000004")

#: (agency, method, path, body, extra headers); ``{GC0}`` in a path is the first report's id.
Request = tuple[str, str, str, dict[str, Any], dict[str, str]]

FIRST = deferral(external_ref="IMI-DUMAI/2025/GC0")
REQUESTS: list[Request] = [
    # two reports about one new person, from two agencies
    ("IMIGRASI-DUMAI", "POST", "/v1/reports",
     deferral(external_ref="IMI-DUMAI/2025/GC1", persons=[NEW_PERSON]), {}),
    ("LANAL-DUMAI", "POST", "/v1/reports",
     interception(external_ref="LANAL-DUMAI/2025/GC1", persons=[NEW_PERSON]), {}),
    # a replay of an earlier report (its Idempotency-Key), and its reference with another body
    ("IMIGRASI-DUMAI", "POST", "/v1/reports", FIRST, {"Idempotency-Key": "gc-first"}),
    ("IMIGRASI-DUMAI", "POST", "/v1/reports", {**FIRST, "narrative": "Lain."}, {}),
    # the database refuses this one
    ("IMIGRASI-DUMAI", "POST", "/v1/reports", deferral(external_ref=BROKEN_REF), {}),
    # a RED report, then one about its person by an agency that may not see it
    ("IMIGRASI-DUMAI", "POST", "/v1/reports",
     deferral(external_ref="IMI-DUMAI/2025/GC-RED", tlp="RED", persons=[HIDDEN_PERSON],
              recipients=["POLRES-DUMAI"]), {}),
    ("LANAL-DUMAI", "POST", "/v1/reports",
     interception(external_ref="LANAL-DUMAI/2025/GC2", persons=[HIDDEN_PERSON]), {}),
    # not a valid report: refused before any batch
    ("IMIGRASI-DUMAI", "POST", "/v1/reports",
     deferral(external_ref="IMI-DUMAI/2025/GC-BAD", tlp="PURPLE"), {}),
    # a correction of the first report
    ("IMIGRASI-DUMAI", "PUT", "/v1/reports/{GC0}",
     {**FIRST, "narrative": "Koreksi."}, {"If-Match": '"1"'}),
]  # fmt: skip

_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def _failing_statement(
    _conn: Any, _cursor: Any, statement: str, parameters: Any, _context: Any, _many: bool
) -> tuple[str, Any]:
    """A real database error for the statement that carries ``BROKEN_REF``."""
    if BROKEN_REF in repr(parameters):
        return "SELECT 1 / 0", ()
    return statement, parameters


class Ids:
    """Names ids by first appearance, so two worlds compare modulo their generated ids."""

    def __init__(self) -> None:
        self.names: dict[str, str] = {}

    def __call__(self, value: Any) -> Any:
        if isinstance(value, dict):
            return {k: self(v) for k, v in value.items()}
        if isinstance(value, list):
            return [self(v) for v in value]
        if isinstance(value, str):
            if _is_recent(value):
                return "<now>"
            return _UUID.sub(lambda m: self.names.setdefault(m[0], f"id{len(self.names)}"), value)
        return value


def _is_recent(value: str) -> bool:
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return False
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment > datetime.now(UTC) - timedelta(hours=1)


def _batch_metric() -> tuple[float, float]:
    def sample(name: str) -> float:
        return REGISTRY.get_sample_value(f"sinergi_ingest_batch_requests_{name}") or 0.0

    return sample("count"), sample("sum")


async def _world(app: Any, client: httpx.AsyncClient) -> tuple[Agencies, str]:
    event.listen(app.state.engine.sync_engine, "before_cursor_execute", _failing_statement,
                 retval=True)  # fmt: skip
    headers = await dumai_agencies(app, client, {"KSOP-DUMAI": AgencyKind.PORT_AUTHORITY})
    first = await client.post(
        "/v1/reports",
        json=FIRST,
        headers={**headers["IMIGRASI-DUMAI"], "Idempotency-Key": "gc-first"},
    )
    assert first.status_code == 201, first.text
    return headers, str(first.json()["id"])


def _send(
    client: httpx.AsyncClient, headers: Agencies, first_id: str, index: int, request: Request
) -> Any:
    agency, method, path, body, extra = request
    return client.request(
        method,
        path.replace("{GC0}", first_id),
        json=body,
        headers={**headers[agency], **extra, "X-Request-ID": f"gc-{index}"},
    )


async def _outcome(
    app: Any, client: httpx.AsyncClient, headers: Agencies, answers: list[httpx.Response]
) -> dict[str, Any]:
    """Everything a user could notice, ids named by first appearance."""
    ids = Ids()
    seen: dict[str, Any] = {
        "answers": [(r.status_code, ids(r.json())) for r in answers],
        "reports": {},
        "inboxes": {},
    }
    for code in ("IMIGRASI-DUMAI", "LANAL-DUMAI", "POLRES-DUMAI", "KSOP-DUMAI"):
        listed = await client.get("/v1/reports?limit=200", headers=headers[code])
        items = sorted(listed.json()["items"], key=lambda r: str(r["external_ref"]))
        seen["reports"][code] = [ids(item) for item in items]
        inbox = (await client.get("/v1/inbox?limit=200", headers=headers[code])).json()["items"]
        sequences = [item["sequence"] for item in inbox]
        assert sequences == list(range(1, len(inbox) + 1)), (code, sequences)  # gap-free
        seen["inboxes"][code] = [ids(item) for item in inbox]
    async with app.state.session_factory() as session:
        rows = await session.execute(
            select(AuditEvent.request_id, AuditEvent.action, AuditEvent.outcome,
                   AuditEvent.http_status).where(AuditEvent.request_id.like("gc-%"))
        )  # fmt: skip
        seen["audit"] = sorted(tuple(row) for row in rows.all())
    verify = await client.get("/v1/admin/audit/verify", headers=headers["ADMIN"])
    assert verify.json()["ok"], verify.json()
    return seen


async def test_a_batch_answers_each_request_as_alone(
    fresh_app: Callable[..., AbstractAsyncContextManager[Any]],
) -> None:
    async with fresh_app("alone", ingest_group_commit=False) as app:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://sinergi.test") as c:
            headers, first_id = await _world(app, c)
            answers = [await _send(c, headers, first_id, i, r) for i, r in enumerate(REQUESTS)]
            alone = await _outcome(app, c, headers, answers)
    statuses = [status for status, _ in alone["answers"]]
    assert statuses == [201, 201, 201, 409, 500, 201, 201, 422, 200]
    # the two reports about the new person share its entity; the RED person stays hidden
    entity = {i: alone["answers"][i][1]["persons"][0]["entity_id"] for i in (0, 1, 5, 6)}
    assert entity[0] == entity[1]
    assert entity[5] != entity[6]

    async with fresh_app("together") as app:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://sinergi.test") as c:
            headers, first_id = await _world(app, c)
            group = ingest_group_commit(app.state)
            assert group is not None
            batches, requests, retried = group.batches, group.requests, group.retried
            observed = _batch_metric()
            group.hold()
            pending: list[asyncio.Task[httpx.Response]] = []
            refused: dict[int, httpx.Response] = {}
            for i, request in enumerate(REQUESTS):
                queued = group.waiting
                task = asyncio.create_task(_send(c, headers, first_id, i, request))
                # in arrival order: each enters the batch before the next is sent
                while group.waiting == queued and not task.done():
                    await asyncio.sleep(0.005)
                if task.done():
                    refused[i] = task.result()
                pending.append(task)
            assert sorted(refused) == [7]  # the invalid report never entered the batch
            assert group.waiting == len(REQUESTS) - 1
            group.release()
            answers = list(await asyncio.gather(*pending))
            together = await _outcome(app, c, headers, answers)
            # one batch held the others; the database error was run again alone after it
            assert group.sizes[-1] == len(REQUESTS) - 2
            assert group.batches - batches == 1
            assert group.retried - retried == 1
            assert group.requests - requests == len(REQUESTS) - 2
            # operators see it in /metrics: one batch carrying seven requests
            count, total = _batch_metric()
            assert (count - observed[0], total - observed[1]) == (1, len(REQUESTS) - 2)

    assert together == alone


async def _held_in_one_batch(
    group: Any, client: httpx.AsyncClient, bodies: list[dict[str, Any]], headers: dict[str, str]
) -> list[asyncio.Task[httpx.Response]]:
    """``POST /v1/reports`` of each body, all gathered into the held ``group``'s next batch
    (each waits there until ``group.release()``)."""
    group.hold()
    pending = []
    for body in bodies:
        queued = group.waiting
        pending.append(asyncio.create_task(client.post("/v1/reports", json=body, headers=headers)))
        while group.waiting == queued:
            await asyncio.sleep(0.005)
    return pending


async def test_a_batch_whose_commit_fails_is_run_again_request_by_request(
    app: Any, client: httpx.AsyncClient
) -> None:
    """Nothing of the failed batch stays; each request is answered from its own transaction."""
    headers = await dumai_agencies(app, client)
    group = ingest_group_commit(app.state)
    assert group is not None
    fail_next_commit = asyncio.Event()

    def commit(_conn: Any) -> None:
        if fail_next_commit.is_set():
            fail_next_commit.clear()
            raise RuntimeError("the COMMIT failed")

    event.listen(app.state.engine.sync_engine, "commit", commit)
    bodies = [deferral(external_ref=f"IMI-DUMAI/2025/C{i}", persons=[NEW_PERSON]) for i in range(3)]
    pending = await _held_in_one_batch(group, client, bodies, headers["IMIGRASI-DUMAI"])
    retried = group.retried
    fail_next_commit.set()
    group.release()
    answers = await asyncio.gather(*pending)

    assert [r.status_code for r in answers] == [201, 201, 201], [r.text for r in answers]
    assert group.retried - retried == 3
    assert not fail_next_commit.is_set()  # the batch's COMMIT did fail
    # one entity for the one person, each report stored once, routed deliveries gap-free
    assert len({r.json()["persons"][0]["entity_id"] for r in answers}) == 1
    listed = (await client.get("/v1/reports", headers=headers["IMIGRASI-DUMAI"])).json()
    assert sorted(r["external_ref"] for r in listed["items"]) == [b["external_ref"] for b in bodies]
    for code in ("POLRES-DUMAI", "LANAL-DUMAI"):
        inbox = (await client.get("/v1/inbox?limit=200", headers=headers[code])).json()["items"]
        assert [i["sequence"] for i in inbox] == list(range(1, len(inbox) + 1))
    verify = await client.get("/v1/admin/audit/verify", headers=headers["ADMIN"])
    assert verify.json()["ok"], verify.json()


async def test_two_processes_batching_opposite_orders_answer_every_request(
    app: Any, client: httpx.AsyncClient, settings: Any
) -> None:
    """Two processes' batches naming two new people in opposite orders: every request is
    answered 201 and each person is one entity. (Their batches hold locks in request order; should
    they deadlock, PostgreSQL fails one statement and that request runs again alone.)"""
    headers = await dumai_agencies(app, client)
    other = create_app(settings)
    try:
        transport = httpx.ASGITransport(app=other)
        async with httpx.AsyncClient(transport=transport, base_url="http://sinergi.test") as c2:
            first = victim("Rina Marlina", "2000-02-03", "3374014302000004")
            second = victim("Yuliana Safitri", "1998-07-09", "3374014907980002")
            plans = [
                (app, client, [first, second], "A"),
                (other, c2, [second, first], "B"),
            ]
            groups = []
            pending = []
            for application, sender, people, tag in plans:
                group = ingest_group_commit(application.state)
                assert group is not None
                group.hold()
                groups.append(group)
                for n, person in enumerate(people):
                    queued = group.waiting
                    body = deferral(external_ref=f"IMI-DUMAI/2025/{tag}{n}", persons=[person])
                    pending.append(
                        asyncio.create_task(
                            sender.post("/v1/reports", json=body, headers=headers["IMIGRASI-DUMAI"])
                        )
                    )
                    while group.waiting == queued:
                        await asyncio.sleep(0.005)
            for group in groups:
                group.release()
            answers = await asyncio.gather(*pending)
    finally:
        await other.state.engine.dispose()

    assert [r.status_code for r in answers] == [201] * 4, [r.text for r in answers]
    entity = [r.json()["persons"][0]["entity_id"] for r in answers]
    assert entity[0] == entity[3]  # the first person, from both processes
    assert entity[1] == entity[2]  # the second
    assert entity[0] != entity[1]
    verify = await client.get("/v1/admin/audit/verify", headers=headers["ADMIN"])
    assert verify.json()["ok"], verify.json()


async def test_two_processes_batching_recipients_in_opposite_orders_never_deadlock(
    app: Any, client: httpx.AsyncClient, settings: Any
) -> None:
    """Two processes' batches whose RED reports reach two agencies in opposite orders: a batch
    numbers its requests' deliveries together before its COMMIT, the counters locked in one
    order, so neither loses a deadlock (no request runs again) and each inbox stays gap-free.
    (Numbered request by request, each batch held one counter and waited for the other's.)"""
    headers = await dumai_agencies(app, client)
    other = create_app(settings)
    people = [
        victim(name, f"199{n}-0{n + 1}-1{n}", f"337401{51 + n}0{n + 1}9{n}000{n + 1}")
        for n, name in enumerate(
            ["Sri Wahyuni", "Nur Aini", "Siti Rahayu", "Ani Suryani", "Tuti Handayani", "Eka Putri"]
        )
    ]
    try:
        transport = httpx.ASGITransport(app=other)
        async with httpx.AsyncClient(transport=transport, base_url="http://sinergi.test") as c2:
            polres, lanal = "POLRES-DUMAI", "LANAL-DUMAI"
            plans = [
                (app, client, [polres, lanal, polres], "A"),
                (other, c2, [lanal, polres, lanal], "B"),
            ]
            # both processes warm (connected, statements prepared), so their batches overlap
            for n, sender in enumerate((client, c2)):
                warm = deferral(external_ref=f"IMI-DUMAI/2025/W{n}")
                answer = await sender.post(
                    "/v1/reports", json=warm, headers=headers["IMIGRASI-DUMAI"]
                )
                assert answer.status_code == 201, answer.text
            groups = []
            pending = []
            for application, sender, recipients, tag in plans:
                group = ingest_group_commit(application.state)
                assert group is not None
                groups.append(group)
                bodies = [
                    deferral(
                        external_ref=f"IMI-DUMAI/2025/R{tag}{n}",
                        tlp="RED",
                        recipients=[recipient],
                        persons=[people.pop()],
                    )
                    for n, recipient in enumerate(recipients)
                ]
                pending += await _held_in_one_batch(
                    group, sender, bodies, headers["IMIGRASI-DUMAI"]
                )
            answers = await _released_together(groups, pending)
    finally:
        await other.state.engine.dispose()

    assert [r.status_code for r in answers] == [201] * 6, [r.text for r in answers]
    assert [group.sizes[-1] for group in groups] == [3, 3]
    for code in ("POLRES-DUMAI", "LANAL-DUMAI"):
        inbox = (await client.get("/v1/inbox?limit=200", headers=headers[code])).json()["items"]
        sequences = [i["sequence"] for i in inbox]
        assert sequences == list(range(1, len(inbox) + 1)), (code, sequences)
    verify = await client.get("/v1/admin/audit/verify", headers=headers["ADMIN"])
    assert verify.json()["ok"], verify.json()


async def test_a_request_is_not_kept_waiting_behind_a_batch_that_waits_on_the_database(
    app: Any, client: httpx.AsyncClient
) -> None:
    """While one batch waits for PostgreSQL (here on a recipient's counter another transaction
    holds), a report to another agency is stored and answered on another connection; the
    waiting one is answered once the lock goes, and both inboxes stay gap-free. (With one batch
    at a time, the second report waited behind the first.)"""
    headers = await dumai_agencies(app, client)
    sender = headers["IMIGRASI-DUMAI"]

    def red(ref: str, recipient: str, person: dict[str, Any]) -> dict[str, Any]:
        return deferral(external_ref=ref, tlp="RED", recipients=[recipient], persons=[person])

    first = red("W", "POLRES-DUMAI", NEW_PERSON)
    warm = await client.post("/v1/reports", json=first, headers=sender)
    assert warm.status_code == 201, warm.text
    async with app.state.engine.connect() as holder:
        await holder.execute(
            text(
                "SELECT 1 FROM delivery_sequences WHERE agency_id ="
                " (SELECT id FROM agencies WHERE code = 'POLRES-DUMAI') FOR UPDATE"
            )
        )
        blocked = asyncio.create_task(
            client.post("/v1/reports", json=red("B", "POLRES-DUMAI", NEW_PERSON), headers=sender)
        )
        await asyncio.sleep(0.5)
        assert not blocked.done()
        other = await asyncio.wait_for(
            client.post("/v1/reports", json=red("O", "LANAL-DUMAI", HIDDEN_PERSON), headers=sender),
            timeout=10,
        )
        assert other.status_code == 201, other.text
        assert not blocked.done()
        await holder.rollback()
    assert (await blocked).status_code == 201
    for code, count in (("POLRES-DUMAI", 2), ("LANAL-DUMAI", 1)):
        inbox = (await client.get("/v1/inbox?limit=200", headers=headers[code])).json()["items"]
        assert [i["sequence"] for i in inbox] == list(range(1, count + 1))


async def test_a_batch_reads_the_routing_rules_once_and_routes_each_report_as_alone(
    app: Any, client: httpx.AsyncClient
) -> None:
    """Three reports in one batch: the rules and the active agencies are not read again (the
    process holds them since the first report, and their rows have not changed: two queries per
    report before the batch, two per batch before the process held them), and each is routed as
    it would be alone."""
    headers = await dumai_agencies(app, client)
    group = ingest_group_commit(app.state)
    assert group is not None
    sender = headers["IMIGRASI-DUMAI"]
    alone = await client.post("/v1/reports", json=deferral(external_ref="R0"), headers=sender)
    assert alone.status_code == 201, alone.text
    reads: list[str] = []

    def seen(_c: Any, _cur: Any, statement: str, *_: Any) -> None:
        # the reads themselves (each report's claim carries the rows' stamp, a subquery)
        if statement.startswith(("SELECT routing_rules.", "SELECT agencies.code, agencies.id")):
            reads.append(statement)

    event.listen(app.state.engine.sync_engine, "before_cursor_execute", seen)
    bodies = [deferral(external_ref=f"R{n}", persons=[victim(f"Orang Ke{n}", "1990-01-01")])
              for n in (1, 2, 3)]  # fmt: skip
    pending = await _held_in_one_batch(group, client, bodies, sender)
    group.release()
    answers = await asyncio.gather(*pending)

    assert [r.status_code for r in answers] == [201] * 3, [r.text for r in answers]
    assert group.sizes[-1] == 3
    assert reads == []
    for answer in answers:
        assert answer.json()["routed_to"] == alone.json()["routed_to"]


async def test_two_processes_batching_two_people_in_opposite_orders_never_deadlock(
    app: Any, client: httpx.AsyncClient, settings: Any
) -> None:
    """Two processes' batches naming two new people in opposite orders: a batch locks all its
    requests' blocking keys at its start, in one order, so neither loses a deadlock (no request
    runs again) and each person is one entity. (Locked request by request, each batch held one
    person's keys and waited for the other's.)"""
    headers = await dumai_agencies(app, client)
    sender = headers["IMIGRASI-DUMAI"]
    other = create_app(settings)
    first = victim("Rina Marlina", "2000-02-03", "3374014302000004")
    second = victim("Yuliana Safitri", "1998-07-09", "3374014907980002")
    try:
        transport = httpx.ASGITransport(app=other)
        async with httpx.AsyncClient(transport=transport, base_url="http://sinergi.test") as c2:
            for n, warm_client in enumerate((client, c2)):  # both connected and prepared
                warm = await warm_client.post(
                    "/v1/reports", json=deferral(external_ref=f"W{n}"), headers=sender
                )
                assert warm.status_code == 201, warm.text
            groups = []
            pending = []
            for application, poster, people, tag in [
                (app, client, [first, second], "A"),
                (other, c2, [second, first], "B"),
            ]:
                group = ingest_group_commit(application.state)
                assert group is not None
                groups.append(group)
                bodies = [
                    deferral(external_ref=f"{tag}{n}", persons=[person])
                    for n, person in enumerate(people)
                ]
                pending += await _held_in_one_batch(group, poster, bodies, sender)
            answers = await _released_together(groups, pending)
    finally:
        await other.state.engine.dispose()

    assert [r.status_code for r in answers] == [201] * 4, [r.text for r in answers]
    entity = [r.json()["persons"][0]["entity_id"] for r in answers]
    assert entity[0] == entity[3] != entity[1] == entity[2]


async def _released_together(
    groups: list[Any], pending: list[asyncio.Task[httpx.Response]]
) -> list[httpx.Response]:
    """Let every held batch go at once; their answers, once no request lost a deadlock."""
    retried = [group.retried for group in groups]
    for group in groups:
        group.release()
    answers = await asyncio.gather(*pending)
    assert [group.retried for group in groups] == retried  # no request ran again
    return list(answers)


#: The reference whose statements lose a race (``_losing_statement``), and how often they do.
LOSING_REF = "IMI-DUMAI/2025/DEADLOCK"


async def test_a_request_that_keeps_losing_a_deadlock_is_run_again_until_it_is_stored(
    app: Any, client: httpx.AsyncClient
) -> None:
    """A deadlock with another process's batch (PostgreSQL's 40P01: nothing of the victim is
    stored) is no error of the request: in the batch it runs again alone, and alone again when
    it loses once more. It is answered 201 and stored once; the other request of its batch too.
    (Two processes or replicas, each batching, made such 500s under load before.)"""
    headers = await dumai_agencies(app, client)
    group = ingest_group_commit(app.state)
    assert group is not None
    losses = [2]  # the batch's attempt and the first attempt alone

    def losing(
        _conn: Any, _cursor: Any, statement: str, parameters: Any, _context: Any, _many: bool
    ) -> tuple[str, Any]:
        if LOSING_REF in repr(parameters) and losses[0] > 0:
            losses[0] -= 1
            return "DO $$ BEGIN RAISE EXCEPTION 'lost' USING ERRCODE = '40P01'; END $$", ()
        return statement, parameters

    event.listen(app.state.engine.sync_engine, "before_cursor_execute", losing, retval=True)
    bodies = [
        deferral(external_ref=LOSING_REF, persons=[NEW_PERSON]),
        deferral(external_ref="IMI-DUMAI/2025/WINNER", persons=[HIDDEN_PERSON]),
    ]
    pending = await _held_in_one_batch(group, client, bodies, headers["IMIGRASI-DUMAI"])
    group.release()
    answers = await asyncio.gather(*pending)

    assert [r.status_code for r in answers] == [201, 201], [r.text for r in answers]
    assert losses == [0]  # it did lose twice
    listed = (await client.get("/v1/reports", headers=headers["IMIGRASI-DUMAI"])).json()
    assert sorted(r["external_ref"] for r in listed["items"]) == sorted(
        b["external_ref"] for b in bodies
    )
    for code in ("POLRES-DUMAI", "LANAL-DUMAI"):
        inbox = (await client.get("/v1/inbox?limit=200", headers=headers[code])).json()["items"]
        assert [i["sequence"] for i in inbox] == list(range(1, len(inbox) + 1))
    verify = await client.get("/v1/admin/audit/verify", headers=headers["ADMIN"])
    assert verify.json()["ok"], verify.json()


#: The tables a batch writes once for all its requests, just before its COMMIT.
WRITTEN_AT_THE_END = ("report_versions", "report_modus", "report_facets", "audit_pending")


async def test_a_batch_writes_versions_modus_facets_and_audit_once_whatever_its_size(
    app: Any, client: httpx.AsyncClient
) -> None:
    """Batches of 2 and of 6 reports send as many INSERTs into each of these tables (one), and
    every report still has its version, its modus and its audit event; a report sent twice in
    one batch is answered as a replay of the first (whose version row is not written yet)."""
    headers = await dumai_agencies(app, client)
    group = ingest_group_commit(app.state)
    assert group is not None
    sender = headers["IMIGRASI-DUMAI"]
    inserts: list[str] = []

    def seen(statement: str) -> None:
        # one statement may write several tables (a flush's rows: ``WITH w0 AS (INSERT …)``)
        inserts.extend(
            table
            for table in re.findall(r"INSERT INTO (\w+)", statement)
            if table in WRITTEN_AT_THE_END
        )

    def logged(record: Any) -> None:  # asyncpg's query logger
        seen(record.query)

    # what SQLAlchemy sends, and what the app sends straight through asyncpg
    engine = app.state.engine.sync_engine
    event.listen(engine, "before_cursor_execute", lambda _c, _cur, sql, *_: seen(sql))
    event.listen(engine, "checkout", lambda conn, *_: conn._connection.add_query_logger(logged))
    written: dict[int, list[str]] = {}
    for size in (2, 6):
        bodies = [
            deferral(external_ref=f"W{size}-{n}", persons=[victim(f"Orang Ke{n}", "1990-01-01")])
            for n in range(size - 1)
        ]
        bodies.append(bodies[0])  # the same report again: a replay
        del inserts[:]
        pending = await _held_in_one_batch(group, client, bodies, sender)
        group.release()
        answers = await asyncio.gather(*pending)
        await asyncio.sleep(0.05)  # asyncpg's query loggers run soon after each statement
        assert [r.status_code for r in answers] == [201] * (size - 1) + [200]
        assert answers[-1].json() == answers[0].json()
        assert group.sizes[-1] == size
        written[size] = sorted(inserts)
        for answer in answers:
            report = f"/v1/reports/{answer.json()['id']}"
            history = (await client.get(f"{report}/versions", headers=sender)).json()
            assert [v["version"] for v in history] == [1], history
        listed = await client.get("/v1/reports?modus=TOURIST_DISGUISE&limit=200", headers=sender)
        refs = {r["external_ref"] for r in listed.json()["items"]}
        assert {b["external_ref"] for b in bodies} <= refs

    assert written[2] == written[6] == sorted(WRITTEN_AT_THE_END)
    async with app.state.session_factory() as session:
        created = await session.execute(
            select(AuditEvent.outcome).where(AuditEvent.action == "report.create")
        )
        assert len(created.all()) == 2 + 6
    verify = await client.get("/v1/admin/audit/verify", headers=headers["ADMIN"])
    assert verify.json()["ok"], verify.json()


async def test_a_batch_without_errors_sends_no_savepoint(
    app: Any, client: httpx.AsyncClient
) -> None:
    """A batch whose requests all succeed runs them without a SAVEPOINT each (two round trips
    fewer per request); every report is stored and answered as alone."""
    headers = await dumai_agencies(app, client)
    group = ingest_group_commit(app.state)
    assert group is not None
    sender = headers["IMIGRASI-DUMAI"]
    savepoints: list[str] = []
    engine = app.state.engine.sync_engine
    event.listen(
        engine,
        "before_cursor_execute",
        lambda _c, _cur, sql, *_: savepoints.append(sql) if "SAVEPOINT" in sql else None,
    )
    bodies = [
        deferral(external_ref=f"NS-{n}", persons=[victim(f"Orang Tanpa{n}", "1991-02-03")])
        for n in range(4)
    ]
    pending = await _held_in_one_batch(group, client, bodies, sender)
    group.release()
    answers = await asyncio.gather(*pending)
    assert [r.status_code for r in answers] == [201] * 4
    assert group.sizes[-1] == 4
    assert savepoints == []
    for answer in answers:
        stored = await client.get(f"/v1/reports/{answer.json()['id']}", headers=sender)
        assert stored.status_code == 200
