"""Watches: a person an agency wants to hear about, indexed like a report person."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, IdMixin, utcnow


class Watch(IdMixin, Base):
    """One agency's watch on a person: fires ``watch.hit`` once per later report naming them."""

    __tablename__ = "watches"
    __table_args__ = (Index("ix_watches_agency_created", "agency_id", "created_at", "id"),)

    agency_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("agencies.id"))
    #: The person as the agency sent it (validated), shown back to that agency only.
    person: Mapped[dict[str, Any]] = mapped_column(JSON)
    name_normalized: Mapped[str | None] = mapped_column(String(300))
    nik: Mapped[str | None] = mapped_column(String(16))
    passport_number: Mapped[str | None] = mapped_column(String(32))
    phone_e164: Mapped[str | None] = mapped_column(String(20))
    #: Everything matching compares, serialized like a report person's (app.services.resolution).
    features: Mapped[dict[str, Any]] = mapped_column(JSON)
    note: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(index=True)


class WatchKey(Base):
    """A blocking key of a watched person: a new report person meets its watches through it."""

    __tablename__ = "watch_keys"
    __table_args__ = (Index("ix_watch_keys_key_watch", "key", "watch_id"),)

    key: Mapped[str] = mapped_column(String(160), primary_key=True)
    watch_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("watches.id", ondelete="CASCADE"), primary_key=True, index=True
    )


class WatchHit(Base):
    """A watch that fired for a report: each (watch, report) fires once, corrections included."""

    __tablename__ = "watch_hits"

    watch_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("watches.id", ondelete="CASCADE"), primary_key=True
    )
    report_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("reports.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    score: Mapped[float]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
