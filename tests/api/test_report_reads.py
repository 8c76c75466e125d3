"""The audited report read (``GET /v1/reports/{id}``) and inbox page answered from plain rows.

Their token check and their queries are Core statements of columns (no ORM load): the answer
must stay byte for byte what the ``ReportOut`` schema makes of the stored report, need-to-know
and the read's audit event unchanged.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
from pydantic import TypeAdapter
from sqlalchemy import event, select, update
from sqlalchemy.orm import ORMExecuteState

from app.api.deps import Principal
from app.db import AppSession
from app.models.agency import Agency
from app.models.audit import AuditEvent
from app.models.base import utcnow
from app.models.credentials import ApiKey
from app.models.report import Report
from app.schemas.report import ReportOut
from app.services import reports as service
from app.vocab.enums import Scope
from tests.report_samples import deferral, interception

_AS_FASTAPI_SENDS = TypeAdapter(ReportOut)


async def _expected(app: Any, report_id: str) -> bytes:
    """The report as the ORM path (``read_detail``, the console's) loads it, through the
    response schema as FastAPI serializes a ``response_model``."""
    async with app.state.session_factory() as session:
        admin = (await session.scalars(select(Agency).where(Agency.code == "ADMIN"))).one()
        caller = Principal(
            agency_id=admin.id,
            agency_code=admin.code,
            scopes=frozenset({Scope.ADMIN.value}),
            credential_id="test",
            token_id=None,
        )
        detail = await service.read_detail(session, caller, uuid.UUID(report_id))
    return _AS_FASTAPI_SENDS.dump_json(detail.report, by_alias=True)


async def test_a_read_answers_byte_for_byte_what_the_schema_makes_of_the_report(
    app: Any, client: httpx.AsyncClient, agencies: dict[str, dict[str, str]]
) -> None:
    # Two persons resolved to entities, a second report about one of them, and one retracted:
    # entity ids by position, a retraction reason, every optional field of the samples.
    first = await client.post(
        "/v1/reports",
        json=interception(recipients=["POLRES-DUMAI"]),
        headers=agencies["LANAL-DUMAI"],
    )
    second = await client.post(
        "/v1/reports",
        json=deferral(recipients=["POLRES-DUMAI"]),
        headers=agencies["IMIGRASI-DUMAI"],
    )
    assert first.status_code == second.status_code == 201, (first.text, second.text)
    retracted = await client.post(
        f"{second.headers['location']}/retract",
        json={"reason": "Entered twice by mistake"},
        headers=agencies["IMIGRASI-DUMAI"],
    )
    assert retracted.status_code == 200, retracted.text

    for created, readers in (
        (first, ("LANAL-DUMAI", "POLRES-DUMAI", "ADMIN")),
        (second, ("IMIGRASI-DUMAI", "POLRES-DUMAI", "ADMIN")),
    ):
        expected = await _expected(app, created.json()["id"])
        for code in readers:
            read = await client.get(created.headers["location"], headers=agencies[code])
            assert read.status_code == 200, (code, read.text)
            assert read.headers["content-type"] == "application/json"
            assert read.content == expected, code
    assert any(
        p["entity_id"]
        for p in (await client.get(first.headers["location"], headers=agencies["ADMIN"])).json()[
            "persons"
        ]
    )


@contextlib.contextmanager
def orm_selects(app: Any) -> Iterator[list[str]]:
    """The SELECTs the app's sessions run through the ORM while open (Core ones are not seen)."""
    seen: list[str] = []

    def note(state: ORMExecuteState) -> None:
        if state.is_select:
            seen.append(str(state.statement))

    event.listen(AppSession, "do_orm_execute", note)
    try:
        yield seen
    finally:
        event.remove(AppSession, "do_orm_execute", note)


async def _routed_to_police(
    client: httpx.AsyncClient, agencies: dict[str, dict[str, str]]
) -> httpx.Response:
    """A deferral filed by immigration and routed to the police (201)."""
    created = await client.post(
        "/v1/reports",
        json=deferral(recipients=["POLRES-DUMAI"]),
        headers=agencies["IMIGRASI-DUMAI"],
    )
    assert created.status_code == 201, created.text
    return created


async def test_a_read_and_an_inbox_page_load_no_orm_object_and_are_still_audited(
    app: Any, client: httpx.AsyncClient, agencies: dict[str, dict[str, str]]
) -> None:
    created = await _routed_to_police(client, agencies)
    location = created.headers["location"]
    # warm what a process caches (the token's signature, the verification key)
    assert (await client.get(location, headers=agencies["POLRES-DUMAI"])).status_code == 200
    assert (await client.get("/v1/inbox", headers=agencies["POLRES-DUMAI"])).status_code == 200

    with orm_selects(app) as seen:
        answers = [
            await client.get(location, headers=agencies["POLRES-DUMAI"]),
            await client.get(location, headers=agencies["ADMIN"]),
            await client.get("/v1/inbox", headers=agencies["POLRES-DUMAI"]),
            await client.get(location, headers=agencies["LANAL-DUMAI"]),  # not a recipient
        ]
    assert [a.status_code for a in answers] == [200, 200, 200, 404]
    assert seen == []
    async with app.state.session_factory() as session:
        rows = await session.execute(
            select(AuditEvent.request_id, AuditEvent.action, AuditEvent.object_ids).where(
                AuditEvent.request_id.in_([a.headers["x-request-id"] for a in answers])
            )
        )
        events = {request_id: (action, ids) for request_id, action, ids in rows.all()}
    report_id = created.json()["id"]
    assert [events[a.headers["x-request-id"]][0] for a in answers] == [
        "report.read",
        "report.read",
        "inbox.list",
        "report.read",
    ]
    for answer in (answers[0], answers[1], answers[3]):
        assert events[answer.headers["x-request-id"]][1] == [report_id]


async def test_a_cached_token_is_refused_at_once_when_its_key_or_agency_is_revoked_elsewhere(
    app: Any, client: httpx.AsyncClient, agencies: dict[str, dict[str, str]]
) -> None:
    """Tokens are remembered as verified, but their key and agency are read on every request:
    a revocation written by another process (the CLI, another replica) refuses the very next
    read, with nothing in this process told about it."""
    created = await client.post(
        "/v1/reports",
        json=deferral(recipients=["POLRES-DUMAI", "LANAL-DUMAI"]),
        headers=agencies["IMIGRASI-DUMAI"],
    )
    assert created.status_code == 201, created.text
    reads = (created.headers["location"], "/v1/inbox")
    for code in ("POLRES-DUMAI", "LANAL-DUMAI"):
        for url in reads:  # the tokens are now verified and remembered
            assert (await client.get(url, headers=agencies[code])).status_code == 200

    async with app.state.session_factory() as session, session.begin():
        police = (await session.scalars(select(Agency).where(Agency.code == "POLRES-DUMAI"))).one()
        await session.execute(
            update(ApiKey).where(ApiKey.agency_id == police.id).values(revoked_at=utcnow())
        )
        await session.execute(
            update(Agency).where(Agency.code == "LANAL-DUMAI").values(active=False)
        )

    for code in ("POLRES-DUMAI", "LANAL-DUMAI"):
        for url in reads:
            refused = await client.get(url, headers=agencies[code])
            assert refused.status_code == 401, (code, url, refused.text)
            assert refused.headers["www-authenticate"] == 'Bearer error="invalid_token"'
            assert refused.headers["content-type"] == "application/problem+json"
    # the source, whose key is live, still reads
    assert (await client.get(reads[0], headers=agencies["IMIGRASI-DUMAI"])).status_code == 200


async def test_concurrent_reads_have_their_audit_events_committed_before_their_answers_start(
    app: Any, agencies: dict[str, dict[str, str]]
) -> None:
    """No answer without its audit event: when each of several concurrent reads starts its
    answer, its event is already committed (another connection sees it)."""
    seen_at_start: dict[str, list[tuple[str, int | None]]] = {}

    async def committed(request_id: str) -> list[tuple[str, int | None]]:
        async with app.state.session_factory() as session:
            rows = await session.execute(
                select(AuditEvent.outcome, AuditEvent.http_status).where(
                    AuditEvent.request_id == request_id
                )
            )
            return [(outcome, status) for outcome, status in rows.all()]

    async def watched(scope: Any, receive: Any, send: Any) -> None:
        request_id = dict(scope.get("headers") or []).get(b"x-request-id", b"").decode()

        async def checked_send(message: Any) -> None:
            if message["type"] == "http.response.start" and request_id:
                seen_at_start[request_id] = await committed(request_id)
            await send(message)

        await app(scope, receive, checked_send)

    transport = httpx.ASGITransport(app=watched)
    async with httpx.AsyncClient(transport=transport, base_url="http://sinergi.test") as client:
        location = (await _routed_to_police(client, agencies)).headers["location"]
        reads = [
            (location, "POLRES-DUMAI"),
            (location, "IMIGRASI-DUMAI"),
            (location, "ADMIN"),
            (location, "LANAL-DUMAI"),  # not a recipient: 404, audited as well
            ("/v1/inbox", "POLRES-DUMAI"),
        ] * 2
        ids = [f"before-answer-{i}" for i in range(len(reads))]
        answers = await asyncio.gather(
            *(
                client.get(url, headers={**agencies[code], "X-Request-ID": rid})
                for (url, code), rid in zip(reads, ids, strict=True)
            )
        )
    assert [a.status_code for a in answers] == [200, 200, 200, 404, 200] * 2
    for answer, rid in zip(answers, ids, strict=True):
        outcome = "success" if answer.status_code == 200 else "not_found"
        assert seen_at_start[rid] == [(outcome, answer.status_code)], rid


async def test_a_stored_report_is_read_as_stored_even_if_its_identifiers_no_longer_pass_the_checks(
    app: Any, client: httpx.AsyncClient, agencies: dict[str, dict[str, str]]
) -> None:
    """A read shows what was accepted and stored: the phone numbers, NIKs and passport numbers
    were checked when the report was submitted and are not checked again (a newer numbering
    plan in ``phonenumbers`` must not make a stored report unreadable: 500 before)."""
    created = await _routed_to_police(client, agencies)
    report_id = uuid.UUID(created.json()["id"])
    async with app.state.session_factory() as session, session.begin():
        report = await session.get(Report, report_id)
        assert report is not None
        body = {**report.body, "persons": [dict(p) for p in report.body["persons"]]}
        body["persons"][0].update(
            phone="+62 1", nik="9999999999999999", passport_number="PASSPORT NUMBER?"
        )
        await session.execute(update(Report).where(Report.id == report_id).values(body=body))

    for code in ("IMIGRASI-DUMAI", "POLRES-DUMAI", "ADMIN"):
        read = await client.get(created.headers["location"], headers=agencies[code])
        assert read.status_code == 200, (code, read.text)
        person = read.json()["persons"][0]
        assert (person["phone"], person["nik"], person["passport_number"]) == (
            "+62 1",
            "9999999999999999",
            "PASSPORT NUMBER?",
        )
    inbox = await client.get("/v1/inbox", headers=agencies["POLRES-DUMAI"])
    assert inbox.status_code == 200, inbox.text
