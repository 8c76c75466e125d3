"""Reports: what an agency submitted (kept verbatim, versioned)
and what the service derived from it."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from sqlalchemy import JSON, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.models.base import Base, IdMixin, TimestampMixin, utcnow

if TYPE_CHECKING:
    from app.models.resolution import PersonEntity


#: TLP labels under which a report is need-to-know even to acknowledge: to anyone who is neither
#: its source nor a recipient it does not exist, and nothing resolution answers may depend on it.
RESTRICTED_TLP = frozenset({"AMBER_STRICT", "RED"})


class ReportStatus(StrEnum):
    ACTIVE = "ACTIVE"
    RETRACTED = "RETRACTED"
    CLOSED = "CLOSED"


class Report(IdMixin, TimestampMixin, Base):
    """The current state of one report; every version's body is kept in ``report_versions``."""

    __tablename__ = "reports"
    __table_args__ = (
        UniqueConstraint("source_agency_id", "external_ref"),
        Index("ix_reports_updated_at_id", "updated_at", "id"),
        Index("ix_reports_reported_at", "reported_at"),
    )

    #: Looked up through ``uq_reports_source_agency_id_external_ref`` (source first): no index
    #: of its own.
    source_agency_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("agencies.id"))
    external_ref: Mapped[str] = mapped_column(String(128))
    version: Mapped[int] = mapped_column(default=1)
    status: Mapped[str] = mapped_column(String(16), default=ReportStatus.ACTIVE)
    case_type: Mapped[str] = mapped_column(String(16), index=True)
    tlp: Mapped[str] = mapped_column(String(16))
    region_code: Mapped[str | None] = mapped_column(String(13), index=True)
    reported_at: Mapped[datetime]
    #: The submitted body of the current version, as the agency sent it (validated).
    body: Mapped[dict[str, Any]] = mapped_column(JSON)
    #: SHA-256 of the canonical submitted body: tells a replay from a conflicting resubmission.
    body_hash: Mapped[str] = mapped_column(String(64))
    case_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("cases.id"), index=True)
    status_reason: Mapped[str | None] = mapped_column(Text)
    status_changed_at: Mapped[datetime | None]
    #: When retention removed the personal data of this (closed or retracted) report.
    personal_data_purged_at: Mapped[datetime | None]

    persons: Mapped[list[ReportPerson]] = relationship(
        back_populates="report", order_by="ReportPerson.position", cascade="all, delete-orphan"
    )


class ReportVersion(IdMixin, Base):
    """One submitted version of a report: history is never overwritten."""

    __tablename__ = "report_versions"
    __table_args__ = (UniqueConstraint("report_id", "version"),)

    report_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("reports.id", ondelete="CASCADE"))
    version: Mapped[int]
    body: Mapped[dict[str, Any]] = mapped_column(JSON)
    body_hash: Mapped[str] = mapped_column(String(64))
    change: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class ReportModus(Base):
    """A report's modus operandi codes, one row each, so that lists can filter on them."""

    __tablename__ = "report_modus"

    report_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("reports.id", ondelete="CASCADE"), primary_key=True
    )
    code: Mapped[str] = mapped_column(String(64), primary_key=True, index=True)


class ReportFacet(Base):
    """One code of a report's multi-valued fields (``modus``/``TOURIST_DISGUISE``), for statistics.

    Written from the current version's body by :func:`app.services.facets.facets_of` on every
    submission and correction, so counts group by code in the database.
    """

    __tablename__ = "report_facets"
    __table_args__ = (Index("ix_report_facets_facet_code", "facet", "code"),)

    report_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("reports.id", ondelete="CASCADE"), primary_key=True
    )
    facet: Mapped[str] = mapped_column(String(32), primary_key=True)
    code: Mapped[str] = mapped_column(String(96), primary_key=True)


class ReportRecipient(Base):
    """An agency a report was routed to: it may read the report (need-to-know)."""

    __tablename__ = "report_recipients"

    report_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("reports.id", ondelete="CASCADE"), primary_key=True
    )
    agency_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("agencies.id"), primary_key=True, index=True
    )
    #: The routing rule (or ``explicit``) that made this agency a recipient.
    rule: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class ReportPerson(IdMixin, Base):
    """A person named in a report, with the normalized values used for matching."""

    __tablename__ = "report_persons"
    __table_args__ = (UniqueConstraint("report_id", "position"),)

    report_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("reports.id", ondelete="CASCADE"))
    position: Mapped[int]
    role: Mapped[str] = mapped_column(String(32))
    name_normalized: Mapped[str | None] = mapped_column(String(300))
    #: Found by their blocking keys (``PersonKey``), never by these columns: no index of their own.
    nik: Mapped[str | None] = mapped_column(String(16))
    passport_number: Mapped[str | None] = mapped_column(String(32))
    phone_e164: Mapped[str | None] = mapped_column(String(20), index=True)
    date_of_birth: Mapped[date | None]
    birth_year: Mapped[int | None]
    sex: Mapped[str | None] = mapped_column(String(16))
    nationality: Mapped[str | None] = mapped_column(String(3))
    #: Everything matching compares, serialized (see app.services.resolution).
    features: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    #: The resolved person entity (set by person resolution).
    entity_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("person_entities.id"), index=True
    )
    match_score: Mapped[float | None]
    match_reasons: Mapped[list[str]] = mapped_column(JSON, default=list)
    #: The report's status, TLP and source agency, copied onto each of its persons so that the
    #: candidate lookup (``repositories.resolution``), which reads 20 stored persons per person
    #: resolved, decides "retracted?" and "hidden?" without reading each one's report row.
    #: Written with the person; the status follows the report (``reports.set_status``); the TLP
    #: changes only by a correction, which writes the persons anew; the source never changes.
    report_status: Mapped[str] = mapped_column(String(16))
    report_tlp: Mapped[str] = mapped_column(String(16))
    report_source_agency_id: Mapped[uuid.UUID]

    report: Mapped[Report] = relationship(back_populates="persons")
    #: Never loaded: orders the flush (a new entity before the person resolved to it).
    entity: Mapped[PersonEntity | None] = relationship(lazy="raise")


class IdempotencyRecord(Base):
    """The stored answer to a request sent with an ``Idempotency-Key`` (kept 24 hours)."""

    __tablename__ = "idempotency_records"

    agency_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("agencies.id"), primary_key=True)
    key: Mapped[str] = mapped_column(String(255), primary_key=True)
    request_hash: Mapped[str] = mapped_column(String(64))
    response_status: Mapped[int]
    response_body: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(index=True)
