"""The audited report read's query (``GET /v1/reports/{id}``), in Core: columns, no ORM object.

Every read runs it, so it skips what an ORM load costs (the identity map, instance state,
loader options), is built once per process and sent as the driver's prepared statement on
PostgreSQL (``app.db.driver_rows``); need-to-know is part of the statement.
"""

from __future__ import annotations

import functools
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import BindParameter, ColumnElement, Join, Select, Uuid, bindparam, select, true
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.selectable import NamedFromClause

from app.db import driver_rows, table_of
from app.models.agency import Agency
from app.models.report import Report, ReportPerson
from app.repositories.credentials import (
    HOLDER_COLUMNS,
    TokenHolder,
    holder_of_row,
    token_holder_query,
)
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
    return _stored(rows, 0) if rows else None


def _stored(rows: Sequence[Sequence[Any]], start: int) -> StoredReport:
    """The report in the columns of ``rows`` from ``start`` on (``_report_columns``)."""
    first = rows[0][start:]
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
        entities={row[start + 9]: row[start + 10] for row in rows if row[start + 9] is not None},
    )


async def holder_and_report(
    session: AsyncSession, code: str, credential_id: uuid.UUID | None, report_id: uuid.UUID
) -> tuple[TokenHolder | None, StoredReport | None]:
    """A bearer token's holder (``credentials.token_holder``'s answer for ``code`` and
    ``credential_id``) and the report ``report_id`` as ``stored_report`` reads it for the
    holder's agency, in one statement: a read's token check and its query in one round trip.

    The report is only what the statement found: the caller checks the holder (live, its
    scopes) before any of it is used, and ``visible`` is the agency's need-to-know (an admin,
    known only once the token's scopes are, sees every report).
    """
    params = {"code": code, "credential_id": credential_id, "report_id": report_id}
    rows = await driver_rows(session, _holder_and_report_query(), params)
    if not rows:
        return None, None
    holder = holder_of_row(rows[0])
    found = _stored(rows, HOLDER_COLUMNS) if rows[0][HOLDER_COLUMNS] is not None else None
    return holder, found


def _report_columns(visible: ColumnElement[bool]) -> list[ColumnElement[Any]]:
    """What a read takes of the report, its source agency (as ``source``) and its persons."""
    reports, persons = table_of(Report), table_of(ReportPerson)
    return [
        reports.c.id,
        reports.c.version,
        reports.c.status,
        reports.c.status_reason,
        reports.c.body,
        reports.c.created_at,
        reports.c.updated_at,
        _source().c.code,
        visible,
        persons.c.position,
        persons.c.entity_id,
    ]


def _report_join() -> Join:
    """The report with its source agency and its persons (one row per person, at least one)."""
    reports, persons = table_of(Report), table_of(ReportPerson)
    return reports.join(_source(), _source().c.id == reports.c.source_agency_id).outerjoin(
        persons, persons.c.report_id == reports.c.id
    )


@functools.cache
def _source() -> NamedFromClause:
    return table_of(Agency).alias("source")


def _report_id() -> BindParameter[uuid.UUID]:
    return bindparam("report_id", type_=Uuid)


@functools.cache
def _query(*, by_agency: bool) -> Select[Any]:
    """``stored_report``'s statement, on the tables (no ORM entity), built once per process."""
    # need-to-know: the one rule every read of reports applies (``reports.visible_to``)
    visible: ColumnElement[bool] = (
        visible_to(bindparam("agency_id", type_=Uuid)) if by_agency else true()
    )
    return (
        select(*_report_columns(visible))
        .select_from(_report_join())
        .where(table_of(Report).c.id == _report_id())
    )


@functools.cache
def _holder_and_report_query() -> Select[Any]:
    """``holder_and_report``'s statement: the token holder's, with the report joined to it
    (no report: its columns are NULL), visible to the holder's agency or not."""
    holder = token_holder_query()
    agency_id = table_of(Agency).c.id
    return holder.add_columns(*_report_columns(visible_to(agency_id))).outerjoin(
        _report_join(), table_of(Report).c.id == _report_id()
    )
