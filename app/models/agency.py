"""Agencies: the members of the exchange (an Immigration office, a Police resort, BP3MI, …)."""

from __future__ import annotations

from sqlalchemy import JSON, String
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, IdMixin, TimestampMixin
from app.vocab.enums import AgencyKind as AgencyKind
from app.vocab.enums import Scope as Scope

#: Scopes of an ordinary member agency.
DEFAULT_AGENCY_SCOPES = [
    Scope.REPORTS_WRITE,
    Scope.REPORTS_READ,
    Scope.INBOX_READ,
    Scope.SCREENING_QUERY,
]

ADMIN_AGENCY_CODE = "ADMIN"


class Agency(IdMixin, TimestampMixin, Base):
    __tablename__ = "agencies"

    #: The agency's code, its OAuth ``client_id`` (for example ``IMIGRASI-DUMAI``).
    code: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(40))
    #: Kemendagri region code of the agency's area (``14.72`` Kota Dumai).
    region_code: Mapped[str | None] = mapped_column(String(13))
    contact_name: Mapped[str | None] = mapped_column(String(200))
    contact_email: Mapped[str | None] = mapped_column(String(254))
    contact_phone: Mapped[str | None] = mapped_column(String(32))
    #: Granted scopes (values of :class:`Scope`).
    scopes: Mapped[list[str]] = mapped_column(JSON, default=lambda: list(DEFAULT_AGENCY_SCOPES))
    active: Mapped[bool] = mapped_column(default=True)
