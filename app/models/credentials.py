"""Credentials: agency API keys, agency public keys (JWK), service signing keys,
used assertion ids."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, ForeignKey, LargeBinary, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, IdMixin, TimestampMixin


class ApiKey(IdMixin, TimestampMixin, Base):
    """An agency's API key, kept only as a keyed hash (HMAC-SHA256 under the server secret)."""

    __tablename__ = "api_keys"

    agency_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("agencies.id", ondelete="CASCADE"), index=True
    )
    #: Hex HMAC-SHA256 of the whole key.
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    #: The first characters of the key, shown in lists so people can tell keys apart.
    display_prefix: Mapped[str] = mapped_column(String(16))
    expires_at: Mapped[datetime | None]
    last_used_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]
    #: The key this one replaced when it was issued by a rotation.
    rotated_from_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("api_keys.id", ondelete="SET NULL")
    )


class AgencyPublicKey(IdMixin, TimestampMixin, Base):
    """A public key (JWK) an agency registered to sign client assertions (private_key_jwt)."""

    __tablename__ = "agency_public_keys"
    __table_args__ = (UniqueConstraint("agency_id", "kid"),)

    agency_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("agencies.id", ondelete="CASCADE"), index=True
    )
    kid: Mapped[str] = mapped_column(String(64))
    algorithm: Mapped[str] = mapped_column(String(8))
    jwk: Mapped[dict[str, Any]] = mapped_column(JSON)
    revoked_at: Mapped[datetime | None]


class SigningKeyState(StrEnum):
    """Life of a service signing key: published first, then signing, then only verifying."""

    NEXT = "next"
    CURRENT = "current"
    RETIRED = "retired"


class SigningKey(IdMixin, TimestampMixin, Base):
    """One of the service's own token signing keys; the private half is encrypted (AES-GCM)."""

    __tablename__ = "signing_keys"

    kid: Mapped[str] = mapped_column(String(64), unique=True)
    algorithm: Mapped[str] = mapped_column(String(8))
    state: Mapped[str] = mapped_column(String(16), index=True)
    public_jwk: Mapped[dict[str, Any]] = mapped_column(JSON)
    #: nonce ‖ AES-GCM ciphertext of the PKCS#8 PEM; wiped when the key retires.
    private_key_encrypted: Mapped[bytes | None] = mapped_column(LargeBinary)
    activated_at: Mapped[datetime | None]
    retired_at: Mapped[datetime | None]


class UsedClientAssertion(IdMixin, Base):
    """A client assertion's ``jti``, remembered until the assertion expires so a replay fails."""

    __tablename__ = "used_client_assertions"
    __table_args__ = (UniqueConstraint("agency_id", "jti"),)

    agency_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("agencies.id", ondelete="CASCADE"))
    jti: Mapped[str] = mapped_column(String(128))
    expires_at: Mapped[datetime] = mapped_column(index=True)
