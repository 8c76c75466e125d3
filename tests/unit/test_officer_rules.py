"""Pure rules behind officer accounts: passwords, TOTP steps, throttling, roles, audit hashing."""

from __future__ import annotations

import hashlib
import uuid
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import pytest
from cryptography.exceptions import InvalidTag

from app.models.agency import DEFAULT_AGENCY_SCOPES, Scope
from app.models.audit import AuditEvent
from app.models.officer import OfficerRole
from app.services import audit, passwords, totp
from app.services.officers import can_curate, effective_scopes
from app.services.sign_in_throttle import SignInThrottle
from app.vocab.passwords import common_passwords


def test_password_rules_follow_nist_800_63b() -> None:
    assert passwords.password_problem("short pass") is not None
    assert passwords.password_problem("x" * 129) is not None
    assert passwords.password_problem("Password1234") is not None  # common, any case
    assert passwords.password_problem("bismillah123456") is not None
    assert passwords.password_problem("aaaaaaaaaaaaaa") is not None
    assert passwords.password_problem("budi.santoso", context=("Budi.Santoso",)) is not None
    # no composition rules: lower-case words with spaces are fine
    assert passwords.password_problem("kopi hitam di pelabuhan") is None
    assert len(common_passwords()) > 1500
    assert all(len(p) >= 12 for p in common_passwords())


def test_a_totp_code_is_accepted_once_and_within_one_step() -> None:
    secret = totp.new_secret()
    now = datetime(2026, 12, 6, 10, 0, 5, tzinfo=UTC)
    code = totp.code_at(secret, now)
    step = totp.accepted_step(secret, code, now=now, last_step=None)
    assert step == int(now.timestamp()) // 30
    assert totp.accepted_step(secret, code, now=now, last_step=step) is None
    assert totp.accepted_step(secret, code, now=now + timedelta(seconds=30), last_step=None) == step
    assert totp.accepted_step(secret, code, now=now + timedelta(seconds=90), last_step=None) is None
    assert totp.accepted_step(secret, "12345a", now=now, last_step=None) is None


def test_the_totp_secret_is_bound_to_its_officer_and_opens_under_the_previous_key() -> None:
    officer, other = uuid.uuid4(), uuid.uuid4()
    blob = totp.encrypt_secret("k" * 40, officer, "JBSWY3DPEHPK3PXP")
    current = SimpleNamespace(key_encryption_key="k" * 40, previous_key_encryption_key="")
    assert totp.decrypt_secret(current, officer, blob) == "JBSWY3DPEHPK3PXP"  # type: ignore[arg-type]
    with pytest.raises(InvalidTag):
        totp.decrypt_secret(current, other, blob)  # type: ignore[arg-type]
    rotating = SimpleNamespace(key_encryption_key="n" * 40, previous_key_encryption_key="k" * 40)
    assert totp.decrypt_secret(rotating, officer, blob) == "JBSWY3DPEHPK3PXP"  # type: ignore[arg-type]
    rotated = SimpleNamespace(key_encryption_key="n" * 40, previous_key_encryption_key="")
    with pytest.raises(InvalidTag):
        totp.decrypt_secret(rotated, officer, blob)  # type: ignore[arg-type]


def test_the_throttle_doubles_the_wait_and_forgets_on_success() -> None:
    now = [1000.0]
    throttle = SignInThrottle(after=2, base_seconds=1.0, clock=lambda: now[0])
    keys = throttle.keys("Budi", "203.0.113.7")
    throttle.failed(keys)
    assert throttle.retry_after(keys) is None
    throttle.failed(keys)
    assert throttle.retry_after(keys) == 1
    throttle.failed(keys)
    assert throttle.retry_after(keys) == 2
    assert throttle.retry_after(throttle.keys("BUDI", None)) == 2  # case-insensitive
    assert throttle.retry_after(throttle.keys("siti", "203.0.113.7")) is None  # address: 5x
    now[0] += 2
    assert throttle.retry_after(keys) is None
    throttle.succeeded("budi")
    assert throttle.retry_after(throttle.keys("budi", None)) is None


def test_roles_only_narrow_the_agency_scopes() -> None:
    member = [str(s) for s in DEFAULT_AGENCY_SCOPES]
    admin_agency = [Scope.ADMIN.value]
    read_only = [Scope.REPORTS_READ.value]
    assert effective_scopes(member, OfficerRole.OFFICER) == frozenset(member)
    assert effective_scopes(read_only, OfficerRole.AGENCY_ADMIN) == frozenset(read_only)
    assert effective_scopes(member, OfficerRole.SYSTEM_ADMIN) == frozenset(member)
    assert effective_scopes(admin_agency, OfficerRole.SYSTEM_ADMIN) == {Scope.ADMIN.value}
    assert effective_scopes(admin_agency, OfficerRole.ANALYST) == frozenset()
    assert can_curate(admin_agency, OfficerRole.ANALYST)
    assert not can_curate(member, OfficerRole.ANALYST)
    assert not can_curate(admin_agency, OfficerRole.OFFICER)


def _event(**officer: object) -> AuditEvent:
    return AuditEvent(
        seq=7,
        occurred_at=datetime(2026, 11, 28, 12, 0, tzinfo=UTC),
        actor_agency_id=None,
        actor_agency_code="POLRES-DUMAI",
        credential_id="key-1",
        token_id="jti-1",
        action="report.read",
        object_type="report",
        object_ids=["r1"],
        outcome="success",
        http_status=200,
        request_id="req-1",
        client_address="127.0.0.1",
        user_agent="curl/8",
        detail={},
        prev_hash="ab" * 32,
        **officer,
    )


def test_events_without_an_officer_hash_exactly_as_before_officers_existed() -> None:
    # the canonical form written before the officer columns existed, by hand
    before = (
        '{"action":"report.read","actor_agency_code":"POLRES-DUMAI","actor_agency_id":null,'
        '"client_address":"127.0.0.1","credential_id":"key-1","detail":{},"http_status":200,'
        '"object_ids":["r1"],"object_type":"report","occurred_at":"2026-11-28T12:00:00.000000Z",'
        '"outcome":"success","prev_hash":"' + "ab" * 32 + '","request_id":"req-1","seq":7,'
        '"token_id":"jti-1","user_agent":"curl/8"}'
    )
    old = _event()
    assert audit.canonical_form(old) == before.encode()
    assert audit.event_hash(old) == hashlib.sha256(before.encode()).hexdigest()

    officer_id = uuid.uuid4()
    named = _event(actor_user_id=officer_id, actor_username="budi")
    form = audit.canonical_form(named).decode()
    assert f'"actor_user_id":"{officer_id}"' in form
    assert '"actor_username":"budi"' in form
    assert audit.event_hash(named) != audit.event_hash(old)
