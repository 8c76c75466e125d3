"""Person resolution and cases, on the stored persons: the online path every ingest takes.

For each person of a new report: blocking keys ▸ candidates sharing a key (bounded) ▸ score
each with the matcher ▸ link, record a possible match, or open a new entity. Then the report
joins the case of any other report that shares a victim (merging such cases), or opens one.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.attributes import set_committed_value

from app import metrics
from app.config import Settings
from app.db import add_rows, table_of
from app.matching.features_json import features_from_json
from app.matching.scoring import (
    DEFAULT_MERGE_THRESHOLD,
    DEFAULT_WEIGHTS,
    Decision,
    MatchScore,
    Outcome,
    PersonFeatures,
    Weights,
    blocking_keys,
    bridged,
    decide_entities,
    identifiers_conflict,
    name_frequency_keys,
)
from app.models.report import Report, ReportPerson
from app.models.resolution import ResolutionAction
from app.repositories import resolution as repo
from app.services.curation import CASE_FORMING_ROLES, merge_entities_at_ingest

#: How each resolution outcome is counted in ``sinergi_dedup_persons_total``.
_DEDUP_OUTCOME = {Outcome.LINK: "linked", Outcome.NEW: "new", Outcome.REVIEW: "review"}


@dataclass(frozen=True)
class Thresholds:
    """The match probabilities resolution decides by; ``of`` takes them from Settings, the one
    place settings become thresholds for ingest, screening and watches."""

    link: float
    review: float
    merge: float = DEFAULT_MERGE_THRESHOLD
    """A person matching a second entity this surely merges the two (see ``bridged``)."""

    @classmethod
    def of(cls, settings: Settings) -> Thresholds:
        return cls(
            settings.match_link_threshold,
            settings.match_review_threshold,
            settings.match_merge_threshold,
        )


@dataclass
class PersonResolution:
    """What resolution decided for one report person."""

    entity_id: uuid.UUID
    outcome: Outcome
    score: float | None
    reasons: list[str]
    name_counts: dict[str, int] = field(default_factory=dict)
    """Stored persons bearing each of the person's names, for scoring watches alike."""
    merged: list[uuid.UUID] = field(default_factory=list)
    """Stored entities merged into ``entity_id`` because this person matched them all."""
    watched: bool | None = None
    """Whether a watch held a blocking key of the report's persons when its candidates were
    looked up (``Found.watched``); None: not asked."""


@dataclass
class CaseResolution:
    case_id: uuid.UUID
    #: Other reports the new one was linked to, each with its source agency (the holders told
    #: by ``case.linked``), in the order they were linked.
    linked_reports: dict[uuid.UUID, uuid.UUID] = field(default_factory=dict)


async def lock_for_resolution(session: AsyncSession, persons: Sequence[PersonFeatures]) -> None:
    """Take the blocking-key locks of all of a report's persons at once, in one global order.

    Locked person by person, two reports naming two shared people could each hold one person's
    keys and wait for the other's: PostgreSQL breaks that deadlock by failing one ingest.
    """
    await repo.lock_keys(session, [key for f in persons for key in blocking_keys(f)])


async def candidates_of(
    session: AsyncSession,
    persons: Sequence[PersonFeatures],
    *,
    exclude_report_id: uuid.UUID | None,
    viewer: uuid.UUID | None,
    keys: Sequence[list[str]] | None = None,
) -> list[repo.Found]:
    """The candidates of several persons (a report's) in one lookup, for ``resolve_person``.
    ``keys``: each person's ``blocking_keys``, when the caller has them."""
    if keys is None:
        keys = [blocking_keys(f) for f in persons]
    return await repo.candidates_of_persons(
        session,
        [(k, name_frequency_keys(f)) for f, k in zip(persons, keys, strict=True)],
        exclude_report_id=exclude_report_id,
        viewer=viewer,
    )


async def resolve_person(
    session: AsyncSession,
    person: ReportPerson,
    features: PersonFeatures,
    *,
    thresholds: Thresholds,
    viewer: uuid.UUID | None,
    weights: Weights = DEFAULT_WEIGHTS,
    keys_locked: bool = False,
    found: repo.Found | None = None,
    keys: list[str] | None = None,
) -> PersonResolution:
    """Resolve one report person to an entity, recording how; the person (an object the session
    does not track) is written with its entity, score and reasons at the next flush.

    ``viewer``: the sending agency (None for an admin). Stored persons of reports hidden from
    it (RED, AMBER_STRICT, not its own nor routed to it) take no part in the decision, so what
    the sender is told is what it would be without them; a match with one of them is kept for
    analysts and the hidden report's holders as a restricted possible match.
    ``keys_locked``: the caller already holds the keys' locks (``lock_for_resolution``).
    ``found``: the person's candidates when the caller looked them up already (``candidates_of``,
    with this person's report excluded and the same ``viewer``). ``keys``: the person's
    ``blocking_keys``, when the caller has them.
    """
    if keys is None:
        keys = blocking_keys(features)
    if not keys_locked:
        await repo.lock_keys(session, keys)
    if found is None:
        [found] = await candidates_of(
            session, [features], exclude_report_id=person.report_id, viewer=viewer
        )
    rows = [
        (entity_id, features_from_json(stored), hidden)
        for _pid, entity_id, stored, hidden in found.rows
    ]
    scores: dict[uuid.UUID, MatchScore] = {}
    decision = decide_entities(
        features,
        entities_of(rows, with_hidden=False),
        weights,
        found.name_counts,
        thresholds.link,
        thresholds.review,
        scores,
    )
    best = decision.score
    merged: list[uuid.UUID] = []
    if decision.outcome is Outcome.LINK and decision.candidate is not None and best is not None:
        entity_id = decision.candidate
        result = PersonResolution(
            entity_id, Outcome.LINK, round(best.probability, 4), list(best.reasons)
        )
        merged = await _merge_bridged(session, entity_id, bridged(decision, thresholds.merge))
        if merged:
            result.reasons.append(
                f"matched {len(merged) + 1} stored entities: merged them into one person"
            )
    else:
        entity_id = uuid.uuid4()
        repo.add_entity(session, entity_id)
        reasons = ["no stored person matched"] if best is None else list(best.reasons)
        score = None if best is None else round(best.probability, 4)
        result = PersonResolution(entity_id, decision.outcome, score, reasons)
        if (
            decision.outcome is Outcome.REVIEW
            and decision.candidate is not None
            and best is not None
        ):
            repo.add_possible_match(
                session,
                person.id,
                decision.candidate,
                round(best.probability, 4),
                list(best.reasons),
                restricted=False,
            )
    hiding = {entity_id for entity_id, _, hidden in rows if hidden}
    if hiding:
        # Decided again on every stored person: an entity without hidden records is scored on
        # the same records as for the sender, and its score is not computed twice.
        everyone = decide_entities(
            features,
            entities_of(rows, with_hidden=True),
            weights,
            found.name_counts,
            thresholds.link,
            thresholds.review,
            {e: score for e, score in scores.items() if e not in hiding},
        )
        _keep_restricted_match(session, person, decision, everyone)
    metrics.count_after_commit(session, metrics.DEDUP.labels(_DEDUP_OUTCOME[result.outcome]))
    result.name_counts = found.name_counts
    result.watched = found.watched
    result.merged = merged
    person.entity_id = entity_id
    person.match_score = result.score
    person.match_reasons = result.reasons
    repo.add_person(session, person)
    repo.add_keys(session, person.id, keys)
    return result


def entities_of(
    rows: Sequence[tuple[uuid.UUID, PersonFeatures, bool]], *, with_hidden: bool
) -> list[tuple[uuid.UUID, list[PersonFeatures]]]:
    """Each candidate entity as the lookup shows it: all of its found records together, scored
    at once (``compare_entity``), so that the fourth record of a person meets the NIK of the
    first, the phone of the second and the address of the third at once. Records of reports
    hidden from the sender count only ``with_hidden`` (for analysts, never for the sender)."""
    shown: dict[uuid.UUID, list[PersonFeatures]] = {}
    for entity_id, stored, hidden in rows:
        if with_hidden or not hidden:
            shown.setdefault(entity_id, []).append(stored)
    return list(shown.items())


def _keep_restricted_match(
    session: AsyncSession,
    person: ReportPerson,
    told: Decision[uuid.UUID],
    full: Decision[uuid.UUID],
) -> None:
    """Record the match the sender was not told of: decided on every stored person, hidden
    ones included (``full``), it names an entity the sender's own decision did not."""
    if full.outcome not in {Outcome.LINK, Outcome.REVIEW} or full.candidate is None:
        return
    if full.score is None or (
        told.outcome in {Outcome.LINK, Outcome.REVIEW} and told.candidate == full.candidate
    ):
        return
    repo.add_possible_match(
        session,
        person.id,
        full.candidate,
        round(full.score.probability, 4),
        list(full.score.reasons),
        restricted=True,
    )


async def _merge_bridged(
    session: AsyncSession, target: uuid.UUID, others: Sequence[uuid.UUID]
) -> list[uuid.UUID]:
    """Merge into ``target`` the other entities one incoming person matched as surely.

    Two entities both matched at, say, 0.99 by one person were one person all along, reported
    before the record that joins them arrived. They are merged as an analyst would merge them:
    recorded as an ``entity.merge`` action by ``resolution``, which an admin can undo. Entities
    whose NIKs contradict each other are never merged.
    """
    if not others:
        return []
    held = await repo.entity_niks(session, [target, *others])
    merged: list[uuid.UUID] = []
    for other in others:
        if identifiers_conflict(held.get(target, []), held.get(other, [])):
            continue
        await merge_entities_at_ingest(session, "resolution", other, target)
        held.setdefault(target, []).extend(held.get(other, []))
        merged.append(other)
        metrics.count_after_commit(session, metrics.ENTITY_MERGES)
    return merged


async def assign_case(
    session: AsyncSession,
    report: Report,
    resolutions: Sequence[tuple[ReportPerson, PersonResolution]],
    *,
    viewer: uuid.UUID | None,
    explicit_links: Sequence[Report] = (),
    current_case_id: uuid.UUID | None = None,
) -> CaseResolution:
    """Put the report in the case of every other report sharing a victim, merging such cases.

    Reports hidden from ``viewer`` (the sender; None for an admin) never pull the report into
    their case: the sender would learn the case exists.
    """
    victims = {
        p.entity_id: (p, r) for p, r in resolutions if p.role in CASE_FORMING_ROLES and p.entity_id
    }
    # An entity this resolution opened (a new person, or one only proposed for review) is named
    # by no other report: only the entities linked to are looked up (none: no statement).
    stored = [e for e, (_p, r) in victims.items() if r.outcome is Outcome.LINK]
    shared = await repo.cases_of_entities(
        session, stored, CASE_FORMING_ROLES, exclude_report_id=report.id, viewer=viewer
    )
    # A new report may have been stored with a case opened for it (``reports.insert_new``).
    opened = report.case_id if current_case_id is None else None
    if opened is not None and any(case_id == opened for case_id, _r, _e, _a in shared):
        # An entity merge of this ingest (``curation.merge_entities``) already joined the cases
        # naming the merged person, this report's among them: its case holds other reports now
        # and is the report's case, as a correction's is; it is never dropped.
        current_case_id, opened = opened, None
    case_ids: list[uuid.UUID] = [current_case_id] if current_case_id else []
    for case_id, _report_id, _entity, _agency in shared:
        if case_id not in case_ids:
            case_ids.append(case_id)
    for other in explicit_links:
        if other.case_id and other.case_id not in case_ids:
            case_ids.append(other.case_id)

    if case_ids:
        target = case_ids[0]
        absorbed = case_ids[1:]
        for case_id in absorbed:
            moved, links = await repo.move_case(session, case_id, target)
            # Recorded as curation records its actions (each row's previous value), so that an
            # admin can list it and undo it like an analyst's merge.
            add_rows(
                session,
                table_of(ResolutionAction),
                [
                    {
                        "kind": "case.merge",
                        "actor": "resolution",
                        "undo": {
                            "result": str(target),
                            "reports": {str(r): str(case_id) for r in moved},
                            "links": {str(link): str(case_id) for link in links},
                            "cases": {str(case_id): None},
                        },
                    }
                ],
            )
    if not case_ids and opened is not None:
        target = opened  # the case stored with the report: nothing more to write
    else:
        if not case_ids:
            target, absorbed = uuid.uuid4(), []
        # The case's row (opened, or grown: it moves up in /v1/cases) and the report's case_id
        # in one statement; the report object is told without an ORM UPDATE of its own.
        await repo.put_in_case(
            session,
            report.id,
            target,
            new_case=not case_ids,
            absorbed=absorbed,
            dropped=opened,
        )
        set_committed_value(report, "case_id", target)

    linked: dict[uuid.UUID, uuid.UUID] = {}
    for _case_id, other_report_id, entity_id, source_agency_id in shared:
        _person, resolution = victims[entity_id]
        repo.add_case_link(
            session,
            target,
            report.id,
            kind="shared_person",
            reasons=resolution.reasons,
            linked_report_id=other_report_id,
            via_entity_id=entity_id,
            score=resolution.score,
        )
        linked.setdefault(other_report_id, source_agency_id)
    for other in explicit_links:
        repo.add_case_link(
            session,
            target,
            report.id,
            kind="explicit",
            reasons=["linked by the submitting agency"],
            linked_report_id=other.id,
        )
        linked.setdefault(other.id, other.source_agency_id)
    if not linked:
        repo.add_case_link(session, target, report.id, kind="opened", reasons=["no shared victim"])
    return CaseResolution(target, linked)
