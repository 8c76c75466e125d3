"""Standard Webhooks signing (https://www.standardwebhooks.com) and agencies' webhook endpoints.

A message is signed as ``base64(HMAC-SHA256(secret, f"{webhook_id}.{timestamp}.{body}"))``
and sent as ``webhook-signature: v1,<signature>``; while a rotated-out secret still signs, the
header carries one ``v1,…`` per secret, separated by spaces. Secrets look like ``whsec_<base64>``
and are stored encrypted with the key-encryption key; the plain secret is shown once.

Every POST — a delivery from the worker or an admin's test event — goes out through
:func:`post_signed`: the URL checked again, the checked address connected to, no redirect
followed, the receiver's time bounded.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import logging
import secrets
import time
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any

import httpx
import orjson
from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from sqlalchemy.ext.asyncio import AsyncSession

from app.config import Settings
from app.errors import FieldProblem, InvalidInput, NotFound
from app.models.agency import Agency
from app.models.base import utcnow
from app.models.delivery import WebhookEndpoint
from app.repositories import deliveries as repo
from app.schemas.delivery import WebhookEndpointOut, WebhookTestOut
from app.services.url_safety import SafeTarget, UnsafeURL, check_webhook_url

logger = logging.getLogger("sinergi.webhooks")

SECRET_PREFIX = "whsec_"  # noqa: S105  (a prefix, not a secret)
#: How far a receiver should let ``webhook-timestamp`` stray from its clock (replay window).
DEFAULT_TOLERANCE = timedelta(minutes=5)
USER_AGENT = "Sinergi-Webhooks/1"
#: The ``type`` of the test event an admin sends (never a delivery: no sequence, no retry).
TEST_EVENT = "webhook.test"
#: How much of the receiver's answer body a test event shows (characters).
EXCERPT_CHARACTERS = 300


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


async def safe_target(settings: Settings, url: str) -> SafeTarget:
    """The checked URL and the address to connect to; :class:`UnsafeURL` (with its reason)
    when the settings' rules refuse it."""
    return await check_webhook_url(
        url,
        allow_http=settings.webhook_allow_http,
        allowed_networks=settings.webhook_allowed_networks,
    )


async def check_url(settings: Settings, url: str) -> None:
    """Refuse an unsafe URL with a 422 naming ``/url``."""
    try:
        await safe_target(settings, url)
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


async def endpoint_state(session: AsyncSession, agency_code: str) -> WebhookEndpointOut | None:
    """The agency's endpoint as the admin pages show it, or None when it pulls (no endpoint)."""
    agency = await _agency(session, agency_code)
    endpoint = await repo.endpoint_for(session, agency.id)
    return None if endpoint is None else endpoint_out(agency_code, endpoint)


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


async def disable_endpoint(
    session: AsyncSession, agency_code: str, *, actor: str
) -> WebhookEndpoint:
    """Stop pushing to the agency (its deliveries wait in the inbox); the URL and secret stay."""
    endpoint = await get_endpoint(session, agency_code)
    if endpoint.disabled_at is None:
        endpoint.disabled_at = utcnow()
        endpoint.disabled_reason = f"Disabled by the administrator {actor}"
        await session.flush()
    return endpoint


async def enable_endpoint(session: AsyncSession, agency_code: str) -> WebhookEndpoint:
    """Push again (after an admin's disable or a receiver's 410 Gone): waiting deliveries go
    out in sequence, the URL checked again at send time."""
    endpoint = await get_endpoint(session, agency_code)
    endpoint.disabled_at = None
    endpoint.disabled_reason = None
    await session.flush()
    return endpoint


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


# --- sending ---------------------------------------------------------------------------------


def webhook_client(settings: Settings) -> httpx.AsyncClient:
    """The client webhooks go out with: redirects never followed, the receiver's time bounded."""
    return httpx.AsyncClient(
        follow_redirects=False,
        timeout=httpx.Timeout(settings.webhook_timeout_seconds),
        headers={"user-agent": USER_AGENT},
    )


def pinned_request(
    client: httpx.AsyncClient, target: SafeTarget, headers: dict[str, str], body: bytes
) -> httpx.Request:
    """A POST that connects to the checked address (TLS still verifies the host name)."""
    url = httpx.URL(target.url)
    host = f"[{target.address}]" if target.address.version == 6 else str(target.address)
    request = client.build_request(
        "POST",
        url.copy_with(host=host.strip("[]")),
        content=body,
        headers={**headers, "host": url.netloc.decode("ascii")},
        extensions={"sni_hostname": target.host} if target.scheme == "https" else {},
    )
    return request


@dataclass(frozen=True)
class Message:
    """One webhook to POST: where, the secrets that sign it, its ``webhook-id`` and body."""

    url: str
    secrets: tuple[str, ...]
    webhook_id: str
    body: bytes


@dataclass(frozen=True)
class Answer:
    """What one POST got back: the status (None when nothing came) or why it failed."""

    started_at: datetime
    duration_ms: int
    status_code: int | None
    error: str | None
    retry_after: str | None = None
    #: The start of the answer's body (only when asked for: a test event shows it).
    body_excerpt: str | None = None


class Verdict(StrEnum):
    """What a receiver's answer means for a delivery (the worker's rule, in one place)."""

    #: 2xx: delivered, and so acknowledged.
    DELIVERED = "delivered"
    #: 410 Gone: the receiver asks to stop; the endpoint is disabled, deliveries wait.
    DISABLED = "disabled"
    #: Anything else, or no answer: tried again on the schedule, dead after the last attempt.
    RETRIED = "retried"


def verdict(status_code: int | None) -> Verdict:
    """The :class:`Verdict` of an answer with this HTTP status (None: no answer came)."""
    if status_code is not None and 200 <= status_code < 300:
        return Verdict.DELIVERED
    if status_code == 410:
        return Verdict.DISABLED
    return Verdict.RETRIED


async def _excerpt(response: httpx.Response, characters: int) -> str:
    """The first ``characters`` of a streamed body, printable (the rest is never read)."""
    data = b""
    async for chunk in response.aiter_bytes():
        data += chunk
        if len(data) >= characters * 4:
            break
    text = data.decode("utf-8", errors="replace")
    shown = "".join(c if c.isprintable() or c in "\n\t" else "\ufffd" for c in text[:characters])
    return shown + ("…" if len(text) > characters else "")


async def post_signed(
    client: httpx.AsyncClient, settings: Settings, message: Message, *, excerpt: int = 0
) -> Answer:
    """POST one message as every webhook goes out; never raises, never waits past the timeout.

    The URL is checked again (a host may resolve elsewhere since it was registered) and the
    checked address is the one connected to; the message is signed now, with every secret
    given; a redirect is an answer, not followed. ``excerpt``: keep that much of the body.
    """
    started = utcnow()
    clock = time.monotonic()

    def done(
        status: int | None,
        error: str | None,
        retry_after: str | None = None,
        body: str | None = None,
    ) -> Answer:
        duration = int((time.monotonic() - clock) * 1000)
        return Answer(started, duration, status, error, retry_after, body)

    timeout = settings.webhook_timeout_seconds
    body: str | None = None
    try:
        async with asyncio.timeout(timeout):
            target = await safe_target(settings, message.url)
            headers = signature_headers(
                message.secrets, message.webhook_id, int(time.time()), message.body
            )
            headers["content-type"] = "application/json"
            request = pinned_request(client, target, headers, message.body)
            response = await client.send(request, stream=True, follow_redirects=False)
            try:
                body = await _excerpt(response, excerpt) if excerpt else None
            finally:
                await response.aclose()
    except UnsafeURL as exc:
        return done(None, f"refused URL: {exc}")
    except TimeoutError:
        return done(None, f"no answer within {timeout:g} s")
    except httpx.TimeoutException:
        return done(None, f"no answer within {timeout:g} s")
    except httpx.HTTPError as exc:
        return done(None, f"{type(exc).__name__}: {exc}"[:500])
    except Exception as exc:  # recorded as a failed attempt, then retried
        logger.exception("unexpected error sending webhook %s", message.webhook_id)
        return done(None, f"{type(exc).__name__}: {exc}"[:500])
    error = None if response.is_success else f"HTTP {response.status_code}"
    if response.is_redirect:
        error = f"HTTP {response.status_code} redirect (not followed)"
    return done(response.status_code, error, response.headers.get("retry-after"), body)


# --- the test event --------------------------------------------------------------------------


def trial_envelope(event_id: uuid.UUID, agency_code: str, now: datetime) -> dict[str, Any]:
    """The test event's body: a delivery's envelope with ``type`` ``webhook.test``,
    ``sequence`` 0 (outside every agency's 1, 2, 3, …) and no report."""
    return {
        "id": str(event_id),
        "type": TEST_EVENT,
        "sequence": 0,
        "timestamp": now.isoformat(),
        "rule": None,
        "report_id": None,
        "data": {
            "agency_code": agency_code,
            "note": "A test event sent by a Sinergi administrator: nothing to store. Answer 2xx.",
        },
    }


async def trial_message(session: AsyncSession, settings: Settings, agency_code: str) -> Message:
    """The test event for the agency's endpoint, signed by the secrets that sign deliveries
    now (the current one, and the previous one during a rotation's overlap)."""
    endpoint = await get_endpoint(session, agency_code)
    now = utcnow()
    event_id = uuid.uuid4()
    return Message(
        url=endpoint.url,
        secrets=tuple(signing_secrets(settings, endpoint, now)),
        webhook_id=webhook_id_of(event_id),
        body=orjson.dumps(trial_envelope(event_id, agency_code, now)),
    )


async def try_endpoint(
    session: AsyncSession, settings: Settings, agency_code: str
) -> WebhookTestOut:
    """Send the agency's endpoint a test event now, enabled or not, and answer what came back.

    Nothing is stored: it is no delivery (no sequence, no retry) and a 410 disables nothing.
    The POST leaves after the last query, within ``webhook_timeout_seconds``: the admin waits
    for the answer on purpose.
    """
    message = await trial_message(session, settings, agency_code)
    async with webhook_client(settings) as client:
        answer = await post_signed(client, settings, message, excerpt=EXCERPT_CHARACTERS)
    return WebhookTestOut(
        agency_code=agency_code,
        url=message.url,
        webhook_id=message.webhook_id,
        sent_at=answer.started_at,
        duration_ms=answer.duration_ms,
        status_code=answer.status_code,
        verdict=verdict(answer.status_code),
        error=answer.error,
        body_excerpt=answer.body_excerpt,
    )
