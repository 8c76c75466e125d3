"""Access tokens: minting and verification (RFC 9068 ``at+jwt``, checked per RFC 8725).

Verification never trusts the token to choose how it is checked: the header is read only to
take ``kid``, which must name a key in our own store; the algorithm allowed is that key's; every
claim is required; ``jku``/``x5u``/``jwk``/``crit`` headers are refused; oversize tokens and
anything but three compact parts are refused before parsing.

What a token says cannot change, so a token that verified is remembered (``_verified``) until
it expires: the next request with it skips parsing and the signature check, and keeps what can
change, checked on every request: the times against the clock, the signing key still trusted
(``verification_key``), and the agency and credential still live (one query).
"""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime

from cachetools import LRUCache
from jose import jwt
from jose.exceptions import JOSEError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from app.config import Settings
from app.db import driver_alone
from app.errors import SinergiError
from app.models.agency import Agency
from app.models.base import utcnow
from app.repositories import credentials as credentials_repo
from app.services import api_keys
from app.services.signing_keys import (
    CLOCK_LEEWAY,
    decrypt_private_key,
    ensure_signing_keys,
    verification_key,
)

ACCESS_TOKEN_TYPE = "at+jwt"  # noqa: S105  (a media type, not a secret)
#: Tokens longer than this are refused before any parsing (ours are well under 1 KB).
MAX_TOKEN_LENGTH = 4096
_KID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
_FORBIDDEN_HEADERS = frozenset({"jku", "x5u", "jwk", "x5c", "crit"})
_NUMERIC_CLAIMS = ("iat", "nbf", "exp")
_TEXT_CLAIMS = ("iss", "aud", "sub", "scope", "jti", "key_id")
_REQUIRED_CLAIMS = _NUMERIC_CLAIMS + _TEXT_CLAIMS
#: Timestamps at or past the year 9999 cannot be turned into a datetime.
_LATEST_TIMESTAMP = 253_402_300_800
#: Tokens remembered as verified, per process (each well under 1 KB with its claims).
VERIFIED_CACHE_SIZE = 10_000


class InvalidToken(SinergiError):
    """A bearer token that does not verify; the reason stays in the log, not in the answer."""

    status = 401
    slug = "invalid-token"
    title = "Authentication required"

    def __init__(self, reason: str) -> None:
        super().__init__(
            detail="The access token is missing, malformed, expired or revoked",
            headers={"WWW-Authenticate": 'Bearer error="invalid_token"'},
        )
        self.reason = reason


@dataclass(frozen=True)
class MintedToken:
    token: str
    expires_in: int
    scopes: list[str]
    jti: str


@dataclass(frozen=True)
class VerifiedToken:
    agency_id: uuid.UUID
    agency_code: str
    scopes: frozenset[str]
    credential_id: str
    token_id: str
    expires_at: datetime


async def mint_access_token(
    session: AsyncSession,
    settings: Settings,
    *,
    agency: Agency,
    scopes: list[str],
    credential_id: str,
) -> MintedToken:
    """A signed access token for ``agency`` minted from the credential ``credential_id``."""
    key = await ensure_signing_keys(session, settings)
    now = utcnow()
    issued = int(now.timestamp())
    jti = str(uuid.uuid4())
    claims = {
        "iss": settings.issuer,
        "aud": settings.audience,
        "sub": agency.code,
        "scope": " ".join(scopes),
        "iat": issued,
        "nbf": issued,
        "exp": issued + settings.access_token_ttl_seconds,
        "jti": jti,
        "key_id": credential_id,
    }
    token = jwt.encode(
        claims,
        decrypt_private_key(settings, key),
        algorithm=key.algorithm,
        headers={"kid": key.kid, "typ": ACCESS_TOKEN_TYPE},
    )
    return MintedToken(
        token=token, expires_in=settings.access_token_ttl_seconds, scopes=scopes, jti=jti
    )


def _header(token: str) -> dict[str, object]:
    if len(token) > MAX_TOKEN_LENGTH:
        raise InvalidToken("token too long")
    if token.count(".") != 2:
        raise InvalidToken("not a compact JWS")
    try:
        header = jwt.get_unverified_header(token)
    except JOSEError:
        raise InvalidToken("unreadable header") from None
    if not isinstance(header, dict):
        raise InvalidToken("unreadable header")
    return header


def _check_claim_types(claims: object) -> None:
    """Every claim we rely on is present and of the type we mint; ``InvalidToken`` otherwise."""
    if not isinstance(claims, dict):
        raise InvalidToken("claims are not an object")
    if any(name not in claims for name in _REQUIRED_CLAIMS):
        raise InvalidToken("claim missing")
    for name in _NUMERIC_CLAIMS:
        value = claims[name]
        # bool is an int in Python; a float or a numeric string is not what we mint either
        if type(value) is not int or not 0 <= value < _LATEST_TIMESTAMP:
            raise InvalidToken(f"claim {name} is not a timestamp")
    for name in _TEXT_CLAIMS:
        if not isinstance(claims[name], str):
            raise InvalidToken(f"claim {name} is not a string")


@dataclass(frozen=True)
class _Claims:
    """What a verified token says (all that later requests with it need)."""

    kid: str
    sub: str
    scope: str
    jti: str
    credential_id: str
    nbf: int
    exp: int
    #: ``credential_id`` as the credential's id, and ``exp`` as a time: parsed once per token.
    credential_uuid: uuid.UUID | None
    expires_at: datetime


#: Tokens whose signature and claims verified, by (database, issuer, audience, lifetime, token):
#: what was checked depends on all of them. Entries are checked against the clock when used,
#: so an expired one is never accepted; the bound keeps memory flat.
_verified: LRUCache[tuple[str, str, str, int, str], _Claims] = LRUCache(VERIFIED_CACHE_SIZE)


def _in_time(claims: _Claims) -> bool:
    """Whether the token's time window holds now, as python-jose judged it when it verified the
    token: on the system clock, with the same leeway."""
    now = time.time()
    leeway = CLOCK_LEEWAY.total_seconds()
    return claims.nbf - leeway <= now < claims.exp + leeway


TokenHolder = credentials_repo.TokenHolder

#: Reads a token's holder (``token_holder``'s answer) for the agency code and credential id the
#: token names; a route may read it with its own query in the same statement.
HolderReader = Callable[[AsyncSession, str, uuid.UUID | None], Awaitable[TokenHolder | None]]
token_holder: HolderReader = credentials_repo.token_holder


async def token_holder_alone(
    engine: AsyncEngine, session: AsyncSession, code: str, credential_id: uuid.UUID | None
) -> TokenHolder | None:
    """``token_holder``'s answer, read on a pooled connection of its own (PostgreSQL): the
    request's session neither begins its transaction for the token check nor holds a
    connection meanwhile (a write batched with others, ``ingest_batch``, then has no
    transaction of its own to end). Elsewhere, or if that statement failed, in ``session``."""
    params = {"code": code, "credential_id": credential_id}
    rows = await driver_alone(engine, credentials_repo.token_holder_query(), params)
    if rows is None:
        return await token_holder(session, code, credential_id)
    return credentials_repo.holder_of_row(rows[0]) if rows else None


async def verify_access_token(
    session: AsyncSession, settings: Settings, token: str, holder_of: HolderReader | None = None
) -> VerifiedToken:
    """Check ``token`` completely, including that its agency and credential are still live.

    ``holder_of`` reads the agency and credential instead of ``token_holder`` (a read that
    fetches them in its own statement): it must answer what ``token_holder`` answers.
    """
    cache_key = (
        settings.database_url,
        settings.issuer,
        settings.audience,
        settings.access_token_ttl_seconds,
        token,
    )
    claims = _verified.get(cache_key)
    if claims is None or not _in_time(claims):
        claims = await _verify_signed(session, settings, token)
        _verified[cache_key] = claims
    elif await verification_key(session, settings, claims.kid) is None:
        # its signing key was removed or retired since: as if it were checked afresh
        raise InvalidToken("unknown kid")
    # One indexed query for the agency and the credential: revocation is seen at once, in every
    # process, because nothing about either is cached.
    holder = await (holder_of or token_holder)(session, claims.sub, claims.credential_uuid)
    if holder is None or not holder.active:
        raise InvalidToken("agency unknown or inactive")
    if not _credential_live(holder):
        raise InvalidToken("credential revoked or expired")
    granted = set(holder.scopes)
    scopes = frozenset(s for s in claims.scope.split() if s in granted)
    return VerifiedToken(
        agency_id=holder.agency_id,
        agency_code=holder.agency_code,
        scopes=scopes,
        credential_id=claims.credential_id,
        token_id=claims.jti,
        expires_at=claims.expires_at,
    )


async def _verify_signed(session: AsyncSession, settings: Settings, token: str) -> _Claims:
    """Parse ``token`` and check its header, signature and claims (not the agency)."""
    header = _header(token)
    if _FORBIDDEN_HEADERS & header.keys():
        raise InvalidToken("key-location header present")
    if header.get("typ") != ACCESS_TOKEN_TYPE:
        raise InvalidToken("wrong typ")
    kid = header.get("kid")
    if not isinstance(kid, str) or not _KID.match(kid):
        raise InvalidToken("bad kid")
    key = await verification_key(session, settings, kid)
    if key is None:
        raise InvalidToken("unknown kid")
    if header.get("alg") != key.algorithm:
        raise InvalidToken("algorithm not allowed")
    try:
        claims = jwt.decode(
            token,
            key.public_key,
            algorithms=[key.algorithm],
            audience=settings.audience,
            issuer=settings.issuer,
            options={
                "verify_signature": True,
                "verify_aud": True,
                "verify_iat": True,
                "verify_exp": True,
                "verify_nbf": True,
                "verify_iss": True,
                "verify_sub": True,
                "verify_jti": True,
                "verify_at_hash": False,
                "require_aud": True,
                "require_iat": True,
                "require_exp": True,
                "require_nbf": True,
                "require_iss": True,
                "require_sub": True,
                "require_jti": True,
                "require_at_hash": False,
                "leeway": int(CLOCK_LEEWAY.total_seconds()),
            },
        )
    except (JOSEError, TypeError, ValueError, OverflowError):
        # python-jose lets a claim of the wrong type (``"exp": []``) escape as a TypeError
        raise InvalidToken("signature or claims rejected") from None
    _check_claim_types(claims)
    lifetime = claims["exp"] - claims["iat"]
    if lifetime > settings.access_token_ttl_seconds:
        raise InvalidToken("lifetime longer than we issue")
    if claims["iat"] > int((utcnow() + CLOCK_LEEWAY).timestamp()):
        raise InvalidToken("issued in the future")
    return _Claims(
        kid=kid,
        sub=str(claims["sub"]),
        scope=str(claims["scope"]),
        jti=str(claims["jti"]),
        credential_id=str(claims["key_id"]),
        nbf=int(claims["nbf"]),
        exp=int(claims["exp"]),
        credential_uuid=_credential_uuid(str(claims["key_id"])),
        expires_at=datetime.fromtimestamp(int(claims["exp"]), tz=utcnow().tzinfo),
    )


def _credential_uuid(credential_id: str) -> uuid.UUID | None:
    """The id of the credential a token names (None: not one of ours, so the agency is read
    and no credential can match)."""
    try:
        return uuid.UUID(credential_id)
    except ValueError:
        return None


def _credential_live(holder: credentials_repo.TokenHolder) -> bool:
    """Whether the credential the token was minted from is one of the agency's, still live."""
    if holder.api_key is not None:
        revoked_at, expires_at = holder.api_key
        return api_keys.is_live_at(revoked_at, expires_at, utcnow())
    return holder.public_key_found and holder.public_key_revoked_at is None
