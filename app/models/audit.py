"""The audit trail: append-only events, each chained to the previous one by its SHA-256 hash."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base

#: ``prev_hash`` of the first event ever recorded.
GENESIS_HASH = "0" * 64


class AuditEvent(Base):
    """Who did what to which objects, with which credential, and how it ended.

    Holds ids only: never a secret, a token or a personal identifier. ``hash`` is the SHA-256 of
    the event's canonical form (see ``app.services.audit.canonical_form``), which includes
    ``prev_hash``; on PostgreSQL a trigger refuses UPDATE and DELETE (the retention purge is the
    one documented exception).
    """

    __tablename__ = "audit_events"

    #: Position in the chain: 1, 2, 3, … (assigned under the chain lock, never reused).
    seq: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=False
    )
    occurred_at: Mapped[datetime] = mapped_column(index=True)
    actor_agency_id: Mapped[uuid.UUID | None]
    actor_agency_code: Mapped[str | None] = mapped_column(String(64))
    #: The officer who acted through a signed-in session (null for tokens and old events).
    actor_user_id: Mapped[uuid.UUID | None]
    actor_username: Mapped[str | None] = mapped_column(String(64))
    #: The API key id or client-assertion key id the caller authenticated with.
    credential_id: Mapped[str | None] = mapped_column(String(100))
    #: The access token's ``jti``.
    token_id: Mapped[str | None] = mapped_column(String(100))
    #: ``report.read``, ``screening.query``, ``key.rotate``, …
    action: Mapped[str] = mapped_column(String(64), index=True)
    object_type: Mapped[str | None] = mapped_column(String(40))
    object_ids: Mapped[list[str]] = mapped_column(JSON)
    #: ``success``, ``denied``, ``not_found``, ``invalid`` or ``error``.
    outcome: Mapped[str] = mapped_column(String(16), index=True)
    http_status: Mapped[int | None]
    request_id: Mapped[str | None] = mapped_column(String(128))
    client_address: Mapped[str | None] = mapped_column(String(64))
    user_agent: Mapped[str | None] = mapped_column(String(256))
    detail: Mapped[dict[str, Any]] = mapped_column(JSON)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64), unique=True)

    __table_args__ = (
        Index("ix_audit_events_actor_seq", "actor_agency_code", "seq"),
        Index("ix_audit_events_actor_username_seq", "actor_username", "seq"),
    )


class AuditPending(Base):
    """An event written by a PostgreSQL transaction, chained when that transaction commits.

    A deferred constraint trigger (migration 0011) takes the chain lock at COMMIT, gives the
    event the next ``seq`` and the head's hash as ``prev_hash``, computes ``hash`` from the
    three parts of its canonical form stored here (the form with ``prev_hash`` and ``seq`` left
    out, see ``app.services.audit.canonical_parts``), moves it into ``audit_events`` and deletes
    this row. No row outlives its transaction. The chain lock is thus held only while the
    transaction commits, never across a round trip to the application. SQLite has one writer
    and appends to ``audit_events`` directly.
    """

    __tablename__ = "audit_pending"

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    #: The ``audit_events`` columns but ``seq``, ``prev_hash`` and ``hash``, as JSON.
    document: Mapped[dict[str, Any]] = mapped_column(JSON)
    #: The canonical form up to ``prev_hash``'s value, between it and ``seq``'s value, after.
    before_prev_hash: Mapped[str] = mapped_column(Text)
    before_seq: Mapped[str] = mapped_column(Text)
    after_seq: Mapped[str] = mapped_column(Text)
