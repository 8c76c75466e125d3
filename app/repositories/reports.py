"""Queries on reports, their versions, persons, recipients and idempotency records."""

from __future__ import annotations

import functools
import uuid
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    ARRAY,
    BigInteger,
    ColumnElement,
    Integer,
    Select,
    String,
    Uuid,
    and_,
    bindparam,
    column,
    delete,
    exists,
    insert,
    literal_column,
    or_,
    select,
    text,
    true,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import make_transient_to_detached, raiseload, selectinload
from sqlalchemy.orm.attributes import instance_dict

from app.db import add_rows, table_of
from app.models.agency import Agency
from app.models.report import (
    IdempotencyRecord,
    Report,
    ReportFacet,
    ReportModus,
    ReportPerson,
    ReportRecipient,
    ReportVersion,
)
from app.models.resolution import Case, CaseLink
from app.repositories.resolution import LOCK_IDS_SQL, lock_ids


async def get(
    session: AsyncSession, report_id: uuid.UUID, *, for_update: bool = False
) -> Report | None:
    query = select(Report).where(Report.id == report_id).options(selectinload(Report.persons))
    if for_update:
        query = query.with_for_update()
    return (await session.execute(query)).scalar_one_or_none()


async def get_by_external_ref(
    session: AsyncSession, agency_id: uuid.UUID, external_ref: str
) -> Report | None:
    query = (
        select(Report)
        .where(Report.source_agency_id == agency_id, Report.external_ref == external_ref)
        .options(selectinload(Report.persons))
    )
    return (await session.execute(query)).scalar_one_or_none()


@dataclass(frozen=True)
class Claimed:
    """A new report stored by ``insert_new``."""

    #: The stored report, persistent in the session (every column loaded).
    report: Report
    #: On PostgreSQL, a fingerprint of the routing rules' and agencies' rows as the claim's
    #: statement saw them (``ROUTING_STAMP``): routing uses the rules it holds while it is the
    #: same (None on SQLite: routing reads them).
    routing_stamp: str | None


#: The routing rules' and agencies' rows as ``(id, xmin)`` pairs, hashed: any INSERT, UPDATE or
#: DELETE of either table, by any process, gives a new value (a row's new version carries the
#: writing transaction's id). A scalar subquery of a few rows, sent with the claim.
ROUTING_STAMP = (
    "(SELECT md5(string_agg(r.id::text || ':' || r.x, ',' ORDER BY r.id)) FROM "
    "(SELECT id, xmin::text AS x FROM routing_rules "
    "UNION ALL SELECT id, xmin::text AS x FROM agencies) AS r)"
)


async def insert_new(
    session: AsyncSession, values: dict[str, Any], *, lock_keys: Collection[str] = ()
) -> Claimed | None:
    """Store a new report (``values``: every column of its row) unless its ``(source agency,
    external_ref)`` is taken (None then).

    One ``INSERT … ON CONFLICT DO NOTHING`` instead of a lookup, a savepoint and an insert: a
    concurrent request with the same reference waits on the unique index and then finds the
    reference taken. The stored report joins ``session`` as persistent (every column loaded), so
    later changes to it are flushed as an ``UPDATE``; no object is made for a reference taken.

    On PostgreSQL the report is stored with a case of its own, opened in the same statement (and
    only if the report was stored): resolution keeps it when no other report shares a victim,
    the common case, so the report's row is written once (``resolution.put_in_case`` moves it
    otherwise, and drops the case opened for it). ``lock_keys``: resolution's blocking keys,
    whose advisory locks (``resolution.lock_keys``'s, in the same global order) the statement
    takes once the report is stored, and only then: held by the transaction when it returns, so
    every later statement (resolution's candidate lookup) takes its snapshot after they were
    granted. SQLite takes no locks (its transactions hold the write lock).
    """
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        if values["case_id"] is None:
            values["case_id"] = uuid.uuid4()
        params = {**values, _LOCKS: lock_ids(lock_keys)}
        claimed = (await session.execute(_insert_new_statement(dialect), params)).one_or_none()
    else:
        claimed = (await session.execute(_insert_new_statement(dialect), values)).one_or_none()
    if claimed is None:
        return None
    # The row as stored, loaded without history: no attribute event per column.
    report = Report()
    instance_dict(report).update(values)
    make_transient_to_detached(report)
    session.add(report)
    return Claimed(report, claimed[1] if dialect == "postgresql" else None)


#: The claim's parameter naming the advisory locks it takes (not a column of ``reports``).
_LOCKS = "resolution_locks"


@functools.cache
def _insert_new_statement(dialect: str) -> Any:
    """``INSERT … ON CONFLICT DO NOTHING RETURNING id`` of a report, built once per process (its
    values are parameters: every ingest sends the same statement); on PostgreSQL with the
    ``INSERT`` of its case in a CTE, written only if the report was, and the advisory locks of
    ``_LOCKS`` taken in a scalar subquery of the select list, evaluated only for a row the claim
    returned (an uncorrelated subquery runs once, when the first row is projected)."""
    table = table_of(Report)
    if dialect == "postgresql":
        claim = (
            postgresql.insert(table)
            .values({c.key: bindparam(c.key, type_=c.type) for c in table.columns})
            .on_conflict_do_nothing(index_elements=["source_agency_id", "external_ref"])
            .returning(table.c.id, table.c.case_id, table.c.created_at)
            .cte("claimed")
        )
        cases = table_of(Case)
        opened = insert(cases).from_select(
            ["id", "created_at", "updated_at"],
            select(claim.c.case_id, claim.c.created_at, claim.c.created_at),
        )
        stamp = literal_column(ROUTING_STAMP, type_=String)
        locked = (
            text(LOCK_IDS_SQL.replace(":ids", f":{_LOCKS}"))
            .bindparams(bindparam(_LOCKS, type_=ARRAY(BigInteger)))
            .columns(column("locked", Integer))
            .scalar_subquery()
        )
        return select(claim.c.id, stamp, locked).add_cte(opened.cte("opened"))
    # SQLite otherwise (only SQLite and PostgreSQL are supported)
    return (
        sqlite.insert(table)
        .on_conflict_do_nothing(index_elements=["source_agency_id", "external_ref"])
        .returning(table.c.id)
    )


async def get_with_source(
    session: AsyncSession, report_id: uuid.UUID, agency_id: uuid.UUID | None
) -> tuple[Report, str, bool, dict[int, uuid.UUID | None]] | None:
    """The report, its source agency's code, whether ``agency_id`` may see it (None: admin),
    and each person's current entity by position.

    One query for what a read needs (a row per person); the persons' rows are not loaded as
    objects (the body holds what the agency sent).
    """
    query = _read_query(by_agency=agency_id is not None)
    rows = (await session.execute(query, {"report_id": report_id, "agency_id": agency_id})).all()
    if not rows:
        return None
    entities = {row[3]: row[4] for row in rows if row[3] is not None}
    return rows[0][0], rows[0][1], bool(rows[0][2]), entities


@functools.cache
def _read_query(*, by_agency: bool) -> Select[Report, str, bool, int, uuid.UUID | None]:
    """``get_with_source``'s statement (for an agency, or an admin who sees everything), built
    once per process: every read runs it, and its values are parameters."""
    visible: ColumnElement[bool] = (
        _visible_to(bindparam("agency_id", type_=Uuid)) if by_agency else true()
    )
    return (
        select(Report, Agency.code, visible, ReportPerson.position, ReportPerson.entity_id)
        .join(Agency, Agency.id == Report.source_agency_id)
        .outerjoin(ReportPerson, ReportPerson.report_id == Report.id)
        .where(Report.id == bindparam("report_id", type_=Uuid))
        .options(raiseload(Report.persons))
    )


async def entities_by_position(
    session: AsyncSession, report_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, dict[int, uuid.UUID | None]]:
    """Each report's persons' current entities, by position, for a page of reports."""
    if not report_ids:
        return {}
    rows = await session.execute(
        select(ReportPerson.report_id, ReportPerson.position, ReportPerson.entity_id).where(
            ReportPerson.report_id.in_(report_ids)
        )
    )
    out: dict[uuid.UUID, dict[int, uuid.UUID | None]] = {}
    for report_id, position, entity_id in rows:
        out.setdefault(report_id, {})[position] = entity_id
    return out


def _visible_to(agency_id: uuid.UUID | ColumnElement[uuid.UUID]) -> ColumnElement[bool]:
    """Rows an agency may see: its own reports and those routed to it."""
    routed = exists().where(
        ReportRecipient.report_id == Report.id, ReportRecipient.agency_id == agency_id
    )
    return or_(Report.source_agency_id == agency_id, routed)


#: The need-to-know rule for other repositories that count or filter reports (statistics).
visible_to = _visible_to


async def is_visible(session: AsyncSession, report_id: uuid.UUID, agency_id: uuid.UUID) -> bool:
    query = select(Report.id).where(Report.id == report_id, _visible_to(agency_id))
    return (await session.execute(query)).first() is not None


async def list_visible(
    session: AsyncSession,
    *,
    agency_id: uuid.UUID | None,
    case_type: str | None,
    region_code: str | None,
    modus: str | None,
    updated_after: datetime | None,
    after: tuple[datetime, uuid.UUID] | None,
    limit: int,
) -> Sequence[Report]:
    """Reports ordered by (updated_at, id); ``agency_id`` None means every report (admins)."""
    query: Select[Report] = select(Report).options(selectinload(Report.persons))
    if agency_id is not None:
        query = query.where(_visible_to(agency_id))
    if case_type:
        query = query.where(Report.case_type == case_type)
    if region_code:
        prefix = region_code.rstrip(".")
        query = query.where(
            or_(Report.region_code == prefix, Report.region_code.startswith(prefix + "."))
        )
    if modus:
        query = query.where(
            exists().where(ReportModus.report_id == Report.id, ReportModus.code == modus)
        )
    if updated_after:
        query = query.where(Report.updated_at > updated_after)
    if after:
        at, last_id = after
        query = query.where(
            or_(Report.updated_at > at, and_(Report.updated_at == at, Report.id > last_id))
        )
    query = query.order_by(Report.updated_at, Report.id).limit(limit)
    return (await session.execute(query)).scalars().all()


async def versions(session: AsyncSession, report_id: uuid.UUID) -> Sequence[ReportVersion]:
    query = (
        select(ReportVersion)
        .where(ReportVersion.report_id == report_id)
        .order_by(ReportVersion.version)
    )
    return (await session.execute(query)).scalars().all()


def modus_rows(report_id: uuid.UUID, codes: Sequence[str]) -> list[dict[str, Any]]:
    """The ``report_modus`` rows of a report's modus codes (for ``add_rows``)."""
    return [{"report_id": report_id, "code": c} for c in dict.fromkeys(codes)]


def facet_rows(report_id: uuid.UUID, facets: Sequence[tuple[str, str]]) -> list[dict[str, Any]]:
    """The ``report_facets`` rows of a report's (facet, code) pairs (for ``add_rows``)."""
    return [
        {"report_id": report_id, "facet": facet, "code": code}
        for facet, code in dict.fromkeys(facets)
    ]


def version_rows(report: Report, change: str) -> list[dict[str, Any]]:
    """The report's current body as a new ``report_versions`` row (for ``add_rows``)."""
    return [
        {
            "report_id": report.id,
            "version": report.version,
            "body": report.body,
            "body_hash": report.body_hash,
            "change": change,
        }
    ]


def add_recipients(
    session: AsyncSession, report_id: uuid.UUID, recipients: Sequence[tuple[uuid.UUID, str]]
) -> None:
    """(agency id, rule) of each agency a report is routed to (pending: the next flush)."""
    add_rows(
        session,
        table_of(ReportRecipient),
        [{"report_id": report_id, "agency_id": a, "rule": rule} for a, rule in recipients],
    )


async def delete_derived(session: AsyncSession, report_id: uuid.UUID) -> None:
    """Drop what a report's previous version derived (modus, facets, persons, case links), before
    a correction stores its own."""
    for model in (ReportModus, ReportFacet, ReportPerson, CaseLink):
        await session.execute(delete(model).where(model.report_id == report_id))


async def set_persons_status(session: AsyncSession, report_id: uuid.UUID, status: str) -> None:
    """The report's new status on its persons' copy (``ReportPerson.report_status``)."""
    await session.execute(
        update(ReportPerson)
        .where(ReportPerson.report_id == report_id)
        .values(report_status=status)
        .execution_options(synchronize_session=False)
    )


async def recipients(session: AsyncSession, report_id: uuid.UUID) -> Sequence[tuple[str, str]]:
    """(agency code, rule) of each agency the report was routed to, in routing order."""
    query = (
        select(Agency.code, ReportRecipient.rule)
        .join(Agency, Agency.id == ReportRecipient.agency_id)
        .where(ReportRecipient.report_id == report_id)
        .order_by(ReportRecipient.created_at, Agency.code)
    )
    return [(code, rule) for code, rule in (await session.execute(query)).all()]


async def recipient_ids(session: AsyncSession, report_id: uuid.UUID) -> list[uuid.UUID]:
    query = select(ReportRecipient.agency_id).where(ReportRecipient.report_id == report_id)
    return list((await session.execute(query)).scalars().all())


async def agency_codes(session: AsyncSession, ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, str]:
    if not ids:
        return {}
    rows = await session.execute(select(Agency.id, Agency.code).where(Agency.id.in_(set(ids))))
    return dict(rows.all())


async def get_idempotency(
    session: AsyncSession, agency_id: uuid.UUID, key: str, now: datetime
) -> IdempotencyRecord | None:
    query = select(IdempotencyRecord).where(
        IdempotencyRecord.agency_id == agency_id,
        IdempotencyRecord.key == key,
        IdempotencyRecord.expires_at > now,
    )
    return (await session.execute(query)).scalar_one_or_none()


async def delete_expired_idempotency(
    session: AsyncSession, agency_id: uuid.UUID, key: str, now: datetime
) -> None:
    await session.execute(
        delete(IdempotencyRecord).where(
            IdempotencyRecord.agency_id == agency_id,
            IdempotencyRecord.key == key,
            IdempotencyRecord.expires_at <= now,
        )
    )
