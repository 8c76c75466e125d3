"""Calibrating the matcher on the stored persons, and the weights ingest and screening use.

`sinergi dedup calibrate` first measures u (how often non-matches agree) on random pairs of
stored persons, then runs unsupervised EM (app.matching.calibration) on the candidate pairs the
blocking index produces (persons that share a key) to estimate m; the u and the share of matches
EM learns among candidates explain the namesakes blocking brings together and are not kept:
among candidates non-matches agree on names far more often than among random pairs.
It also counts the term frequencies of given names, family names and address words over the
stored persons (app.matching.term_frequency), so that agreeing on a rare name weighs more than
on a common one. The result is stored; resolution uses the latest stored weights, or the shipped
defaults until a calibration exists.
"""

from __future__ import annotations

import itertools
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from app.db import transaction
from app.matching.calibration import (
    estimate_m_among_candidates,
    estimate_u,
    link_threshold_for_precision,
)
from app.matching.features_json import features_from_json
from app.matching.scoring import DEFAULT_WEIGHTS, Weights, comparison_levels
from app.matching.term_frequency import TermCounter, TermFrequencies
from app.models.resolution import MatchWeights
from app.repositories import match_weights as repo

#: Weights are re-read at most this often per process (seconds).
REFRESH_SECONDS = 300.0
_cache: dict[str, tuple[float, Weights]] = {}


#: Below these sample sizes the estimate is noise: calibrating a small store would replace
#: sound shipped weights with degenerate ones, so nothing is stored.
MIN_RANDOM_PAIRS = 500
MIN_CANDIDATE_PAIRS = 200
#: Term frequencies are counted over at most this many stored persons (a page at a time): a
#: sample this large ranks the frequent names and places of a country as well as all would.
MAX_TERM_PERSONS = 1_000_000
_TERM_PAGE = 5_000


@dataclass(frozen=True)
class Calibration:
    weights: Weights
    pairs: int
    random_pairs: int
    converged: bool
    iterations: int
    stored: bool
    link_threshold: float | None = None
    """The link threshold estimated for the precision asked, if one was."""
    term_persons: int = 0
    """Stored persons whose names and addresses were counted for the term frequencies."""
    kept_fields: tuple[str, ...] = ()
    """Fields seen in too few candidate pairs to estimate m: the shipped m stays."""
    not_one_person: tuple[str, ...] = ()
    """Fields in which EM over all candidates found households, not persons (m learnt within
    pairs of one name instead)."""
    namesake_u: tuple[str, ...] = ()
    """Fields whose u was raised to how often namesakes among the candidates agree in them."""


async def calibrate(
    session: AsyncSession,
    *,
    max_pairs: int = 200_000,
    max_group: int = 30,
    save: bool = True,
    min_pairs: int = MIN_CANDIDATE_PAIRS,
    min_random_pairs: int = MIN_RANDOM_PAIRS,
    precision: float | None = None,
    max_term_persons: int = MAX_TERM_PERSONS,
    shipped_u: bool = False,
) -> Calibration:
    """Estimate weights from the stored persons' candidate pairs; store them unless ``save`` is off.

    ``precision``: also estimate the lowest link threshold whose links the new model expects to
    be right that often (the mean match probability of the candidate pairs above it).
    u measured on random pairs is then raised, field by field, to how often namesakes among the
    candidates agree (``estimate_m_among_candidates``).
    ``shipped_u``: learn m only and keep the shipped u (no random pairs needed). u measured on
    random pairs is far smaller for names than the shipped, capped u, so name agreements weigh
    more and, with term frequencies, join namesakes; m learnt on the store with the shipped u
    keeps them apart (``benchmarks/README.md``, issue 22).
    """
    groups = await repo.candidate_groups(session, max_group=max_group, limit=max_pairs)
    wanted = {pid for group in groups for pid in group}
    stored = await repo.features(session, list(wanted))
    parsed = {pid: features_from_json(f) for pid, f in stored.items()}
    seen: set[tuple[object, object]] = set()
    vectors = []
    for group in groups:
        for a, b in itertools.combinations(sorted(p for p in group if p in parsed), 2):
            if (a, b) in seen:
                continue
            seen.add((a, b))
            vectors.append(comparison_levels(parsed[a], parsed[b]))
            if len(vectors) >= max_pairs:
                break
        if len(vectors) >= max_pairs:
            break
    random_pairs = [] if shipped_u else await _random_pairs(session)
    initial = estimate_u(random_pairs, DEFAULT_WEIGHTS) if random_pairs else DEFAULT_WEIGHTS
    weights, report = estimate_m_among_candidates(
        vectors, initial, min_field_pairs=min_pairs, namesake_u=not shipped_u
    )
    frequencies, term_persons = await count_terms(session, max_persons=max_term_persons)
    weights = replace(weights, term_frequencies=frequencies)
    enough = len(vectors) >= max(min_pairs, 1) and (
        shipped_u or len(random_pairs) >= min_random_pairs
    )
    threshold = (
        link_threshold_for_precision(vectors, weights, precision) if precision is not None else None
    )
    if save and enough:
        session.add(
            MatchWeights(
                weights=weights.to_json(),
                pairs=len(vectors),
                converged=report.converged,
                link_threshold=threshold,
                precision=precision,
            )
        )
        await session.flush()
        forget_cached_weights()
    return Calibration(
        weights,
        len(vectors),
        len(random_pairs),
        report.converged,
        report.iterations,
        stored=save and enough,
        link_threshold=threshold,
        term_persons=term_persons,
        kept_fields=report.kept,
        not_one_person=report.not_one_person,
        namesake_u=report.namesake_u,
    )


async def _random_pairs(session: AsyncSession) -> list[dict[str, str]]:
    """Comparison vectors of random pairs of stored persons (almost all two people), for u."""
    sample = {
        pid: features_from_json(f) for pid, f in (await repo.random_persons(session, 2000)).items()
    }
    persons = list(sample.values())
    return [
        comparison_levels(persons[i], persons[j])
        for i, j in zip(range(0, len(persons) - 1, 2), range(1, len(persons), 2), strict=False)
    ]


#: Term frequencies counted on fewer persons than this are noise: nothing is stored.
MIN_TERM_PERSONS = 1000


async def calibrate_terms(
    session: AsyncSession,
    *,
    save: bool = True,
    min_persons: int = MIN_TERM_PERSONS,
    max_term_persons: int = MAX_TERM_PERSONS,
) -> Calibration:
    """Count term frequencies and store them with the m/u weights in use (`calibrate
    --terms-only`): rare names count more without replacing weights an operator trusts."""
    row = await repo.latest(session)
    current = Weights.from_json(row.weights) if row else DEFAULT_WEIGHTS
    frequencies, counted = await count_terms(session, max_persons=max_term_persons)
    weights = replace(current, term_frequencies=frequencies)
    enough = counted >= max(min_persons, 1)
    if save and enough:
        session.add(MatchWeights(weights=weights.to_json(), pairs=0, converged=True))
        await session.flush()
        forget_cached_weights()
    return Calibration(weights, 0, 0, True, 0, stored=save and enough, term_persons=counted)


async def count_terms(session: AsyncSession, *, max_persons: int) -> tuple[TermFrequencies, int]:
    """Term frequencies over the stored persons, read page by page; and how many were read."""
    return await _count_pages(
        lambda after, limit: repo.features_after(session, after, limit), max_persons
    )


async def _count_pages(
    read_page: Callable[[uuid.UUID | None, int], Awaitable[list[tuple[uuid.UUID, Any]]]],
    max_persons: int,
) -> tuple[TermFrequencies, int]:
    counter = TermCounter()
    after = None
    read = 0
    while read < max_persons:
        page = await read_page(after, min(_TERM_PAGE, max_persons - read))
        if not page:
            break
        counter.add(features_from_json(f) for _, f in page if f)
        read += len(page)
        after = page[-1][0]
    return replace(counter.frequencies(), persons=read), read


@dataclass(frozen=True)
class TermRecount:
    """What one due-check of the worker's term recount found (``recount_terms_if_due``)."""

    persons: int
    """Resolved persons in the store at the check."""
    counted_on: int | None
    """Persons the table in use was counted on (``None``: no table is in use)."""
    due: bool
    stored: bool = False
    """A new table was stored (not when another worker or an operator stored one meanwhile)."""
    term_persons: int = 0
    """Persons read for the new table."""


def _counted_on(row: MatchWeights | None) -> int | None:
    """Persons the stored table was counted on; for a table stored before that was recorded,
    the most persons bearing a term of one kind (at most the persons read)."""
    if row is None:
        return None
    frequencies = Weights.from_json(row.weights).term_frequencies
    if frequencies is None:
        return None
    return frequencies.persons or max(frequencies.totals.values(), default=0)


async def recount_terms_if_due(
    factory: async_sessionmaker[AsyncSession],
    *,
    growth: float,
    min_persons: int | None = None,
    max_term_persons: int = MAX_TERM_PERSONS,
) -> TermRecount:
    """The worker's schedule of ``calibrate --terms-only``: count the store's term frequencies
    when it has ``min_persons`` resolved persons and no table, or has grown ``growth``-fold
    since its table was counted (``growth`` 0: never); store them with the m/u weights in use
    (an operator's full calibration's stay in use, with fresh counts).

    Not due, it costs one read of the latest weights and one count of the persons. The count
    reads a page per short transaction (no transaction open over the whole store), then one
    short transaction stores the table under a lock, only if the weights in use are still
    those the check saw: of several workers due at once, one stores its table; an operator's
    calibration meanwhile wins.
    """
    async with factory() as session:
        row = await repo.latest(session)
        persons = await repo.count_resolved(session)
    seen = row.id if row is not None else None
    counted_on = _counted_on(row)
    min_persons = MIN_TERM_PERSONS if min_persons is None else min_persons
    due = (
        growth > 0
        and persons >= max(min_persons, 1)
        and (counted_on is None or persons >= growth * counted_on)
    )
    if not due:
        return TermRecount(persons, counted_on, due=False)

    async def read_page(after: uuid.UUID | None, limit: int) -> list[tuple[uuid.UUID, Any]]:
        async with factory() as page_session:
            return await repo.features_after(page_session, after, limit)

    frequencies, read = await _count_pages(read_page, max_term_persons)
    if read < max(min_persons, 1):  # persons removed meanwhile (retention)
        return TermRecount(persons, counted_on, due=True, term_persons=read)
    async with transaction(factory) as session:
        await repo.lock_weights(session)
        latest = await repo.latest(session)
        if (latest.id if latest is not None else None) != seen:
            return TermRecount(persons, counted_on, due=True, term_persons=read)
        current = Weights.from_json(latest.weights) if latest is not None else DEFAULT_WEIGHTS
        weights = replace(current, term_frequencies=frequencies)
        session.add(MatchWeights(weights=weights.to_json(), pairs=0, converged=True))
    forget_cached_weights()
    return TermRecount(persons, counted_on, due=True, stored=True, term_persons=read)


#: The worker calibrates a store by itself from this many resolved persons on (as it counts
#: their terms): fewer give too few candidate pairs to estimate m.
MIN_CALIBRATION_PERSONS = 1000
#: ... and from this many candidate pairs: a level one person's records seldom show (a birth
#: date or sex that differs, m 0.005-0.01) is not seen among the few hundred true pairs of a
#: smaller sample, and EM fills it with household members. m learnt on 809 candidate pairs of a
#: store of households merged 22 of 78 twins; on 3,062 pairs, 3 as the shipped weights
#: (benchmarks/README.md, issue 22, `autocal`). ``calibrate``'s own floor (200) stays the
#: operator's, who can check the result on labelled samples.
MIN_SELF_CALIBRATION_PAIRS = 2000


@dataclass(frozen=True)
class SelfCalibration:
    """What one due-check of the worker's calibration found (``calibrate_if_due``)."""

    persons: int
    """Resolved persons in the store at the check."""
    calibrated_on: int | None
    """Persons at the worker's calibration in use (``None``: the m and u in use are not the
    worker's)."""
    operators: bool
    """An operator's calibration is in use: the worker never replaces it."""
    due: bool
    stored: bool = False
    """New weights were stored (not when another worker or an operator stored some meanwhile,
    nor when the store gave too few pairs for the estimate)."""
    pairs: int = 0
    """Candidate pairs the m were estimated on."""
    households: tuple[str, ...] = ()
    """Not empty: EM over all candidates found households in these fields (m learnt within pairs
    of one name instead)."""
    merges: int = 0
    """Merges of the recluster pass the worker ran under the new weights."""


async def calibrate_if_due(
    factory: async_sessionmaker[AsyncSession],
    *,
    growth: float,
    min_persons: int | None = None,
    min_pairs: int | None = None,
    max_term_persons: int = MAX_TERM_PERSONS,
) -> SelfCalibration:
    """The worker's schedule of ``sinergi dedup calibrate --shipped-u``: estimate m by EM over the
    candidate pairs and count the term frequencies, and store them with the shipped u, when the
    store holds ``min_persons`` resolved persons and the worker has not calibrated it, then
    whenever it has grown ``growth``-fold since (``growth`` 0: never). An operator's own
    calibration is never replaced.

    u stays shipped: ``calibrate`` measures u on at most 1,000 random pairs, where a name agreeing
    exactly (u 1.7e-4) is seldom seen once; its u falls to the floor and a shared name weighs 19
    bits. On a young store of households that took precision from 0.981 to 0.878
    (benchmarks/README.md, issue 22, `autocal`); the operator, who can check on labelled
    samples, may store a full calibration instead.

    Not due, it costs one read of the latest weights and one count of the persons (and, where
    the worker never calibrated, one look for an operator's calibration). The estimate reads the
    candidate pairs in one session, the term counts a page per session; one short transaction
    stores the weights under the lock the term recount takes, only if the weights in use are
    still those the check saw: of several workers due at once one stores.
    """
    async with factory() as session:
        row = await repo.latest(session)
        persons = await repo.count_resolved(session)
        current = Weights.from_json(row.weights) if row is not None else DEFAULT_WEIGHTS
        calibrated_on = current.calibrated_by_worker_on
        operators = (
            calibrated_on is None and row is not None and await repo.calibrated_by_operator(session)
        )
    seen = row.id if row is not None else None
    min_persons = MIN_CALIBRATION_PERSONS if min_persons is None else min_persons
    min_pairs = MIN_SELF_CALIBRATION_PAIRS if min_pairs is None else min_pairs
    due = (
        growth > 0
        and not operators
        and persons >= max(min_persons, 1)
        and (calibrated_on is None or persons >= growth * calibrated_on)
    )
    if not due:
        return SelfCalibration(persons, calibrated_on, operators, due=False)
    async with factory() as session:
        estimate = await calibrate(
            session,
            save=False,
            min_pairs=min(MIN_CANDIDATE_PAIRS, min_pairs),  # per field, as the command
            max_term_persons=0,
            shipped_u=True,
        )
    checked = SelfCalibration(
        persons,
        calibrated_on,
        operators,
        due=True,
        pairs=estimate.pairs,
        households=estimate.not_one_person,
    )
    if estimate.pairs < max(min_pairs, 1):
        return checked

    async def read_page(after: uuid.UUID | None, limit: int) -> list[tuple[uuid.UUID, Any]]:
        async with factory() as page_session:
            return await repo.features_after(page_session, after, limit)

    frequencies, _ = await _count_pages(read_page, max_term_persons)
    weights = replace(
        estimate.weights, term_frequencies=frequencies, calibrated_by_worker_on=persons
    )
    async with transaction(factory) as session:
        await repo.lock_weights(session)
        latest = await repo.latest(session)
        if (latest.id if latest is not None else None) != seen:
            return checked
        session.add(
            MatchWeights(
                weights=weights.to_json(), pairs=estimate.pairs, converged=estimate.converged
            )
        )
    forget_cached_weights()
    return replace(checked, stored=True)


async def current_weights(session: AsyncSession) -> Weights:
    """The latest calibrated weights (cached for a few minutes per database), or the defaults."""
    engine = session.bind
    key = str(engine.url) if isinstance(engine, AsyncEngine) else "default"
    cached = _cache.get(key)
    now = time.monotonic()
    if cached and now - cached[0] < REFRESH_SECONDS:
        return cached[1]
    row = await repo.latest(session)
    weights = Weights.from_json(row.weights) if row else DEFAULT_WEIGHTS
    _cache[key] = (now, weights)
    return weights


def forget_cached_weights() -> None:
    """Make the next resolution read the stored weights again (after a calibration, in tests)."""
    _cache.clear()
