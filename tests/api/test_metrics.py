"""GET /metrics: request, ingest and dedup counters, outbox gauges, counted only on commit."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import httpx
import pytest
from prometheus_client import REGISTRY
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError

from app import metrics
from app.db import transaction
from app.models.agency import Agency, AgencyKind
from app.models.audit import AuditEvent
from app.models.base import utcnow
from app.models.delivery import Delivery
from tests.factories import bearer, create_agency, token_for
from tests.report_samples import deferral, interception


async def scrape(client: httpx.AsyncClient) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    response = await client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(response.text)
        for sample in family.samples
    }


def value(
    scraped: dict[tuple[str, tuple[tuple[str, str], ...]], float], name: str, **labels: str
) -> float:
    return scraped.get((name, tuple(sorted(labels.items()))), 0.0)


@pytest.fixture
async def headers(app: Any, client: httpx.AsyncClient) -> dict[str, dict[str, str]]:
    await create_agency(app, "IMIGRASI-DUMAI", kind=AgencyKind.IMMIGRATION)
    await create_agency(app, "POLRES-DUMAI", kind=AgencyKind.POLICE)
    return {
        code: bearer(await token_for(client, app, code))
        for code in ("IMIGRASI-DUMAI", "POLRES-DUMAI")
    }


async def test_requests_are_counted_by_route_template_never_the_raw_path(
    client: httpx.AsyncClient,
) -> None:
    before = await scrape(client)
    report_id = uuid.uuid4()
    assert (await client.get(f"/v1/reports/{report_id}")).status_code == 401
    assert (await client.get("/healthz")).status_code == 200
    assert (await client.get("/healthz")).status_code == 200
    assert (await client.get("/wp-login.php")).status_code == 404
    after = await scrape(client)

    def delta(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    route = {"method": "GET", "route": "/v1/reports/{report_id}", "status": "401"}
    assert delta("sinergi_http_requests_total", **route) == 1
    assert delta("sinergi_http_request_duration_seconds_count", **route) == 1
    healthz = {"method": "GET", "route": "/healthz", "status": "200"}
    assert delta("sinergi_http_requests_total", **healthz) == 2
    unmatched = {"method": "GET", "route": "(unmatched)", "status": "404"}
    assert delta("sinergi_http_requests_total", **unmatched) == 1
    text = (await client.get("/metrics")).text
    assert str(report_id) not in text
    assert "wp-login" not in text


async def test_ingest_and_dedup_outcomes(
    client: httpx.AsyncClient, headers: dict[str, dict[str, str]]
) -> None:
    imigrasi, polres = headers["IMIGRASI-DUMAI"], headers["POLRES-DUMAI"]
    before = await scrape(client)
    assert (await client.post("/v1/reports", json=deferral(), headers=imigrasi)).status_code == 201
    assert (await client.post("/v1/reports", json=deferral(), headers=imigrasi)).status_code == 200
    invalid = deferral(external_ref="X/2", case_type="NOT_A_CASE_TYPE")
    assert (await client.post("/v1/reports", json=invalid, headers=imigrasi)).status_code == 422
    conflicting = deferral(narrative="a different body under the same reference")
    assert (await client.post("/v1/reports", json=conflicting, headers=imigrasi)).status_code == 409
    # The same victim (same NIK, other spelling) and a new recruiter, seen by the Police.
    assert (
        await client.post("/v1/reports", json=interception(), headers=polres)
    ).status_code == 201
    after = await scrape(client)

    def delta(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    assert delta("sinergi_ingest_reports_total", outcome="created") == 2
    assert delta("sinergi_ingest_reports_total", outcome="replayed") == 1
    assert delta("sinergi_ingest_reports_total", outcome="rejected") == 2
    assert delta("sinergi_dedup_persons_total", outcome="new") == 2  # Siti, then the recruiter
    assert delta("sinergi_dedup_persons_total", outcome="linked") == 1  # Siti again


async def test_outbox_gauges_show_pending_deliveries_and_the_oldest_ones_age(
    app: Any, client: httpx.AsyncClient, headers: dict[str, dict[str, str]]
) -> None:
    empty = await scrape(client)
    assert value(empty, "sinergi_deliveries", state="pending") == 0
    assert value(empty, "sinergi_outbox_lag_seconds") == 0

    body = deferral(recipients=["POLRES-DUMAI"])
    assert (
        await client.post("/v1/reports", json=body, headers=headers["IMIGRASI-DUMAI"])
    ).status_code == 201
    async with transaction(app.state.session_factory) as session:
        pending = await session.scalar(select(func.count()).select_from(Delivery))
        await session.execute(update(Delivery).values(created_at=utcnow() - timedelta(hours=1)))
    assert pending == 1
    scraped = await scrape(client)
    assert value(scraped, "sinergi_deliveries", state="pending") == 1
    assert value(scraped, "sinergi_deliveries", state="dead") == 0
    assert 3600 <= value(scraped, "sinergi_outbox_lag_seconds") < 3700


async def test_scraping_is_public_and_leaves_no_audit_event(
    app: Any, client: httpx.AsyncClient
) -> None:
    await scrape(client)
    async with transaction(app.state.session_factory) as session:
        events = await session.scalar(select(func.count()).select_from(AuditEvent))
    assert events == 0


def reviewed() -> float:
    return REGISTRY.get_sample_value("sinergi_dedup_persons_total", {"outcome": "review"}) or 0.0


async def test_counts_wait_for_the_commit_and_vanish_with_a_rollback(app: Any) -> None:
    counter = metrics.DEDUP.labels("review")
    start = reviewed()
    factory = app.state.session_factory

    async def failing_use_case() -> None:
        async with transaction(factory) as session:
            metrics.count_after_commit(session, counter)
            raise RuntimeError("the use case failed")

    with pytest.raises(RuntimeError):
        await failing_use_case()
    assert reviewed() == start

    async with transaction(factory) as session:
        metrics.count_after_commit(session, counter)

        async def duplicate_in_a_savepoint() -> None:
            async with session.begin_nested():
                for _ in range(2):
                    session.add(Agency(code="DUP", name="dup", kind="OTHER"))
                    await session.flush()

        with pytest.raises(IntegrityError):
            await duplicate_in_a_savepoint()  # a savepoint rolls back, the transaction goes on
        async with session.begin_nested():
            pass  # a savepoint that commits is not the transaction committing
        assert reviewed() == start
    assert reviewed() == start + 1
