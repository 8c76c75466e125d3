"""Routing rules: which agencies receive a report, evaluated in order (DESIGN.md §6)."""

from __future__ import annotations

from sqlalchemy import JSON, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, IdMixin, TimestampMixin


class RoutingRule(IdMixin, TimestampMixin, Base):
    """One rule: every non-empty match field must match (any value within a field); empty = any."""

    __tablename__ = "routing_rules"

    #: Short unique name; recorded on each delivery the rule causes (``foreign-nationals``).
    name: Mapped[str] = mapped_column(String(80), unique=True)
    description: Mapped[str | None] = mapped_column(Text)
    #: Evaluation order, ascending (ties broken by name).
    position: Mapped[int] = mapped_column(index=True)
    active: Mapped[bool] = mapped_column(default=True)
    case_types: Mapped[list[str]] = mapped_column(JSON, default=list)
    modus_operandi: Mapped[list[str]] = mapped_column(JSON, default=list)
    exploitation_types: Mapped[list[str]] = mapped_column(JSON, default=list)
    #: Kemendagri region-code prefixes (``14`` Riau matches ``14.72`` Kota Dumai).
    region_prefixes: Mapped[list[str]] = mapped_column(JSON, default=list)
    #: ``True``: only reports naming a foreign national; ``False``: only reports naming none.
    foreign_nationals: Mapped[bool | None] = mapped_column(default=None)
    document_types: Mapped[list[str]] = mapped_column(JSON, default=list)
    document_statuses: Mapped[list[str]] = mapped_column(JSON, default=list)
    destination_countries: Mapped[list[str]] = mapped_column(JSON, default=list)
    tlps: Mapped[list[str]] = mapped_column(JSON, default=list)
    #: Codes of the agencies that receive matching reports.
    recipients: Mapped[list[str]] = mapped_column(JSON, default=list)
