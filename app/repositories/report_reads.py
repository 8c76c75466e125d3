"""The audited report read's query (``GET /v1/reports/{id}``), in Core: columns, no ORM object.

Every read runs it, so it skips what an ORM load costs (the identity map, instance state,
loader options), is built once per process and sent as the driver's prepared statement on
PostgreSQL (``app.db.driver_rows``); need-to-know is part of the statement.
"""

from __future__ import annotations

import functools
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, Uuid, bindparam, select, true
from sqlalchemy.ext.asyncio import AsyncSession

from app.db import driver_rows, table_of
from app.models.agency import Agency
from app.models.report import Report, ReportPerson
from app.repositories.reports import visible_to


@dataclass(frozen=True, slots=True)
class StoredReport:
    """A report's current state as a read shows it (the columns ``to_out`` takes)."""

    id: uuid.UUID
    version: int
    status: str
    status_reason: str | None
    body: dict[str, Any]
    created_at: datetime
    updated_at: datetime
    source_code: str
    #: Whether the agency asking may see it (always True for an admin).
    visible: bool
    #: Each person's current entity, by position.
    entities: dict[int, uuid.UUID | None]


async def stored_report(
    session: AsyncSession, report_id: uuid.UUID, agency_id: uuid.UUID | None
) -> StoredReport | None:
    """The report ``report_id`` with its source's code, whether ``agency_id`` may see it
    (None: an admin, who sees everything) and its persons' entities; None if there is none."""
    params: dict[str, uuid.UUID] = {"report_id": report_id}
    if agency_id is not None:
        params["agency_id"] = agency_id
    rows = await driver_rows(session, _query(by_agency=agency_id is not None), params)
    if not rows:
        return None
    first = rows[0]
    return StoredReport(
        id=first[0],
        version=first[1],
        status=first[2],
        status_reason=first[3],
        body=first[4],
        created_at=first[5],
        updated_at=first[6],
        source_code=first[7],
        visible=bool(first[8]),
        entities={row[9]: row[10] for row in rows if row[9] is not None},
    )


@functools.cache
def _query(*, by_agency: bool) -> Select[Any]:
    """``stored_report``'s statement, on the tables (no ORM entity), built once per process."""
    reports = table_of(Report)
    agencies = table_of(Agency)
    persons = table_of(ReportPerson)
    # need-to-know: the one rule every read of reports applies (``reports.visible_to``)
    visible: ColumnElement[bool] = (
        visible_to(bindparam("agency_id", type_=Uuid)) if by_agency else true()
    )
    return (
        select(
            reports.c.id,
            reports.c.version,
            reports.c.status,
            reports.c.status_reason,
            reports.c.body,
            reports.c.created_at,
            reports.c.updated_at,
            agencies.c.code,
            visible,
            persons.c.position,
            persons.c.entity_id,
        )
        .join(agencies, agencies.c.id == reports.c.source_agency_id)
        .outerjoin(persons, persons.c.report_id == reports.c.id)
        .where(reports.c.id == bindparam("report_id", type_=Uuid))
    )
