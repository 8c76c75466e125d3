"""Per-agency rate limits through the API:
429 problem+json with Retry-After and RateLimit headers."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from app.main import create_app
from tests.conftest import make_settings
from tests.factories import bearer, create_admin, create_agency, token_for
from tests.report_samples import deferral

PERSON = {"nik": "1472035403990002"}


@pytest.fixture
async def limited(database_url: str) -> AsyncIterator[tuple[Any, httpx.AsyncClient]]:
    """An app with tiny budgets: 2 screenings, 1 report write, 3 reads; slow refill."""
    settings = make_settings(
        database_url,
        rate_limit_screening_burst=2,
        rate_limit_screening_rate=0.01,
        rate_limit_ingest_burst=1,
        rate_limit_ingest_rate=0.01,
        rate_limit_reads_burst=3,
        rate_limit_reads_rate=0.01,
    )
    app = create_app(settings)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://sinergi.test") as client:
        await create_admin(app)
        await create_agency(app, "IMIGRASI-DUMAI")
        await create_agency(app, "POLRES-DUMAI")
        yield app, client
    await app.state.engine.dispose()


async def test_screening_over_budget_is_429_with_headers(
    limited: tuple[Any, httpx.AsyncClient],
) -> None:
    app, client = limited
    imi = bearer(await token_for(client, app, "IMIGRASI-DUMAI"))
    body = {"persons": [PERSON]}

    first = await client.post("/v1/screenings", json=body, headers=imi)
    second = await client.post("/v1/screenings", json=body, headers=imi)
    assert (first.status_code, second.status_code) == (200, 200)
    assert first.headers["RateLimit-Limit"] == "2"
    assert [first.headers["RateLimit-Remaining"], second.headers["RateLimit-Remaining"]] == [
        "1",
        "0",
    ]

    refused = await client.post("/v1/screenings", json=body, headers=imi)
    assert refused.status_code == 429
    assert refused.headers["content-type"] == "application/problem+json"
    assert refused.json()["type"] == "urn:sinergi:problem:rate-limited"
    assert refused.json()["status"] == 429
    assert int(refused.headers["Retry-After"]) >= 1
    assert refused.headers["RateLimit-Limit"] == "2"
    assert refused.headers["RateLimit-Remaining"] == "0"
    assert int(refused.headers["RateLimit-Reset"]) >= int(refused.headers["Retry-After"])

    # Watches spend the screening budget too; other budgets and other agencies are untouched.
    watch = await client.post("/v1/watches", json={"person": PERSON}, headers=imi)
    assert watch.status_code == 429
    assert (await client.get("/v1/reports", headers=imi)).status_code == 200
    polres = bearer(await token_for(client, app, "POLRES-DUMAI"))
    assert (await client.post("/v1/screenings", json=body, headers=polres)).status_code == 200


async def test_ingest_and_reads_have_their_own_budgets(
    limited: tuple[Any, httpx.AsyncClient],
) -> None:
    app, client = limited
    imi = bearer(await token_for(client, app, "IMIGRASI-DUMAI"))
    created = await client.post("/v1/reports", json=deferral(), headers=imi)
    assert created.status_code == 201, created.text
    second = await client.post("/v1/reports", json=deferral(external_ref="IMI/2"), headers=imi)
    assert second.status_code == 429
    assert "Retry-After" in second.headers

    reads = [
        (await client.get(path, headers=imi)).status_code
        for path in ("/v1/reports", "/v1/cases", "/v1/inbox", "/v1/reports")
    ]
    assert reads == [200, 200, 200, 429]  # inbox and reports share the reads budget


async def test_admin_is_not_limited(limited: tuple[Any, httpx.AsyncClient]) -> None:
    app, client = limited
    admin = bearer(await token_for(client, app, "ADMIN"))
    statuses = {
        (await client.post("/v1/screenings", json={"persons": [PERSON]}, headers=admin)).status_code
        for _ in range(5)
    }
    assert statuses == {200}
