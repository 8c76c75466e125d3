"""Repairing what online resolution missed (`sinergi dedup recluster`, and the worker's schedule).

Online resolution decides once, when a person arrives, from what is stored then and from at most
``MAX_CANDIDATES`` of it. Two records of one person that arrived in an unlucky order, or before the
record that joins them, stay two entities. This pass walks the stored persons touched since the
last pass (every stored person on a full pass), batch by batch, re-scores each pair of persons of
two different entities that share a pass key (``RECLUSTER_KEY_PREFIXES``, each held by at most
``RECLUSTER_KEY_LIMIT`` persons), and merges the two entities where the pair clears the merge bar
(the threshold that merges bridged entities online), as an analyst would: an ``entity.merge``
action by ``recluster`` that an admin can list and undo. It never merges entities whose NIKs
contradict (``niks_contradict``: two NIKs each one digit from a third are that NIK mistyped
twice, not two persons), nor across an analyst's split or a rejected possible match, nor where a
RED or AMBER_STRICT report would join the persons of another agency (those stay for analysts, as
ingest leaves them). When a merge joins two cases, the agencies holding reports in them get
``case.linked``, under the same need-to-know as ingest: a RED or AMBER_STRICT report never
reveals itself that way.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from functools import partial
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app import metrics
from app.db import transaction
from app.matching.features_json import features_from_json
from app.matching.scoring import (
    ADDRESS,
    BIRTH_DATE,
    NAME,
    NAME_FREQUENCY_CAP,
    PHONE,
    RECLUSTER_KEY_LIMIT,
    RECLUSTER_KEY_PREFIXES,
    MatchScore,
    PersonFeatures,
    Weights,
    compare,
    compare_entity,
    identifiers_conflict,
    name_frequency_keys,
)
from app.models.base import utcnow
from app.models.report import ReportPerson
from app.repositories import resolution as repo
from app.services.curation import merge_entities
from app.services.delivery import Outgoing, enqueue_all
from app.services.match_weights import current_weights

#: The actor of the merges this pass records (``GET /v1/admin/resolution-actions?actor=recluster``).
ACTOR = "recluster"

#: TLP labels whose reports are never revealed by telling another agency its case grew.
_UNTOLD_TLP = frozenset({"RED", "AMBER_STRICT"})


#: How far before the last pass's start the next one looks: a report stored by a transaction
#: still open when that pass started is re-scored too.
WATERMARK_OVERLAP = timedelta(minutes=5)


@dataclass
class ReclusterResult:
    full: bool = True
    """Every stored person walked (else only those touched since the last recorded pass)."""
    persons: int = 0
    """Stored persons walked."""
    pairs: int = 0
    """Pairs of persons of two entities sharing a pass key, scored."""
    merges: int = 0
    refused_identifiers: int = 0
    """Pairs over the bar whose entities hold contradicting NIKs or passports."""
    refused_analyst: int = 0
    """Pairs over the bar that an analyst's split or rejected possible match keeps apart."""
    refused_restricted: int = 0
    """Pairs over the bar left to analysts: both entities hold RED or AMBER_STRICT reports of
    different agencies, so whichever survived, an agency would see its entity id change because
    of a report hidden from it (DESIGN §5)."""
    cases_joined: int = 0
    events: int = 0
    merged_entities: list[uuid.UUID] = field(default_factory=list)
    """The entities that absorbed another (the first 100)."""


#: Name levels strong enough to merge two entities on, with two more fields agreeing.
_STRONG_NAME = frozenset({"exact", "phonetic", "similar_high"})


def clears(score: MatchScore, threshold: float) -> bool:
    """Whether a pair is evidence enough to merge two entities without an analyst.

    Above the merge threshold, and: a NIK or passport vouches for it, or the name agrees closely
    and two of birth date, phone and address agree too. The score alone is not enough in a
    large store: hundreds of people share a birth date, and a name that is "part of the other"
    with an equal birth date scores 0.996 between two strangers.
    """
    return held_back(score, threshold) is None


def held_back(score: MatchScore, threshold: float) -> str | None:
    """What keeps a pair from clearing the pass's bar (``clears``), in words; None if it clears."""
    if score.vetoed:
        return "vetoed"
    if score.review_only:
        return "review only"
    if score.probability < threshold:
        return "below the merge bar"
    if score.confirmed:
        return None
    levels = score.levels
    corroborating = (
        levels[BIRTH_DATE] in {"exact", "day_month_swapped"},
        levels[PHONE] == "exact",
        levels[ADDRESS] == "similar",
    )
    if levels[NAME] not in _STRONG_NAME:
        return "name not close enough"
    if sum(corroborating) < 2:
        return "one field agreeing, not two"
    return None


def clears_together(score: MatchScore, threshold: float) -> bool:
    """Whether a person scored against another entity's records together (``compare_entity``:
    per field, the best agreement with any of them, as ingest scores an entity) is evidence
    enough to merge the two entities without an analyst.

    One record of a person ("ZAHRALESTARI" with a phone) and an entity of several ("Zahra
    Lestari" with that phone, and again with her birth date): no pair of records clears
    ``clears``, each lacking a second field, though the entity gives both. Above the merge
    threshold, no veto nor twins rule holding it, the name agreeing closely, and a phone or an
    address agreeing: a birth date alone is what twins and strangers born that day share.
    """
    if score.vetoed or score.review_only or score.probability < threshold:
        return False
    levels = score.levels
    return levels[NAME] in _STRONG_NAME and (
        levels[PHONE] == "exact" or levels[ADDRESS] == "similar"
    )


def niks_contradict(first: Iterable[str], second: Iterable[str]) -> bool:
    """Whether two entities' NIKs say they are two persons: the pass never merges them then.

    A NIK is given once for life, and a mistyped one is not a second NIK: two records of one
    person whose clerks each slipped on one digit hold NIKs two edits apart, which online
    resolution reads as one NIK too (``identifiers_conflict``, ``niks_two_slips_apart``), unless
    they look like the NIKs of twins registered together: one region and birth date, another
    serial.
    """
    return identifiers_conflict(first, second)


async def recluster(
    sessions: async_sessionmaker[AsyncSession],
    *,
    merge_threshold: float,
    batch_size: int = 1000,
    dry_run: bool = False,
    full: bool = False,
    key_limit: int = RECLUSTER_KEY_LIMIT,
    progress: Callable[[ReclusterResult], None] | None = None,
) -> ReclusterResult:
    """One pass, each batch in its own transaction: over the persons touched since the last
    recorded pass, or over every stored person (``full``, or no pass recorded yet).

    A finished pass is recorded (not a dry run): its start, less ``WATERMARK_OVERLAP``, is where
    the next one starts looking.
    """
    started = utcnow()
    async with transaction(sessions) as session:
        since = None if full else await repo.last_pass_started(session)
        touched = (
            None
            if since is None
            else await repo.touched_person_ids(session, since - WATERMARK_OVERLAP)
        )
    result = ReclusterResult(full=touched is None)
    # Every batch of this pass: the same bar, result and feature cache.
    rescore = partial(
        recluster_batch,
        merge_threshold=merge_threshold,
        dry_run=dry_run,
        result=result,
        key_limit=key_limit,
        cache=_FeatureCache(),
    )
    if touched is None:
        after: uuid.UUID | None = None
        while True:
            async with transaction(sessions) as session:
                ids = await repo.person_ids_after(session, after, batch_size)
                if ids:
                    await rescore(session, ids, None)
            if progress is not None:
                progress(result)
            if len(ids) < batch_size:
                break
            after = ids[-1]
    else:
        among = set(touched)
        for start in range(0, len(touched), batch_size):
            async with transaction(sessions) as session:
                await rescore(session, touched[start : start + batch_size], among)
            if progress is not None:
                progress(result)
    if not dry_run:
        async with transaction(sessions) as session:
            repo.record_pass(
                session,
                started_at=started,
                full=result.full,
                persons=result.persons,
                pairs=result.pairs,
                merges=result.merges,
            )
    return result


class _FeatureCache:
    """Parsed features of the persons a pass has met, the most recent ``size`` of them.

    In a full pass one person is met in the batch of each holder of its keys; parsing its
    stored JSON once saves most of the work of fetching it again.
    """

    def __init__(self, size: int = 50_000) -> None:
        self.size = size
        self.features: dict[uuid.UUID, PersonFeatures] = {}

    def parsed(self, person: uuid.UUID, stored: dict[str, Any]) -> PersonFeatures:
        found = self.features.get(person)
        if found is None:
            if len(self.features) >= self.size:
                self.features.clear()
            found = self.features[person] = features_from_json(stored)
        return found


async def recluster_batch(
    session: AsyncSession,
    ids: Sequence[uuid.UUID],
    among: set[uuid.UUID] | None,
    *,
    merge_threshold: float,
    result: ReclusterResult,
    dry_run: bool = False,
    key_limit: int = RECLUSTER_KEY_LIMIT,
    cache: _FeatureCache | None = None,
    weights: Weights | None = None,
) -> None:
    """Re-score the pairs of persons ``ids`` with the persons of other entities sharing a pass
    key, each pair once: with later ids in a full pass (``among`` None), else with any person
    outside ``among`` (the persons this pass walks) and later ids inside it."""
    result.persons += len(ids)
    cache = cache or _FeatureCache()
    weights = weights or await current_weights(session)
    pairs = {
        (a, b)
        for a, b in await repo.pairs_sharing_keys(
            session, ids, RECLUSTER_KEY_PREFIXES, key_limit=key_limit, later_only=among is None
        )
        # within the persons this pass walks, a pair is met from its lower id only
        if among is None or b not in among or b > a
    }
    if not pairs:
        return
    stored = await repo.persons_to_rescore(session, {p for pair in pairs for p in pair})
    features = {pid: cache.parsed(pid, f) for pid, (_entity, f) in stored.items()}
    sure: list[tuple[uuid.UUID, uuid.UUID]] = []
    unsure: dict[uuid.UUID, set[uuid.UUID]] = {}
    for a, b in sorted(pairs):
        if a in features and b in features:
            result.pairs += 1
            if clears(compare(features[a], features[b], weights), merge_threshold):
                sure.append((a, b))
            else:  # either may be the one left by itself
                unsure.setdefault(a, set()).add(stored[b][0])
                unsure.setdefault(b, set()).add(stored[a][0])
    entity_of = {pid: entity for pid, (entity, _f) in stored.items()}
    together = await _together(
        session, unsure, entity_of, features, weights, merge_threshold, cache
    )
    if not sure and not together:
        return
    # As online: an agreement on a common name weighs less. Counted only for the few pairs that
    # clear the bar without it, in one statement.
    met = [a for a, _ in sure] + [a for a, _ in together]
    names = await repo.key_counts(
        session, {k: NAME_FREQUENCY_CAP for a in met for k in name_frequency_keys(features[a])}
    )
    apart = await repo.kept_apart(session)
    outgoing: list[Outgoing] = []
    for a, b in sure:
        mine_names = {k: names.get(k, 0) for k in name_frequency_keys(features[a])}
        score = compare(features[a], features[b], weights, mine_names)
        if clears(score, merge_threshold):
            await _merge(session, a, b, score, features, apart, result, outgoing, dry_run)
    for a, records in together:
        mine_names = {k: names.get(k, 0) for k in name_frequency_keys(features[a])}
        score = compare_entity(features[a], list(records.values()), weights, mine_names)
        if clears_together(score, merge_threshold):
            b = next(iter(records))
            await _merge(session, a, b, score, features, apart, result, outgoing, dry_run)
    if outgoing:
        result.events += len(outgoing)
        await enqueue_all(session, outgoing)
        await session.flush()


async def _together(
    session: AsyncSession,
    unsure: dict[uuid.UUID, set[uuid.UUID]],
    entity_of: dict[uuid.UUID, uuid.UUID],
    features: dict[uuid.UUID, PersonFeatures],
    weights: Weights,
    merge_threshold: float,
    cache: _FeatureCache,
) -> list[tuple[uuid.UUID, dict[uuid.UUID, PersonFeatures]]]:
    """The persons of ``unsure`` (a person and the entities of its pairs that did not clear the
    bar) that clear it against one of those entities' records together (``clears_together``),
    with that entity's records; only entities of two records or more (one record is its pair),
    and only persons that are an entity by themselves: a person already linked brings its
    entity's other records along, which may be a namesake's linked in by mistake."""
    if not unsure:
        return []
    wanted = {e for entities in unsure.values() for e in entities}
    records: dict[uuid.UUID, dict[uuid.UUID, PersonFeatures]] = {}
    rows = await repo.entities_to_rescore(session, wanted | {entity_of[a] for a in unsure})
    for pid, (entity, stored) in rows.items():
        records.setdefault(entity, {})[pid] = cache.parsed(pid, stored)
    found = []
    for a, entities in sorted(unsure.items()):
        if len(records.get(entity_of[a], {})) > 1:
            continue
        for entity in sorted(entities):
            held = records.get(entity, {})
            if len(held) < 2:
                continue
            score = compare_entity(features[a], list(held.values()), weights)
            if clears_together(score, merge_threshold):
                found.append((a, held))
                break
    return found


async def _merge(
    session: AsyncSession,
    a: uuid.UUID,
    b: uuid.UUID,
    score: MatchScore,
    features: dict[uuid.UUID, PersonFeatures],
    apart: list[tuple[set[uuid.UUID], set[uuid.UUID]]],
    result: ReclusterResult,
    outgoing: list[Outgoing],
    dry_run: bool,
) -> None:
    """Merge the entities of persons ``a`` and ``b`` (as they are now), unless something forbids."""
    first, second = await session.get(ReportPerson, a), await session.get(ReportPerson, b)
    if first is None or second is None or first.entity_id is None or second.entity_id is None:
        return
    target, source = first.entity_id, second.entity_id
    if target == source:
        return  # an earlier merge of this batch already joined them
    held = await repo.entity_niks(session, [target, source])
    if niks_contradict(held.get(target, []), held.get(source, [])):
        result.refused_identifiers += 1
        return
    try:
        survivor = _survivor(await repo.entity_report_sources(session, [target, source]))
    except _Refused:
        result.refused_restricted += 1
        return
    if survivor == source:
        target, source = source, target
    members = await repo.entity_persons_ids(session, [target, source])
    ours, theirs = members.get(target, set()), members.get(source, set())
    for these, those in apart:
        if (these & ours and those & theirs) or (these & theirs and those & ours):
            result.refused_analyst += 1
            return
    result.merges += 1
    if len(result.merged_entities) < 100:
        result.merged_entities.append(target)
    if dry_run:
        return
    action = await merge_entities(session, ACTOR, source, target)
    action.undo = {
        **action.undo,
        "score": round(score.probability, 4),
        "reasons": list(score.reasons),
    }
    metrics.count_after_commit(session, metrics.ENTITY_MERGES)
    absorbed_cases = [uuid.UUID(c) for c in action.undo.get("cases", {})]
    moved = {uuid.UUID(r): uuid.UUID(c) for r, c in action.undo.get("reports", {}).items() if c}
    for absorbed in absorbed_cases:
        live = await repo.live_case_id(session, absorbed)
        if live is None:
            continue
        result.cases_joined += 1
        came = [r for r, old in moved.items() if old == absorbed]
        were = [r.id for r in await repo.case_reports(session, live) if r.id not in set(came)]
        told = {o.agency_id: o for o in await _tell_holders(session, live, came, were)}
        for item in await _tell_holders(session, live, were, came):
            if item.agency_id in told:  # it holds reports on both sides: one event, all of them
                mine = told[item.agency_id].payload["your_reports"] + item.payload["your_reports"]
                item.payload["your_reports"] = sorted(set(mine))
            told[item.agency_id] = item
        outgoing.extend(told.values())


class _Refused(Exception):
    """A merge that would reveal a RED or AMBER_STRICT report: left to analysts."""


def _survivor(sources: list[tuple[uuid.UUID, uuid.UUID, str]]) -> uuid.UUID | None:
    """The entity that must survive a merge so that nobody learns of a report hidden from them
    (None: either may); raises ``_Refused`` when no choice keeps that promise.

    An entity id that changes under an agency tells it that its person joined someone. Where
    only one side holds RED or AMBER_STRICT reports, the other side survives: its holders see no
    change, and the restricted side's holders learn only of reports anyone may be told of (as
    ingest would have linked them). Where both sides do and more than one agency holds them,
    analysts decide.
    """
    restricted = {e for e, _a, tlp in sources if tlp in _UNTOLD_TLP}
    if not restricted:
        return None
    entities = {e for e, _a, _t in sources}
    if len(restricted) == 1 and len(entities) == 2:
        return next(iter(entities - restricted))
    if len({a for _e, a, _t in sources}) == 1:
        return None  # one agency holds every report on both sides
    raise _Refused


async def _tell_holders(
    session: AsyncSession, case_id: uuid.UUID, theirs: list[uuid.UUID], others: list[uuid.UUID]
) -> list[Outgoing]:
    """``case.linked`` to the holders of ``theirs``: their case now holds ``others`` too.

    Only reports another agency could learn of from the case view count as news: an agency is
    told nothing when all that joined it are RED or AMBER_STRICT reports, or its own.
    """
    holders = await repo.report_holders(session, [*theirs, *others])
    tlp_of = {report: (agency, tlp) for report, agency, tlp in holders}
    told: dict[uuid.UUID, list[uuid.UUID]] = {}
    for report in theirs:
        if report in tlp_of:
            told.setdefault(tlp_of[report][0], []).append(report)
    out = []
    for agency, reports in told.items():
        news = [
            r
            for r in others
            if r in tlp_of and tlp_of[r][0] != agency and tlp_of[r][1] not in _UNTOLD_TLP
        ]
        if not news:
            continue
        out.append(
            Outgoing(
                agency,
                "case.linked",
                {
                    "case_id": str(case_id),
                    "your_reports": [str(r) for r in reports],
                    "linked_by_agency": None,
                    "report_id": None,
                },
            )
        )
    return out
