"""Admin agencies, discovery documents,
the OpenAPI security scheme and `sinergi admin bootstrap`."""

from __future__ import annotations

import os
import subprocess
import sys
from typing import Any

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from app.config import Settings
from app.services.api_keys import is_well_formed_api_key
from tests.factories import bearer, create_admin, create_agency, token_for

pytestmark = pytest.mark.anyio

AGENCY = {
    "code": "IMIGRASI-DUMAI",
    "name": "Kantor Imigrasi Kelas II TPI Dumai",
    "kind": "IMMIGRATION",
    "region_code": "14.72",
    "contact": {"name": "Seksi Inteldakim", "email": "inteldakim@example.go.id"},
}


async def _admin_token(client: httpx.AsyncClient, app: Any) -> str:
    await create_admin(app)
    return await token_for(client, app, "ADMIN")


async def test_an_admin_registers_reads_updates_and_deactivates_an_agency(
    client: httpx.AsyncClient, app: Any
) -> None:
    admin = await _admin_token(client, app)

    created = await client.post("/v1/admin/agencies", headers=bearer(admin), json=AGENCY)
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["code"] == "IMIGRASI-DUMAI"
    assert body["active"] is True
    assert body["contact"]["email"] == "inteldakim@example.go.id"
    assert "admin" not in body["scopes"]

    read = await client.get("/v1/admin/agencies/IMIGRASI-DUMAI", headers=bearer(admin))
    assert read.json() == body

    updated = await client.patch(
        "/v1/admin/agencies/IMIGRASI-DUMAI", headers=bearer(admin), json={"name": "Kanim Dumai"}
    )
    assert updated.status_code == 200
    assert updated.json()["name"] == "Kanim Dumai"
    assert updated.json()["region_code"] == "14.72"

    deactivated = await client.post(
        "/v1/admin/agencies/IMIGRASI-DUMAI/deactivate", headers=bearer(admin)
    )
    assert deactivated.json()["active"] is False
    reactivated = await client.patch(
        "/v1/admin/agencies/IMIGRASI-DUMAI", headers=bearer(admin), json={"active": True}
    )
    assert reactivated.json()["active"] is True


async def test_agency_input_is_validated(client: httpx.AsyncClient, app: Any) -> None:
    admin = await _admin_token(client, app)
    url = "/v1/admin/agencies"
    duplicate = await client.post(url, headers=bearer(admin), json={**AGENCY, "code": "ADMIN"})
    bad_kind = await client.post(url, headers=bearer(admin), json={**AGENCY, "kind": "SPY"})
    bad_code = await client.post(url, headers=bearer(admin), json={**AGENCY, "code": "lower case"})
    unknown = await client.post(url, headers=bearer(admin), json={**AGENCY, "secret": "x"})
    missing = await client.get("/v1/admin/agencies/NOPE", headers=bearer(admin))
    assert duplicate.status_code == 409
    assert bad_kind.status_code == 422
    assert bad_code.status_code == 422
    assert unknown.status_code == 422
    assert missing.status_code == 404


async def test_the_admin_agency_cannot_lock_itself_out(client: httpx.AsyncClient, app: Any) -> None:
    admin = await _admin_token(client, app)
    deactivate = await client.post("/v1/admin/agencies/ADMIN/deactivate", headers=bearer(admin))
    drop_scope = await client.patch(
        "/v1/admin/agencies/ADMIN", headers=bearer(admin), json={"scopes": ["reports:read"]}
    )
    assert deactivate.status_code == 409
    assert drop_scope.status_code == 409
    assert (await client.get("/v1/admin/agencies", headers=bearer(admin))).status_code == 200


async def test_agencies_are_listed_by_code_with_a_cursor(
    client: httpx.AsyncClient, app: Any
) -> None:
    admin = await _admin_token(client, app)
    for code in ("POLRES-DUMAI", "BP3MI-RIAU", "LANAL-DUMAI", "IMIGRASI-DUMAI"):
        await create_agency(app, code)
    seen: list[str] = []
    cursor: str | None = None
    while True:
        params = {"limit": "2", **({"cursor": cursor} if cursor else {})}
        page = (await client.get("/v1/admin/agencies", headers=bearer(admin), params=params)).json()
        seen += [a["code"] for a in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == sorted(["ADMIN", "POLRES-DUMAI", "BP3MI-RIAU", "LANAL-DUMAI", "IMIGRASI-DUMAI"])
    bad = await client.get("/v1/admin/agencies", headers=bearer(admin), params={"cursor": "%%%"})
    assert bad.status_code == 400


async def test_discovery_documents_describe_the_token_endpoint(client: httpx.AsyncClient) -> None:
    metadata = (await client.get("/.well-known/oauth-authorization-server")).json()
    assert metadata["issuer"] == "https://sinergi.local"
    assert metadata["token_endpoint"] == "https://sinergi.local/v1/auth/token"
    assert metadata["jwks_uri"] == "https://sinergi.local/.well-known/jwks.json"
    assert metadata["grant_types_supported"] == ["client_credentials"]
    assert set(metadata["token_endpoint_auth_methods_supported"]) == {
        "client_secret_basic",
        "client_secret_post",
        "private_key_jwt",
    }
    assert "admin" in metadata["scopes_supported"]

    jwks = await client.get("/.well-known/jwks.json")
    assert jwks.status_code == 200
    keys = jwks.json()["keys"]
    assert len(keys) == 2  # current and next, created on first use
    for key in keys:
        assert key["kty"] == "EC"
        assert key["alg"] == "ES256"
        assert "d" not in key


async def test_a_token_verifies_offline_with_the_published_jwks(
    client: httpx.AsyncClient, app: Any
) -> None:
    from jose import jwt

    await create_agency(app, "IMIGRASI-DUMAI")
    token = await token_for(client, app, "IMIGRASI-DUMAI")
    jwks = (await client.get("/.well-known/jwks.json")).json()
    kid = jwt.get_unverified_header(token)["kid"]
    key = next(k for k in jwks["keys"] if k["kid"] == kid)
    claims = jwt.decode(
        token, key, algorithms=["ES256"], audience="sinergi-api", issuer="https://sinergi.local"
    )
    assert claims["sub"] == "IMIGRASI-DUMAI"


async def test_the_spec_documents_the_token_endpoint_scopes_and_security(
    client: httpx.AsyncClient,
) -> None:
    spec = (await client.get("/openapi.json")).json()
    schemes = spec["components"]["securitySchemes"]
    flow = schemes["OAuth2ClientCredentials"]["flows"]["clientCredentials"]
    assert flow["tokenUrl"] == "/v1/auth/token"
    assert set(flow["scopes"]) == {
        "reports:write",
        "reports:read",
        "inbox:read",
        "screening:query",
        "admin",
    }
    assert schemes["BearerToken"]["scheme"] == "bearer"
    token_op = spec["paths"]["/v1/auth/token"]["post"]
    assert token_op["operationId"] == "auth_token"
    assert "application/x-www-form-urlencoded" in token_op["requestBody"]["content"]
    admin_op = spec["paths"]["/v1/admin/agencies"]["post"]
    assert {"OAuth2ClientCredentials": ["admin"]} in admin_op["security"]
    assert "security" not in spec["paths"]["/.well-known/jwks.json"]["get"]


def _cli(database_url: str, settings: Settings, *args: str) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "SINERGI_ENV": "test",
        "SINERGI_DATABASE_URL": database_url,
        "SINERGI_SECRET_KEY": settings.secret_key,
        "SINERGI_KEY_ENCRYPTION_KEY": settings.key_encryption_key,
    }
    return subprocess.run(
        [sys.executable, "-m", "app.cli", "admin", *args],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )


async def test_bootstrap_prints_only_the_admin_key_and_refuses_a_second_time(
    client: httpx.AsyncClient, database_url: str, settings: Settings
) -> None:
    first = _cli(database_url, settings, "bootstrap")
    assert first.returncode == 0, first.stderr
    key = first.stdout.strip()
    assert first.stdout == key + "\n"
    assert is_well_formed_api_key(key)
    # the first current and next signing keys exist before anything is signed
    engine = create_async_engine(database_url)
    async with engine.connect() as conn:
        states = sorted((await conn.execute(text("SELECT state FROM signing_keys"))).scalars())
    await engine.dispose()
    assert states == ["current", "next"]

    token = await client.post(
        "/v1/auth/token", auth=("ADMIN", key), data={"grant_type": "client_credentials"}
    )
    assert token.status_code == 200
    assert token.json()["scope"] == "admin"

    second = _cli(database_url, settings, "bootstrap")
    assert second.returncode == 1
    assert second.stdout == ""
    assert "already exists" in second.stderr


async def test_the_cli_creates_an_agency_and_issues_rotates_and_revokes_its_keys(
    client: httpx.AsyncClient, database_url: str, settings: Settings
) -> None:
    created = _cli(
        database_url,
        settings,
        "create-agency",
        "POLRES-DUMAI",
        "--name",
        "Polres Dumai",
        "--kind",
        "POLICE",
        "--region-code",
        "14.72",
    )
    assert created.returncode == 0, created.stderr
    issued = _cli(database_url, settings, "issue-key", "POLRES-DUMAI")
    assert issued.returncode == 0, issued.stderr
    key = issued.stdout.strip()
    key_id = issued.stderr.split("key id ", 1)[1].split()[0]

    async def exchange(secret: str) -> int:
        response = await client.post(
            "/v1/auth/token",
            auth=("POLRES-DUMAI", secret),
            data={"grant_type": "client_credentials"},
        )
        return response.status_code

    assert await exchange(key) == 200
    rotated = _cli(
        database_url, settings, "rotate-key", "POLRES-DUMAI", key_id, "--grace-hours", "0"
    )
    assert rotated.returncode == 0, rotated.stderr
    new_key = rotated.stdout.strip()
    new_id = rotated.stderr.split("key id ", 1)[1].split()[0]
    assert await exchange(key) == 401
    assert await exchange(new_key) == 200

    revoked = _cli(database_url, settings, "revoke-key", "POLRES-DUMAI", new_id)
    assert revoked.returncode == 0, revoked.stderr
    assert await exchange(new_key) == 401

    unknown = _cli(database_url, settings, "issue-key", "NOPE")
    assert unknown.returncode == 1
    assert unknown.stdout == ""
