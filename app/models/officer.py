"""Officers: the people of a member agency who sign in, and their server-side sessions."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, IdMixin, TimestampMixin
from app.vocab.enums import TOTP_REQUIRED_ROLES, OfficerRole, SessionStage

__all__ = ["TOTP_REQUIRED_ROLES", "Officer", "OfficerRole", "OfficerSession", "SessionStage"]


class Officer(IdMixin, TimestampMixin, Base):
    """A person who signs in for one agency (personal data: name, NIP, email; see DESIGN §7)."""

    __tablename__ = "officers"

    agency_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("agencies.id", ondelete="CASCADE"), index=True
    )
    #: Sign-in name, stored lower-case and unique across the service (often the NIP).
    username: Mapped[str] = mapped_column(String(64), unique=True)
    full_name: Mapped[str] = mapped_column(String(200))
    #: *Nomor Induk Pegawai*, the civil-servant number (18 digits), when given.
    nip: Mapped[str | None] = mapped_column(String(32))
    email: Mapped[str | None] = mapped_column(String(254))
    role: Mapped[str] = mapped_column(String(20))
    active: Mapped[bool] = mapped_column(default=True)
    #: Argon2id hash (PHC string); null until the officer chose a password.
    password_hash: Mapped[str | None] = mapped_column(String(256))
    #: Keyed hash of the one-time setup code, and when it stops working.
    setup_code_hash: Mapped[str | None] = mapped_column(String(64))
    setup_code_expires_at: Mapped[datetime | None]
    #: The TOTP secret, encrypted (AES-GCM under a key derived from the key-encryption key).
    totp_secret_encrypted: Mapped[bytes | None] = mapped_column(LargeBinary)
    #: True once the officer confirmed a code of ``totp_secret_encrypted``.
    totp_enabled: Mapped[bool] = mapped_column(default=False)
    #: The last TOTP time step accepted: a code is accepted once.
    totp_last_step: Mapped[int | None]
    #: Keyed hashes of the unused one-time recovery codes.
    recovery_code_hashes: Mapped[list[str]] = mapped_column(JSON, default=list)
    failed_attempts: Mapped[int] = mapped_column(default=0)
    locked_until: Mapped[datetime | None]
    last_sign_in_at: Mapped[datetime | None]
    #: When the officer was disabled (personal data is purged after the retention period).
    disabled_at: Mapped[datetime | None]


class OfficerSession(IdMixin, Base):
    """A signed-in browser: referenced by a cookie holding a random token,
    stored as a keyed hash."""

    __tablename__ = "officer_sessions"

    officer_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("officers.id", ondelete="CASCADE"), index=True
    )
    #: Hex HMAC-SHA256 of the cookie's token.
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    stage: Mapped[str] = mapped_column(String(10))
    created_at: Mapped[datetime]
    last_seen_at: Mapped[datetime]
    #: The absolute timeout: the session ends then, however active.
    expires_at: Mapped[datetime]
    ended_at: Mapped[datetime | None]
    client_address: Mapped[str | None] = mapped_column(String(64))
    user_agent: Mapped[str | None] = mapped_column(String(256))

    __table_args__ = (Index("ix_officer_sessions_expires_at", "expires_at"),)
