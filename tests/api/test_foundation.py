"""The service's envelope: probes, problem+json for every error class, request ids."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from fastapi import APIRouter, FastAPI
from pydantic import BaseModel, ConfigDict, Field

from app.api.route_class import SinergiRoute, operation_id
from app.main import create_app
from tests.conftest import make_settings


class _Sample(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(max_length=10)
    count: int


def _app_with_probe_routes(database_url: str, **overrides: object) -> FastAPI:
    """The real app plus two routes that exist only in tests: one with a body, one that crashes."""
    app = create_app(make_settings(database_url, **overrides))
    probe = APIRouter(
        tags=["probe"], route_class=SinergiRoute, generate_unique_id_function=operation_id
    )

    @probe.post("/probe/echo")
    async def echo(body: _Sample) -> _Sample:
        return body

    @probe.get("/probe/crash")
    async def crash() -> None:
        raise RuntimeError("secret internals")

    app.include_router(probe)
    return app


@pytest.fixture
async def probe_client(database_url: str) -> AsyncIterator[httpx.AsyncClient]:
    app = _app_with_probe_routes(database_url, max_body_bytes=2048)
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://sinergi.test") as c:
        yield c
    await app.state.engine.dispose()


def assert_problem(response: httpx.Response, status: int) -> dict[str, object]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert body["status"] == status
    assert body["type"].startswith("urn:sinergi:problem:")
    assert body["title"]
    assert body["detail"]
    assert "Traceback" not in response.text
    return body


async def test_healthz_and_readyz_answer(client: httpx.AsyncClient) -> None:
    assert (await client.get("/healthz")).json() == {"status": "ok"}
    ready = await client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json()["status"] == "ready"


async def test_readyz_is_503_when_database_unreachable() -> None:
    app = create_app(make_settings("postgresql+asyncpg://nobody@127.0.0.1:9/none"))
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as c:
        body = assert_problem(await c.get("/readyz"), 503)
    assert "unreachable" in str(body["detail"])
    await app.state.engine.dispose()


async def test_readyz_is_503_when_schema_is_not_at_head(tmp_path: Path) -> None:
    app = create_app(make_settings(f"sqlite+aiosqlite:///{tmp_path / 'empty.db'}"))
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as c:
        body = assert_problem(await c.get("/readyz"), 503)
    assert "sinergi migrate upgrade" in str(body["detail"])
    await app.state.engine.dispose()


async def test_unknown_path_is_problem_404(client: httpx.AsyncClient) -> None:
    body = assert_problem(await client.get("/v1/no-such-thing"), 404)
    assert "/v1/no-such-thing" in str(body["detail"])


async def test_wrong_method_is_problem_405(client: httpx.AsyncClient) -> None:
    response = await client.delete("/healthz")
    assert_problem(response, 405)
    assert "GET" in response.headers["allow"]


async def test_405_allows_every_method_served_at_the_path(client: httpx.AsyncClient) -> None:
    """GET and PUT /v1/reports/{id} are two routes; Allow names both (schemathesis ST205)."""
    response = await client.options("/v1/reports/3b241101-e2bb-4255-8caf-4136c566a962")
    assert_problem(response, 405)
    assert response.headers["allow"] == "GET, PUT"
    # A static segment beside a UUID parameter is not mistaken for an id (405, not 422).
    reorder = await client.put("/v1/admin/routing-rules/reorder", json={})
    assert_problem(reorder, 405)
    assert reorder.headers["allow"] == "POST"


async def test_validation_error_names_each_field_by_pointer(
    probe_client: httpx.AsyncClient,
) -> None:
    response = await probe_client.post("/probe/echo", json={"name": "x" * 11, "extra": 1})
    body = assert_problem(response, 422)
    by_pointer = {e["pointer"]: e for e in body["errors"]}  # type: ignore[attr-defined]
    assert set(by_pointer) == {"/name", "/count", "/extra"}
    assert by_pointer["/count"]["code"] == "missing"
    assert by_pointer["/extra"]["code"] == "extra_forbidden"
    assert all(e["location"] == "body" for e in by_pointer.values())


async def test_malformed_json_is_problem_400(probe_client: httpx.AsyncClient) -> None:
    response = await probe_client.post(
        "/probe/echo", content=b'{"name": "a", ', headers={"content-type": "application/json"}
    )
    body = assert_problem(response, 400)
    assert body["title"] == "Malformed JSON"


async def test_deeply_nested_json_is_rejected_not_crashed(probe_client: httpx.AsyncClient) -> None:
    response = await probe_client.post(
        "/probe/echo",
        content=b"[" * 1000 + b"]" * 1000,
        headers={"content-type": "application/json"},
    )
    assert response.status_code in {400, 422}
    assert response.headers["content-type"] == "application/problem+json"


async def test_non_json_content_type_is_problem_415(probe_client: httpx.AsyncClient) -> None:
    response = await probe_client.post(
        "/probe/echo",
        content=b"name=a&count=1",
        headers={"content-type": "application/x-www-form-urlencoded"},
    )
    assert_problem(response, 415)


async def test_oversized_body_is_problem_413(probe_client: httpx.AsyncClient) -> None:
    big = {"name": "a", "count": 1, "pad": "x" * 5000}
    assert_problem(await probe_client.post("/probe/echo", json=big), 413)


async def test_oversized_streamed_body_without_length_is_413(
    probe_client: httpx.AsyncClient,
) -> None:
    async def chunks() -> AsyncIterator[bytes]:
        for _ in range(10):
            yield b" " * 1000

    response = await probe_client.post(
        "/probe/echo", content=chunks(), headers={"content-type": "application/json"}
    )
    assert_problem(response, 413)


async def test_unexpected_error_is_problem_500_without_internals(
    probe_client: httpx.AsyncClient,
) -> None:
    response = await probe_client.get("/probe/crash", headers={"x-request-id": "crash-1"})
    body = assert_problem(response, 500)
    assert "secret internals" not in response.text
    assert "RuntimeError" not in str(body)
    assert response.headers["x-request-id"] == "crash-1"


async def test_request_id_is_echoed_or_generated(client: httpx.AsyncClient) -> None:
    echoed = await client.get("/healthz", headers={"x-request-id": "abc-123"})
    assert echoed.headers["x-request-id"] == "abc-123"
    generated = await client.get("/healthz")
    assert len(generated.headers["x-request-id"]) == 36
    hostile = await client.get("/healthz", headers={"x-request-id": "a\tb<script>"})
    assert hostile.headers["x-request-id"] != "a\tb<script>"
    not_found = await client.get("/nope", headers={"x-request-id": "nf-1"})
    assert not_found.headers["x-request-id"] == "nf-1"


async def test_docs_page_is_served(client: httpx.AsyncClient) -> None:
    response = await client.get("/docs")
    assert response.status_code == 200
    assert "swagger" in response.text.lower()
