"""Discovery: the service's public signing keys and its RFC 8414 metadata (public)."""

from __future__ import annotations

from fastapi import APIRouter, Response

from app.api.deps import SessionDep, SettingsDep
from app.api.route_class import SinergiRoute, operation_id
from app.schemas.auth import AuthorizationServerMetadata, JsonWebKeySet
from app.services.client_assertions import ASSERTION_ALGORITHMS, token_endpoint
from app.services.signing_keys import published_keys
from app.vocab.enums import Scope

router = APIRouter(
    prefix="/.well-known",
    tags=["discovery"],
    route_class=SinergiRoute,
    generate_unique_id_function=operation_id,
)


@router.get(
    "/jwks.json",
    response_model=JsonWebKeySet,
    status_code=200,
    summary="The public keys that verify access tokens",
    description=(
        "The current signing key, the next one (published before it signs) and retired ones "
        "whose tokens may still be valid. Choose the key by the token's `kid`."
    ),
)
async def jwks(session: SessionDep, settings: SettingsDep, response: Response) -> JsonWebKeySet:
    keys = await published_keys(session, settings)
    response.headers["Cache-Control"] = "public, max-age=300"
    return JsonWebKeySet(keys=[dict(k.public_jwk) for k in keys])


@router.get(
    "/oauth-authorization-server",
    response_model=AuthorizationServerMetadata,
    status_code=200,
    summary="OAuth 2.0 authorization server metadata (RFC 8414)",
)
async def metadata(settings: SettingsDep) -> AuthorizationServerMetadata:
    """RFC 8414 metadata: the token endpoint, the JWKS address, the client authentication methods
    (client_secret_basic, client_secret_post, private_key_jwt) and the scopes an API gateway can
    import."""
    issuer = settings.issuer.rstrip("/")
    return AuthorizationServerMetadata(
        issuer=settings.issuer,
        token_endpoint=token_endpoint(settings),
        jwks_uri=f"{issuer}/.well-known/jwks.json",
        grant_types_supported=["client_credentials"],
        token_endpoint_auth_methods_supported=[
            "client_secret_basic",
            "client_secret_post",
            "private_key_jwt",
        ],
        token_endpoint_auth_signing_alg_values_supported=list(ASSERTION_ALGORITHMS),
        scopes_supported=[s.value for s in Scope],
        # RFC 8414 requires the member and validators refuse an empty list; "none" (OAuth 2.0
        # Multiple Response Type Encoding Practices) says the authorization endpoint issues nothing.
        response_types_supported=["none"],
    )
