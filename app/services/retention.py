"""Retention (UU PDP): purge person data past its keeping period, keep statistics and the chain.

Each aggregate that holds personal data registers a purger::

    register_purger("reports", purge_closed_report_persons)

``run_retention`` calls every registered purger with the cutoff for its kind of data and
records one audit event per purger naming what it purged (ids only); then it trims the audit
trail itself when ``SINERGI_AUDIT_RETENTION_DAYS`` is set, leaving a checkpoint so the chain
still verifies.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from app.config import Settings
from app.models.base import utcnow
from app.services.audit import AuditEventIn, Outcome, purge_events_before, record_event


@dataclass(frozen=True)
class Purged:
    """What one purger removed: the type of the objects and their ids (never their contents)."""

    object_type: str
    object_ids: Sequence[str] = ()
    #: Non-personal facts worth keeping (``{"persons": "12"}``).
    detail: dict[str, str] = field(default_factory=dict)


#: A purger removes personal data last relevant before ``cutoff`` (it only flushes).
Purger = Callable[[AsyncSession, datetime], Awaitable[Purged]]

_purgers: dict[str, Purger] = {}


def register_purger(name: str, purger: Purger) -> None:
    """Add (or replace) the purger called ``name``; reports register theirs at import."""
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
    import app.services.officers
    import app.services.report_retention
    import app.services.watches  # noqa: F401  (each registers its purger on import)

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
