"""Queries of the retention purge: which reports are due, and the rows that hold their persons."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.models.delivery import Delivery
from app.models.report import IdempotencyRecord, Report, ReportPerson, ReportStatus, ReportVersion
from app.models.resolution import CaseLink, PersonKey, PossibleMatch


async def due_reports(session: AsyncSession, cutoff: datetime, *, limit: int) -> Sequence[Report]:
    """Closed or retracted reports whose status changed before ``cutoff`` and are not purged yet."""
    query = (
        select(Report)
        .where(
            Report.status.in_([ReportStatus.CLOSED, ReportStatus.RETRACTED]),
            Report.status_changed_at < cutoff,
            Report.personal_data_purged_at.is_(None),
        )
        .order_by(Report.status_changed_at)
        .limit(limit)
        .with_for_update()
    )
    return (await session.execute(query)).scalars().all()


async def versions_of(
    session: AsyncSession, report_ids: Sequence[uuid.UUID]
) -> Sequence[ReportVersion]:
    query = select(ReportVersion).where(ReportVersion.report_id.in_(report_ids))
    return (await session.execute(query)).scalars().all()


async def scrub_persons(session: AsyncSession, report_ids: Sequence[uuid.UUID]) -> int:
    """Blank every identifier of the reports' persons and drop their blocking keys.

    The entity link stays: case structure and statistics survive, matching stops.
    """
    person_ids = select(ReportPerson.id).where(ReportPerson.report_id.in_(report_ids))
    await session.execute(delete(PersonKey).where(PersonKey.report_person_id.in_(person_ids)))
    await session.execute(
        update(PossibleMatch)
        .where(PossibleMatch.report_person_id.in_(person_ids))
        .values(reasons=["removed by retention"])
    )
    result = await session.execute(
        update(ReportPerson)
        .where(ReportPerson.report_id.in_(report_ids))
        .values(
            name_normalized=None,
            nik=None,
            passport_number=None,
            phone_e164=None,
            date_of_birth=None,
            features={},
            match_reasons=["removed by retention"],
        )
    )
    await session.execute(
        update(CaseLink)
        .where(CaseLink.report_id.in_(report_ids))
        .values(reasons=["removed by retention"])
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


async def scrub_deliveries(session: AsyncSession, report_ids: Sequence[uuid.UUID]) -> None:
    """Deliveries carried the report itself: keep the record of them, not the content."""
    await session.execute(
        update(Delivery)
        .where(Delivery.report_id.in_(report_ids))
        .values(payload={"removed_by_retention": True})
    )


async def delete_expired_idempotency(session: AsyncSession, now: datetime) -> None:
    await session.execute(delete(IdempotencyRecord).where(IdempotencyRecord.expires_at <= now))
