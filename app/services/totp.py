"""Second factor: TOTP (RFC 6238, any authenticator app), its QR code and one-time recovery codes.

The secret is stored encrypted (AES-GCM under a key derived from the key-encryption key and
bound to the officer's id); a code's time step is remembered, so each code is accepted once.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime

import pyotp
import segno
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from app.config import Settings

#: RFC 6238's default step; codes one step either side are accepted (clock drift).
STEP_SECONDS = 30
DRIFT_STEPS = 1
ISSUER = "Sinergi"
RECOVERY_CODES = 10
_NONCE_BYTES = 12
_RECOVERY_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"


def new_secret() -> str:
    """A fresh base32 secret (160 bits, RFC 4226's recommendation)."""
    return pyotp.random_base32(32)


def _key(key_encryption_key: str) -> bytes:
    return HKDF(
        algorithm=hashes.SHA256(), length=32, salt=None, info=b"sinergi officer totp v1"
    ).derive(key_encryption_key.encode())


def encrypt_secret(key_encryption_key: str, officer_id: uuid.UUID, secret: str) -> bytes:
    nonce = os.urandom(_NONCE_BYTES)
    return nonce + AESGCM(_key(key_encryption_key)).encrypt(
        nonce, secret.encode(), officer_id.bytes
    )


def decrypt_secret(settings: Settings, officer_id: uuid.UUID, blob: bytes) -> str:
    """The officer's TOTP secret, under the key-encryption key or, during a rotation
    (``sinergi admin rotate-secrets``), the previous one."""
    nonce, ciphertext = blob[:_NONCE_BYTES], blob[_NONCE_BYTES:]
    keys = [settings.key_encryption_key, settings.previous_key_encryption_key]
    for key in filter(None, keys):
        try:
            return AESGCM(_key(key)).decrypt(nonce, ciphertext, officer_id.bytes).decode()
        except InvalidTag:
            continue
    raise InvalidTag("the TOTP secret decrypts under neither key-encryption key")


def accepted_step(secret: str, code: str, *, now: datetime, last_step: int | None) -> int | None:
    """The time step ``code`` belongs to, when it is valid now and newer than ``last_step``."""
    code = code.strip().replace(" ", "")
    if len(code) != 6 or not code.isdigit():
        return None
    totp = pyotp.TOTP(secret)
    current = int(now.timestamp()) // STEP_SECONDS
    for step in range(current - DRIFT_STEPS, current + DRIFT_STEPS + 1):
        if last_step is not None and step <= last_step:
            continue
        if hmac.compare_digest(totp.generate_otp(step), code):
            return step
    return None


def code_at(secret: str, at: datetime) -> str:
    """The code an authenticator app shows at ``at`` (demo output and tests)."""
    return pyotp.TOTP(secret).at(at)


@dataclass(frozen=True)
class Enrolment:
    """What an officer needs to add the account to an authenticator app."""

    secret: str
    otpauth_uri: str
    qr_svg_data_uri: str


def enrolment(secret: str, username: str) -> Enrolment:
    uri = pyotp.TOTP(secret).provisioning_uri(name=username, issuer_name=ISSUER)
    qr = segno.make(uri, error="m").svg_data_uri(scale=4, border=2)
    return Enrolment(secret=secret, otpauth_uri=uri, qr_svg_data_uri=qr)


def new_recovery_codes() -> list[str]:
    """One-time codes (``xxxx-xxxx-xxxx``, ~60 bits each) for when the phone is lost."""
    return [
        "-".join("".join(secrets.choice(_RECOVERY_ALPHABET) for _ in range(4)) for _ in range(3))
        for _ in range(RECOVERY_CODES)
    ]


def recovery_code_hash(officer_id: uuid.UUID, code: str) -> str:
    """SHA-256 of the code salted with the officer's id.

    Not keyed with the service secret on purpose: rotating SINERGI_SECRET_KEY must not void the
    codes an officer keeps on paper; each has ~60 random bits, beyond offline guessing.
    """
    normalized = code.strip().lower().replace(" ", "").replace("-", "")
    return hashlib.sha256(f"{officer_id}:recovery:{normalized}".encode()).hexdigest()
