"""`sinergi dedup calibrate`'s estimate on a store of Indonesian-like persons with twins and
namesakes: the calibrated weights keep them apart (issue 22)."""

from __future__ import annotations

import random

from app.matching.calibration import estimate_m_among_candidates, estimate_u
from app.matching.scoring import DEFAULT_LINK_THRESHOLD, DEFAULT_WEIGHTS, Weights
from benchmarks.accuracy import (
    DEFAULT_REVIEW_THRESHOLD,
    Labelled,
    RunResult,
    candidate_pairs,
    load,
    random_pairs,
    run_online,
)

SEED = 5


def resolved(data: list[Labelled], twins: list[tuple[int, int]], weights: Weights) -> RunResult:
    order = list(range(len(data)))
    random.Random(SEED).shuffle(order)
    return run_online(
        data, order, weights, DEFAULT_LINK_THRESHOLD, DEFAULT_REVIEW_THRESHOLD, twins=twins
    )


def test_calibrating_a_store_with_namesakes_keeps_them_apart() -> None:
    data, relations = load("synthetic-no-ids", 1500, SEED)
    twins = [(a, b) for a, b, kind in relations if kind == "twin"]
    order = list(range(len(data)))
    random.Random(SEED).shuffle(order)
    # As the command does: u on random pairs of stored persons, m by EM over candidate pairs.
    initial = estimate_u(random_pairs(data, 20_000, SEED), DEFAULT_WEIGHTS)
    calibrated, report = estimate_m_among_candidates(candidate_pairs(data, order), initial)
    assert report.converged

    # One person's two records seldom differ in birth date; namesakes do.
    birth = calibrated.fields["birth_date"]
    assert birth.m["different"] < 0.1 < birth.m["exact"]
    result = resolved(data, twins, calibrated)
    assert result.precision >= 0.99
    # Issue 22's bar: fewer than 2% of namesake and of twin pairs in one entity.
    for joined, pairs in (result.namesakes_merged, result.twins_merged):
        assert joined < 0.02 * pairs
    # Nothing about identifiers is learnt from a store without them: the shipped m stays.
    assert calibrated.fields["nik"].m == DEFAULT_WEIGHTS.fields["nik"].m


def test_calibrating_a_store_of_households_keeps_namesakes_apart() -> None:
    """Households without identifiers: many persons share a name, a sex and a birth year. The
    calibration weighs those agreements as namesakes show them, not as random pairs do: six
    same-name pairs were joined at the random pairs' u, one is now (issue 22, `housecal`)."""
    data, relations = load("synthetic-households-no-ids", 2000, SEED)
    twins = [(a, b) for a, b, kind in relations if kind == "twin"]
    order = list(range(len(data)))
    random.Random(SEED).shuffle(order)
    initial = estimate_u(random_pairs(data, 20_000, SEED), DEFAULT_WEIGHTS)
    calibrated, report = estimate_m_among_candidates(candidate_pairs(data, order), initial)
    assert {"birth_date", "sex"} <= set(report.namesake_u)
    # One name, one sex: agreeing on sex says almost nothing more.
    assert calibrated.fields["sex"].bits("same") < 0.5
    result = resolved(data, twins, calibrated)
    joined, pairs = result.namesakes_merged
    assert joined <= 2 < pairs
