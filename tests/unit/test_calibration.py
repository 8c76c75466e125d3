"""EM estimation of m and u values recovers known parameters from unlabelled pairs."""

from __future__ import annotations

import random

import pytest

from app.matching.calibration import (
    estimate_m_among_candidates,
    estimate_u,
    estimate_weights,
    estimate_weights_with_report,
    link_threshold_for_precision,
    match_probability,
)
from app.matching.scoring import DEFAULT_WEIGHTS, MISSING, FieldWeights, Weights

# The truth the pairs are drawn from: three fields whose levels separate matches from
# non-matches to different degrees, as NIK, name and birth date do among blocked candidates.
TRUE_M = {
    "nik": {"exact": 0.85, "typo": 0.10, "different": 0.05},
    "name": {"exact": 0.70, "similar": 0.25, "different": 0.05},
    "birth_date": {"exact": 0.80, "same_year": 0.15, "different": 0.05},
    "sex": {"same": 0.97, "different": 0.03},
}
TRUE_U = {
    "nik": {"exact": 0.01, "typo": 0.02, "different": 0.97},
    "name": {"exact": 0.20, "similar": 0.30, "different": 0.50},
    "birth_date": {"exact": 0.05, "same_year": 0.35, "different": 0.60},
    "sex": {"same": 0.50, "different": 0.50},
}
TRUE_PRIOR = 0.3
MISSING_RATE = {"nik": 0.4, "name": 0.0, "birth_date": 0.1, "sex": 0.05}


def draw(rng: random.Random, table: dict[str, float]) -> str:
    return rng.choices(list(table), weights=list(table.values()))[0]


def synthetic_pairs(n: int, seed: int) -> list[dict[str, str]]:
    rng = random.Random(seed)
    pairs = []
    for _ in range(n):
        source = TRUE_M if rng.random() < TRUE_PRIOR else TRUE_U
        pairs.append(
            {
                name: MISSING if rng.random() < MISSING_RATE[name] else draw(rng, levels)
                for name, levels in source.items()
            }
        )
    return pairs


def start() -> Weights:
    """A deliberately wrong starting point: flat-ish m and u, prior 0.1."""
    fields = {}
    for name, levels in TRUE_M.items():
        k = len(levels)
        m = {level: (2.0 if i == 0 else 1.0) / (k + 1) for i, level in enumerate(levels)}
        u = {level: (1.0 if i == 0 else 2.0) / (2 * k - 1) for i, level in enumerate(levels)}
        fields[name] = FieldWeights(m=m, u=u)
    return Weights(fields=fields, prior=0.1)


def test_em_recovers_known_m_u_and_prior() -> None:
    weights, report = estimate_weights_with_report(synthetic_pairs(40_000, seed=11), start())
    assert report.converged
    assert weights.prior == pytest.approx(TRUE_PRIOR, abs=0.02)
    for name in TRUE_M:
        for level in TRUE_M[name]:
            assert weights.fields[name].m[level] == pytest.approx(TRUE_M[name][level], abs=0.03)
            assert weights.fields[name].u[level] == pytest.approx(TRUE_U[name][level], abs=0.03)


def test_estimated_probabilities_sum_to_one_per_field() -> None:
    weights = estimate_weights(synthetic_pairs(5_000, seed=3), start())
    for fw in weights.fields.values():
        assert sum(fw.m.values()) == pytest.approx(1.0)
        assert sum(fw.u.values()) == pytest.approx(1.0)
        assert min(fw.m.values()) > 0
        assert min(fw.u.values()) > 0


def test_no_pairs_leave_the_initial_weights() -> None:
    assert estimate_weights([], DEFAULT_WEIGHTS) == DEFAULT_WEIGHTS


def test_an_unknown_level_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown level"):
        estimate_weights([{"nik": "almost"}], DEFAULT_WEIGHTS)


def test_estimated_weights_can_be_stored() -> None:
    weights = estimate_weights(synthetic_pairs(2_000, seed=5), start())
    assert Weights.from_json(weights.to_json()) == weights


def test_estimate_u_counts_levels_among_random_pairs() -> None:
    rng = random.Random(2)
    pairs = [{name: draw(rng, levels) for name, levels in TRUE_U.items()} for _ in range(20_000)]
    weights = estimate_u(pairs, start())
    for name in TRUE_U:
        for level in TRUE_U[name]:
            assert weights.fields[name].u[level] == pytest.approx(TRUE_U[name][level], abs=0.02)
        assert weights.fields[name].m == start().fields[name].m


def test_em_with_u_and_prior_fixed_estimates_m_only() -> None:
    truth_u = Weights(
        fields={name: FieldWeights(m=start().fields[name].m, u=TRUE_U[name]) for name in TRUE_U},
        prior=TRUE_PRIOR,
    )
    weights = estimate_weights(
        synthetic_pairs(20_000, seed=13), truth_u, fix_u=True, fix_prior=True
    )
    assert weights.prior == TRUE_PRIOR
    for name in TRUE_M:
        assert weights.fields[name].u == TRUE_U[name]
        for level in TRUE_M[name]:
            assert weights.fields[name].m[level] == pytest.approx(TRUE_M[name][level], abs=0.03)


def test_the_link_threshold_for_a_precision_keeps_the_expected_precision() -> None:
    sure = {"nik": "exact", "name": "exact", "birth_date": "exact"}
    likely = {"name": "exact", "birth_date": "exact"}
    doubtful = {"name": "phonetic", "birth_date": "same_year"}
    unlikely = {"name": "different", "birth_date": "different"}
    pairs = [sure] * 50 + [likely] * 20 + [doubtful] * 20 + [unlikely] * 100
    strict = link_threshold_for_precision(pairs, DEFAULT_WEIGHTS, 0.999)
    loose = link_threshold_for_precision(pairs, DEFAULT_WEIGHTS, 0.9)
    assert strict is not None
    assert loose is not None
    assert loose <= strict
    assert match_probability(likely, DEFAULT_WEIGHTS) >= strict  # name and birth date link
    assert match_probability(unlikely, DEFAULT_WEIGHTS) < loose
    assert link_threshold_for_precision([unlikely], DEFAULT_WEIGHTS, 0.99) is None


# Candidates of a store of households: a few pairs of one person's records, many of two members
# of one household (one address, one phone, other names and birth dates), many namesakes.
ONE_PERSON = {
    "name": {"exact": 0.8, "phonetic": 0.1, "different": 0.1},
    "birth_date": {"exact": 0.85, "typo": 0.1, "different": 0.05},
    "address": {"similar": 0.8, "different": 0.2},
    "phone": {"exact": 0.8, "different": 0.2},
}
HOUSEMATES = {
    "name": {"subset": 0.3, "different": 0.7},
    "birth_date": {"same_year": 0.1, "exact": 0.05, "different": 0.85},
    "address": {"similar": 0.95, "different": 0.05},
    "phone": {"exact": 0.9, "different": 0.1},
}
NAMESAKES = {
    "name": {"exact": 0.9, "phonetic": 0.1},
    "birth_date": {"different": 0.8, "same_year": 0.15, "exact": 0.05},
    "address": {"similar": 0.02, "different": 0.98},
    "phone": {"exact": 0.001, "different": 0.999},
}


def test_candidates_of_households_teach_one_persons_m_not_the_households() -> None:
    rng = random.Random(3)
    pairs = []
    for _ in range(20_000):
        r = rng.random()
        source = ONE_PERSON if r < 0.03 else HOUSEMATES if r < 0.5 else NAMESAKES
        pairs.append({name: draw(rng, levels) for name, levels in source.items()})
    weights, report = estimate_m_among_candidates(pairs, DEFAULT_WEIGHTS)
    # EM over all of them finds the household (its birth dates differ); within pairs of one
    # name the person is found: her records' birth dates differ one time in twenty.
    assert "birth_date" in report.not_one_person
    for name in ("birth_date", "address", "phone"):
        assert weights.fields[name].m["different"] == pytest.approx(
            ONE_PERSON[name]["different"], abs=0.03
        )
    # Pairs of one birth date are too few persons to say how her name varies: shipped m stays.
    assert weights.fields["name"].m == DEFAULT_WEIGHTS.fields["name"].m
    assert "name" in report.kept


# Candidates of a store where many persons share a name: pairs of one person's records, pairs of
# namesakes (one name, one sex, often one birth year or a date a digit apart, another house) and
# pairs that met on a phone or an address number (other names).
PERSON_RECORDS = {
    "name": {"exact": 0.75, "phonetic": 0.15, "different": 0.1},
    "birth_date": {"exact": 0.75, "typo": 0.12, "year_only": 0.1, "different": 0.03},
    "sex": {"same": 0.99, "different": 0.01},
    "phone": {"exact": 0.75, "different": 0.25},
    "address": {"similar": 0.7, "partial": 0.1, "different": 0.2},
}
NAMESAKE_RECORDS = {
    "name": {"exact": 0.95, "phonetic": 0.05},
    "birth_date": {"same_year": 0.6, "typo": 0.1, "year_only": 0.1, "different": 0.2},
    "sex": {"same": 0.97, "different": 0.03},
    "phone": {"different": 1.0},
    "address": {"partial": 0.01, "different": 0.99},
}
STRANGERS = {
    "name": {"similar_low": 0.1, "different": 0.9},
    "birth_date": {"same_year": 0.05, "different": 0.95},
    "sex": {"same": 0.5, "different": 0.5},
    "phone": {"exact": 0.3, "different": 0.7},
    "address": {"similar": 0.3, "partial": 0.1, "different": 0.6},
}
# u as random pairs of such a store show it: rare agreement on anything.
RANDOM_PAIRS_U = {
    "name": {"exact": 2e-4, "phonetic": 2e-4, "different": 0.99},
    "birth_date": {"exact": 1e-4, "typo": 2e-3, "year_only": 3e-3, "same_year": 0.025},
    "sex": {"same": 0.5, "different": 0.5},
    "phone": {"exact": 1e-4, "different": 0.9999},
    "address": {"similar": 5e-5, "partial": 6e-3, "different": 0.99},
}


def random_pairs_weights() -> Weights:
    fields = dict(DEFAULT_WEIGHTS.fields)
    for name, u in RANDOM_PAIRS_U.items():
        levels = {**fields[name].u, **u}
        rest = 1 - sum(p for level, p in levels.items() if level != "different")
        fields[name] = FieldWeights(m=fields[name].m, u={**levels, "different": rest})
    return Weights(fields=fields, prior=DEFAULT_WEIGHTS.prior)


def test_namesakes_among_the_candidates_raise_u_and_stay_apart() -> None:
    rng = random.Random(5)
    pairs = []
    for _ in range(20_000):
        r = rng.random()
        source = PERSON_RECORDS if r < 0.3 else NAMESAKE_RECORDS if r < 0.6 else STRANGERS
        pairs.append({name: draw(rng, levels) for name, levels in source.items()})
    weights, report = estimate_m_among_candidates(pairs, random_pairs_weights())
    # Two persons of one name are of one sex and often of one birth year: agreeing in them says
    # little once the name agrees.
    assert {"birth_date", "sex"} <= set(report.namesake_u)
    assert weights.fields["sex"].u["same"] > 0.9
    assert weights.fields["birth_date"].u["typo"] > 0.02
    # An exact birth date or an equal phone: one person's, far more than namesakes'; as measured.
    assert weights.fields["birth_date"].u["exact"] == RANDOM_PAIRS_U["birth_date"]["exact"]
    assert weights.fields["phone"].u["exact"] == RANDOM_PAIRS_U["phone"]["exact"]

    namesakes = {"name": "exact", "birth_date": "typo", "sex": "same", "phone": "different"}
    namesakes_a_year_apart = {**namesakes, "birth_date": "year_only", "address": "different"}
    her_records = {"name": "exact", "birth_date": "exact", "sex": "same", "phone": "different"}
    for pair in (namesakes, namesakes_a_year_apart):
        assert match_probability(pair, weights) < 0.9
    assert match_probability(her_records, weights) > 0.99


def test_shipped_u_stays_as_shipped_among_namesakes() -> None:
    rng = random.Random(5)
    pairs = [
        {name: draw(rng, levels) for name, levels in NAMESAKE_RECORDS.items()} for _ in range(5_000)
    ]
    weights, report = estimate_m_among_candidates(pairs, DEFAULT_WEIGHTS, namesake_u=False)
    assert report.namesake_u == ()
    assert all(weights.fields[n].u == fw.u for n, fw in DEFAULT_WEIGHTS.fields.items())


def test_a_store_whose_pairs_of_one_name_are_one_persons_raises_no_u() -> None:
    """FEBRL1 without identifiers: nearly every pair of one name is one person's. No namesakes
    are there to learn from; u stays as the random pairs measured it (raising it to one person's
    agreement cost three pairs in four)."""
    rng = random.Random(5)
    pairs = [
        {name: draw(rng, levels) for name, levels in PERSON_RECORDS.items()} for _ in range(600)
    ]
    weights, report = estimate_m_among_candidates(pairs, random_pairs_weights())
    assert report.namesake_u == ()
    for name, fw in random_pairs_weights().fields.items():
        assert weights.fields[name].u == fw.u, name
