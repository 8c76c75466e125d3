"""POST /v1/auth/token: client credentials with an API key (post body or HTTP Basic)."""

from __future__ import annotations

import base64
from typing import Any

import httpx
import pytest
from jose import jwt

from app.models.agency import Scope
from app.services.api_keys import generate_api_key
from tests.api.audit_support import audit_events
from tests.factories import bearer, create_admin, create_agency, issue_key, token_for

pytestmark = pytest.mark.anyio

TOKEN_URL = "/v1/auth/token"


def _form(client_id: str, secret: str, **extra: str) -> dict[str, str]:
    return {
        "grant_type": "client_credentials",
        "client_id": client_id,
        "client_secret": secret,
        **extra,
    }


def _oauth_error(response: httpx.Response) -> str:
    assert response.headers["content-type"].startswith("application/problem+json")
    body: dict[str, Any] = response.json()
    assert body["status"] == response.status_code
    return str(body["error"])


async def test_an_api_key_buys_a_signed_short_lived_token(
    client: httpx.AsyncClient, app: Any
) -> None:
    await create_agency(app, "IMIGRASI-DUMAI")
    key = await issue_key(app, "IMIGRASI-DUMAI")

    response = await client.post(TOKEN_URL, data=_form("IMIGRASI-DUMAI", key))

    assert response.status_code == 200, response.text
    assert response.headers["cache-control"] == "no-store"
    body = response.json()
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == 900
    assert set(body["scope"].split()) == {
        "reports:write",
        "reports:read",
        "inbox:read",
        "screening:query",
    }
    header = jwt.get_unverified_header(body["access_token"])
    claims = jwt.get_unverified_claims(body["access_token"])
    assert header["alg"] == "ES256"
    assert header["typ"] == "at+jwt"
    jwks = (await client.get("/.well-known/jwks.json")).json()
    assert header["kid"] in {k["kid"] for k in jwks["keys"]}
    assert claims["sub"] == "IMIGRASI-DUMAI"
    assert claims["iss"] == "https://sinergi.local"
    assert claims["aud"] == "sinergi-api"
    assert claims["exp"] - claims["iat"] == 900
    assert claims["nbf"] == claims["iat"]
    assert claims["jti"]
    assert claims["key_id"]


async def test_http_basic_works_like_the_post_body(client: httpx.AsyncClient, app: Any) -> None:
    await create_agency(app, "POLRES-DUMAI")
    key = await issue_key(app, "POLRES-DUMAI")

    response = await client.post(
        TOKEN_URL, auth=("POLRES-DUMAI", key), data={"grant_type": "client_credentials"}
    )

    assert response.status_code == 200, response.text
    assert jwt.get_unverified_claims(response.json()["access_token"])["sub"] == "POLRES-DUMAI"


async def test_the_token_opens_the_routes_its_scope_allows(
    client: httpx.AsyncClient, app: Any
) -> None:
    await create_admin(app)
    token = await token_for(client, app, "ADMIN")
    response = await client.get("/v1/admin/agencies", headers=bearer(token))
    assert response.status_code == 200, response.text
    assert [a["code"] for a in response.json()["items"]] == ["ADMIN"]


async def test_wrong_secret_and_unknown_client_get_the_same_answer(
    client: httpx.AsyncClient, app: Any
) -> None:
    await create_agency(app, "IMIGRASI-DUMAI")
    real_key = await issue_key(app, "IMIGRASI-DUMAI")
    other_key = generate_api_key()

    wrong_secret = await client.post(TOKEN_URL, data=_form("IMIGRASI-DUMAI", other_key))
    unknown_client = await client.post(TOKEN_URL, data=_form("NO-SUCH-AGENCY", other_key))
    key_of_another = await client.post(TOKEN_URL, data=_form("NO-SUCH-AGENCY", real_key))

    for response in (wrong_secret, unknown_client, key_of_another):
        assert response.status_code == 401
        assert _oauth_error(response) == "invalid_client"
    assert wrong_secret.json() == unknown_client.json() == key_of_another.json()


async def test_a_key_whose_checksum_is_wrong_is_refused(
    client: httpx.AsyncClient, app: Any
) -> None:
    await create_agency(app, "IMIGRASI-DUMAI")
    key = await issue_key(app, "IMIGRASI-DUMAI")
    corrupted = key[:-1] + ("x" if key[-1] != "x" else "y")
    response = await client.post(TOKEN_URL, data=_form("IMIGRASI-DUMAI", corrupted))
    assert response.status_code == 401
    assert _oauth_error(response) == "invalid_client"


async def test_a_bad_basic_header_is_invalid_client_with_a_basic_challenge(
    client: httpx.AsyncClient, app: Any
) -> None:
    response = await client.post(
        TOKEN_URL,
        headers={"Authorization": "Basic !!!not-base64"},
        data={"grant_type": "client_credentials"},
    )
    assert response.status_code == 401
    assert _oauth_error(response) == "invalid_client"
    assert response.headers["www-authenticate"].startswith("Basic")

    no_colon = base64.b64encode(b"IMIGRASI-DUMAI").decode()
    response = await client.post(
        TOKEN_URL,
        headers={"Authorization": f"Basic {no_colon}"},
        data={"grant_type": "client_credentials"},
    )
    assert response.status_code == 401


async def test_a_deactivated_agency_gets_no_token(client: httpx.AsyncClient, app: Any) -> None:
    await create_admin(app)
    admin = await token_for(client, app, "ADMIN")
    await create_agency(app, "IMIGRASI-DUMAI")
    key = await issue_key(app, "IMIGRASI-DUMAI")
    deactivated = await client.post(
        "/v1/admin/agencies/IMIGRASI-DUMAI/deactivate", headers=bearer(admin)
    )
    assert deactivated.status_code == 200

    response = await client.post(TOKEN_URL, data=_form("IMIGRASI-DUMAI", key))
    assert response.status_code == 401
    assert _oauth_error(response) == "invalid_client"


async def test_grant_type_is_checked(client: httpx.AsyncClient, app: Any) -> None:
    await create_agency(app, "IMIGRASI-DUMAI")
    key = await issue_key(app, "IMIGRASI-DUMAI")

    missing = await client.post(
        TOKEN_URL, data={"client_id": "IMIGRASI-DUMAI", "client_secret": key}
    )
    other = await client.post(TOKEN_URL, data=_form("IMIGRASI-DUMAI", key, grant_type="password"))

    assert missing.status_code == 400
    assert _oauth_error(missing) == "invalid_request"
    assert other.status_code == 400
    assert _oauth_error(other) == "unsupported_grant_type"


async def test_a_json_body_is_an_invalid_request(client: httpx.AsyncClient, app: Any) -> None:
    response = await client.post(
        TOKEN_URL, json={"grant_type": "client_credentials", "client_id": "X", "client_secret": "y"}
    )
    assert response.status_code == 400
    assert _oauth_error(response) == "invalid_request"


async def test_two_authentication_methods_at_once_are_refused(
    client: httpx.AsyncClient, app: Any
) -> None:
    await create_agency(app, "IMIGRASI-DUMAI")
    key = await issue_key(app, "IMIGRASI-DUMAI")
    response = await client.post(
        TOKEN_URL, auth=("IMIGRASI-DUMAI", key), data=_form("IMIGRASI-DUMAI", key)
    )
    assert response.status_code == 400
    assert _oauth_error(response) == "invalid_request"


async def test_no_credentials_at_all_is_invalid_client(client: httpx.AsyncClient, app: Any) -> None:
    response = await client.post(
        TOKEN_URL, data={"grant_type": "client_credentials", "client_id": "IMIGRASI-DUMAI"}
    )
    assert response.status_code == 401
    assert _oauth_error(response) == "invalid_client"


async def test_a_client_may_ask_for_fewer_scopes_but_not_more(
    client: httpx.AsyncClient, app: Any
) -> None:
    await create_agency(app, "BP3MI-RIAU", scopes=[Scope.REPORTS_WRITE, Scope.REPORTS_READ])
    key = await issue_key(app, "BP3MI-RIAU")

    narrower = await client.post(TOKEN_URL, data=_form("BP3MI-RIAU", key, scope="reports:read"))
    wider = await client.post(TOKEN_URL, data=_form("BP3MI-RIAU", key, scope="reports:read admin"))

    assert narrower.status_code == 200
    assert narrower.json()["scope"] == "reports:read"
    assert jwt.get_unverified_claims(narrower.json()["access_token"])["scope"] == "reports:read"
    assert wider.status_code == 400
    assert _oauth_error(wider) == "invalid_scope"


async def test_getting_a_token_records_when_the_key_was_last_used(
    client: httpx.AsyncClient, app: Any
) -> None:
    await create_admin(app)
    admin = await token_for(client, app, "ADMIN")
    keys = (await client.get("/v1/admin/agencies/ADMIN/keys", headers=bearer(admin))).json()
    assert len(keys) == 1
    assert keys[0]["last_used_at"] is not None
    assert keys[0]["status"] == "active"


async def test_wrong_secret_and_unknown_client_take_the_same_path(
    client: httpx.AsyncClient, app: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Similar time by construction: both hash the secret and make the same single lookup."""
    from app.repositories import credentials as credentials_repo
    from app.services import api_keys

    calls: list[str] = []
    real_hash, real_lookup = api_keys.hash_api_key, credentials_repo.api_key_by_hash

    def counting_hash(secret_key: str, key: str) -> str:
        calls.append("hash")
        return real_hash(secret_key, key)

    async def counting_lookup(session: Any, key_hash: str) -> Any:
        calls.append("lookup")
        return await real_lookup(session, key_hash)

    monkeypatch.setattr(api_keys, "hash_api_key", counting_hash)
    monkeypatch.setattr(credentials_repo, "api_key_by_hash", counting_lookup)
    await create_agency(app, "IMIGRASI-DUMAI")
    guessed = generate_api_key()

    await client.post(TOKEN_URL, data=_form("IMIGRASI-DUMAI", guessed))
    known_client = list(calls)
    calls.clear()
    await client.post(TOKEN_URL, data=_form("NO-SUCH-AGENCY", guessed))
    unknown_client = list(calls)
    calls.clear()
    await client.post(TOKEN_URL, data=_form("NO-SUCH-AGENCY", "short-garbage"))

    assert known_client == unknown_client == calls == ["hash", "lookup"]


async def test_a_secret_sent_as_client_id_never_reaches_the_audit_trail(
    client: httpx.AsyncClient, app: Any
) -> None:
    """The trail is append-only: a key or a NIK pasted into client_id could never be removed."""
    await create_agency(app, "IMIGRASI-DUMAI")
    real_key = await issue_key(app, "IMIGRASI-DUMAI")
    nik = "1472014508900001"
    for client_id, secret in (
        (real_key, real_key),
        (nik, real_key),
        ("IMIGRASI-DUMA1", generate_api_key()),  # a typo keeps its value: it helps a support call
    ):
        response = await client.post(TOKEN_URL, data=_form(client_id, secret))
        assert response.status_code == 401
    basic = base64.b64encode(f"{real_key}:{real_key}".encode()).decode()
    response = await client.post(
        TOKEN_URL,
        data={"grant_type": "client_credentials"},
        headers={"Authorization": f"Basic {basic}"},
    )
    assert response.status_code == 401

    refusals = await audit_events(app, action="token.refuse")
    assert [e.detail for e in refusals] == [
        {"claimed_client_id_malformed": "true", "reason": "API key refused"},
        {"claimed_client_id_malformed": "true", "reason": "API key refused"},
        {"claimed_client_id": "IMIGRASI-DUMA1", "reason": "API key refused"},
        {"claimed_client_id_malformed": "true", "reason": "API key refused"},
    ]
    trail = str([(e.detail, e.actor_agency_code, e.credential_id) for e in refusals])
    assert real_key not in trail
    assert real_key.split("_")[-1][:12] not in trail
    assert nik not in trail
