"""Watches: an agency asks to hear when a later report names a person (``watch.hit``).

The watched person is normalized, featured and indexed by blocking keys exactly like a report
person. Ingest calls :func:`collect_hits` for each new or corrected report: every unexpired watch
sharing a key with one of its persons is scored with the same ``compare`` and ``decide`` as
person resolution, and fires at the link threshold, once per (watch, report).
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.config import Settings
from app.errors import FieldProblem, InvalidInput, NotFound
from app.matching.features_json import features_from_json, features_to_json
from app.matching.scoring import (
    MatchScore,
    Outcome,
    PersonFeatures,
    blocking_keys,
    compare,
    decide,
    without_values,
)
from app.models.agency import Scope
from app.models.base import utcnow
from app.models.delivery import Delivery
from app.models.report import Report
from app.models.watch import Watch
from app.pagination import decode_int_cursor, decode_time_cursor, encode_cursor
from app.repositories import reports as report_repo
from app.repositories import watches as repo
from app.schemas.screening import PersonQuery, WatchHitOut, WatchIn, WatchOut
from app.services.caller import Caller
from app.services.match_weights import current_weights
from app.services.purge import Purged
from app.services.screening import query_person, require_identification
from app.services.visibility import ACKNOWLEDGEABLE_TLP


@dataclass(frozen=True)
class WatchSettings:
    """How long a watch lasts unless asked (and at most); ``of`` takes them from Settings."""

    default_days: int
    max_days: int

    @classmethod
    def of(cls, settings: Settings) -> WatchSettings:
        return cls(settings.watch_default_days, settings.watch_max_days)


def to_out(watch: Watch, now: datetime | None = None, *, new_hits: int = 0) -> WatchOut:
    now = now or utcnow()
    return WatchOut(
        id=watch.id,
        person=PersonQuery.model_validate(watch.person),
        note=watch.note,
        created_at=watch.created_at,
        expires_at=watch.expires_at,
        active=watch.expires_at > now,
        new_hits=new_hits,
    )


async def create(
    session: AsyncSession, caller: Caller, body: WatchIn, *, settings: WatchSettings
) -> WatchOut:
    """Store a watch on a person for the calling agency."""
    require_identification([("/person", body.person)])
    now = utcnow()
    expires_at = body.expires_at or now + timedelta(days=settings.default_days)
    if expires_at <= now or expires_at > now + timedelta(days=settings.max_days):
        raise InvalidInput(
            detail=f"expires_at must lie in the future, at most {settings.max_days} days from now",
            errors=[
                FieldProblem(
                    "/expires_at",
                    f"must be after now and within {settings.max_days} days",
                    "expires_at_out_of_range",
                )
            ],
        )
    queried = query_person(body.person, "/person")
    watch = Watch(
        id=uuid.uuid4(),
        agency_id=caller.agency_id,
        person=body.person.model_dump(mode="json", exclude_none=True, exclude_defaults=True),
        name_normalized=queried.normalized.full_name,
        nik=queried.normalized.nik,
        passport_number=queried.normalized.passport_number,
        phone_e164=queried.normalized.phone,
        features=features_to_json(queried.features),
        note=body.note,
        created_at=now,
        expires_at=expires_at,
    )
    repo.add(session, watch, blocking_keys(queried.features))
    await session.flush()
    return to_out(watch, now)


async def list_own(
    session: AsyncSession, caller: Caller, *, cursor: str | None, limit: int
) -> tuple[list[WatchOut], str | None]:
    """A page of the caller's own watches (expired ones included, marked inactive)."""
    after = decode_time_cursor(cursor) if cursor else None
    rows = await repo.own_page(session, caller.agency_id, after=after, limit=limit + 1)
    page = list(rows[:limit])
    next_cursor = encode_cursor(page[-1].created_at, page[-1].id) if len(rows) > limit else None
    now = utcnow()
    new = await repo.unacked_hit_counts(session, caller.agency_id, [w.id for w in page])
    return [to_out(w, now, new_hits=new.get(str(w.id), 0)) for w in page], next_cursor


async def _own(session: AsyncSession, caller: Caller, watch_id: uuid.UUID) -> Watch:
    """One of the caller's watches; another agency's (or none) is 404, the same answer."""
    watch = await repo.own(session, caller.agency_id, watch_id)
    if watch is None:
        raise NotFound(detail="No such watch")
    return watch


async def read_own(session: AsyncSession, caller: Caller, watch_id: uuid.UUID) -> WatchOut:
    """One of the caller's watches, with its count of hits not yet acknowledged."""
    watch = await _own(session, caller, watch_id)
    new = await repo.unacked_hit_counts(session, caller.agency_id, [watch.id])
    return to_out(watch, new_hits=new.get(str(watch.id), 0))


async def hits(
    session: AsyncSession,
    caller: Caller,
    watch_id: uuid.UUID,
    *,
    cursor: str | None,
    limit: int,
) -> tuple[list[WatchHitOut], str | None]:
    """A page of the times one of the caller's watches fired, newest first.

    Each hit is what its ``watch.hit`` delivery told the agency (reasons without the other
    agency's values unless it could read the report); the report is named only while the
    caller may read it now, as ``GET /v1/reports/{id}`` would answer.
    """
    watch = await _own(session, caller, watch_id)
    before = decode_int_cursor(cursor) if cursor else None
    rows = await repo.hit_deliveries(
        session, caller.agency_id, watch.id, before_sequence=before, limit=limit + 1
    )
    page = list(rows[:limit])
    next_cursor = encode_cursor(page[-1].sequence) if len(rows) > limit else None
    told = [rid for rid in (_told_report(d) for d in page) if rid is not None]
    readable = await repo.visible_report_refs(
        session, None if caller.is_admin else caller.agency_id, told
    )
    return [_hit_out(d, readable) for d in page], next_cursor


def _told_report(delivery: Delivery) -> uuid.UUID | None:
    """The report a hit named to its watcher (only when the watcher could read it)."""
    named = delivery.payload.get("report_id")
    return uuid.UUID(named) if isinstance(named, str) else None


def _hit_out(delivery: Delivery, readable: Mapping[uuid.UUID, str]) -> WatchHitOut:
    payload = delivery.payload
    report_id = _told_report(delivery)
    shown = report_id if report_id in readable else None
    return WatchHitOut(
        id=delivery.id,
        created_at=delivery.created_at,
        new=delivery.acked_at is None,
        score=payload.get("score"),
        reasons=list(payload.get("reasons") or []),
        contact_agency=payload.get("contact_agency"),
        case_id=payload.get("case_id"),
        report_id=shown,
        external_ref=readable[shown] if shown is not None else None,
    )


async def delete(session: AsyncSession, caller: Caller, watch_id: uuid.UUID) -> None:
    """Remove one of the caller's watches; another agency's watch is 404, as if absent."""
    await repo.remove(session, await _own(session, caller, watch_id))


@dataclass(frozen=True)
class HitDelivery:
    """One ``watch.hit`` to deliver: to which agency, what it says, which report it concerns."""

    agency_id: uuid.UUID
    payload: dict[str, Any]
    #: The report id when the watcher may read the report (recorded on the delivery), else None.
    report_id: uuid.UUID | None


async def collect_hits(
    session: AsyncSession,
    report: Report,
    persons: Sequence[tuple[PersonFeatures, uuid.UUID | None, Mapping[str, int]]],
    *,
    recipients: set[uuid.UUID],
    link_threshold: float,
    review_threshold: float,
    watched: bool | None = None,
    keys: Sequence[list[str]] | None = None,
) -> list[HitDelivery]:
    """The ``watch.hit`` deliveries a stored report causes, each (watch, report) once.

    ``persons`` are the report's persons' features with their resolved entity ids and name
    counts (``compare`` weighs a common name less, as resolution did);
    ``recipients`` the agencies the report is routed to (they may read it). A watch fires when
    ``decide`` links a person to the watched person; not for the watcher's own report, not
    after it expired, and for RED and AMBER_STRICT reports only when the watcher may read them.
    ``watched``: whether any watch holds one of the persons' blocking keys, when the caller
    already asked (resolution's candidate lookup does); None: asked here.
    """
    now = utcnow()
    if keys is None:  # each person's, when the caller does not have them
        keys = [blocking_keys(features) for features, _, _ in persons]
    if watched is None:
        watched = await repo.any_sharing_keys(session, [k for pk in keys for k in pk])
    if not watched:
        return []
    weights = await current_weights(session)  # the same weights ingest resolves with
    best: dict[uuid.UUID, tuple[Watch, list[str], MatchScore, uuid.UUID | None]] = {}
    for (features, entity_id, name_counts), person_keys in zip(persons, keys, strict=True):
        for watch, scopes in await repo.live_sharing_keys(session, person_keys, now=now):
            if watch.agency_id == report.source_agency_id:
                continue
            score = compare(features, features_from_json(watch.features), weights, name_counts)
            decision = decide([(watch.id, score)], link_threshold, review_threshold)
            if decision.outcome is not Outcome.LINK:
                continue
            held = best.get(watch.id)
            if held is None or score.log_likelihood > held[2].log_likelihood:
                best[watch.id] = (watch, scopes, score, entity_id)
    if not best:
        return []
    already = await repo.fired(session, list(best), report.id)
    codes = await report_repo.agency_codes(session, [report.source_agency_id])
    hits: list[HitDelivery] = []
    for watch_id, (watch, scopes, score, entity_id) in best.items():
        if watch_id in already:
            continue
        may_read = watch.agency_id in recipients or Scope.ADMIN.value in scopes
        if not may_read and report.tlp not in ACKNOWLEDGEABLE_TLP:
            continue
        probability = round(score.probability, 4)
        repo.record_hit(session, watch_id, report.id, probability)
        hits.append(
            HitDelivery(
                agency_id=watch.agency_id,
                payload={
                    "watch_id": str(watch_id),
                    "note": watch.note,
                    "score": probability,
                    "reasons": list(score.reasons) if may_read else without_values(score.reasons),
                    "entity_id": str(entity_id) if entity_id else None,
                    "case_id": str(report.case_id) if report.case_id else None,
                    "contact_agency": codes[report.source_agency_id],
                    "report_id": str(report.id) if may_read else None,
                },
                report_id=report.id if may_read else None,
            )
        )
    return hits


async def purge_expired(session: AsyncSession, _cutoff: datetime) -> Purged:
    """Retention: an expired watch has no purpose left, and it holds a person's identifiers."""
    ids = await repo.delete_expired(session, utcnow())
    return Purged(object_type="watch", object_ids=[str(i) for i in ids])
