"""Standard Webhooks signing (https://www.standardwebhooks.com) and agencies' webhook endpoints.

A message is signed as ``base64(HMAC-SHA256(secret, f"{webhook_id}.{timestamp}.{body}"))``
and sent as ``webhook-signature: v1,<signature>``; while a rotated-out secret still signs, the
header carries one ``v1,…`` per secret, separated by spaces. Secrets look like ``whsec_<base64>``
and are stored encrypted with the key-encryption key; the plain secret is shown once.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import uuid
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from sqlalchemy.ext.asyncio import AsyncSession

from app.config import Settings
from app.errors import FieldProblem, InvalidInput, NotFound
from app.models.agency import Agency
from app.models.base import utcnow
from app.models.delivery import WebhookEndpoint
from app.repositories import deliveries as repo
from app.schemas.delivery import WebhookEndpointOut
from app.services.url_safety import UnsafeURL, check_webhook_url

SECRET_PREFIX = "whsec_"  # noqa: S105  (a prefix, not a secret)
#: How far a receiver should let ``webhook-timestamp`` stray from its clock (replay window).
DEFAULT_TOLERANCE = timedelta(minutes=5)


class WebhookVerificationError(ValueError):
    """The message's signature or timestamp does not check out."""


def new_secret() -> str:
    """A fresh ``whsec_`` secret holding 32 random bytes."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(32)).decode("ascii")


def _secret_key(secret: str) -> bytes:
    raw = secret.removeprefix(SECRET_PREFIX)
    try:
        return base64.b64decode(raw, validate=True)
    except ValueError as exc:
        raise ValueError("a webhook secret is 'whsec_' followed by base64") from exc


def sign(secret: str, webhook_id: str, timestamp: int, body: bytes) -> str:
    """The ``v1,<base64>`` signature of one message under one secret."""
    content = f"{webhook_id}.{timestamp}.".encode() + body
    digest = hmac.new(_secret_key(secret), content, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode("ascii")


def signature_headers(
    secrets_: Sequence[str], webhook_id: str, timestamp: int, body: bytes
) -> dict[str, str]:
    """The three Standard Webhooks headers, signed with every secret given."""
    return {
        "webhook-id": webhook_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": " ".join(sign(s, webhook_id, timestamp, body) for s in secrets_),
    }


def verify(
    secret: str,
    headers: Mapping[str, str],
    body: bytes,
    *,
    now: datetime | None = None,
    tolerance: timedelta = DEFAULT_TOLERANCE,
) -> str:
    """Check a received webhook as a receiver must; answers its ``webhook-id``.

    ``headers`` keys are matched case-insensitively. Raises :class:`WebhookVerificationError`
    when a header is missing, the timestamp is outside ``tolerance`` or no signature matches.
    """
    lowered = {k.lower(): v for k, v in headers.items()}
    try:
        webhook_id = lowered["webhook-id"]
        timestamp_text = lowered["webhook-timestamp"]
        signatures = lowered["webhook-signature"]
    except KeyError as exc:
        raise WebhookVerificationError(f"missing header {exc.args[0]}") from None
    try:
        timestamp = int(timestamp_text)
    except ValueError:
        raise WebhookVerificationError("webhook-timestamp is not an integer") from None
    current = (now or datetime.now(UTC)).timestamp()
    if abs(current - timestamp) > tolerance.total_seconds():
        raise WebhookVerificationError("webhook-timestamp is outside the tolerance")
    expected = sign(secret, webhook_id, timestamp, body).encode()
    for candidate in signatures.split():
        if candidate.startswith("v1,") and hmac.compare_digest(candidate.encode(), expected):
            return webhook_id
    raise WebhookVerificationError("no signature matches")


# --- secrets at rest -----------------------------------------------------------------------


def _fernet_of(key_encryption_key: str) -> Fernet:
    key = hashlib.sha256(b"sinergi-webhook-secret:" + key_encryption_key.encode()).digest()
    return Fernet(base64.urlsafe_b64encode(key))


def _fernet(settings: Settings) -> MultiFernet:
    """Encrypts with the key-encryption key; decrypts with it or, during a rotation,
    the previous."""
    keys = [settings.key_encryption_key, settings.previous_key_encryption_key]
    return MultiFernet([_fernet_of(k) for k in keys if k])


def encrypt_secret(settings: Settings, secret: str) -> str:
    return _fernet(settings).encrypt(secret.encode()).decode("ascii")


def decrypt_secret(settings: Settings, token: str) -> str:
    try:
        return _fernet(settings).decrypt(token.encode()).decode()
    except InvalidToken as exc:
        raise RuntimeError(
            "a webhook secret cannot be decrypted with this key-encryption key"
        ) from exc


def signing_secrets(settings: Settings, endpoint: WebhookEndpoint, now: datetime) -> list[str]:
    """The secrets that sign now: the current one, and the previous one during its overlap."""
    result = [decrypt_secret(settings, endpoint.secret_encrypted)]
    if (
        endpoint.previous_secret_encrypted
        and endpoint.previous_secret_expires_at
        and endpoint.previous_secret_expires_at > now
    ):
        result.append(decrypt_secret(settings, endpoint.previous_secret_encrypted))
    return result


# --- endpoint use cases --------------------------------------------------------------------


async def _agency(session: AsyncSession, code: str) -> Agency:
    agency = await repo.agency_by_code(session, code)
    if agency is None:
        raise NotFound(detail=f"No agency with the code {code!r}")
    return agency


async def check_url(settings: Settings, url: str) -> None:
    """Refuse an unsafe URL with a 422 naming ``/url``."""
    try:
        await check_webhook_url(
            url,
            allow_http=settings.webhook_allow_http,
            allowed_networks=settings.webhook_allowed_networks,
        )
    except UnsafeURL as exc:
        raise InvalidInput(
            detail=f"The webhook URL is refused: {exc}",
            errors=[FieldProblem("/url", str(exc), "unsafe_url")],
        ) from None


async def get_endpoint(session: AsyncSession, agency_code: str) -> WebhookEndpoint:
    agency = await _agency(session, agency_code)
    endpoint = await repo.endpoint_for(session, agency.id)
    if endpoint is None:
        raise NotFound(detail=f"The agency {agency_code!r} has no webhook endpoint (it pulls)")
    return endpoint


async def set_endpoint(
    session: AsyncSession, settings: Settings, agency_code: str, url: str
) -> tuple[WebhookEndpoint, str | None]:
    """Set (or change) an agency's endpoint and enable it; answers the new secret on creation.

    The caller resolves the URL (network) before the transaction: see :func:`check_url`.
    """
    agency = await _agency(session, agency_code)
    endpoint = await repo.endpoint_for(session, agency.id)
    secret: str | None = None
    if endpoint is None:
        secret = new_secret()
        endpoint = WebhookEndpoint(
            agency_id=agency.id, url=url, secret_encrypted=encrypt_secret(settings, secret)
        )
        session.add(endpoint)
    else:
        endpoint.url = url
    endpoint.disabled_at = None
    endpoint.disabled_reason = None
    await session.flush()
    return endpoint, secret


async def delete_endpoint(session: AsyncSession, agency_code: str) -> None:
    """Remove an agency's endpoint: its deliveries wait in the inbox from now on."""
    endpoint = await get_endpoint(session, agency_code)
    await session.delete(endpoint)
    await session.flush()


async def rotate_secret(
    session: AsyncSession, settings: Settings, agency_code: str
) -> tuple[WebhookEndpoint, str]:
    """A new secret; the old one keeps signing for ``webhook_secret_overlap_hours``."""
    endpoint = await get_endpoint(session, agency_code)
    secret = new_secret()
    endpoint.previous_secret_encrypted = endpoint.secret_encrypted
    endpoint.previous_secret_expires_at = utcnow() + timedelta(
        hours=settings.webhook_secret_overlap_hours
    )
    endpoint.secret_encrypted = encrypt_secret(settings, secret)
    await session.flush()
    return endpoint, secret


def webhook_id_of(delivery_id: uuid.UUID) -> str:
    """The ``webhook-id`` of a delivery: its id, the same on every retry."""
    return f"msg_{delivery_id.hex}"


def endpoint_out(
    code: str, endpoint: WebhookEndpoint, secret: str | None = None
) -> WebhookEndpointOut:
    """An agency's endpoint as the admin API answers it (``secret`` only when just set)."""
    return WebhookEndpointOut(
        agency_code=code,
        url=endpoint.url,
        enabled=endpoint.disabled_at is None,
        disabled_at=endpoint.disabled_at,
        disabled_reason=endpoint.disabled_reason,
        previous_secret_expires_at=endpoint.previous_secret_expires_at,
        secret=secret,
        created_at=endpoint.created_at,
        updated_at=endpoint.updated_at,
    )
