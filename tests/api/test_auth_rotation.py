"""Rotation and revocation end to end: API keys (grace period) and the service's signing keys."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from jose import jwt

from app.models.agency import AgencyKind
from tests.api.auth_support import Clock
from tests.factories import bearer, create_admin, create_agency
from tests.report_samples import deferral

pytestmark = pytest.mark.anyio

TOKEN_URL = "/v1/auth/token"
PROTECTED = "/v1/admin/signing-keys"


async def _exchange(client: httpx.AsyncClient, code: str, key: str) -> httpx.Response:
    return await client.post(
        TOKEN_URL,
        data={"grant_type": "client_credentials", "client_id": code, "client_secret": key},
    )


async def _admin(client: httpx.AsyncClient, app: Any) -> tuple[str, str, str]:
    """(admin token, admin key, admin key id), the key issued through the admin API's own agency."""
    from tests.factories import issue_key

    await create_admin(app)
    key = await issue_key(app, "ADMIN")
    token = (await _exchange(client, "ADMIN", key)).json()["access_token"]
    keys = (await client.get("/v1/admin/agencies/ADMIN/keys", headers=bearer(token))).json()
    return token, key, keys[0]["id"]


async def test_issuing_a_key_shows_it_once_and_lists_only_its_prefix(
    client: httpx.AsyncClient, app: Any
) -> None:
    admin, _, _ = await _admin(client, app)
    await create_agency(app, "IMIGRASI-DUMAI")

    issued = await client.post(
        "/v1/admin/agencies/IMIGRASI-DUMAI/keys",
        headers=bearer(admin),
        json={"expires_in_days": 30},
    )
    listed = await client.get("/v1/admin/agencies/IMIGRASI-DUMAI/keys", headers=bearer(admin))

    assert issued.status_code == 201, issued.text
    key = issued.json()["key"]
    assert key.startswith("sng_")
    assert issued.json()["expires_at"] is not None
    assert listed.status_code == 200
    [row] = listed.json()
    assert row["prefix"] == key[:12]
    assert row["status"] == "active"
    assert row["last_used_at"] is None
    assert key not in listed.text
    assert (await _exchange(client, "IMIGRASI-DUMAI", key)).status_code == 200


async def test_a_third_active_key_is_a_conflict(client: httpx.AsyncClient, app: Any) -> None:
    admin, _, _ = await _admin(client, app)
    await create_agency(app, "IMIGRASI-DUMAI")
    url = "/v1/admin/agencies/IMIGRASI-DUMAI/keys"
    first = await client.post(url, headers=bearer(admin), json={})
    second = await client.post(url, headers=bearer(admin), json={})
    third = await client.post(url, headers=bearer(admin), json={})
    assert (first.status_code, second.status_code, third.status_code) == (201, 201, 409)

    revoked = await client.delete(f"{url}/{first.json()['id']}", headers=bearer(admin))
    assert revoked.status_code == 204
    assert (await client.post(url, headers=bearer(admin), json={})).status_code == 201


async def test_rotation_keeps_both_keys_working_during_grace_then_only_the_new_one(
    client: httpx.AsyncClient, app: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    clock = Clock.install(monkeypatch)
    admin, _, _ = await _admin(client, app)
    await create_agency(app, "IMIGRASI-DUMAI")
    url = "/v1/admin/agencies/IMIGRASI-DUMAI/keys"
    old = (await client.post(url, headers=bearer(admin), json={})).json()
    old_token = (await _exchange(client, "IMIGRASI-DUMAI", old["key"])).json()["access_token"]

    rotated = await client.post(
        f"{url}/{old['id']}/rotate", headers=bearer(admin), json={"grace_hours": 24}
    )
    assert rotated.status_code == 201, rotated.text
    new = rotated.json()
    assert new["key"] != old["key"]

    assert (await _exchange(client, "IMIGRASI-DUMAI", old["key"])).status_code == 200
    assert (await _exchange(client, "IMIGRASI-DUMAI", new["key"])).status_code == 200
    statuses = {k["id"]: k for k in (await client.get(url, headers=bearer(admin))).json()}
    assert statuses[old["id"]]["status"] == "active"
    assert statuses[old["id"]]["expires_at"] is not None

    clock.advance(hours=24, minutes=1)

    refused = await _exchange(client, "IMIGRASI-DUMAI", old["key"])
    assert refused.status_code == 401
    assert refused.json()["error"] == "invalid_client"
    assert (await _exchange(client, "IMIGRASI-DUMAI", new["key"])).status_code == 200
    statuses = {k["id"]: k for k in (await client.get(url, headers=bearer(admin))).json()}
    assert statuses[old["id"]]["status"] == "expired"
    assert statuses[new["id"]]["status"] == "active"
    # a token minted from the old key before it expired is refused too
    assert (await client.get(url, headers=bearer(old_token))).status_code == 401


async def test_rotation_with_the_default_grace_comes_from_settings(
    client: httpx.AsyncClient, app: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    clock = Clock.install(monkeypatch)
    admin, _, _ = await _admin(client, app)
    await create_agency(app, "IMIGRASI-DUMAI")
    url = "/v1/admin/agencies/IMIGRASI-DUMAI/keys"
    old = (await client.post(url, headers=bearer(admin), json={})).json()
    await client.post(f"{url}/{old['id']}/rotate", headers=bearer(admin), json={})

    clock.advance(hours=23)
    assert (await _exchange(client, "IMIGRASI-DUMAI", old["key"])).status_code == 200
    clock.advance(hours=2)
    assert (await _exchange(client, "IMIGRASI-DUMAI", old["key"])).status_code == 401


async def test_rotating_with_another_live_key_would_make_three_and_is_refused(
    client: httpx.AsyncClient, app: Any
) -> None:
    admin, _, _ = await _admin(client, app)
    await create_agency(app, "IMIGRASI-DUMAI")
    url = "/v1/admin/agencies/IMIGRASI-DUMAI/keys"
    first = (await client.post(url, headers=bearer(admin), json={})).json()
    await client.post(url, headers=bearer(admin), json={})
    refused = await client.post(f"{url}/{first['id']}/rotate", headers=bearer(admin), json={})
    immediate = await client.post(
        f"{url}/{first['id']}/rotate", headers=bearer(admin), json={"grace_hours": 0}
    )
    assert refused.status_code == 409
    assert immediate.status_code == 201
    assert (await _exchange(client, "IMIGRASI-DUMAI", first["key"])).status_code == 401


async def test_a_revoked_keys_token_is_refused_on_its_next_use(
    client: httpx.AsyncClient, app: Any
) -> None:
    admin, _, _ = await _admin(client, app)
    await create_agency(app, "OPS", scopes=None)
    await client.patch("/v1/admin/agencies/OPS", headers=bearer(admin), json={"scopes": ["admin"]})
    issued = (
        await client.post("/v1/admin/agencies/OPS/keys", headers=bearer(admin), json={})
    ).json()
    token = (await _exchange(client, "OPS", issued["key"])).json()["access_token"]
    assert (await client.get(PROTECTED, headers=bearer(token))).status_code == 200

    revoked = await client.delete(
        f"/v1/admin/agencies/OPS/keys/{issued['id']}", headers=bearer(admin)
    )
    assert revoked.status_code == 204

    refused = await client.get(PROTECTED, headers=bearer(token))
    assert refused.status_code == 401
    assert refused.headers["www-authenticate"] == 'Bearer error="invalid_token"'
    assert (await _exchange(client, "OPS", issued["key"])).status_code == 401
    listed = (await client.get("/v1/admin/agencies/OPS/keys", headers=bearer(admin))).json()
    assert listed[0]["status"] == "revoked"


async def test_revoking_a_key_or_deactivating_an_agency_refuses_its_reads_at_once(
    client: httpx.AsyncClient, app: Any
) -> None:
    """Report reads and inbox pages run without a transaction of their own (PostgreSQL) and
    their tokens are remembered as verified: the key and the agency are still read each time."""
    admin, _, _ = await _admin(client, app)
    await create_agency(app, "IMIGRASI-DUMAI")
    await create_agency(app, "POLRES-DUMAI", kind=AgencyKind.POLICE)
    keys = {
        code: (
            await client.post(f"/v1/admin/agencies/{code}/keys", headers=bearer(admin), json={})
        ).json()
        for code in ("IMIGRASI-DUMAI", "POLRES-DUMAI")
    }
    tokens = {
        code: (await _exchange(client, code, issued["key"])).json()["access_token"]
        for code, issued in keys.items()
    }
    created = await client.post(
        "/v1/reports",
        json=deferral(recipients=["POLRES-DUMAI"]),
        headers=bearer(tokens["IMIGRASI-DUMAI"]),
    )
    assert created.status_code == 201
    reads = (created.headers["location"], "/v1/inbox")
    for code in tokens:
        for url in reads:
            assert (await client.get(url, headers=bearer(tokens[code]))).status_code == 200

    revoked = await client.delete(
        f"/v1/admin/agencies/IMIGRASI-DUMAI/keys/{keys['IMIGRASI-DUMAI']['id']}",
        headers=bearer(admin),
    )
    assert revoked.status_code == 204
    deactivated = await client.post(
        "/v1/admin/agencies/POLRES-DUMAI/deactivate", headers=bearer(admin)
    )
    assert deactivated.status_code == 200
    for code in tokens:
        for url in reads:
            refused = await client.get(url, headers=bearer(tokens[code]))
            assert refused.status_code == 401, (code, url)
            assert refused.headers["www-authenticate"] == 'Bearer error="invalid_token"'


async def test_a_revoked_keys_token_is_refused_on_its_next_submission_and_nothing_is_stored(
    client: httpx.AsyncClient, app: Any
) -> None:
    """A submission's token check reads the key on every request, as a read's does (PostgreSQL:
    on a connection of its own, outside the batch the report would be written in): the next
    report after a revocation is refused and not stored."""
    admin, _, _ = await _admin(client, app)
    await create_agency(app, "IMIGRASI-DUMAI")
    await create_agency(app, "POLRES-DUMAI", kind=AgencyKind.POLICE)
    url = "/v1/admin/agencies/IMIGRASI-DUMAI/keys"
    issued = (await client.post(url, headers=bearer(admin), json={})).json()
    token = (await _exchange(client, "IMIGRASI-DUMAI", issued["key"])).json()["access_token"]
    first = deferral(external_ref="REVOKE/1", recipients=["POLRES-DUMAI"])
    assert (await client.post("/v1/reports", json=first, headers=bearer(token))).status_code == 201

    assert (await client.delete(f"{url}/{issued['id']}", headers=bearer(admin))).status_code == 204
    second = deferral(external_ref="REVOKE/2", recipients=["POLRES-DUMAI"])
    refused = await client.post("/v1/reports", json=second, headers=bearer(token))
    assert refused.status_code == 401
    assert refused.headers["www-authenticate"] == 'Bearer error="invalid_token"'

    renewed = (await client.post(url, headers=bearer(admin), json={})).json()
    fresh = (await _exchange(client, "IMIGRASI-DUMAI", renewed["key"])).json()["access_token"]
    # not a replay (200): the refused submission stored nothing
    again = await client.post("/v1/reports", json=second, headers=bearer(fresh))
    assert again.status_code == 201, again.text


async def test_keys_of_another_agency_cannot_be_revoked_through_this_one(
    client: httpx.AsyncClient, app: Any
) -> None:
    admin, _, _ = await _admin(client, app)
    await create_agency(app, "IMIGRASI-DUMAI")
    await create_agency(app, "POLRES-DUMAI")
    issued = (
        await client.post("/v1/admin/agencies/IMIGRASI-DUMAI/keys", headers=bearer(admin), json={})
    ).json()
    response = await client.delete(
        f"/v1/admin/agencies/POLRES-DUMAI/keys/{issued['id']}", headers=bearer(admin)
    )
    assert response.status_code == 404
    assert (await _exchange(client, "IMIGRASI-DUMAI", issued["key"])).status_code == 200


async def test_signing_key_rotation_keeps_earlier_tokens_valid_and_publishes_both(
    client: httpx.AsyncClient, app: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    clock = Clock.install(monkeypatch)
    admin, admin_key, _ = await _admin(client, app)
    before = (await client.get(PROTECTED, headers=bearer(admin))).json()
    states = {k["state"]: k["kid"] for k in before}
    old_kid, next_kid = states["current"], states["next"]
    assert jwt.get_unverified_header(admin)["kid"] == old_kid
    published = {k["kid"] for k in (await client.get("/.well-known/jwks.json")).json()["keys"]}
    assert {old_kid, next_kid} <= published  # the next key is published before it signs

    rotated = await client.post(f"{PROTECTED}/rotate", headers=bearer(admin))
    assert rotated.status_code == 200, rotated.text
    after = {k["kid"]: k["state"] for k in rotated.json()}
    assert after[old_kid] == "retired"
    assert after[next_kid] == "current"
    assert list(after.values()).count("next") == 1

    # the token signed by the old key still works; new tokens carry the promoted key
    assert (await client.get(PROTECTED, headers=bearer(admin))).status_code == 200
    fresh = (await _exchange(client, "ADMIN", admin_key)).json()["access_token"]
    assert jwt.get_unverified_header(fresh)["kid"] == next_kid
    published = {k["kid"] for k in (await client.get("/.well-known/jwks.json")).json()["keys"]}
    assert {old_kid, next_kid} <= published
    assert len(published) == 3

    # once every token the old key signed has expired, it leaves the JWKS and verifies nothing
    clock.advance(seconds=900 + 31)
    published = {k["kid"] for k in (await client.get("/.well-known/jwks.json")).json()["keys"]}
    assert old_kid not in published
    assert next_kid in published
    assert (await client.get(PROTECTED, headers=bearer(admin))).status_code == 401


async def test_the_cli_rotates_the_signing_key_too(
    client: httpx.AsyncClient, app: Any, database_url: str, settings: Any
) -> None:
    import os
    import subprocess
    import sys

    admin, _, _ = await _admin(client, app)
    before = {k["kid"] for k in (await client.get("/.well-known/jwks.json")).json()["keys"]}
    env = {
        **os.environ,
        "SINERGI_ENV": "test",
        "SINERGI_DATABASE_URL": database_url,
        "SINERGI_SECRET_KEY": settings.secret_key,
        "SINERGI_KEY_ENCRYPTION_KEY": settings.key_encryption_key,
    }
    result = subprocess.run(
        [sys.executable, "-m", "app.cli", "admin", "rotate-signing-key"],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    after = {
        k["kid"]: k["state"] for k in (await client.get(PROTECTED, headers=bearer(admin))).json()
    }
    assert len([kid for kid, state in after.items() if state == "retired"]) == 1
    assert set(after) - before
