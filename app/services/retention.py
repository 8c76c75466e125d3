"""Retention (UU PDP): purge person data past its keeping period, keep statistics and the chain.

Each aggregate that holds personal data has a purger, listed in ``_purgers`` below (more can be
registered, as tests do)::

    register_purger("reports", purge_closed_report_persons)

``run_retention`` calls every purger with the cutoff for its kind of data and
records one audit event per purger naming what it purged (ids only); then it trims the audit
trail itself when ``SINERGI_AUDIT_RETENTION_DAYS`` is set, leaving a checkpoint so the chain
still verifies.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from app.config import Settings
from app.models.base import utcnow
from app.services import officers, report_retention, watches
from app.services.audit import AuditEventIn, Outcome, purge_events_before, record_event
from app.services.purge import Purged, Purger

__all__ = ["Purged", "Purger", "RetentionRun", "register_purger", "run_retention"]

_purgers: dict[str, Purger] = {
    "reports.person_data": report_retention.purge_person_data,
    "watches.expired": watches.purge_expired,
    "officers": officers.purge_departed_officers,
}


def register_purger(name: str, purger: Purger) -> None:
    """Add (or replace) the purger called ``name``."""
    _purgers[name] = purger


def unregister_purger(name: str) -> None:
    _purgers.pop(name, None)


def registered_purgers() -> dict[str, Purger]:
    return dict(_purgers)


@dataclass(frozen=True)
class RetentionRun:
    person_data_cutoff: datetime
    purged: dict[str, Purged]
    audit_events_removed: int


async def run_retention(
    session: AsyncSession, settings: Settings, *, now: datetime | None = None
) -> RetentionRun:
    """Run every purger and the audit-trail trim in the caller's transaction, auditing each."""
    now = now or utcnow()
    cutoff = now - timedelta(days=settings.retention_person_data_days)
    results: dict[str, Purged] = {}
    for name, purger in sorted(_purgers.items()):
        purged = await purger(session, cutoff)
        results[name] = purged
        await record_event(
            session,
            AuditEventIn(
                action="retention.purge",
                outcome=Outcome.SUCCESS,
                object_type=purged.object_type,
                object_ids=tuple(purged.object_ids),
                detail={
                    "purger": name,
                    "cutoff": cutoff.isoformat(),
                    "count": str(len(purged.object_ids)),
                    **purged.detail,
                },
            ),
        )
    removed = 0
    if settings.audit_retention_days:
        removed = await purge_events_before(
            session, now - timedelta(days=settings.audit_retention_days)
        )
    return RetentionRun(person_data_cutoff=cutoff, purged=results, audit_events_removed=removed)
