"""Secret canaries: which server secrets this database's hashes and ciphertexts were made with."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, utcnow


class SecretCanary(Base):
    """A MAC of a fixed text under one server secret (never the secret itself).

    ``sinergi serve`` and ``/readyz`` compare it with the configured secret, so a changed
    ``SINERGI_SECRET_KEY`` or ``SINERGI_KEY_ENCRYPTION_KEY`` is named at once instead of every
    API key quietly answering 401.
    """

    __tablename__ = "secret_canaries"

    #: The setting's name without prefix: ``secret_key`` or ``key_encryption_key``.
    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    #: Hex HMAC-SHA256 of a fixed text under the secret the stored data was made with.
    mac: Mapped[str] = mapped_column(String(64))
    #: When a new value was first seen configured beside the previous one (a rotation under way).
    rotation_started_at: Mapped[datetime | None]
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
