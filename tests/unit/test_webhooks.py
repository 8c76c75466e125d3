"""Standard Webhooks signing and verification; retry schedule and Retry-After."""

from __future__ import annotations

import base64
import hashlib
import hmac
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from app.services.webhooks import (
    WebhookVerificationError,
    new_secret,
    sign,
    signature_headers,
    verify,
)
from app.worker import MAX_ATTEMPTS, RETRY_SCHEDULE, parse_retry_after, retry_delay

BODY = b'{"type":"report.routed","data":{}}'


def test_signature_is_hmac_sha256_of_id_timestamp_body() -> None:
    secret = "whsec_" + base64.b64encode(b"k" * 32).decode()
    expected = base64.b64encode(
        hmac.new(b"k" * 32, b"msg_1.1700000000." + BODY, hashlib.sha256).digest()
    ).decode()
    assert sign(secret, "msg_1", 1700000000, BODY) == "v1," + expected


def test_new_secrets_are_distinct_whsec_values_of_32_bytes() -> None:
    a, b = new_secret(), new_secret()
    assert a != b
    assert a.startswith("whsec_")
    assert len(base64.b64decode(a.removeprefix("whsec_"))) == 32


def test_verify_accepts_a_fresh_signed_message() -> None:
    secret = new_secret()
    now = datetime.now(UTC)
    headers = signature_headers([secret], "msg_abc", int(now.timestamp()), BODY)
    assert verify(secret, headers, BODY, now=now) == "msg_abc"
    # header names are case-insensitive
    upper = {k.upper(): v for k, v in headers.items()}
    assert verify(secret, upper, BODY, now=now) == "msg_abc"


def test_verify_refuses_tampering_wrong_secret_and_stale_timestamps() -> None:
    secret = new_secret()
    now = datetime.now(UTC)
    headers = signature_headers([secret], "msg_abc", int(now.timestamp()), BODY)
    with pytest.raises(WebhookVerificationError):
        verify(secret, headers, BODY + b" ", now=now)
    with pytest.raises(WebhookVerificationError):
        verify(new_secret(), headers, BODY, now=now)
    with pytest.raises(WebhookVerificationError):
        verify(secret, headers, BODY, now=now + timedelta(minutes=6))
    with pytest.raises(WebhookVerificationError):
        verify(secret, {k: v for k, v in headers.items() if k != "webhook-id"}, BODY, now=now)
    forged = {**headers, "webhook-id": "msg_other"}
    with pytest.raises(WebhookVerificationError):
        verify(secret, forged, BODY, now=now)


def test_during_rotation_either_secret_verifies() -> None:
    old, new = new_secret(), new_secret()
    now = datetime.now(UTC)
    headers = signature_headers([new, old], "msg_r", int(now.timestamp()), BODY)
    assert len(headers["webhook-signature"].split()) == 2
    assert verify(old, headers, BODY, now=now) == "msg_r"
    assert verify(new, headers, BODY, now=now) == "msg_r"


def test_retry_schedule_with_jitter_then_dead_letter() -> None:
    assert RETRY_SCHEDULE == (0, 5, 300, 1800, 7200, 18000, 36000, 36000)
    assert retry_delay(1, lambda: 0.5) == timedelta(seconds=5)
    assert retry_delay(2, lambda: 0.0) == timedelta(seconds=240)  # -20 %
    assert retry_delay(2, lambda: 1.0) == timedelta(seconds=360)  # +20 %
    assert retry_delay(MAX_ATTEMPTS - 1, lambda: 0.5) == timedelta(hours=10)
    assert retry_delay(MAX_ATTEMPTS, lambda: 0.5) is None


def test_retry_after_seconds_and_http_date() -> None:
    now = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
    assert parse_retry_after("120", now) == timedelta(seconds=120)
    assert parse_retry_after("Sat, 28 Nov 2026 12:10:00 GMT", now) == timedelta(minutes=10)
    assert parse_retry_after("999999999", now) == timedelta(hours=24)
    assert parse_retry_after("soon", now) is None
    assert parse_retry_after(None, now) is None


def _readme_receiver() -> Any:
    readme = (Path(__file__).resolve().parents[2] / "docs" / "routing-and-delivery.md").read_text(
        encoding="utf-8"
    )
    block = readme.split("<!-- receiver-example:start -->", 1)[1].split(
        "<!-- receiver-example:end -->", 1
    )[0]
    code = block.strip().removeprefix("```python").removesuffix("```")
    namespace: dict[str, Any] = {}
    exec(compile(code, "docs receiver", "exec"), namespace)  # noqa: S102  (our own docs)
    return namespace["receive"]


def test_the_readme_receiver_accepts_our_signatures_and_drops_duplicates() -> None:
    receive = _readme_receiver()
    old, new = new_secret(), new_secret()
    headers = signature_headers([new, old], "msg_1", int(datetime.now(UTC).timestamp()), BODY)
    seen: set[str] = set()
    assert receive(old, headers, BODY, seen)["type"] == "report.routed"
    assert receive(new, headers, BODY, seen) is None  # the retry is recognised
    with pytest.raises(ValueError, match="signature"):
        receive(new_secret(), headers, BODY, set())
    stale = signature_headers([new], "msg_2", int(datetime.now(UTC).timestamp()) - 3600, BODY)
    with pytest.raises(ValueError, match="timestamp"):
        receive(new, stale, BODY, set())
