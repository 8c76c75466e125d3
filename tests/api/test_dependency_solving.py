"""The security schemes that only document a route are not solved per request (issue 21).

``get_principal`` reads the Authorization header and the session cookie itself; the three
schemes it declares (``DOCUMENTED_SCHEMES``) are there for OpenAPI. ``SinergiRoute`` leaves
them out of the dependencies its handler solves; OpenAPI and ``dependency_overrides`` are
unchanged.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from fastapi import Request
from fastapi.security import APIKeyCookie, HTTPBearer, OAuth2

from app.api import route_class
from app.models.agency import AgencyKind
from tests.factories import bearer, create_agency, token_for
from tests.report_samples import deferral


@pytest.fixture
def scheme_calls(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The name of each security scheme FastAPI calls, in order."""
    calls: list[str] = []

    def counting(original: Any) -> Any:
        async def counted(self: Any, request: Request) -> Any:
            calls.append(type(self).__name__)
            return await original(self, request)

        return counted

    for scheme in (OAuth2, HTTPBearer, APIKeyCookie):
        monkeypatch.setattr(scheme, "__call__", counting(scheme.__call__))
    return calls


async def test_reads_and_writes_solve_no_documenting_security_scheme(
    app: Any, client: httpx.AsyncClient, scheme_calls: list[str]
) -> None:
    await create_agency(app, "IMIGRASI-DUMAI", kind=AgencyKind.IMMIGRATION)
    await create_agency(app, "POLRES-DUMAI", kind=AgencyKind.POLICE)
    source = bearer(await token_for(client, app, "IMIGRASI-DUMAI"))
    recipient = bearer(await token_for(client, app, "POLRES-DUMAI"))
    scheme_calls.clear()

    created = await client.post(
        "/v1/reports", json=deferral(recipients=["POLRES-DUMAI"]), headers=source
    )
    assert created.status_code == 201, created.text
    read = await client.get(created.headers["location"], headers=recipient)
    assert read.status_code == 200, read.text
    page = await client.get("/v1/inbox", headers=recipient)
    assert page.status_code == 200
    assert len(page.json()["items"]) == 1
    # still refused as before: no token 401, a path id that is not a UUID 422 after the check
    assert (await client.get(created.headers["location"])).status_code == 401
    assert (await client.get("/v1/reports/not-a-uuid", headers=recipient)).status_code == 422
    assert scheme_calls == []


async def test_openapi_still_documents_the_three_schemes_on_a_read(
    client: httpx.AsyncClient,
) -> None:
    spec = (await client.get("/openapi.json")).json()
    security = spec["paths"]["/v1/reports/{report_id}"]["get"]["security"]
    assert {name for requirement in security for name in requirement} == {
        "OAuth2ClientCredentials",
        "BearerToken",
        "SessionCookie",
    }


async def test_a_framework_whose_dependencies_cannot_be_copied_still_serves_every_request(
    fresh_app: Any, monkeypatch: pytest.MonkeyPatch, scheme_calls: list[str]
) -> None:
    """A FastAPI release whose ``Dependant`` is no longer a dataclass must not stop the app:
    the handler then solves the route's own dependencies, the schemes included."""

    def cannot_copy(dependant: Any) -> Any:
        raise TypeError("replace() should be called on dataclass instances")

    monkeypatch.setattr(route_class, "solved_per_request", cannot_copy)
    async with fresh_app("fallback") as app:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://sinergi.test") as client:
            await create_agency(app, "IMIGRASI-DUMAI", kind=AgencyKind.IMMIGRATION)
            source = bearer(await token_for(client, app, "IMIGRASI-DUMAI"))
            scheme_calls.clear()
            created = await client.post("/v1/reports", json=deferral(), headers=source)
            assert created.status_code == 201, created.text
            read = await client.get(created.headers["location"], headers=source)
            assert read.status_code == 200, read.text
    assert scheme_calls  # solved as FastAPI solves them by itself
