"""What a request costs the database, and that concurrent requests never fail (issue 10).

Statements are counted, never timed: ``before_cursor_execute`` on the app's engine sees every
statement SQLAlchemy sends (BEGIN, COMMIT and the pool's ping are not statements).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterator
from typing import Any

import asyncpg
import httpx
import pytest
from sqlalchemy import event, func, select

from app.db import AppSession, HeldConnection, create_engine, create_session_factory, transaction
from app.models.agency import AgencyKind
from app.models.audit import AuditEvent
from app.services.audit import REQUEST_AUDIT_KEY, AuditEventIn, Outcome, record_event
from tests.conftest import ON_POSTGRES
from tests.factories import bearer, create_admin, create_agency, token_for
from tests.report_samples import deferral, interception, recruiter, victim

#: Statement budgets (PostgreSQL, SQLite), as measured when set; raise one only with a reason.
#: Before issue 10's work the same requests took 9 (report), 7 (inbox) and about 60 (ingest);
#: before issue 21's, 23 / 24 (one new person) and 27 / 28 (two persons).
BUDGET = {
    # the token check (agency + credential) and the read in one statement, the audit append
    # (PostgreSQL: one INSERT, shared by concurrent reads; SQLite: its write lock, the guarded
    # insert, the head when unknown)
    "GET /v1/reports/{id}": (2, 4),
    # token check, the page, the audit append
    "GET /v1/inbox": (3, 5),
    # One new person: its crowd-prone key counts are one statement and its candidates one;
    # a flush's rows (persons, keys, entities, case links, recipients, facets, modus, version)
    # are one INSERT statement, the deliveries another (PostgreSQL, counted:
    # SQLAlchemy's statements, asyncpg's fetches and its writes with parameters). The report is
    # stored with the case it opens in one statement. Before: 23 (an INSERT per table, the
    # case's INSERT and the report's UPDATE). The routing rules and active agencies are held by
    # the process while the stamp of their rows (sent with the report's claim) is unchanged:
    # 14 / 15 before (two queries per report). The deliveries are numbered before the flush of
    # the persons' rows and go in its statement (12 / 13 before: a flush of their own).
    # PostgreSQL: the key counts and the candidates are one statement; a new person's entity
    # has no other report's case to look up (SQLite: 24 before). PostgreSQL: resolution's
    # advisory locks are taken by the report's claim statement (9 before: a statement of their
    # own).
    "POST /v1/reports (one new person)": (8, 23),
    # two persons, one of them linking to the first report's (a case link, case.linked): both
    # persons' key counts in one statement and their candidates in one; joining the stored
    # case is one statement (25 and 26 before: also the case read, its UPDATE and the report's);
    # the stored report's source agency (told by case.linked) comes with the shared case (16 /
    # 25 before: a query of its own); PostgreSQL: counts and candidates in one (12 before),
    # the locks with the claim (11 before)
    "POST /v1/reports (two persons, one linked)": (10, 24),
}


class Statements:
    """Counts the statements the app's engine sends while ``counting()`` is open, and those
    sent straight to asyncpg (``app.db.driver_rows`` and ``_driver_insert``), which SQLAlchemy
    does not see."""

    def __init__(self, app: Any) -> None:
        self.seen: list[str] | None = None
        event.listen(app.state.engine.sync_engine, "before_cursor_execute", self._seen)

    def _seen(self, _conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if self.seen is not None:
            self.seen.append(statement)

    @contextlib.contextmanager
    def counting(self) -> Iterator[list[str]]:
        self.seen = seen = []
        fetch, execute = asyncpg.Connection.fetch, asyncpg.Connection.execute

        async def counted(connection: Any, query: str, *args: Any, **kwargs: Any) -> Any:
            seen.append(query)
            return await fetch(connection, query, *args, **kwargs)

        async def counted_write(connection: Any, query: str, *args: Any, **kwargs: Any) -> Any:
            if args:  # a flush's rows (``app.db._driver_insert``); not BEGIN nor COMMIT
                seen.append(query)
            return await execute(connection, query, *args, **kwargs)

        asyncpg.Connection.fetch = counted
        asyncpg.Connection.execute = counted_write
        try:
            yield seen
        finally:
            asyncpg.Connection.fetch, asyncpg.Connection.execute = fetch, execute
            self.seen = None


@contextlib.contextmanager
def requests_beginning_transactions() -> Iterator[list[object]]:
    """The requests' own ORM sessions that begin a transaction while it is open."""
    taken: list[object] = []

    def note(session: Any, transaction: Any, connection: Any) -> None:
        if REQUEST_AUDIT_KEY in session.info:  # a request's own session
            taken.append(session)

    event.listen(AppSession, "after_begin", note)
    try:
        yield taken
    finally:
        event.remove(AppSession, "after_begin", note)


@pytest.fixture
async def headers(app: Any, client: httpx.AsyncClient) -> dict[str, dict[str, str]]:
    await create_admin(app)
    await create_agency(app, "IMIGRASI-DUMAI", kind=AgencyKind.IMMIGRATION)
    await create_agency(app, "POLRES-DUMAI", kind=AgencyKind.POLICE)
    await create_agency(app, "LANAL-DUMAI", kind=AgencyKind.NAVY)
    return {
        code: bearer(await token_for(client, app, code))
        for code in ("ADMIN", "IMIGRASI-DUMAI", "POLRES-DUMAI", "LANAL-DUMAI")
    }


def _budget(name: str) -> int:
    return BUDGET[name][0 if ON_POSTGRES else 1]


async def test_statements_per_request_stay_within_budget(
    app: Any, client: httpx.AsyncClient, headers: dict[str, dict[str, str]]
) -> None:
    statements = Statements(app)
    recipients = ["POLRES-DUMAI", "LANAL-DUMAI"]
    # Warm what a process caches (the verification key, the match weights): a steady state.
    warm = deferral(external_ref="WARM-UP/1", persons=[victim("Dewi Lestari", "1990-01-01")])
    assert (
        await client.post("/v1/reports", json=warm, headers=headers["IMIGRASI-DUMAI"])
    ).is_success

    async def measured(name: str, method: str, url: str, **kwargs: Any) -> httpx.Response:
        with statements.counting() as seen:
            response = await client.request(method, url, **kwargs)
        assert response.status_code < 300, response.text
        assert len(seen) <= _budget(name), (name, len(seen), seen)
        return response

    first = await measured(
        "POST /v1/reports (one new person)",
        "POST",
        "/v1/reports",
        json=deferral(recipients=recipients),
        headers=headers["IMIGRASI-DUMAI"],
    )
    second = await measured(
        "POST /v1/reports (two persons, one linked)",
        "POST",
        "/v1/reports",
        json=interception(recipients=["POLRES-DUMAI"]),
        headers=headers["LANAL-DUMAI"],
    )
    assert second.json()["case_id"] == first.json()["case_id"]
    location = first.headers["location"]
    await measured("GET /v1/reports/{id}", "GET", location, headers=headers["IMIGRASI-DUMAI"])
    await measured("GET /v1/reports/{id}", "GET", location, headers=headers["POLRES-DUMAI"])
    inbox = await measured("GET /v1/inbox", "GET", "/v1/inbox", headers=headers["POLRES-DUMAI"])
    assert [i["sequence"] for i in inbox.json()["items"]] == [1, 2]


@pytest.mark.skipif(not ON_POSTGRES, reason="SQLite reads take the write lock at BEGIN")
async def test_reads_open_no_transaction_and_still_commit_their_audit_event(
    app: Any,
    client: httpx.AsyncClient,
    headers: dict[str, dict[str, str]],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A report read and an inbox page send no BEGIN (nor COMMIT): what they run only reads, and
    their audit event is one INSERT committed by itself, before the answer leaves."""
    created = await client.post(
        "/v1/reports",
        json=deferral(recipients=["POLRES-DUMAI"]),
        headers=headers["IMIGRASI-DUMAI"],
    )
    assert created.status_code == 201
    begun: list[str] = []
    start = asyncpg.transaction.Transaction.start

    async def counted(self: Any) -> None:  # where asyncpg sends BEGIN
        begun.append("BEGIN")
        await start(self)

    monkeypatch.setattr(asyncpg.transaction.Transaction, "start", counted)
    reads = [
        (created.headers["location"], headers["IMIGRASI-DUMAI"]),
        (created.headers["location"], headers["POLRES-DUMAI"]),
        (created.headers["location"], headers["LANAL-DUMAI"]),  # not a recipient: 404
        ("/v1/inbox", headers["POLRES-DUMAI"]),
    ]
    answers = [await client.get(url, headers=h) for url, h in reads]
    assert [a.status_code for a in answers] == [200, 200, 404, 200]
    # the 404's event is written in a transaction of its own, as every refusal's is
    assert len(begun) == 1
    monkeypatch.undo()
    async with app.state.session_factory() as session:
        rows = await session.execute(
            select(AuditEvent.request_id, AuditEvent.http_status).where(
                AuditEvent.request_id.in_([a.headers["x-request-id"] for a in answers])
            )
        )
        assert sorted(status for _, status in rows.all()) == [200, 200, 200, 404]


@pytest.mark.skipif(not ON_POSTGRES, reason="the driver's own statements: asyncpg on PostgreSQL")
async def test_reads_send_their_statements_outside_the_orm_session(
    app: Any,
    client: httpx.AsyncClient,
    headers: dict[str, dict[str, str]],
) -> None:
    """A report read and an inbox page (their token check included) send their statements on a
    pooled connection of their own: the request's ORM session never takes one, and the answers,
    need-to-know and audit events are what they were."""
    created = await client.post(
        "/v1/reports",
        json=deferral(recipients=["POLRES-DUMAI"]),
        headers=headers["IMIGRASI-DUMAI"],
    )
    assert created.status_code == 201
    with requests_beginning_transactions() as taken:
        reads = [
            (created.headers["location"], headers["IMIGRASI-DUMAI"]),
            (created.headers["location"], headers["POLRES-DUMAI"]),
            (created.headers["location"], headers["LANAL-DUMAI"]),  # not a recipient: 404
            ("/v1/inbox", headers["POLRES-DUMAI"]),
            (created.headers["location"], headers["ADMIN"]),  # admins read every report
        ]
        answers = [await client.get(url, headers=h) for url, h in reads]
    assert [a.status_code for a in answers] == [200, 200, 404, 200, 200]
    assert answers[0].json() == answers[1].json() == answers[4].json()
    assert taken == []
    async with app.state.session_factory() as session:
        rows = await session.execute(
            select(AuditEvent.http_status).where(
                AuditEvent.request_id.in_([a.headers["x-request-id"] for a in answers])
            )
        )
        assert sorted(rows.scalars().all()) == [200, 200, 200, 200, 404]


@pytest.mark.skipif(not ON_POSTGRES, reason="the driver's own statements: asyncpg on PostgreSQL")
async def test_a_read_the_held_connection_cannot_serve_is_answered_through_its_session(
    app: Any, client: httpx.AsyncClient, headers: dict[str, dict[str, str]]
) -> None:
    """A read's ORM session is made only when needed: when its statements cannot go on the
    held connection, the session sends them, and the answers and audit events are the same,
    with every connection back in the pool."""
    created = await client.post(
        "/v1/reports", json=deferral(recipients=["POLRES-DUMAI"]), headers=headers["IMIGRASI-DUMAI"]
    )
    assert created.status_code == 201
    reads = [
        (created.headers["location"], headers["POLRES-DUMAI"]),
        (created.headers["location"], headers["LANAL-DUMAI"]),  # not a recipient: 404
        ("/v1/inbox", headers["POLRES-DUMAI"]),
    ]
    held = [await client.get(url, headers=h) for url, h in reads]
    pool = app.state.engine.sync_engine.pool
    out_before = pool.checkedout()

    async def unavailable(*_args: Any) -> None:
        return None  # as when the driver cannot send it: the session's turn

    with pytest.MonkeyPatch.context() as patched, requests_beginning_transactions() as taken:
        patched.setattr(HeldConnection, "fetch", unavailable)
        through_session = [await client.get(url, headers=h) for url, h in reads]
    assert len(taken) == len(reads)  # each made its session, which sent the statements
    assert [a.status_code for a in through_session] == [a.status_code for a in held]
    assert [a.json() for a in through_session] == [a.json() for a in held]
    assert pool.checkedout() == out_before
    async with app.state.session_factory() as session:
        rows = await session.execute(
            select(AuditEvent.action, AuditEvent.http_status, AuditEvent.object_ids).where(
                AuditEvent.request_id.in_(
                    [a.headers["x-request-id"] for a in (*held, *through_session)]
                )
            )
        )
        events = sorted(tuple(row) for row in rows.all())
    assert events[0::2] == events[1::2]  # each read's event, twice alike


@pytest.mark.skipif(not ON_POSTGRES, reason="the driver's own statements: asyncpg on PostgreSQL")
async def test_a_submissions_token_check_begins_no_transaction_of_its_own(
    app: Any, client: httpx.AsyncClient, headers: dict[str, dict[str, str]]
) -> None:
    """A submission is written in the transaction it shares with concurrent ones; its token
    check runs on a pooled connection of its own, so the request's ORM session never begins
    one (no BEGIN and COMMIT round trips for a check). Answers and audit events as before."""
    # Warm what a process caches (the verification key): a steady state.
    warm = deferral(external_ref="WARM-UP/1", persons=[victim("Dewi Lestari", "1990-01-01")])
    assert (
        await client.post("/v1/reports", json=warm, headers=headers["IMIGRASI-DUMAI"])
    ).is_success
    with requests_beginning_transactions() as taken:
        created = [
            await client.post(
                "/v1/reports",
                json=deferral(external_ref=f"OWN/{i}", recipients=["POLRES-DUMAI"]),
                headers=headers["IMIGRASI-DUMAI"],
            )
            for i in range(2)
        ]
        replay = await client.post(
            "/v1/reports",
            json=deferral(external_ref="OWN/0", recipients=["POLRES-DUMAI"]),
            headers=headers["IMIGRASI-DUMAI"],
        )
    assert [a.status_code for a in (*created, replay)] == [201, 201, 200]
    assert replay.json()["id"] == created[0].json()["id"]
    assert taken == []
    async with app.state.session_factory() as session:
        rows = await session.execute(
            select(AuditEvent.action, AuditEvent.http_status).where(
                AuditEvent.request_id.in_([a.headers["x-request-id"] for a in (*created, replay)])
            )
        )
        assert sorted(rows.all()) == [("report.create", 200), *[("report.create", 201)] * 2]


@pytest.mark.skipif(not ON_POSTGRES, reason="the ingest group commit: PostgreSQL")
async def test_a_submission_makes_no_orm_session_besides_its_batchs(
    app: Any,
    client: httpx.AsyncClient,
    headers: dict[str, dict[str, str]],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A submission's work runs in its group-commit batch's session; the request's own session
    only checks the token, on a pooled connection (``writes_in_group_commit``), and is never
    made: one ORM session per submission, not two. A new report, a replay and a conflicting
    body are answered as before, each audited once."""
    warm = deferral(external_ref="WARM-UP/1", persons=[victim("Dewi Lestari", "1990-01-01")])
    assert (
        await client.post("/v1/reports", json=warm, headers=headers["IMIGRASI-DUMAI"])
    ).is_success
    made: list[object] = []
    init = AppSession.__init__

    def counted(self: Any, *args: Any, **kwargs: Any) -> None:
        made.append(self)
        init(self, *args, **kwargs)

    monkeypatch.setattr(AppSession, "__init__", counted)
    body = deferral(external_ref="ONE/1", recipients=["POLRES-DUMAI"])
    answers, sessions = [], []
    for sent in (body, body, {**body, "destination_countries": ["SGP"]}):
        answers.append(
            await client.post("/v1/reports", json=sent, headers=headers["IMIGRASI-DUMAI"])
        )
        sessions.append(len(made))
        made.clear()
    monkeypatch.undo()
    assert [a.status_code for a in answers] == [201, 200, 409]
    assert answers[1].json() == answers[0].json()
    assert answers[0].headers["location"] == f"/v1/reports/{answers[0].json()['id']}"
    assert answers[2].headers["content-type"] == "application/problem+json"
    # the batch's (before: the request's own too); a refusal's audit event has its own
    assert sessions == [1, 1, 2]
    async with app.state.session_factory() as session:
        rows = await session.execute(
            select(AuditEvent.action, AuditEvent.http_status).where(
                AuditEvent.request_id.in_([a.headers["x-request-id"] for a in answers])
            )
        )
        assert sorted(rows.all()) == [("report.create", s) for s in (200, 201, 409)]


@pytest.mark.skipif(not ON_POSTGRES, reason="prepared statements: asyncpg on PostgreSQL")
async def test_ingest_sends_the_same_statements_whatever_the_size_of_the_report(
    app: Any, client: httpx.AsyncClient, headers: dict[str, dict[str, str]]
) -> None:
    """Reports with more persons, keys and recipients send no statement text a smaller one did
    not: each connection prepares an ingest's statements once, not once per report size."""
    statements = Statements(app)
    sizes = [
        ([victim("Dewi Lestari", "1990-01-01")], ["POLRES-DUMAI"]),
        (
            [victim("Siti Rahmawati", "1995-03-04"), recruiter()],
            ["POLRES-DUMAI", "LANAL-DUMAI"],
        ),
        (
            [
                victim("Ayu Wulandari", "1999-07-08", nik="1472014708990003"),
                victim("Rina Marlina", "2001-11-12"),
                recruiter("Bambang Sutrisno", "+62 812-6600-1122"),
            ],
            ["POLRES-DUMAI", "LANAL-DUMAI"],
        ),
    ]
    texts: list[set[str]] = []
    for i, (persons, recipients) in enumerate(sizes):
        body = deferral(external_ref=f"SIZE/{i}", persons=persons, recipients=recipients)
        with statements.counting() as seen:
            answer = await client.post("/v1/reports", json=body, headers=headers["IMIGRASI-DUMAI"])
        assert answer.status_code == 201, answer.text
        assert len(answer.json()["persons"]) == len(persons)
        texts.append(set(seen))
    assert texts[1] - texts[0] == set()
    assert texts[2] - texts[0] == set()


async def test_concurrent_writers_and_readers_get_no_server_error(
    app: Any, client: httpx.AsyncClient, headers: dict[str, dict[str, str]], settings: Any
) -> None:
    """32 ingests and 16 inbox reads at once, while another process's engine writes too.

    On SQLite this is the case that answered 500 "database is locked"; every ingest must be
    stored, each recipient's sequence must stay 1..n without gaps, and the audit chain must hold
    exactly one event per authenticated request and verify.
    """
    writers, readers = 32, 16
    other = create_engine(settings)  # as the worker or the CLI would, from another process
    other_factory = create_session_factory(other)
    stop = asyncio.Event()
    side_events = 0

    async def other_process() -> None:
        nonlocal side_events
        while not stop.is_set():
            async with transaction(other_factory) as session:
                await record_event(
                    session, AuditEventIn(action="worker.tick", outcome=Outcome.SUCCESS)
                )
            side_events += 1
            await asyncio.sleep(0.005)

    async def count_events() -> int:
        async with transaction(app.state.session_factory) as session:
            return int(await session.scalar(select(func.count()).select_from(AuditEvent)) or 0)

    before = await count_events()

    async def ingest(i: int) -> httpx.Response:
        body = deferral(
            external_ref=f"IMI-DUMAI/2025/C{i:04d}",
            persons=[victim(f"Korban Nomor {i}", f"19{70 + i % 30}-0{1 + i % 9}-1{i % 9}")],
            recipients=["POLRES-DUMAI", "LANAL-DUMAI"],
        )
        return await client.post("/v1/reports", json=body, headers=headers["IMIGRASI-DUMAI"])

    async def read() -> httpx.Response:
        return await client.get("/v1/inbox", headers=headers["POLRES-DUMAI"])

    side = asyncio.create_task(other_process())
    try:
        answers = await asyncio.gather(
            *(ingest(i) for i in range(writers)), *(read() for _ in range(readers))
        )
    finally:
        stop.set()
        await side
        await other.dispose()

    assert [a.status_code for a in answers] == [201] * writers + [200] * readers, [
        a.text for a in answers if a.status_code >= 300
    ]
    assert await count_events() == before + writers + readers + side_events
    for code in ("POLRES-DUMAI", "LANAL-DUMAI"):
        page = await client.get("/v1/inbox?limit=100", headers=headers[code])
        assert [i["sequence"] for i in page.json()["items"]] == list(range(1, writers + 1))
    verify = (await client.get("/v1/admin/audit/verify", headers=headers["ADMIN"])).json()
    assert verify["ok"], verify


@pytest.mark.skipif(ON_POSTGRES, reason="SQLite's single writer")
async def test_sqlite_requests_queue_in_the_process_not_on_the_file_lock(
    monkeypatch: pytest.MonkeyPatch, database_url: str, headers: dict[str, dict[str, str]]
) -> None:
    """With a busy timeout far below the time 48 ingests take, none may fail "database is locked".

    Requests of one process wait for its one connection, in order, instead of racing for the
    file lock; only other processes meet the busy timeout. (With a pool of several connections
    this test fails with 500s as soon as a request waits on the lock longer than 0.1 s.)
    """
    from app import db
    from app.main import create_app
    from tests.conftest import make_settings

    monkeypatch.setattr(db, "SQLITE_BUSY_TIMEOUT_MS", 100)
    app = create_app(make_settings(database_url))
    transport = httpx.ASGITransport(app=app)
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://sinergi.test") as c:

            async def ingest(i: int) -> int:
                body = deferral(
                    external_ref=f"IMI-DUMAI/2025/Q{i:04d}",
                    persons=[victim(f"Saksi Nomor {i}", f"19{60 + i % 40}-0{1 + i % 9}-2{i % 9}")],
                    recipients=["POLRES-DUMAI"],
                )
                answer = await c.post("/v1/reports", json=body, headers=headers["IMIGRASI-DUMAI"])
                return answer.status_code

            statuses = await asyncio.gather(*(ingest(i) for i in range(48)))
    finally:
        await app.state.engine.dispose()
    assert statuses == [201] * 48
