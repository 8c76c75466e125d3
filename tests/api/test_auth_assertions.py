"""private_key_jwt (RFC 7523): registered public keys and single-use client assertions."""

from __future__ import annotations

import time
import uuid
from typing import Any

import httpx
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from jose import jwk, jwt
from joserfc.jwk import RSAKey

from tests.api.auth_support import Clock
from tests.factories import bearer, create_admin, create_agency, token_for

pytestmark = pytest.mark.anyio

TOKEN_URL = "/v1/auth/token"
ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
TOKEN_ENDPOINT = "https://sinergi.local/v1/auth/token"


def _ec_key() -> tuple[str, dict[str, Any]]:
    private = ec.generate_private_key(ec.SECP256R1())
    pem = private.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    public = jwk.construct(pem, "ES256").public_key().to_dict()
    return pem, public


def _assertion(pem: str, code: str, *, kid: str | None = None, **overrides: Any) -> str:
    now = int(time.time())
    claims: dict[str, Any] = {
        "iss": code,
        "sub": code,
        "aud": TOKEN_ENDPOINT,
        "iat": now,
        "exp": now + 120,
        "jti": str(uuid.uuid4()),
    }
    claims.update(overrides)
    claims = {k: v for k, v in claims.items() if v is not None}
    headers = {"kid": kid} if kid else {}
    return jwt.encode(claims, pem, algorithm="ES256", headers=headers)


async def _exchange(client: httpx.AsyncClient, code: str | None, assertion: str) -> httpx.Response:
    data = {
        "grant_type": "client_credentials",
        "client_assertion_type": ASSERTION_TYPE,
        "client_assertion": assertion,
    }
    if code is not None:
        data["client_id"] = code
    return await client.post(TOKEN_URL, data=data)


async def _agency_with_public_key(client: httpx.AsyncClient, app: Any) -> tuple[str, str, str]:
    """(admin token, agency's private PEM, registered key id) for agency IMIGRASI-DUMAI."""
    await create_admin(app)
    admin = await token_for(client, app, "ADMIN")
    await create_agency(app, "IMIGRASI-DUMAI")
    pem, public = _ec_key()
    response = await client.post(
        "/v1/admin/agencies/IMIGRASI-DUMAI/public-keys",
        headers=bearer(admin),
        json={"jwk": {**public, "kid": "dumai-2026"}},
    )
    assert response.status_code == 201, response.text
    return admin, pem, response.json()["id"]


async def test_a_signed_assertion_buys_a_token(client: httpx.AsyncClient, app: Any) -> None:
    _, pem, key_id = await _agency_with_public_key(client, app)
    response = await _exchange(
        client, "IMIGRASI-DUMAI", _assertion(pem, "IMIGRASI-DUMAI", kid="dumai-2026")
    )
    assert response.status_code == 200, response.text
    claims = jwt.get_unverified_claims(response.json()["access_token"])
    assert claims["sub"] == "IMIGRASI-DUMAI"
    assert claims["key_id"] == key_id


async def test_the_issuer_may_be_the_audience_and_kid_and_client_id_are_optional(
    client: httpx.AsyncClient, app: Any
) -> None:
    _, pem, _ = await _agency_with_public_key(client, app)
    assertion = _assertion(pem, "IMIGRASI-DUMAI", aud="https://sinergi.local")
    assert (await _exchange(client, None, assertion)).status_code == 200


async def test_a_replayed_assertion_is_refused(client: httpx.AsyncClient, app: Any) -> None:
    _, pem, _ = await _agency_with_public_key(client, app)
    assertion = _assertion(pem, "IMIGRASI-DUMAI", kid="dumai-2026")
    first = await _exchange(client, "IMIGRASI-DUMAI", assertion)
    replay = await _exchange(client, "IMIGRASI-DUMAI", assertion)
    assert first.status_code == 200
    assert replay.status_code == 401
    assert replay.json()["error"] == "invalid_client"


async def test_an_hour_long_assertion_is_accepted_once_for_its_whole_lifetime(
    client: httpx.AsyncClient, app: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Authlib signs assertions valid for 3,600 s; their jti stays spent until they expire."""
    _, pem, _ = await _agency_with_public_key(client, app)
    now = int(time.time())
    assertion = _assertion(pem, "IMIGRASI-DUMAI", iat=now, exp=now + 3600)
    assert (await _exchange(client, "IMIGRASI-DUMAI", assertion)).status_code == 200
    clock = Clock.install(monkeypatch)
    clock.advance(minutes=55)
    replay = await _exchange(client, "IMIGRASI-DUMAI", assertion)
    assert replay.status_code == 401
    assert replay.json()["error"] == "invalid_client"


@pytest.mark.parametrize(
    "overrides",
    [
        {"aud": "https://attacker.example/token"},
        {"aud": None},
        {"iss": "POLRES-DUMAI"},
        {"sub": "POLRES-DUMAI"},
        {"exp": None},
        {"jti": None},
        {"iat": None},
        {"exp": int(time.time()) + 2 * 3600},  # longer than an hour
        {"exp": int(time.time()) - 120, "iat": int(time.time()) - 200},  # expired
    ],
)
async def test_a_bad_assertion_is_invalid_client(
    client: httpx.AsyncClient, app: Any, overrides: dict[str, Any]
) -> None:
    _, pem, _ = await _agency_with_public_key(client, app)
    assertion = _assertion(pem, "IMIGRASI-DUMAI", **overrides)
    response = await _exchange(client, "IMIGRASI-DUMAI", assertion)
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_client"


async def test_an_assertion_signed_by_an_unregistered_key_is_refused(
    client: httpx.AsyncClient, app: Any
) -> None:
    await _agency_with_public_key(client, app)
    stranger, _ = _ec_key()
    response = await _exchange(client, "IMIGRASI-DUMAI", _assertion(stranger, "IMIGRASI-DUMAI"))
    assert response.status_code == 401


async def test_the_client_id_must_match_the_assertion_issuer(
    client: httpx.AsyncClient, app: Any
) -> None:
    _, pem, _ = await _agency_with_public_key(client, app)
    await create_agency(app, "POLRES-DUMAI")
    response = await _exchange(client, "POLRES-DUMAI", _assertion(pem, "IMIGRASI-DUMAI"))
    assert response.status_code == 401


async def test_a_wrong_assertion_type_is_an_invalid_request(
    client: httpx.AsyncClient, app: Any
) -> None:
    _, pem, _ = await _agency_with_public_key(client, app)
    response = await client.post(
        TOKEN_URL,
        data={
            "grant_type": "client_credentials",
            "client_assertion_type": "urn:example:saml",
            "client_assertion": _assertion(pem, "IMIGRASI-DUMAI"),
        },
    )
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_request"


async def test_revoking_a_public_key_stops_its_assertions_and_tokens(
    client: httpx.AsyncClient, app: Any
) -> None:
    admin, pem, key_id = await _agency_with_public_key(client, app)
    await client.patch(
        "/v1/admin/agencies/IMIGRASI-DUMAI", headers=bearer(admin), json={"scopes": ["admin"]}
    )
    token = (await _exchange(client, "IMIGRASI-DUMAI", _assertion(pem, "IMIGRASI-DUMAI"))).json()[
        "access_token"
    ]
    assert (await client.get("/v1/admin/signing-keys", headers=bearer(token))).status_code == 200

    revoked = await client.delete(
        f"/v1/admin/agencies/IMIGRASI-DUMAI/public-keys/{key_id}", headers=bearer(admin)
    )
    assert revoked.status_code == 204
    assert (await client.get("/v1/admin/signing-keys", headers=bearer(token))).status_code == 401
    again = await _exchange(client, "IMIGRASI-DUMAI", _assertion(pem, "IMIGRASI-DUMAI"))
    assert again.status_code == 401


async def test_registering_keys_refuses_private_weak_or_foreign_keys(
    client: httpx.AsyncClient, app: Any
) -> None:
    admin, _, _ = await _agency_with_public_key(client, app)
    url = "/v1/admin/agencies/IMIGRASI-DUMAI/public-keys"
    pem, public = _ec_key()
    private_jwk = jwk.construct(pem, "ES256").to_dict()
    weak_rsa = rsa.generate_private_key(public_exponent=65537, key_size=1024)  # noqa: S505  (the weak key under test)
    weak_pem = weak_rsa.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    weak_jwk = jwk.construct(weak_pem, "RS256").to_dict()

    cases = {
        "private": {"jwk": private_jwk},
        "weak": {"jwk": weak_jwk},
        "symmetric": {"jwk": {"kty": "oct", "k": "c2VjcmV0"}},
        "garbage": {"jwk": {"kty": "EC", "crv": "P-256", "x": "AAAA", "y": "BBBB"}},
        "hostile kid": {"jwk": {**public, "kid": "../../x"}},
    }
    for name, body in cases.items():
        response = await client.post(url, headers=bearer(admin), json=body)
        assert response.status_code == 422, (name, response.text)
        assert [e["pointer"] for e in response.json()["errors"]] == ["/jwk"], name

    duplicate = await client.post(
        url, headers=bearer(admin), json={"jwk": {**public, "kid": "dumai-2026"}}
    )
    assert duplicate.status_code == 409
    listed = await client.get(url, headers=bearer(admin))
    assert [k["kid"] for k in listed.json()] == ["dumai-2026"]
    assert "d" not in listed.json()[0]["jwk"]


async def test_an_rsa_key_works_too(client: httpx.AsyncClient, app: Any) -> None:
    admin, _, _ = await _agency_with_public_key(client, app)
    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = private.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    public = jwk.construct(pem, "RS256").public_key().to_dict()
    registered = await client.post(
        "/v1/admin/agencies/IMIGRASI-DUMAI/public-keys", headers=bearer(admin), json={"jwk": public}
    )
    assert registered.status_code == 201, registered.text
    # RFC 7638, as another library computes it
    assert registered.json()["thumbprint"] == RSAKey.import_key(public).thumbprint()
    now = int(time.time())
    assertion = jwt.encode(
        {
            "iss": "IMIGRASI-DUMAI",
            "sub": "IMIGRASI-DUMAI",
            "aud": TOKEN_ENDPOINT,
            "iat": now,
            "exp": now + 60,
            "jti": str(uuid.uuid4()),
        },
        pem,
        algorithm="RS256",
    )
    assert (await _exchange(client, "IMIGRASI-DUMAI", assertion)).status_code == 200
