"""Counting queries for statistics: every count is a GROUP BY in the database, never a loop here.

Counts are reports: a report counts once in each cell it belongs to. Retracted reports and
reports outside the period (by ``reported_at``) or outside the caller's need-to-know are left out.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import (
    ColumnElement,
    DateTime,
    Interval,
    Select,
    and_,
    exists,
    func,
    literal,
    or_,
    select,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from app.models.agency import Agency
from app.models.report import Report, ReportFacet, ReportStatus
from app.repositories.reports import visible_to


@dataclass(frozen=True)
class CountScope:
    """Which reports a count covers."""

    #: ``reported_at`` at or after (UTC).
    start: datetime
    #: ``reported_at`` before (UTC).
    end: datetime
    #: Only reports this agency may see; None for every report.
    agency_id: uuid.UUID | None
    #: Months are read in this local time (minutes east of UTC).
    utc_offset_minutes: int


def _conditions(scope: CountScope) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = [
        Report.status != ReportStatus.RETRACTED,
        Report.reported_at >= scope.start,
        Report.reported_at < scope.end,
    ]
    if scope.agency_id is not None:
        conditions.append(visible_to(scope.agency_id))
    return conditions


def _month(session: AsyncSession, offset_minutes: int) -> ColumnElement[Any]:
    """``YYYY-MM`` of ``reported_at`` in the statistics' local time, on either backend."""
    if session.get_bind().dialect.name == "sqlite":
        # SQLite stores the UTC time without an offset (app.models.base.UTCDateTime).
        return func.strftime("%Y-%m", Report.reported_at, f"{offset_minutes:+d} minutes")
    local = func.timezone("UTC", Report.reported_at, type_=DateTime()) + literal(
        timedelta(minutes=offset_minutes), Interval()
    )
    return func.to_char(local, "YYYY-MM")


async def _pairs(session: AsyncSession, query: Select[Any, Any]) -> list[tuple[str | None, int]]:
    return [(code, int(count)) for code, count in (await session.execute(query)).all()]


async def count_reports(session: AsyncSession, scope: CountScope) -> int:
    query = select(func.count()).select_from(Report).where(*_conditions(scope))
    return int((await session.execute(query)).scalar_one())


async def count_by_column(
    session: AsyncSession, scope: CountScope, dimension: str
) -> list[tuple[str | None, int]]:
    """Reports per value of a single-valued dimension: ``month``, ``case_type``, ``province``,
    ``region`` (regency/city) or ``source_agency`` (agency code); None where it is not stated."""
    key: ColumnElement[Any] | InstrumentedAttribute[str]
    if dimension == "month":
        key = _month(session, scope.utc_offset_minutes)
    elif dimension == "case_type":
        key = Report.case_type
    elif dimension == "province":
        key = func.substr(Report.region_code, 1, 2)
    elif dimension == "region":
        key = func.substr(Report.region_code, 1, 5)
    elif dimension == "source_agency":
        query = (
            select(Agency.code, func.count())
            .select_from(Report)
            .join(Agency, Agency.id == Report.source_agency_id)
            .where(*_conditions(scope))
            .group_by(Agency.code)
        )
        return await _pairs(session, query)
    else:
        raise ValueError(f"not a single-valued dimension: {dimension}")
    labelled = key.label("key")
    query = select(labelled, func.count()).where(*_conditions(scope)).group_by(labelled)
    return await _pairs(session, query)


async def count_by_facet(
    session: AsyncSession, scope: CountScope, facet: str
) -> list[tuple[str | None, int]]:
    """Reports per code of a multi-valued facet, plus (None, n) for reports with no such code."""
    query = (
        select(ReportFacet.code, func.count())
        .join(Report, Report.id == ReportFacet.report_id)
        .where(ReportFacet.facet == facet, *_conditions(scope))
        .group_by(ReportFacet.code)
    )
    rows = await _pairs(session, query)
    without = exists().where(ReportFacet.report_id == Report.id, ReportFacet.facet == facet)
    unstated = select(func.count()).select_from(Report).where(*_conditions(scope), ~without)
    missing = int((await session.execute(unstated)).scalar_one())
    return [*rows, (None, missing)] if missing else rows


async def count_with_any(
    session: AsyncSession, scope: CountScope, facets: Sequence[tuple[str, str]]
) -> int:
    """Reports carrying at least one of these (facet, code) pairs, each report once."""
    if not facets:
        return 0
    match = or_(*(and_(ReportFacet.facet == f, ReportFacet.code == c) for f, c in facets))
    carries = exists().where(ReportFacet.report_id == Report.id, match)
    query = select(func.count()).select_from(Report).where(*_conditions(scope), carries)
    return int((await session.execute(query)).scalar_one())


async def agency_names(session: AsyncSession, codes: Sequence[str]) -> dict[str, str]:
    if not codes:
        return {}
    rows = await session.execute(select(Agency.code, Agency.name).where(Agency.code.in_(codes)))
    return {str(code): str(name) for code, name in rows.all()}
