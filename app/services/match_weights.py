"""Calibrating the matcher on the stored persons, and the weights ingest and screening use.

`sinergi dedup calibrate` takes the candidate pairs the blocking index produces (persons that
share a key), compares each pair, and runs unsupervised EM (app.services.calibration) to
estimate m and u per comparison level. The result is stored; resolution uses the latest stored
weights, or the shipped defaults until a calibration exists.
"""

from __future__ import annotations

import itertools
import time
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from app.models.resolution import MatchWeights
from app.repositories import match_weights as repo
from app.services.calibration import estimate_weights_with_report
from app.services.matching import DEFAULT_WEIGHTS, Weights, comparison_levels
from app.services.resolution import features_from_json

#: Weights are re-read at most this often per process (seconds).
REFRESH_SECONDS = 300.0
_cache: dict[str, tuple[float, Weights]] = {}


@dataclass(frozen=True)
class Calibration:
    weights: Weights
    pairs: int
    converged: bool
    iterations: int


async def calibrate(
    session: AsyncSession, *, max_pairs: int = 200_000, max_group: int = 30, save: bool = True
) -> Calibration:
    """Estimate weights from the stored persons' candidate pairs; store them unless ``save`` is off."""
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
    weights, report = estimate_weights_with_report(vectors, DEFAULT_WEIGHTS)
    if save and vectors:
        session.add(
            MatchWeights(weights=weights.to_json(), pairs=len(vectors), converged=report.converged)
        )
        await session.flush()
    return Calibration(weights, len(vectors), report.converged, report.iterations)


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
