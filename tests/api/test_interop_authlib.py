"""Standard clients, unchanged: Authlib fetches tokens, PyJWT's PyJWKClient verifies them.

Both speak real HTTP, so a second instance of the app on the test's database is served by
uvicorn on a local port for the test's duration. Authlib's requests client is used: its httpx
client warns that it is deprecated in favour of a fork.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import httpx
import jwt as pyjwt
import pytest
import uvicorn
from authlib.integrations.requests_client import OAuth2Session
from authlib.oauth2.rfc7523 import PrivateKeyJWT
from authlib.oauth2.rfc8414 import AuthorizationServerMetadata
from joserfc.jwk import ECKey, RSAKey

from app.config import Settings
from app.main import create_app
from tests.factories import bearer, create_admin, create_agency, issue_key, token_for

pytestmark = pytest.mark.anyio

ISSUER = "https://sinergi.local"
TOKEN_ENDPOINT = f"{ISSUER}/v1/auth/token"
#: The ports this suite may listen on (18200-18299 are reserved for it on shared machines).
PORTS = range(18240, 18260)


@pytest.fixture
def served(settings: Settings) -> Iterator[str]:
    """The base URL of the app served over HTTP by uvicorn (its own instance, same database)."""
    server, port = _listening_server(settings)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.02)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=20)


def _listening_server(settings: Settings) -> tuple[uvicorn.Server, int]:
    for port in PORTS:
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                continue  # taken
        config = uvicorn.Config(
            create_app(settings),
            host="127.0.0.1",
            port=port,
            http="h11",
            ws="none",
            lifespan="on",  # the app's lifespan closes its database connections
            log_level="warning",
            access_log=False,
        )
        return uvicorn.Server(config), port
    raise RuntimeError(f"no free port in {PORTS}")


@pytest.fixture
async def agency(app: Any) -> str:
    """IMIGRASI-DUMAI's API key (and the ADMIN agency)."""
    await create_admin(app)
    await create_agency(app, "IMIGRASI-DUMAI")
    return await issue_key(app, "IMIGRASI-DUMAI")


def _verify_with_pyjwt(token: str, served: str) -> dict[str, Any]:
    jwks = pyjwt.PyJWKClient(f"{served}/.well-known/jwks.json", cache_keys=False)
    signing_key = jwks.get_signing_key_from_jwt(token)
    claims: dict[str, Any] = pyjwt.decode(
        token,
        signing_key.key,
        algorithms=["ES256", "RS256"],
        audience="sinergi-api",
        issuer=ISSUER,
        options={"require": ["exp", "iat", "nbf", "iss", "aud", "sub", "jti"]},
    )
    return claims


async def test_the_metadata_validates_with_authlib(served: str) -> None:
    response = httpx.get(f"{served}/.well-known/oauth-authorization-server")
    metadata = AuthorizationServerMetadata(response.json())
    metadata.validate()
    assert metadata["token_endpoint"] == TOKEN_ENDPOINT
    assert "private_key_jwt" in metadata["token_endpoint_auth_methods_supported"]


@pytest.mark.parametrize("method", ["client_secret_basic", "client_secret_post"])
async def test_authlib_with_the_api_key_and_pyjwt_verifies_the_token(
    client: httpx.AsyncClient, agency: str, served: str, method: str
) -> None:
    with OAuth2Session("IMIGRASI-DUMAI", agency, token_endpoint_auth_method=method) as oauth:
        token = oauth.fetch_token(f"{served}/v1/auth/token", grant_type="client_credentials")
    assert token["token_type"] == "Bearer"
    claims = _verify_with_pyjwt(token["access_token"], served)
    assert claims["sub"] == "IMIGRASI-DUMAI"
    listed = await client.get("/v1/reports", headers=bearer(token["access_token"]))
    assert listed.status_code == 200


@pytest.mark.parametrize("algorithm", ["ES256", "RS256"])
async def test_authlib_private_key_jwt_and_pyjwt_verifies_the_token(
    app: Any, client: httpx.AsyncClient, agency: str, served: str, algorithm: str
) -> None:
    private = ECKey.generate_key("P-256") if algorithm == "ES256" else RSAKey.generate_key(2048)
    admin = await token_for(client, app, "ADMIN")
    registered = await client.post(
        "/v1/admin/agencies/IMIGRASI-DUMAI/public-keys",
        headers=bearer(admin),
        json={"jwk": private.as_dict(private=False)},
    )
    assert registered.status_code == 201, registered.text

    with OAuth2Session(
        "IMIGRASI-DUMAI", private, token_endpoint_auth_method="private_key_jwt"
    ) as oauth:
        # Authlib's defaults: a 3,600-second assertion; aud is the token endpoint the metadata
        # names (the issuer's URL, not the local address it is served at here)
        oauth.register_client_auth_method(PrivateKeyJWT(TOKEN_ENDPOINT, alg=algorithm))
        token = oauth.fetch_token(f"{served}/v1/auth/token", grant_type="client_credentials")
    claims = _verify_with_pyjwt(token["access_token"], served)
    assert claims["key_id"] == registered.json()["id"]


async def test_problem_details_name_the_request_path_as_instance(
    client: httpx.AsyncClient,
) -> None:
    missing = await client.get("/v1/no-such-thing")
    assert missing.json()["instance"] == "/v1/no-such-thing"
    refused = await client.post("/v1/auth/token", data={"grant_type": "password"})
    assert refused.status_code == 400
    assert refused.json()["instance"] == "/v1/auth/token"
    assert refused.json()["error"] == "unsupported_grant_type"
