"""Reads committing their audit events together (issue 21): each answer is the one it gets alone.

On PostgreSQL a request that wrote nothing hands its audit event to the process's group commit:
concurrent reads share one INSERT and one COMMIT, still before their answers leave. These tests
send the same reads one at a time and then all at once, and compare.
"""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest
from sqlalchemy import select, text

from app.models.agency import AgencyKind
from app.models.audit import AuditEvent
from app.services import group_commit
from tests.conftest import ON_POSTGRES
from tests.factories import bearer, create_admin, create_agency, token_for
from tests.report_samples import deferral

pytestmark = pytest.mark.skipif(not ON_POSTGRES, reason="group commit is PostgreSQL's")


@pytest.fixture
async def world(app: Any, client: httpx.AsyncClient) -> dict[str, Any]:
    """Two agencies, a report of the first routed to the second, one the second cannot see."""
    await create_admin(app)
    await create_agency(app, "IMIGRASI-DUMAI", kind=AgencyKind.IMMIGRATION)
    await create_agency(app, "POLRES-DUMAI", kind=AgencyKind.POLICE)
    await create_agency(app, "KSOP-DUMAI", kind=AgencyKind.PORT_AUTHORITY)
    headers = {
        code: bearer(await token_for(client, app, code))
        for code in ("ADMIN", "IMIGRASI-DUMAI", "POLRES-DUMAI", "KSOP-DUMAI")
    }
    routed = await client.post(
        "/v1/reports",
        json=deferral(external_ref="GC/1", recipients=["POLRES-DUMAI"]),
        headers=headers["IMIGRASI-DUMAI"],
    )
    hidden = await client.post(
        "/v1/reports",
        json=deferral(external_ref="GC/2", tlp="RED", recipients=["POLRES-DUMAI"]),
        headers=headers["IMIGRASI-DUMAI"],
    )
    assert routed.status_code == hidden.status_code == 201
    return {
        "headers": headers,
        "reads": [
            (code, location)
            for code in ("IMIGRASI-DUMAI", "POLRES-DUMAI", "KSOP-DUMAI")
            for location in (routed.headers["location"], hidden.headers["location"])
        ]
        + [(code, "/v1/inbox") for code in ("POLRES-DUMAI", "KSOP-DUMAI")],
    }


def _answer(response: httpx.Response) -> tuple[int, Any]:
    return response.status_code, response.json()


async def _events_by_request(app: Any) -> dict[str, tuple[str, int | None]]:
    async with app.state.session_factory() as session:
        rows = await session.execute(
            select(AuditEvent.request_id, AuditEvent.outcome, AuditEvent.http_status)
        )
        return {r: (outcome, status) for r, outcome, status in rows.all()}


async def test_concurrent_reads_get_their_own_answers_and_one_event_each(
    app: Any, client: httpx.AsyncClient, world: dict[str, Any]
) -> None:
    headers = world["headers"]
    reads = world["reads"] * 4
    alone = [_answer(await client.get(url, headers=headers[code])) for code, url in world["reads"]]
    # a 404 for the agency that may not see a report, 200 for the others, as before batching
    assert sorted({status for status, _ in alone}) == [200, 404]

    group = app.state.audit_group_commit  # made by the first read
    assert isinstance(group, group_commit.AuditGroupCommit)
    batches_before, events_before = group.batches, group.events
    ids = [f"gc-read-{i}" for i in range(len(reads))]
    together = await asyncio.gather(
        *(
            client.get(url, headers={**headers[code], "X-Request-ID": rid})
            for (code, url), rid in zip(reads, ids, strict=True)
        )
    )
    assert [_answer(r) for r in together] == alone * 4

    successes = sum(1 for r in together if r.status_code == 200)
    assert group.events - events_before == successes
    # shared commits: fewer batches than successful reads
    assert group.batches - batches_before < successes
    events = await _events_by_request(app)
    for response, rid in zip(together, ids, strict=True):
        outcome, status = events[rid]
        assert status == response.status_code
        assert outcome == ("success" if response.status_code == 200 else "not_found")
    verify = await client.get("/v1/admin/audit/verify", headers=headers["ADMIN"])
    assert verify.json()["ok"], verify.json()


async def test_a_read_whose_event_cannot_be_written_fails_alone(
    app: Any, client: httpx.AsyncClient, world: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A database error on one request's event: that request gets no answer (500), the others
    of its batch are answered and audited as if it had never been there."""
    headers = world["headers"]
    code, url = world["reads"][0]
    record = group_commit.record_events
    record_alone = group_commit.record_events_alone
    first = asyncio.Event()
    sizes: list[int] = []

    async def alone_or_fail(engine: Any, events: Any) -> bool:
        sizes.append(len(events))
        if not first.is_set():
            first.set()
            await asyncio.sleep(0.3)  # the first batch is slow: the others gather behind it
        if any(e.user_agent == "broken" for e in events):
            # what it answers when the database refused its statement (test_db's
            # test_a_statement_sent_alone_that_fails_is_not_written_and_frees_its_connection):
            # the batch is then sent through a session, where the database's error tells
            return False
        return await record_alone(engine, events)

    async def record_or_fail(session: Any, events: Any) -> None:
        if any(e.user_agent == "broken" for e in events):
            await session.execute(text("SELECT 1 / 0"))  # a real error of the database
        await record(session, events)

    # a batch's events are one statement on a pooled connection of its own; a batch that
    # failed there is sent again through a session, and retried request by request
    monkeypatch.setattr(group_commit, "record_events_alone", alone_or_fail)
    monkeypatch.setattr(group_commit, "record_events", record_or_fail)
    agents = ["first", *(["fine"] * 5), "broken", *(["fine"] * 5)]
    ids = [f"gc-fail-{i}" for i in range(len(agents))]

    async def read(agent: str, rid: str) -> httpx.Response:
        if agent != "first":
            await first.wait()
        return await client.get(
            url, headers={**headers[code], "User-Agent": agent, "X-Request-ID": rid}
        )

    answers = await asyncio.gather(*(read(a, r) for a, r in zip(agents, ids, strict=True)))
    assert [r.status_code for r in answers] == [500 if a == "broken" else 200 for a in agents]
    assert max(sizes) > 1  # the broken request did share a batch with others
    alone = await client.get(url, headers=headers[code])
    assert all(r.json() == alone.json() for r in answers if r.status_code == 200)
    events = await _events_by_request(app)
    for agent, rid in zip(agents, ids, strict=True):
        if agent == "broken":
            assert rid not in events or events[rid][0] != "success"
        else:
            assert events[rid] == ("success", 200)
    verify = await client.get("/v1/admin/audit/verify", headers=headers["ADMIN"])
    assert verify.json()["ok"], verify.json()
