"""The OAuth 2.0 client-credentials grant and its errors (RFC 6749 §4.4 and §5.2).

A client authenticates with its API key (``client_secret_post`` or ``client_secret_basic``) or
with a signed client assertion (``private_key_jwt``, RFC 7523); either way it gets an access
token carrying the scopes its agency record grants (or the subset it asked for).
"""

from __future__ import annotations

import re

from sqlalchemy.ext.asyncio import AsyncSession

from app.config import Settings
from app.errors import SinergiError
from app.models.agency import Agency
from app.models.base import utcnow
from app.repositories import agencies as agencies_repo
from app.repositories import credentials as credentials_repo
from app.schemas.agency import AGENCY_CODE_PATTERN
from app.services import api_keys, client_assertions
from app.services.audit import record_credential_event
from app.services.tokens import MintedToken, mint_access_token

CLIENT_CREDENTIALS = "client_credentials"


class OAuthError(SinergiError):
    """An RFC 6749 §5.2 error: the problem body also carries ``error`` and ``error_description``."""

    status = 400
    error = "invalid_request"

    def __init__(
        self, detail: str, *, headers: dict[str, str] | None = None, reason: str = ""
    ) -> None:
        #: Why, for the credential event log only (never in the answer).
        self.reason = reason or detail
        super().__init__(
            detail=detail,
            headers={"Cache-Control": "no-store", "Pragma": "no-cache", **(headers or {})},
            extra={"error": self.error, "error_description": detail},
        )


class InvalidRequest(OAuthError):
    slug = "invalid-request"
    title = "The token request is malformed"
    error = "invalid_request"


class InvalidClient(OAuthError):
    status = 401
    slug = "invalid-client"
    title = "Client authentication failed"
    error = "invalid_client"


class UnsupportedGrantType(OAuthError):
    slug = "unsupported-grant-type"
    title = "The grant type is not supported"
    error = "unsupported_grant_type"


class InvalidScope(OAuthError):
    slug = "invalid-scope"
    title = "The requested scope is not granted"
    error = "invalid_scope"


#: One answer for every failed client authentication, so none tells which part was wrong.
CLIENT_AUTHENTICATION_FAILED = "The client could not be authenticated"


_AGENCY_CODE = re.compile(AGENCY_CODE_PATTERN)
#: Six digits in a row: a NIK, a passport or phone number, a date: never part of an agency code.
_IDENTITY_DIGITS = re.compile(r"\d{6}")


def claimed_client_id_detail(client_id: str | None) -> dict[str, str]:
    """What a refusal may keep of the ``client_id`` the caller sent, for the audit trail.

    The trail is append-only, so a secret or a personal number pasted into ``client_id`` (an API
    key, a NIK) could never be removed from it: the value is kept only when it has the shape of
    an agency code (and no identity-number-like run of digits); otherwise only that it was
    malformed.
    """
    if not client_id:
        return {"claimed_client_id": ""}
    if (
        _AGENCY_CODE.fullmatch(client_id)
        and any(c.isalpha() for c in client_id)
        and not _IDENTITY_DIGITS.search(client_id)
    ):
        return {"claimed_client_id": client_id}
    return {"claimed_client_id_malformed": "true"}


def _granted_scopes(agency: Agency, requested: str | None) -> list[str]:
    granted = list(agency.scopes)
    if not requested:
        return granted
    wanted = requested.split()
    refused = [s for s in wanted if s not in granted]
    if refused:
        raise InvalidScope(f"Scope not granted to this client: {' '.join(sorted(set(refused)))}")
    return [s for s in granted if s in wanted]


async def authenticate_with_api_key(
    session: AsyncSession, settings: Settings, *, client_id: str, secret: str
) -> tuple[Agency, str]:
    """The agency and key id for a valid (client id, API key) pair; ``InvalidClient`` otherwise.

    The keyed hash is computed and looked up whatever the input, so an unknown client id, a
    malformed key and a wrong key take the same path and time.
    """
    key_hash = api_keys.hash_api_key(settings.secret_key, secret)
    record = await credentials_repo.api_key_by_hash(session, key_hash)
    hashed_under_previous = False
    if record is None and settings.previous_secret_key:
        # a secret rotation is under way: the key may still be hashed under the previous secret
        previous_hash = api_keys.hash_api_key(settings.previous_secret_key, secret)
        record = await credentials_repo.api_key_by_hash(session, previous_hash)
        hashed_under_previous = record is not None
    agency = await agencies_repo.by_id(session, record.agency_id) if record else None
    now = utcnow()
    if (
        record is None
        or agency is None
        or agency.code != client_id
        or not agency.active
        or not api_keys.is_live(record, now)
        or not api_keys.is_well_formed_api_key(secret)
    ):
        raise InvalidClient(CLIENT_AUTHENTICATION_FAILED, reason="API key refused")
    if hashed_under_previous:
        record.key_hash = key_hash  # re-hashed under the current secret, once and for all
    record.last_used_at = now
    return agency, str(record.id)


async def grant_client_credentials(
    session: AsyncSession,
    settings: Settings,
    *,
    grant_type: str | None,
    client_id: str | None,
    client_secret: str | None,
    client_assertion_type: str | None,
    client_assertion: str | None,
    scope: str | None,
) -> MintedToken:
    """Authenticate the client and mint its access token."""
    if not grant_type:
        raise InvalidRequest("grant_type is required")
    if grant_type != CLIENT_CREDENTIALS:
        raise UnsupportedGrantType(f"Only grant_type={CLIENT_CREDENTIALS} is supported")
    if client_secret is not None and client_assertion is not None:
        raise InvalidRequest("Use one client authentication method, not several")
    if client_assertion is not None:
        if client_assertion_type != client_assertions.ASSERTION_TYPE:
            raise InvalidRequest(
                f"client_assertion_type must be {client_assertions.ASSERTION_TYPE}"
            )
        try:
            agency, public_key = await client_assertions.authenticate_client_assertion(
                session, settings, client_id=client_id, assertion=client_assertion
            )
        except client_assertions.AssertionRefused as refused:
            raise InvalidClient(CLIENT_AUTHENTICATION_FAILED, reason=refused.reason) from None
        credential_id = str(public_key.id)
    elif client_secret is not None:
        if not client_id:
            raise InvalidRequest("client_id is required")
        agency, credential_id = await authenticate_with_api_key(
            session, settings, client_id=client_id, secret=client_secret
        )
    else:
        raise InvalidClient(CLIENT_AUTHENTICATION_FAILED, reason="no client credentials")
    scopes = _granted_scopes(agency, scope)
    minted = await mint_access_token(
        session, settings, agency=agency, scopes=scopes, credential_id=credential_id
    )
    await record_credential_event(
        session,
        action="token.mint",
        agency_code=agency.code,
        credential_id=credential_id,
        outcome="success",
        detail={"jti": minted.jti, "scope": " ".join(scopes)},
    )
    return minted
