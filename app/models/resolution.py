"""Person entities, their blocking keys, cases, possible matches and analysts' actions."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import JSON, ForeignKey, Index, String, Text, false, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.models.base import Base, IdMixin, utcnow

if TYPE_CHECKING:
    from app.models.report import ReportPerson


class PersonEntity(IdMixin, Base):
    """One real person, as far as resolution can tell: the persons of reports linked to it."""

    __tablename__ = "person_entities"

    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    #: Set when an analyst merged this entity into another (undone by clearing it).
    merged_into_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("person_entities.id"))


class PersonKey(Base):
    """A blocking key of a report person: candidates are found by equal keys, through its
    primary key's index ``(key, report_person_id)``.

    Derived data (``sinergi dedup rekey`` rebuilds it), written 50-80 rows per ingest: no
    foreign key checks each row's person (half a key row's cost on PostgreSQL). A person's keys
    are deleted with it by a trigger on ``report_persons`` (migration
    ``person_keys_0019_cascade_trigger``); a key of a person that does not exist finds nothing,
    since every lookup joins its holders to their persons.
    """

    __tablename__ = "person_keys"

    #: Compared byte by byte on PostgreSQL (``COLLATE "C"``): every key written and looked up
    #: walks the primary key's btree, and a locale's comparison costs several times as much.
    #: Keys are ASCII and only ever compared for equality or grouped: no answer changes.
    key: Mapped[str] = mapped_column(
        String(160).with_variant(String(160, collation="C"), "postgresql"), primary_key=True
    )
    report_person_id: Mapped[uuid.UUID] = mapped_column(primary_key=True, index=True)


class Case(IdMixin, Base):
    """Reports linked because they concern the same victims (or the sender linked them)."""

    __tablename__ = "cases"
    #: Deleting a case (one opened for a report that then joined another) checks that no case
    #: was merged into it: without this index, a scan of every case (3-5 ms at 70,000 cases).
    #: Only merged cases are in it.
    __table_args__ = (
        Index(
            "ix_cases_merged_into_id",
            "merged_into_id",
            postgresql_where=text("merged_into_id IS NOT NULL"),
            sqlite_where=text("merged_into_id IS NOT NULL"),
        ),
    )

    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow, index=True)
    merged_into_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("cases.id"))


class CaseLink(IdMixin, Base):
    """Why a report is in its case: the shared person (or explicit link), score and reasons."""

    __tablename__ = "case_links"

    case_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("cases.id"), index=True)
    report_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("reports.id", ondelete="CASCADE"), index=True
    )
    #: The other report it was linked to (None for the report that opened the case).
    linked_report_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("reports.id", ondelete="CASCADE")
    )
    via_entity_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("person_entities.id"))
    kind: Mapped[str] = mapped_column(String(24))
    score: Mapped[float | None]
    reasons: Mapped[list[str]] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class PossibleMatch(IdMixin, Base):
    """A pair scored in the review band: an analyst accepts (link) or rejects it."""

    __tablename__ = "possible_matches"

    report_person_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("report_persons.id", ondelete="CASCADE"), index=True
    )
    #: Never loaded: orders the flush (the person before its possible match).
    person: Mapped[ReportPerson] = relationship(lazy="raise")
    candidate_entity_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("person_entities.id"))
    score: Mapped[float]
    reasons: Mapped[list[str]] = mapped_column(JSON, default=list)
    status: Mapped[str] = mapped_column(String(16), default="open", index=True)
    #: The candidate is known only from RED/AMBER_STRICT reports the person's sender may not
    #: read: the sender was answered as if the person were new; analysts and the holders of
    #: those reports see the pair (docs/need-to-know.md).
    restricted: Mapped[bool] = mapped_column(default=False, server_default=false())
    decided_by: Mapped[str | None] = mapped_column(String(64))
    decided_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class ResolutionAction(IdMixin, Base):
    """An analyst's merge or split, with what is needed to undo it."""

    __tablename__ = "resolution_actions"

    kind: Mapped[str] = mapped_column(String(24))
    actor: Mapped[str] = mapped_column(String(64))
    undo: Mapped[dict[str, Any]] = mapped_column(JSON)
    undone_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class MatchWeights(IdMixin, Base):
    """Fellegi-Sunter m/u weights estimated from the stored persons (`sinergi dedup calibrate`)."""

    __tablename__ = "match_weights"

    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    #: ``Weights.to_json()``.
    weights: Mapped[str] = mapped_column(Text)
    pairs: Mapped[int]
    converged: Mapped[bool]
    #: The link threshold estimated for the precision asked (``--precision``), if any; ingest
    #: keeps ``SINERGI_MATCH_LINK_THRESHOLD`` until an operator adopts it.
    link_threshold: Mapped[float | None]
    precision: Mapped[float | None]


class ReclusterPass(IdMixin, Base):
    """One finished recluster pass (`sinergi dedup recluster`, the worker's schedule).

    The next scheduled pass re-scores only the persons touched since the latest one started (a
    report stored or amended, a person moved by a merge, split or decision); ``--full`` walks
    every stored person. Dry runs are not recorded.
    """

    __tablename__ = "recluster_passes"

    started_at: Mapped[datetime] = mapped_column(index=True)
    finished_at: Mapped[datetime] = mapped_column(default=utcnow)
    full: Mapped[bool]
    persons: Mapped[int]
    pairs: Mapped[int]
    merges: Mapped[int]
