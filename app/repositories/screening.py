"""Queries of screening: which live reports name the matched person entities."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.models.report import Report, ReportPerson, ReportStatus


@dataclass(frozen=True)
class Holding:
    """A live report naming an entity, and who holds it."""

    entity_id: uuid.UUID
    report_id: uuid.UUID
    case_id: uuid.UUID | None
    source_agency_id: uuid.UUID
    tlp: str
    created_at: datetime


async def reports_naming(
    session: AsyncSession, entity_ids: Sequence[uuid.UUID], *, limit: int
) -> list[Holding]:
    """Live (not retracted) reports naming any of these entities, newest first, bounded."""
    if not entity_ids:
        return []
    query = (
        select(
            ReportPerson.entity_id,
            Report.id,
            Report.case_id,
            Report.source_agency_id,
            Report.tlp,
            Report.created_at,
        )
        .join(Report, Report.id == ReportPerson.report_id)
        .where(ReportPerson.entity_id.in_(entity_ids), Report.status != ReportStatus.RETRACTED)
        .distinct()
        .order_by(Report.created_at.desc(), Report.id)
        .limit(limit)
    )
    return [
        Holding(entity, report, case, source, tlp, created)
        for entity, report, case, source, tlp, created in (await session.execute(query)).all()
        if entity is not None
    ]
