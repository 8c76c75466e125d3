"""Retention of reports' personal data (UU PDP): what a purge keeps and what it removes.

A report closed or retracted longer ago than ``SINERGI_RETENTION_PERSON_DATA_DAYS`` loses every
value that identifies a person — names, aliases, NIK, passport numbers, phones, addresses, exact
birth dates, document numbers and the free-text narrative — in its current body and in every
version, in its normalized persons, match reasons and delivered payloads. What statistics and
the case structure need stays: case type, TLP, region, dates, codes, countries, each person's
role, sex, nationality, birth year and entity link. The audit chain is untouched.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.models.base import utcnow
from app.repositories import report_retention as repo
from app.services.purge import Purged

#: Person fields removed by the purge (role, sex, nationality, birth year and the victim or
#: suspect codes are kept for statistics).
PERSONAL_PERSON_FIELDS = frozenset(
    {
        "full_name",
        "aliases",
        "nik",
        "passport_number",
        "phone",
        "address",
        "date_of_birth",
        "region_code",
    }
)
#: Report fields that may name people.
PERSONAL_REPORT_FIELDS = frozenset({"narrative"})
BATCH = 500


def scrub_body(body: dict[str, Any]) -> dict[str, Any]:
    """The report body without the values that identify a person."""
    kept = {k: v for k, v in body.items() if k not in PERSONAL_REPORT_FIELDS}
    if "persons" in kept:
        kept["persons"] = [
            {k: v for k, v in person.items() if k not in PERSONAL_PERSON_FIELDS}
            for person in kept["persons"]
        ]
    if "documents" in kept:
        kept["documents"] = [
            {k: v for k, v in d.items() if k != "number"} for d in kept["documents"]
        ]
    return kept


async def purge_person_data(session: AsyncSession, cutoff: datetime) -> Purged:
    """Remove the personal data of reports closed or retracted before ``cutoff``."""
    now = utcnow()
    reports = await repo.due_reports(session, cutoff, limit=BATCH)
    ids = [r.id for r in reports]
    persons = 0
    if ids:
        for report in reports:
            report.body = scrub_body(report.body)
            report.personal_data_purged_at = now
        for version in await repo.versions_of(session, ids):
            version.body = scrub_body(version.body)
        persons = await repo.scrub_persons(session, ids)
        await repo.scrub_deliveries(session, ids)
    await repo.delete_expired_idempotency(session, now)
    await session.flush()
    return Purged(
        object_type="report", object_ids=[str(i) for i in ids], detail={"persons": str(persons)}
    )
