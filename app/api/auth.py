"""The token endpoint: OAuth 2.0 client credentials (RFC 6749 §4.4, RFC 7523 client assertions)."""

from __future__ import annotations

import base64
import binascii
from typing import Annotated
from urllib.parse import unquote

from fastapi import APIRouter, Form, Request, Response

from app.api.deps import SessionDep, SettingsDep
from app.api.problems import problem_responses
from app.api.route_class import SinergiRoute, operation_id
from app.schemas.auth import TokenResponse
from app.services.audit import record_credential_event
from app.services.oauth import (
    CLIENT_AUTHENTICATION_FAILED,
    InvalidClient,
    InvalidRequest,
    claimed_client_id_detail,
    grant_client_credentials,
)

router = APIRouter(
    prefix="/v1/auth",
    tags=["auth"],
    route_class=SinergiRoute,
    generate_unique_id_function=operation_id,
)

_BASIC_CHALLENGE = {"WWW-Authenticate": 'Basic realm="sinergi"'}


def _basic_credentials(request: Request) -> tuple[str, str] | None:
    """``client_secret_basic``: the id and secret from HTTP Basic (each form-urlencoded)."""
    header = request.headers.get("authorization")
    if not header:
        return None
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "basic":
        raise InvalidRequest("Authenticate the client with HTTP Basic or in the form body")
    try:
        decoded = base64.b64decode(value.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        raise InvalidClient(CLIENT_AUTHENTICATION_FAILED, headers=_BASIC_CHALLENGE) from None
    client_id, sep, secret = decoded.partition(":")
    if not sep:
        raise InvalidClient(CLIENT_AUTHENTICATION_FAILED, headers=_BASIC_CHALLENGE)
    return unquote(client_id.replace("+", " ")), unquote(secret.replace("+", " "))


FormText = Annotated[str | None, Form()]


@router.post(
    "/token",
    response_model=TokenResponse,
    status_code=200,
    summary="Exchange client credentials for an access token",
    description=(
        "OAuth 2.0 client credentials grant, form-encoded. `client_id` is the agency code; "
        "authenticate with the API key as `client_secret` (or HTTP Basic), or with a "
        "`client_assertion` (RFC 7523 `private_key_jwt`) signed by a key registered for the "
        "agency. Errors carry the RFC 6749 `error` code (`invalid_client`, `invalid_request`, "
        "`unsupported_grant_type`, `invalid_scope`) inside the problem body."
    ),
    responses=problem_responses(400, 401),
)
async def token(
    request: Request,
    response: Response,
    session: SessionDep,
    settings: SettingsDep,
    grant_type: Annotated[
        str | None,
        Form(description="Always `client_credentials`.", examples=["client_credentials"]),
    ] = None,
    client_id: Annotated[
        str | None, Form(description="The agency code.", examples=["IMIGRASI-DUMAI"])
    ] = None,
    client_secret: Annotated[str | None, Form(description="The agency's API key.")] = None,
    client_assertion_type: Annotated[
        str | None,
        Form(examples=["urn:ietf:params:oauth:client-assertion-type:jwt-bearer"]),
    ] = None,
    client_assertion: Annotated[
        str | None, Form(description="A JWT signed with a registered key (RFC 7523).")
    ] = None,
    scope: Annotated[
        str | None,
        Form(description="Space-separated subset of the agency's scopes; all when omitted."),
    ] = None,
) -> TokenResponse:
    basic_used = False
    try:
        basic = _basic_credentials(request)
        if basic is not None:
            if client_secret is not None or client_assertion is not None:
                raise InvalidRequest("Use one client authentication method, not several")
            if client_id is not None and client_id != basic[0]:
                raise InvalidRequest("client_id differs from the HTTP Basic user")
            basic_used = True
            client_id, client_secret = basic
        minted = await grant_client_credentials(
            session,
            settings,
            grant_type=grant_type,
            client_id=client_id,
            client_secret=client_secret,
            client_assertion_type=client_assertion_type,
            client_assertion=client_assertion,
            scope=scope,
        )
    except InvalidClient as refused:
        # Handed to the request's audit record, which outlives the rollback of this transaction.
        await record_credential_event(
            session,
            action="token.refuse",
            agency_code=None,
            credential_id=None,
            outcome="denied",
            detail={**claimed_client_id_detail(client_id), "reason": refused.reason},
        )
        if basic_used:
            refused.headers.update(_BASIC_CHALLENGE)
        raise
    response.headers["Cache-Control"] = "no-store"
    response.headers["Pragma"] = "no-cache"
    return TokenResponse(
        access_token=minted.token,
        token_type="Bearer",  # noqa: S106  (the token type's name, not a secret)
        expires_in=minted.expires_in,
        scope=" ".join(minted.scopes),
    )
