"""The cost of scoring candidate entities (``compare_entity``), alone, and a digest of its answers.

The calls are those of the accuracy benchmark's online loop (``benchmarks.accuracy.run_online``:
each record of a set against the candidate entities its blocking keys find, as ingest scores
them). They are recorded first, then replayed and counted on their own, in the same order, with
the caches of ``app.matching`` emptied in between, so the replay starts as cold as a new process:

    valgrind --tool=callgrind --instr-atstart=no .venv/bin/python -m benchmarks.scoring_cost \
        --callgrind --dataset synthetic --entities 3000 [--tf]

Divide valgrind's ``Collected`` by the calls printed: instructions per ``compare_entity``.
Without valgrind it prints CPU time per call. The digest is a hash of every answer (bits,
probability, levels, reasons, flags) in order: two versions of the code that print the same
digest decided every pair alike, to the last bit of every score.
"""

from __future__ import annotations

import argparse
import gc
import hashlib
import random
import sys
import time
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from app.matching import names, normalize, scoring, term_frequency
from app.matching.scoring import DEFAULT_WEIGHTS, MatchScore, PersonFeatures, Weights
from app.matching.term_frequency import TermFrequencies
from benchmarks import accuracy
from benchmarks.ingest_instructions import instrument

Call = tuple[PersonFeatures, list[PersonFeatures], dict[str, int] | None]


def record(dataset: str, entities: int, seed: int, tf: bool) -> tuple[list[Call], Weights]:
    """The ``compare_entity`` calls of the online loop on one data set, in order, and the
    weights they were scored with (term frequencies counted on the set with ``tf``)."""
    data, _relations = accuracy.load(dataset, entities, seed)
    weights = DEFAULT_WEIGHTS
    if tf:
        weights = replace(weights, term_frequencies=TermFrequencies.count(d.features for d in data))
    order = list(range(len(data)))
    random.Random(seed).shuffle(order)
    calls: list[Call] = []
    scored = accuracy.compare_entity

    def recording(
        a: PersonFeatures,
        members: Sequence[PersonFeatures],
        w: Weights = DEFAULT_WEIGHTS,
        counts: dict[str, int] | None = None,
    ) -> MatchScore:
        calls.append((a, list(members), None if counts is None else dict(counts)))
        return scored(a, members, w, counts)

    accuracy.compare_entity = recording  # type: ignore[assignment]
    try:
        accuracy.run_online(data, order, weights, 0.9, 0.5, twins=(), every_entity=True)
    finally:
        accuracy.compare_entity = scored
    return calls, weights


def empty_caches() -> None:
    """Forget what matching memoized while recording, as a fresh process would not know it."""
    for module in (names, normalize, scoring, term_frequency):
        for value in vars(module).values():
            clear = getattr(value, "cache_clear", None)
            if callable(clear):
                clear()


def fresh(weights: Weights) -> Weights:
    """The same weights as new objects (nothing memoized on them)."""
    tf = weights.term_frequencies
    if tf is None:
        return weights
    return replace(
        weights,
        term_frequencies=TermFrequencies(
            totals=dict(tf.totals),
            counts={k: dict(v) for k, v in tf.counts.items()},
            mean_share=dict(tf.mean_share),
        ),
    )


def digest_of(scores: Sequence[MatchScore]) -> str:
    """A hash of every answer, bit for bit."""
    h = hashlib.sha256()
    for s in scores:
        h.update(
            repr(
                (
                    s.log_likelihood,
                    s.probability,
                    sorted(s.levels.items()),
                    s.reasons,
                    s.vetoed,
                    s.review_only,
                    s.confirmed,
                )
            ).encode()
        )
    return h.hexdigest()[:16]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", default="synthetic", choices=accuracy.DATASETS)
    parser.add_argument("--entities", type=int, default=3000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--tf", action="store_true", help="term frequencies counted on the set")
    parser.add_argument("--callgrind", action="store_true", help="count the replay only")
    args = parser.parse_args()
    calls, weights = record(args.dataset, args.entities, args.seed, args.tf)
    weights = fresh(weights)
    empty_caches()
    gc.collect()
    compare_entity = scoring.compare_entity
    pairs = sum(len(members) for _, members, _ in calls)
    if args.callgrind:
        instrument(True)
    started = time.process_time()
    scores = [compare_entity(a, members, weights, counts) for a, members, counts in calls]
    cpu = time.process_time() - started
    if args.callgrind:
        instrument(False)
    print(
        f"{args.dataset} ({args.entities} persons{', tf' if args.tf else ''}): "
        f"{len(calls)} compare_entity calls, {pairs} records compared, "
        f"{cpu / len(calls) * 1e6:.1f} µs CPU per call; digest {digest_of(scores)}",
        flush=True,
    )


if __name__ == "__main__":
    main()
