"""Bearer tokens on protected routes: every hostile or broken token is 401 (or 403), never 500."""

from __future__ import annotations

import socket
import time
from typing import Any

import httpx
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from jose import jwt

from app.services import tokens
from tests.api.auth_support import (
    b64url,
    current_service_key,
    hs256_with_secret,
    sign,
    unsigned,
)
from tests.factories import bearer, create_admin, create_agency, token_for

pytestmark = pytest.mark.anyio

PROTECTED = "/v1/admin/signing-keys"


async def _admin_claims(client: httpx.AsyncClient, app: Any) -> dict[str, Any]:
    """The claims of a real admin token, as a base for forged ones."""
    await create_admin(app)
    token = await token_for(client, app, "ADMIN")
    assert (await client.get(PROTECTED, headers=bearer(token))).status_code == 200
    claims: dict[str, Any] = jwt.get_unverified_claims(token)
    return claims


def _assert_invalid_token(response: httpx.Response) -> None:
    assert response.status_code == 401, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.headers["www-authenticate"] == 'Bearer error="invalid_token"'
    assert response.json()["detail"] == "The access token is missing, malformed, expired or revoked"


async def test_no_authorization_header_is_401_with_a_bearer_challenge(
    client: httpx.AsyncClient, app: Any
) -> None:
    response = await client.get(PROTECTED)
    assert response.status_code == 401
    assert response.headers["www-authenticate"].startswith("Bearer")
    assert response.headers["content-type"].startswith("application/problem+json")


@pytest.mark.parametrize(
    "authorization",
    [
        "Bearer",
        "Bearer ",
        "Basic dXNlcjpwYXNz",
        "Token abc",
        "Bearer not-a-jwt",
        "Bearer a.b",
        "Bearer ...",
    ],
)
async def test_a_malformed_authorization_header_is_invalid_token(
    client: httpx.AsyncClient, app: Any, authorization: str
) -> None:
    _assert_invalid_token(await client.get(PROTECTED, headers={"Authorization": authorization}))


async def test_a_valid_token_with_a_flipped_byte_is_refused(
    client: httpx.AsyncClient, app: Any
) -> None:
    await create_admin(app)
    token = await token_for(client, app, "ADMIN")
    header, payload, signature = token.split(".")

    def flip(part: str, at: int) -> str:
        return part[:at] + ("A" if part[at] != "A" else "B") + part[at + 1 :]

    for forged in (
        f"{header}.{flip(payload, 10)}.{signature}",
        f"{header}.{payload}.{flip(signature, 5)}",
        f"{header}.{payload}.{signature[:-4]}",
    ):
        _assert_invalid_token(await client.get(PROTECTED, headers=bearer(forged)))


async def test_alg_none_is_refused(client: httpx.AsyncClient, app: Any) -> None:
    claims = await _admin_claims(client, app)
    key = await current_service_key(app)
    for alg in ("none", "None", "NONE"):
        token = unsigned({"alg": alg, "typ": "at+jwt", "kid": key.kid}, claims)
        _assert_invalid_token(await client.get(PROTECTED, headers=bearer(token)))


async def test_hs256_signed_with_the_public_key_is_refused(
    client: httpx.AsyncClient, app: Any
) -> None:
    claims = await _admin_claims(client, app)
    key = await current_service_key(app)
    header = {"alg": "HS256", "typ": "at+jwt", "kid": key.kid}
    jwks = (await client.get("/.well-known/jwks.json")).json()
    public_jwk = next(k for k in jwks["keys"] if k["kid"] == key.kid)
    for secret in (key.public_pem, str(public_jwk).encode(), public_jwk["x"].encode()):
        token = hs256_with_secret(header, claims, secret)
        _assert_invalid_token(await client.get(PROTECTED, headers=bearer(token)))


async def test_rs256_is_refused_when_the_key_is_es256(client: httpx.AsyncClient, app: Any) -> None:
    claims = await _admin_claims(client, app)
    key = await current_service_key(app)
    attacker = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = attacker.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    token = sign(claims, pem, algorithm="RS256", kid=key.kid, typ="at+jwt")
    _assert_invalid_token(await client.get(PROTECTED, headers=bearer(token)))


@pytest.mark.parametrize(
    ("change", "value"),
    [
        ("exp", None),
        ("exp", "past"),
        ("nbf", "future"),
        ("exp", "far-future"),
        ("iat", "future"),
        ("aud", None),
        ("aud", "someone-else"),
        ("iss", None),
        ("iss", "https://attacker.example"),
        ("sub", None),
        ("jti", None),
        ("key_id", None),
        ("scope", None),
    ],
)
async def test_claims_are_all_required_and_checked(
    client: httpx.AsyncClient, app: Any, change: str, value: str | None
) -> None:
    claims = await _admin_claims(client, app)
    key = await current_service_key(app)
    now = int(time.time())
    if value is None:
        del claims[change]
    elif value == "past":
        claims.update(iat=now - 2000, nbf=now - 2000, exp=now - 600)
    elif value == "future":
        claims.update(
            {change: now + 3600, "exp": now + 4000} if change == "iat" else {change: now + 600}
        )
    elif value == "far-future":
        claims["exp"] = now + 10 * 365 * 24 * 3600
    else:
        claims[change] = value
    token = sign(claims, key.private_pem, kid=key.kid, typ="at+jwt")
    _assert_invalid_token(await client.get(PROTECTED, headers=bearer(token)))


async def test_a_correctly_forged_token_is_accepted(client: httpx.AsyncClient, app: Any) -> None:
    """The control for the tests above: the helper itself makes tokens the service accepts."""
    claims = await _admin_claims(client, app)
    key = await current_service_key(app)
    token = sign(claims, key.private_pem, kid=key.kid, typ="at+jwt")
    assert (await client.get(PROTECTED, headers=bearer(token))).status_code == 200


def _as_string(value: Any) -> str:
    return str(value)


@pytest.mark.parametrize(
    ("claim", "malform"),
    [
        ("exp", _as_string),
        ("iat", _as_string),
        ("nbf", _as_string),
        ("exp", lambda v: [v]),
        ("iat", lambda v: {"t": v}),
        ("exp", lambda v: v + 0.5),
        ("iat", lambda v: None),
        ("exp", lambda v: True),
        ("exp", lambda v: 10**30),
        ("sub", lambda v: 12345),
        ("scope", lambda v: v.split()),
        ("key_id", lambda v: [v]),
        ("jti", lambda v: 7),
    ],
    ids=lambda v: v if isinstance(v, str) else "",
)
async def test_a_claim_of_the_wrong_type_is_invalid_token_not_a_crash(
    client: httpx.AsyncClient, app: Any, claim: str, malform: Any
) -> None:
    """Signed by the service's own key, so only the claim's type can make it fail."""
    claims = await _admin_claims(client, app)
    key = await current_service_key(app)
    claims[claim] = malform(claims[claim])
    token = sign(claims, key.private_pem, kid=key.kid, typ="at+jwt")
    _assert_invalid_token(await client.get(PROTECTED, headers=bearer(token)))


@pytest.mark.parametrize("typ", ["JWT", "jwt", "", "application/at+jwt+x"])
async def test_the_token_type_must_be_at_jwt(client: httpx.AsyncClient, app: Any, typ: str) -> None:
    claims = await _admin_claims(client, app)
    key = await current_service_key(app)
    token = sign(claims, key.private_pem, kid=key.kid, typ=typ)
    _assert_invalid_token(await client.get(PROTECTED, headers=bearer(token)))


@pytest.mark.parametrize(
    "kid",
    ["unknown-kid", "../../x", "../../../../etc/passwd", "' OR '1'='1' --", "k" * 10_000, "", None],
)
async def test_unknown_or_hostile_kid_is_refused(
    client: httpx.AsyncClient, app: Any, kid: str | None
) -> None:
    claims = await _admin_claims(client, app)
    key = await current_service_key(app)
    header: dict[str, Any] = {"typ": "at+jwt"}
    if kid is not None:
        header["kid"] = kid
    token = sign(claims, key.private_pem, **header)
    _assert_invalid_token(await client.get(PROTECTED, headers=bearer(token)))


async def test_jku_x5u_and_embedded_jwk_are_refused_without_any_outbound_request(
    client: httpx.AsyncClient, app: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    claims = await _admin_claims(client, app)
    key = await current_service_key(app)
    looked_up: list[str] = []
    real_getaddrinfo = socket.getaddrinfo

    def spy(host: Any, *args: Any, **kwargs: Any) -> Any:
        looked_up.append(str(host))
        return real_getaddrinfo(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", spy)
    jwks = (await client.get("/.well-known/jwks.json")).json()
    for extra in (
        {"jku": "https://attacker.example/jwks.json"},
        {"x5u": "https://attacker.example/cert.pem"},
        {"jwk": jwks["keys"][0]},
    ):
        token = sign(claims, key.private_pem, kid=key.kid, typ="at+jwt", **extra)
        _assert_invalid_token(await client.get(PROTECTED, headers=bearer(token)))
    assert not any("attacker" in host for host in looked_up)


async def test_a_jwe_with_five_parts_is_refused(client: httpx.AsyncClient, app: Any) -> None:
    header = b64url(b'{"alg":"RSA-OAEP","enc":"A256GCM","typ":"at+jwt"}')
    jwe = (
        f"{header}.{b64url(b'k' * 32)}.{b64url(b'iv' * 6)}.{b64url(b'ciphertext')}.{b64url(b'tag')}"
    )
    _assert_invalid_token(await client.get(PROTECTED, headers=bearer(jwe)))


async def test_a_20_kb_token_is_refused_before_parsing(client: httpx.AsyncClient, app: Any) -> None:
    claims = await _admin_claims(client, app)
    key = await current_service_key(app)
    claims["padding"] = "x" * 20_000
    token = sign(claims, key.private_pem, kid=key.kid, typ="at+jwt")
    assert len(token) > 20_000
    _assert_invalid_token(await client.get(PROTECTED, headers=bearer(token)))


async def test_an_agency_token_on_an_admin_route_is_403(
    client: httpx.AsyncClient, app: Any
) -> None:
    await create_agency(app, "IMIGRASI-DUMAI")
    token = await token_for(client, app, "IMIGRASI-DUMAI")
    response = await client.get("/v1/admin/agencies", headers=bearer(token))
    assert response.status_code == 403
    assert response.headers["content-type"].startswith("application/problem+json")
    assert 'error="insufficient_scope"' in response.headers["www-authenticate"]


async def test_a_token_of_a_deactivated_agency_is_refused_at_once(
    client: httpx.AsyncClient, app: Any
) -> None:
    await create_admin(app)
    admin = await token_for(client, app, "ADMIN")
    await create_agency(app, "OPS", scopes=None)
    await client.patch("/v1/admin/agencies/OPS", headers=bearer(admin), json={"scopes": ["admin"]})
    ops = await token_for(client, app, "OPS")
    assert (await client.get(PROTECTED, headers=bearer(ops))).status_code == 200

    response = await client.post("/v1/admin/agencies/OPS/deactivate", headers=bearer(admin))
    assert response.status_code == 200
    assert response.json()["active"] is False

    _assert_invalid_token(await client.get(PROTECTED, headers=bearer(ops)))


async def test_removing_a_scope_takes_effect_on_existing_tokens(
    client: httpx.AsyncClient, app: Any
) -> None:
    await create_admin(app)
    admin = await token_for(client, app, "ADMIN")
    await create_agency(app, "OPS")
    await client.patch("/v1/admin/agencies/OPS", headers=bearer(admin), json={"scopes": ["admin"]})
    ops = await token_for(client, app, "OPS")
    assert (await client.get(PROTECTED, headers=bearer(ops))).status_code == 200

    await client.patch(
        "/v1/admin/agencies/OPS", headers=bearer(admin), json={"scopes": ["reports:read"]}
    )
    assert (await client.get(PROTECTED, headers=bearer(ops))).status_code == 403


async def test_a_token_is_verified_once_and_refused_once_it_expires(
    client: httpx.AsyncClient, app: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The signature is checked on first use only; the clock is checked on every use."""
    claims = await _admin_claims(client, app)
    key = await current_service_key(app)
    monkeypatch.setattr(tokens, "CLOCK_LEEWAY", tokens.CLOCK_LEEWAY * 0)
    now = int(time.time())
    short = sign(
        {**claims, "iat": now, "nbf": now, "exp": now + 2, "jti": "short-lived"},
        key.private_pem,
        kid=key.kid,
        typ="at+jwt",
    )
    decoded: list[str] = []
    decode = tokens.jwt.decode

    def counting_decode(*args: Any, **kwargs: Any) -> Any:
        decoded.append(args[0])
        return decode(*args, **kwargs)

    monkeypatch.setattr(tokens.jwt, "decode", counting_decode)
    for _ in range(3):
        assert (await client.get(PROTECTED, headers=bearer(short))).status_code == 200
    assert decoded == [short]

    # past its expiry (python-jose counts whole seconds), still remembered as verified
    time.sleep(max(0.0, now + 3.1 - time.time()))
    _assert_invalid_token(await client.get(PROTECTED, headers=bearer(short)))
