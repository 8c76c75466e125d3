"""The audit trail through the HTTP API: one event per authenticated request, in the route's
transaction when it succeeds and in its own when it fails; only admins can read it."""

from __future__ import annotations

import asyncio
import re
import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from fastapi import APIRouter, FastAPI
from fastapi.routing import APIRoute, iter_route_contexts
from pydantic import BaseModel, ConfigDict
from sqlalchemy import select

from app.api.audit_hook import AuditDep, default_action, is_authenticated_route
from app.api.deps import AgencyReader, AgencyWriter, SessionDep
from app.api.route_class import SinergiRoute, operation_id
from app.errors import NotFound, Unauthenticated
from app.main import create_app
from app.models.agency import Agency
from app.models.audit import AuditEvent
from app.services.audit import record_credential_event
from tests.api.audit_support import (
    AGENCY_IDS,
    as_agency,
    audit_events,
    authenticate_by_header,
)
from tests.conftest import make_settings


class _ProbeIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = "Probe"


def _probe_router() -> APIRouter:
    """Routes that exist only in these tests, shaped like the real ones."""
    router = APIRouter(
        prefix="/v1/probes",
        tags=["probes"],
        route_class=SinergiRoute,
        generate_unique_id_function=operation_id,
    )

    @router.post("/{code}", status_code=201, summary="create")
    async def create(
        code: str, body: _ProbeIn, principal: AgencyWriter, session: SessionDep, audit: AuditDep
    ) -> dict[str, str]:
        agency = Agency(code=code, name=body.name, kind="OTHER")
        session.add(agency)
        await session.flush()
        audit.object("agency", agency.id)
        return {"id": str(agency.id)}

    @router.post("/{code}/then-fail", status_code=201, summary="create then fail")
    async def create_then_fail(
        code: str, principal: AgencyWriter, session: SessionDep, audit: AuditDep
    ) -> dict[str, str]:
        agency = Agency(code=code, name="Probe", kind="OTHER")
        session.add(agency)
        await session.flush()
        audit.action("report.read").object("report", "11111111-1111-1111-1111-111111111111")
        raise NotFound(detail="No such report")

    @router.get("/count", summary="read without a session")
    async def count(principal: AgencyReader, limit: int = 10) -> dict[str, int]:
        return {"limit": limit}

    @router.post("/token/issue", status_code=200, summary="a public route issuing credentials")
    async def token(session: SessionDep, agency: str, secret: str) -> dict[str, str]:
        ok = secret == "right"
        await record_credential_event(
            session,
            action="auth.token",
            agency_code=agency,
            credential_id="key-1",
            outcome="success" if ok else "denied",
            detail={"grant_type": "client_credentials"},
        )
        if not ok:
            raise Unauthenticated(detail="invalid_client")
        session.add(Agency(code=f"TOKEN-{agency}", name="Probe", kind="OTHER"))
        return {"token_type": "Bearer"}

    @router.get("/crash", summary="crash")
    async def crash(principal: AgencyReader, session: SessionDep) -> dict[str, int]:
        raise RuntimeError("boom")

    return router


@pytest.fixture
async def probe_app(database_url: str) -> AsyncIterator[FastAPI]:
    app = create_app(make_settings(database_url))
    app.include_router(_probe_router())
    authenticate_by_header(app)
    yield app
    await app.state.engine.dispose()


@pytest.fixture
async def probe_client(probe_app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=probe_app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://sinergi.test") as c:
        yield c


async def _agencies(app: FastAPI) -> list[str]:
    async with app.state.session_factory() as session:
        return list((await session.execute(select(Agency.code))).scalars())


async def test_success_is_recorded_with_the_routes_work(
    probe_app: FastAPI, probe_client: httpx.AsyncClient
) -> None:
    response = await probe_client.post(
        "/v1/probes/NEW-AGENCY",
        headers={**as_agency("IMIGRASI-DUMAI"), "user-agent": "sim-imigrasi/2.1"},
        json={},
    )
    assert response.status_code == 201, response.text
    [event] = await audit_events(probe_app)
    assert event.action == "probe.create"
    assert event.outcome == "success"
    assert event.http_status == 201
    assert event.actor_agency_code == "IMIGRASI-DUMAI"
    assert event.actor_agency_id == AGENCY_IDS["IMIGRASI-DUMAI"]
    assert event.credential_id == "key-imigrasi-dumai"
    assert event.token_id is not None
    assert event.token_id.startswith("jti-")
    assert event.object_type == "agency"
    assert event.object_ids == [response.json()["id"]]
    assert event.request_id == response.headers["x-request-id"]
    assert event.user_agent == "sim-imigrasi/2.1"
    assert event.client_address
    assert "NEW-AGENCY" in await _agencies(probe_app)


async def test_failure_rolls_back_the_work_and_keeps_the_event(
    probe_app: FastAPI, probe_client: httpx.AsyncClient
) -> None:
    response = await probe_client.post(
        "/v1/probes/GHOST/then-fail", headers=as_agency("POLRES-DUMAI"), json={}
    )
    assert response.status_code == 404
    assert "GHOST" not in await _agencies(probe_app)
    [event] = await audit_events(probe_app)
    assert (event.action, event.outcome, event.http_status) == ("report.read", "not_found", 404)
    assert event.object_ids == ["11111111-1111-1111-1111-111111111111"]
    assert event.actor_agency_code == "POLRES-DUMAI"
    assert event.detail["error"] == "not-found"


async def test_refused_credentials_are_recorded_as_denied(
    probe_app: FastAPI, probe_client: httpx.AsyncClient
) -> None:
    anonymous = await probe_client.get("/v1/probes/count")
    impostor = await probe_client.get("/v1/probes/count", headers=as_agency("NOT-AN-AGENCY"))
    assert (anonymous.status_code, impostor.status_code) == (401, 401)
    first, second = await audit_events(probe_app)
    for event, response in ((first, anonymous), (second, impostor)):
        assert event.action == "probe.count"
        assert event.outcome == "denied"
        assert event.http_status == 401
        assert event.request_id == response.headers["x-request-id"]
        assert event.token_id is None
        assert event.detail["credential_action"] == "auth.bearer"
    assert first.detail["reason"] == "missing_token"
    # the claimed (unverified) agency is kept so an inspector can see who was tried
    assert second.actor_agency_code == "NOT-AN-AGENCY"
    assert second.actor_agency_id is None


async def test_scope_refusal_names_the_actor(probe_app: FastAPI, database_url: str) -> None:
    app = create_app(make_settings(database_url))
    authenticate_by_header(app)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        response = await client.get("/v1/admin/audit", headers=as_agency("IMIGRASI-DUMAI"))
    assert response.status_code == 403
    [event] = await audit_events(app)
    assert (event.action, event.outcome, event.actor_agency_code) == (
        "audit.search",
        "denied",
        "IMIGRASI-DUMAI",
    )
    await app.state.engine.dispose()


async def test_invalid_input_and_crashes_are_recorded(
    probe_app: FastAPI, probe_client: httpx.AsyncClient
) -> None:
    invalid = await probe_client.get(
        "/v1/probes/count?limit=many", headers=as_agency("IMIGRASI-DUMAI")
    )
    crash = await probe_client.get("/v1/probes/crash", headers=as_agency("IMIGRASI-DUMAI"))
    assert (invalid.status_code, crash.status_code) == (422, 500)
    first, second = await audit_events(probe_app)
    assert (first.outcome, first.http_status) == ("invalid", 422)
    assert (second.outcome, second.http_status, second.action) == ("error", 500, "probe.crash")


async def test_bodies_refused_before_authentication_are_recorded(
    probe_app: FastAPI, probe_client: httpx.AsyncClient
) -> None:
    not_json = await probe_client.post(
        "/v1/probes/X", content=b"code=X", headers={"content-type": "text/plain"}
    )
    malformed = await probe_client.post(
        "/v1/probes/X", content=b'{"a": ', headers={"content-type": "application/json"}
    )
    assert (not_json.status_code, malformed.status_code) == (415, 400)
    events = await audit_events(probe_app)
    assert [(e.action, e.outcome, e.http_status) for e in events] == [
        ("probe.create", "invalid", 415),
        ("probe.create", "invalid", 400),
    ]
    assert [e.request_id for e in events] == [
        not_json.headers["x-request-id"],
        malformed.headers["x-request-id"],
    ]


async def test_credential_events_on_public_routes_survive_a_refusal(
    probe_app: FastAPI, probe_client: httpx.AsyncClient
) -> None:
    refused = await probe_client.post("/v1/probes/token/issue?agency=POLRES-DUMAI&secret=wrong")
    issued = await probe_client.post("/v1/probes/token/issue?agency=POLRES-DUMAI&secret=right")
    assert (refused.status_code, issued.status_code) == (401, 200)
    events = await audit_events(probe_app)
    assert [(e.action, e.outcome, e.http_status) for e in events] == [
        ("auth.token", "denied", 401),
        ("auth.token", "success", 200),
    ]
    assert all(e.actor_agency_code == "POLRES-DUMAI" for e in events)
    assert all(e.credential_id == "key-1" for e in events)
    assert events[0].request_id == refused.headers["x-request-id"]
    assert "TOKEN-POLRES-DUMAI" in await _agencies(probe_app)


async def test_route_without_a_session_is_still_audited(
    probe_app: FastAPI, probe_client: httpx.AsyncClient
) -> None:
    response = await probe_client.get("/v1/probes/count", headers=as_agency("IMIGRASI-DUMAI"))
    assert response.status_code == 200
    [event] = await audit_events(probe_app)
    assert (event.action, event.outcome, event.http_status) == ("probe.count", "success", 200)


async def test_public_routes_leave_no_event(
    probe_app: FastAPI, probe_client: httpx.AsyncClient
) -> None:
    assert (await probe_client.get("/healthz")).status_code == 200
    assert (await probe_client.get("/readyz")).status_code == 200
    assert await audit_events(probe_app) == []


def _path_for(route: APIRoute, path: str) -> str:
    for name in route.param_convertors:
        # `{name}`, `{name:path}`, `{name:uuid}`: a UUID satisfies every convertor we use.
        path = re.sub(r"\{" + re.escape(name) + r"(:[a-z]+)?\}", str(uuid.uuid4()), path)
    return path


async def test_every_authenticated_route_writes_exactly_one_event(database_url: str) -> None:
    """Enumerates the real app's routes: a route added tomorrow is checked too."""
    app = create_app(make_settings(database_url))
    authenticate_by_header(app)
    routes = [
        (context.original_route, context.path or "")
        for context in iter_route_contexts(app.routes)
        if isinstance(context.original_route, APIRoute)
        and is_authenticated_route(context.original_route)
    ]
    paths = {path for _, path in routes}
    assert {"/v1/admin/audit", "/v1/admin/audit/verify"} <= paths
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        for route, path in routes:
            for method in sorted(route.methods - {"HEAD", "OPTIONS"}):
                attempts: list[tuple[str | None, dict[str, Any]]] = [("ADMIN", {}), (None, {})]
                if route.body_field is not None:
                    attempts = [
                        ("ADMIN", {"json": {}}),
                        (None, {"json": {}}),
                        (
                            "ADMIN",
                            {"content": b"{", "headers": {"content-type": "application/json"}},
                        ),
                        ("ADMIN", {"content": b"x", "headers": {"content-type": "text/plain"}}),
                    ]
                for who, extra in attempts:
                    kwargs: dict[str, Any] = {
                        **extra,
                        "headers": {**extra.get("headers", {}), **(as_agency(who) if who else {})},
                    }
                    response = await client.request(method, _path_for(route, path), **kwargs)
                    events = await audit_events(app, request_id=response.headers["x-request-id"])
                    assert len(events) == 1, (
                        f"{method} {path} as {who or 'anonymous'} "
                        f"({response.status_code}) wrote {len(events)} audit events"
                    )
                    assert events[0].http_status == response.status_code
                    assert events[0].action == default_action(route) or "." in events[0].action
    await app.state.engine.dispose()


async def test_admin_queries_the_trail_with_filters_and_cursor(
    probe_app: FastAPI, probe_client: httpx.AsyncClient
) -> None:
    for code in ("A-1", "A-2", "A-3"):
        await probe_client.post(f"/v1/probes/{code}", headers=as_agency("IMIGRASI-DUMAI"), json={})
    await probe_client.post("/v1/probes/B-1", headers=as_agency("POLRES-DUMAI"), json={})
    await probe_client.get("/v1/probes/count")  # denied
    admin = as_agency("ADMIN")

    page = (
        await probe_client.get("/v1/admin/audit?actor=IMIGRASI-DUMAI&limit=2", headers=admin)
    ).json()
    assert [e["actor_agency_code"] for e in page["items"]] == ["IMIGRASI-DUMAI"] * 2
    assert page["items"][0]["seq"] > page["items"][1]["seq"]  # newest first
    rest = (
        await probe_client.get(
            f"/v1/admin/audit?actor=IMIGRASI-DUMAI&limit=2&cursor={page['next_cursor']}",
            headers=admin,
        )
    ).json()
    assert len(rest["items"]) == 1
    assert rest["next_cursor"] is None
    seqs = {e["seq"] for e in page["items"] + rest["items"]}
    assert len(seqs) == 3

    denied = (await probe_client.get("/v1/admin/audit?outcome=denied", headers=admin)).json()
    assert [e["action"] for e in denied["items"]] == ["probe.count"]

    polres_event = (await audit_events(probe_app, actor_agency_code="POLRES-DUMAI"))[0]
    by_object = (
        await probe_client.get(
            f"/v1/admin/audit?object_id={polres_event.object_ids[0]}", headers=admin
        )
    ).json()
    assert [e["seq"] for e in by_object["items"]] == [polres_event.seq]

    start = polres_event.occurred_at.isoformat()
    window = (
        await probe_client.get("/v1/admin/audit", params={"from": start}, headers=admin)
    ).json()
    assert polres_event.seq in {e["seq"] for e in window["items"]}
    assert all(e["occurred_at"] >= start for e in window["items"])
    before = (await probe_client.get("/v1/admin/audit", params={"to": start}, headers=admin)).json()
    assert {e["actor_agency_code"] for e in before["items"]} == {"IMIGRASI-DUMAI"}

    bad = await probe_client.get("/v1/admin/audit?cursor=not-a-cursor", headers=admin)
    # One answer for a cursor this service did not issue, on every list.
    assert bad.status_code == 400
    assert bad.json()["type"] == "urn:sinergi:problem:invalid-cursor"


async def test_admin_verifies_and_agency_cannot(
    probe_app: FastAPI, probe_client: httpx.AsyncClient
) -> None:
    await probe_client.post("/v1/probes/V-1", headers=as_agency("IMIGRASI-DUMAI"), json={})
    refused = await probe_client.get("/v1/admin/audit/verify", headers=as_agency("IMIGRASI-DUMAI"))
    assert refused.status_code == 403
    check = await probe_client.get("/v1/admin/audit/verify", headers=as_agency("ADMIN"))
    assert check.status_code == 200
    body = check.json()
    assert body["ok"] is True
    # the create and the refused verify; the admin's own verify commits after it reads
    assert body["events_checked"] == 2
    assert body["broken_seq"] is None
    events = await audit_events(probe_app)
    assert [e.action for e in events] == ["probe.create", "audit.verify", "audit.verify"]
    assert body["head_hash"] == events[1].hash


async def test_a_flood_of_denied_requests_is_recorded_and_the_chain_holds(
    probe_app: FastAPI, probe_client: httpx.AsyncClient
) -> None:
    async def denied(i: int) -> int:
        response = await probe_client.get("/v1/probes/count", headers=as_agency(f"X-{i}"))
        return response.status_code

    async def legitimate(i: int) -> int:
        response = await probe_client.post(
            f"/v1/probes/L-{i}", headers=as_agency("IMIGRASI-DUMAI"), json={}
        )
        return response.status_code

    statuses = await asyncio.gather(
        *(denied(i) for i in range(60)), *(legitimate(i) for i in range(10))
    )
    assert statuses == [401] * 60 + [201] * 10
    events = await audit_events(probe_app)
    assert len(events) == 70
    assert [e.seq for e in events] == list(range(1, 71))
    assert sum(e.outcome == "denied" for e in events) == 60
    check = (await probe_client.get("/v1/admin/audit/verify", headers=as_agency("ADMIN"))).json()
    assert check["ok"] is True
    assert check["events_checked"] == 70


async def test_events_hold_ids_not_secrets(
    probe_app: FastAPI, probe_client: httpx.AsyncClient
) -> None:
    token = "eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJJTUlHUkFTSSJ9.c2lnbmF0dXJl"
    await probe_client.get(
        "/v1/probes/count",
        headers={**as_agency("IMIGRASI-DUMAI"), "authorization": f"Bearer {token}"},
    )
    async with probe_app.state.session_factory() as session:
        [event] = (await session.execute(select(AuditEvent))).scalars()
    from app.services.audit import event_document

    assert token not in str(event_document(event))
