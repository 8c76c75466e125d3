"""The outbox: one delivery per (event, recipient), its attempts,
and agencies' webhook endpoints."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, IdMixin, TimestampMixin, utcnow


class DeliveryStatus(StrEnum):
    #: Waiting to be pulled (and acked) or pushed.
    PENDING = "PENDING"
    #: Acked by pull, or accepted (2xx) by the agency's webhook receiver.
    DELIVERED = "DELIVERED"
    #: Every webhook attempt failed; an admin may retry it.
    DEAD = "DEAD"


class DeliveryEvent(StrEnum):
    REPORT_ROUTED = "report.routed"
    REPORT_UPDATED = "report.updated"
    REPORT_RETRACTED = "report.retracted"
    CASE_LINKED = "case.linked"
    WATCH_HIT = "watch.hit"
    KEY_EXPIRING = "key.expiring"


class DeliverySequence(Base):
    """Per-recipient counter: the row lock taken by its update makes sequences gap-free."""

    __tablename__ = "delivery_sequences"

    agency_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("agencies.id", ondelete="CASCADE"), primary_key=True
    )
    last_sequence: Mapped[int] = mapped_column(default=0)


class Delivery(IdMixin, Base):
    """One event for one recipient agency; its ``id`` is the webhook-id, stable across retries."""

    __tablename__ = "deliveries"
    __table_args__ = (
        UniqueConstraint("agency_id", "sequence"),
        Index("ix_deliveries_due", "status", "next_attempt_at"),
    )

    #: Looked up through ``uq_deliveries_agency_id_sequence`` (agency first): no index of its own.
    agency_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("agencies.id", ondelete="CASCADE"))
    #: 1, 2, 3, … per recipient agency, without gaps: a receiver can see one it missed.
    sequence: Mapped[int]
    event: Mapped[str] = mapped_column(String(40))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    #: The routing rule that caused it (``explicit`` for a sender's named recipient).
    rule: Mapped[str | None] = mapped_column(String(80))
    report_id: Mapped[uuid.UUID | None] = mapped_column(index=True)
    status: Mapped[str] = mapped_column(String(16), default=DeliveryStatus.PENDING)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    acked_at: Mapped[datetime | None]
    delivered_at: Mapped[datetime | None]
    #: Webhook attempts made in the current schedule (reset by an admin retry).
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow)
    #: A worker holds the delivery until then; an expired lease is taken over.
    lease_expires_at: Mapped[datetime | None]
    leased_by: Mapped[str | None] = mapped_column(String(80))
    last_error: Mapped[str | None] = mapped_column(Text)


class DeliveryAttempt(IdMixin, Base):
    """One webhook POST: what came back and how long it took."""

    __tablename__ = "delivery_attempts"

    delivery_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("deliveries.id", ondelete="CASCADE"), index=True
    )
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    duration_ms: Mapped[int]
    status_code: Mapped[int | None]
    error: Mapped[str | None] = mapped_column(Text)
    url: Mapped[str] = mapped_column(String(2048))
    worker: Mapped[str | None] = mapped_column(String(80))


class WebhookEndpoint(IdMixin, TimestampMixin, Base):
    """An agency's push endpoint; agencies without one pull from the inbox."""

    __tablename__ = "webhook_endpoints"

    agency_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("agencies.id", ondelete="CASCADE"), unique=True
    )
    url: Mapped[str] = mapped_column(String(2048))
    #: The ``whsec_…`` secret, encrypted with the key-encryption key.
    secret_encrypted: Mapped[str] = mapped_column(Text)
    #: During a rotation the previous secret signs too, until ``previous_secret_expires_at``.
    previous_secret_encrypted: Mapped[str | None] = mapped_column(Text)
    previous_secret_expires_at: Mapped[datetime | None]
    disabled_at: Mapped[datetime | None]
    disabled_reason: Mapped[str | None] = mapped_column(Text)
