"""The token endpoint's answer and the discovery documents."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field


class TokenResponse(BaseModel):
    """RFC 6749 §5.1 access token response."""

    access_token: str = Field(
        description="A signed JWT (`typ` `at+jwt`); send as `Authorization: Bearer …`."
    )
    token_type: str = Field(examples=["Bearer"])
    expires_in: int = Field(description="Seconds until the token expires.", examples=[900])
    scope: str = Field(
        description="Space-separated scopes the token carries.",
        examples=["reports:write reports:read"],
    )


class JsonWebKeySet(BaseModel):
    keys: list[dict[str, Any]] = Field(description="Public signing keys (RFC 7517).")


class AuthorizationServerMetadata(BaseModel):
    """RFC 8414 authorization server metadata."""

    issuer: str
    token_endpoint: str
    jwks_uri: str
    grant_types_supported: list[str]
    token_endpoint_auth_methods_supported: list[str]
    token_endpoint_auth_signing_alg_values_supported: list[str]
    scopes_supported: list[str]
    response_types_supported: list[str] = Field(
        description=(
            'Always `["none"]`: there is no authorization endpoint, only client credentials.'
        )
    )
