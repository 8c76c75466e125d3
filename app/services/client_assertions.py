"""Client assertions (RFC 7523 ``private_key_jwt``) and the agency public keys that verify them.

An assertion is a JWT signed with the agency's private key: ``iss`` = ``sub`` = agency code,
``aud`` = our token endpoint or issuer, lifetime at most an hour (standard clients such as
Authlib sign for 3,600 s, and large identity providers accept that), and a ``jti`` that is
remembered until the assertion expires, so the same assertion never works twice in its lifetime.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from jose import jwk, jwt
from jose.exceptions import JOSEError
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from app.config import Settings
from app.errors import Conflict, FieldProblem, InvalidInput, NotFound
from app.models.agency import Agency
from app.models.base import utcnow
from app.models.credentials import AgencyPublicKey, UsedClientAssertion
from app.repositories import agencies as agencies_repo
from app.repositories import credentials as credentials_repo
from app.schemas.agency import PublicKeyRead
from app.services.audit import record_credential_event
from app.services.signing_keys import CLOCK_LEEWAY, jwk_thumbprint

ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
MAX_ASSERTION_LIFETIME = timedelta(minutes=60)
MAX_ASSERTION_LENGTH = 8192
ASSERTION_ALGORITHMS = ("ES256", "RS256")
_KID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
_PRIVATE_MEMBERS = frozenset({"d", "p", "q", "dp", "dq", "qi", "oth", "k"})
_FORBIDDEN_HEADERS = frozenset({"jku", "x5u", "jwk", "x5c", "crit"})
_MIN_RSA_BITS = 2048


class AssertionRefused(Exception):
    """The assertion did not authenticate its client; ``reason`` is for the log only."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def token_endpoint(settings: Settings) -> str:
    """The absolute URL of the token endpoint, an accepted assertion audience."""
    return settings.issuer.rstrip("/") + "/v1/auth/token"


def _refused(detail: str, code: str) -> InvalidInput:
    """A refused JWK: the problem is the ``jwk`` field's, with a code the console words."""
    return InvalidInput(detail=detail, errors=[FieldProblem("/jwk", detail, code)])


def validate_public_jwk(raw: dict[str, Any]) -> tuple[dict[str, Any], str]:
    """The public members of ``raw`` and their algorithm; 422 for private or unusable keys."""
    if _PRIVATE_MEMBERS & raw.keys():
        raise _refused("Send the public key only: the JWK contains private members", "private")
    kty = raw.get("kty")
    if kty == "EC" and raw.get("crv") == "P-256":
        algorithm = "ES256"
    elif kty == "RSA":
        algorithm = "RS256"
    else:
        raise _refused("Only EC P-256 (ES256) and RSA (RS256) public keys are accepted", "key_type")
    if raw.get("alg") not in (None, algorithm):
        raise _refused(f"The key's alg must be {algorithm} for kty {kty}", "alg")
    if raw.get("use") not in (None, "sig"):
        raise _refused("The key's use must be sig", "use")
    members = ("kty", "crv", "x", "y") if algorithm == "ES256" else ("kty", "n", "e")
    if any(not isinstance(raw.get(m), str) for m in members):
        raise _refused(f"The JWK needs the members {', '.join(members)}", "members")
    public = {m: raw[m] for m in members}
    try:
        constructed = jwk.construct(public, algorithm)
    except (JOSEError, ValueError, TypeError):
        raise _refused("The JWK is not a valid public key", "invalid_key") from None
    if algorithm == "RS256":
        size = constructed.prepared_key.key_size
        if size < _MIN_RSA_BITS:
            raise _refused(f"RSA keys must have at least {_MIN_RSA_BITS} bits", "rsa_size")
    kid = raw.get("kid")
    if kid is None:
        kid = jwk_thumbprint(public)
    if not isinstance(kid, str) or not _KID.match(kid):
        raise _refused("kid must be 1 to 64 letters, digits, '.', '_' or '-'", "kid")
    public.update({"kid": kid, "alg": algorithm, "use": "sig"})
    return public, algorithm


@dataclass(frozen=True)
class PublicKeyPreview:
    """A JWK as it would be registered: its public members, algorithm, ``kid`` and thumbprint."""

    jwk: dict[str, Any]
    algorithm: str
    kid: str
    #: RFC 7638 thumbprint (SHA-256, base64url) of the key's required members.
    thumbprint: str


def preview_public_key(raw: dict[str, Any]) -> PublicKeyPreview:
    """What registering ``raw`` would store, checked by the same rules (422 when refused)."""
    public, algorithm = validate_public_jwk(raw)
    return PublicKeyPreview(
        jwk=public, algorithm=algorithm, kid=public["kid"], thumbprint=jwk_thumbprint(public)
    )


async def register_public_key(
    session: AsyncSession, *, agency: Agency, raw_jwk: dict[str, Any], actor: str | None = None
) -> PublicKeyRead:
    """Register a JWK the agency will sign client assertions with."""
    public, algorithm = validate_public_jwk(raw_jwk)
    existing = await credentials_repo.public_keys_of(session, agency.id)
    if any(k.kid == public["kid"] for k in existing):
        raise Conflict(
            detail=f"Agency {agency.code} already has a public key with kid {public['kid']}"
        )
    record = AgencyPublicKey(
        id=uuid.uuid4(), agency_id=agency.id, kid=public["kid"], algorithm=algorithm, jwk=public
    )
    await credentials_repo.add(session, record)
    await record_credential_event(
        session,
        action="public_key.register",
        agency_code=agency.code,
        credential_id=str(record.id),
        outcome="success",
        detail={"actor": actor or "system", "kid": record.kid},
    )
    return public_key_out(record)


async def revoke_public_key(
    session: AsyncSession, *, agency: Agency, key_id: uuid.UUID, actor: str | None = None
) -> AgencyPublicKey:
    """Revoke a registered public key: assertions and tokens from it are refused at once."""
    record = await credentials_repo.public_key_by_id(session, key_id)
    if record is None or record.agency_id != agency.id:
        raise NotFound(detail=f"Agency {agency.code} has no public key {key_id}")
    if record.revoked_at is None:
        record.revoked_at = utcnow()
        await session.flush()
    await record_credential_event(
        session,
        action="public_key.revoke",
        agency_code=agency.code,
        credential_id=str(record.id),
        outcome="success",
        detail={"actor": actor or "system"},
    )
    return record


def _audiences(claims: dict[str, Any]) -> set[str]:
    aud = claims.get("aud")
    if isinstance(aud, str):
        return {aud}
    if isinstance(aud, list) and all(isinstance(a, str) for a in aud):
        return set(aud)
    return set()


def _decode(assertion: str, key: AgencyPublicKey, client_id: str) -> dict[str, Any]:
    claims: dict[str, Any] = jwt.decode(
        assertion,
        key.jwk,
        algorithms=[key.algorithm],
        issuer=client_id,
        subject=client_id,
        options={
            "verify_signature": True,
            "verify_aud": False,
            "verify_iat": True,
            "verify_exp": True,
            "verify_nbf": True,
            "verify_iss": True,
            "verify_sub": True,
            "verify_jti": True,
            "verify_at_hash": False,
            # python-jose checks aud against one value whenever it is required, so the presence
            # and value of aud (either of two accepted values) are checked by the caller.
            "require_aud": False,
            "require_iat": True,
            "require_exp": True,
            "require_nbf": False,
            "require_iss": True,
            "require_sub": True,
            "require_jti": True,
            "require_at_hash": False,
            "leeway": int(CLOCK_LEEWAY.total_seconds()),
        },
    )
    return claims


async def authenticate_client_assertion(
    session: AsyncSession, settings: Settings, *, client_id: str | None, assertion: str
) -> tuple[Agency, AgencyPublicKey]:
    """The agency and key that signed ``assertion``; ``AssertionRefused`` for anything amiss."""
    if len(assertion) > MAX_ASSERTION_LENGTH or assertion.count(".") != 2:
        raise AssertionRefused("malformed assertion")
    try:
        header = jwt.get_unverified_header(assertion)
        unverified = jwt.get_unverified_claims(assertion)
    except JOSEError:
        raise AssertionRefused("unreadable assertion") from None
    if _FORBIDDEN_HEADERS & header.keys():
        raise AssertionRefused("key-location header present")
    algorithm = header.get("alg")
    if algorithm not in ASSERTION_ALGORITHMS:
        raise AssertionRefused("algorithm not allowed")
    issuer = unverified.get("iss")
    if not isinstance(issuer, str) or (client_id is not None and client_id != issuer):
        raise AssertionRefused("issuer does not match client_id")
    agency = await agencies_repo.by_code(session, issuer)
    if agency is None or not agency.active:
        raise AssertionRefused("unknown or inactive agency")
    kid = header.get("kid")
    candidates = [
        k
        for k in await credentials_repo.public_keys_of(session, agency.id)
        if k.revoked_at is None and k.algorithm == algorithm and (kid is None or k.kid == kid)
    ]
    claims: dict[str, Any] | None = None
    signer: AgencyPublicKey | None = None
    for candidate in candidates:
        try:
            claims = _decode(assertion, candidate, issuer)
        except JOSEError:
            continue
        signer = candidate
        break
    if claims is None or signer is None:
        raise AssertionRefused("no registered key verifies the assertion")
    if not _audiences(claims) & {settings.issuer, token_endpoint(settings)}:
        raise AssertionRefused("wrong audience")
    exp, iat, jti = claims.get("exp"), claims.get("iat"), claims.get("jti")
    if not isinstance(exp, int) or not isinstance(iat, int) or not isinstance(jti, str):
        raise AssertionRefused("malformed time claims or jti")
    now = utcnow()
    if exp - iat > MAX_ASSERTION_LIFETIME.total_seconds():
        raise AssertionRefused("lifetime over an hour")
    if iat > (now + CLOCK_LEEWAY).timestamp():
        raise AssertionRefused("issued in the future")
    if not 1 <= len(jti) <= 128:
        raise AssertionRefused("bad jti")
    await credentials_repo.forget_expired_assertions(session, now)
    if await credentials_repo.assertion_seen(session, agency.id, jti):
        raise AssertionRefused("replayed jti")
    expires = datetime.fromtimestamp(exp, tz=UTC) + CLOCK_LEEWAY
    try:
        async with session.begin_nested():
            session.add(
                UsedClientAssertion(
                    id=uuid.uuid4(), agency_id=agency.id, jti=jti, expires_at=expires
                )
            )
    except IntegrityError:
        raise AssertionRefused("replayed jti (concurrent)") from None
    return agency, signer


async def list_public_keys(session: AsyncSession, agency: Agency) -> list[PublicKeyRead]:
    """The agency's registered JWKs as the admin API lists them."""
    return [public_key_out(k) for k in await credentials_repo.public_keys_of(session, agency.id)]


def public_key_out(key: AgencyPublicKey) -> PublicKeyRead:
    """A registered JWK as the admin API shows it, with its RFC 7638 thumbprint."""
    return PublicKeyRead(
        id=key.id,
        kid=key.kid,
        algorithm=key.algorithm,
        jwk=key.jwk,
        thumbprint=jwk_thumbprint(key.jwk),
        created_at=key.created_at,
        revoked_at=key.revoked_at,
    )
