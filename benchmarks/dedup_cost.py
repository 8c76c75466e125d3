"""Issue 5's cost measure: time to resolve one new report as the store grows (PostgreSQL).

One database grows through the sizes (10,000 → 100,000 → 1,000,000 stored persons, bulk-loaded
by ``benchmarks.store``). At each size the same ``--reports`` new reports are ingested one at a
time through the service ingest uses (``app.services.reports.submit``, no HTTP), each in its own
transaction that is then rolled back, so every measured report meets exactly N stored persons.
About a third of the persons are later records of stored people (the link path), the rest new.

Printed per size: median and p99 of

- *resolve*: person resolution of the whole report: blocking-key locks, candidate lookup,
  scoring, entity, case assignment (``lock_for_resolution`` + ``resolve_person`` per person +
  ``assign_case``, timed around the app's own functions);
- *ingest*: the whole ``submit()`` (validation done; normalization, store, resolution, routing,
  outbox), without the HTTP layer and the audit event;

and the candidates compared per person (what makes the cost grow or not).

    python -m benchmarks.dedup_cost                          # 10k, 100k, 1M
    python -m benchmarks.dedup_cost --sizes 10000 100000     # quicker
    python -m benchmarks.dedup_cost --recluster              # also time a recluster pass

``--recluster`` also times, at each size, one ``sinergi dedup recluster --full`` pass over the
whole store (``app.services.recluster.recluster``, as a dry run so that the store stays at N:
every pair is still fetched and scored, only the rare merges are not written; a scheduled pass
walks only the persons touched since the last one, this is its worst case).
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from app.db import create_engine, create_session_factory
from app.repositories import resolution as resolution_repo
from app.schemas.report import ReportIn
from app.services import reports
from app.services.agencies import get_agency
from app.services.recluster import recluster
from benchmarks import store
from benchmarks.setup import SENDERS, bench_settings, prepare
from benchmarks.workload import fresh_reports

PG_URL = "postgresql+asyncpg://postgres@127.0.0.1:5432/bench_cost"
T = TypeVar("T")


@dataclass(frozen=True)
class Sender:
    agency_id: Any
    agency_code: str
    is_admin: bool = False


class Stopwatch:
    """Accumulates the time spent inside wrapped async functions (one report at a time)."""

    def __init__(self) -> None:
        self.spent = 0.0
        self.candidates: list[int] = []

    def wrap(self, fn: Callable[..., Awaitable[T]]) -> Callable[..., Awaitable[T]]:
        async def timed(*args: Any, **kwargs: Any) -> T:
            started = time.perf_counter()
            try:
                return await fn(*args, **kwargs)
            finally:
                self.spent += time.perf_counter() - started

        return timed

    def count(self, fn: Callable[..., Awaitable[Any]]) -> Callable[..., Awaitable[Any]]:
        """Wrap ``candidates_of_persons``: one entry per person looked up."""

        async def counted(*args: Any, **kwargs: Any) -> Any:
            found = await fn(*args, **kwargs)
            self.candidates.extend(len(each.rows) for each in found)
            return found

        return counted


def _ms(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return 1000 * ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


async def measure(
    database_url: str, bodies: list[ReportIn]
) -> tuple[list[float], list[float], list[int]]:
    """Resolve and ingest times of each report, and candidates per person."""
    settings = bench_settings(database_url)
    engine = create_engine(settings)
    factory = create_session_factory(engine)
    watch = Stopwatch()
    # Time the app's own resolution steps where ingest calls them.
    originals = (
        reports.lock_for_resolution,
        reports.resolve_person,
        reports.assign_case,
        resolution_repo.candidates_of_persons,
    )
    reports.lock_for_resolution = watch.wrap(originals[0])  # type: ignore[assignment]
    reports.resolve_person = watch.wrap(originals[1])  # type: ignore[assignment]
    reports.assign_case = watch.wrap(originals[2])  # type: ignore[assignment]
    resolution_repo.candidates_of_persons = watch.count(originals[3])  # type: ignore[assignment]
    ingest_settings = reports.IngestSettings.of(settings)
    resolve: list[float] = []
    ingest: list[float] = []
    try:
        async with factory() as session:
            agency = await get_agency(session, SENDERS[0])
            sender = Sender(agency.id, agency.code)
        for i, body in enumerate(bodies):
            async with factory() as session:
                await session.begin()
                watch.spent = 0.0
                started = time.perf_counter()
                await reports.submit(
                    session, sender, body, idempotency_key=None, settings=ingest_settings
                )
                elapsed = time.perf_counter() - started
                await session.rollback()
            if i >= 20:  # the first twenty warm caches and the pool
                resolve.append(watch.spent)
                ingest.append(elapsed)
    finally:
        (
            reports.lock_for_resolution,
            reports.resolve_person,
            reports.assign_case,
            resolution_repo.candidates_of_persons,
        ) = originals  # type: ignore[assignment]
        await engine.dispose()
    return resolve, ingest, watch.candidates


async def main_async(args: argparse.Namespace) -> None:
    print(f"database: {args.database_url}", flush=True)
    await prepare(args.database_url)
    known = store.held_back_records(store.STORED_PER_CHUNK)  # chunk 0: stored at every size
    bodies = [
        ReportIn.model_validate(b)
        for b in fresh_reports(f"COST{args.seed}", args.seed, args.reports + 20, known=known)
    ]
    rows: list[tuple[int, list[float], list[float], list[int], float]] = []
    loaded = 0
    for size in sorted(args.sizes):
        started = time.perf_counter()
        await store.load(args.database_url, size - loaded, quiet=True)
        loaded = size
        load_seconds = time.perf_counter() - started
        print(
            f"store at {size:,} persons (loaded in {load_seconds:.0f} s); measuring …", flush=True
        )
        resolve, ingest, candidates = await measure(args.database_url, bodies)
        rows.append((size, resolve, ingest, candidates, load_seconds))
        print(_line(size, resolve, ingest, candidates), flush=True)
        if args.recluster:
            await time_recluster(args.database_url, size)

    print(f"\n== {args.reports} reports per size, one at a time, rolled back ==")
    for size, resolve, ingest, candidates, _ in rows:
        print(_line(size, resolve, ingest, candidates))
    if len(rows) > 1:
        first, last = rows[0], rows[-1]
        ratio = statistics.median(last[1]) / statistics.median(first[1])
        verdict = "MET" if ratio <= 1.5 else "MISSED"
        print(
            f"\nmedian resolve at {last[0]:,} / at {first[0]:,}: {ratio:.2f}x   "
            f"target <= 1.5  {verdict}"
        )


async def time_recluster(database_url: str, size: int) -> None:
    """One dry-run recluster pass over the whole store, timed."""
    engine = create_engine(bench_settings(database_url))
    try:
        started = time.perf_counter()
        result = await recluster(
            create_session_factory(engine),
            merge_threshold=0.99,
            batch_size=2000,
            dry_run=True,
            full=True,
        )
        seconds = time.perf_counter() - started
    finally:
        await engine.dispose()
    print(
        f"{size:>10,} persons  recluster pass {seconds:7.1f} s ({result.persons / seconds:,.0f}"
        f" persons/s): {result.pairs:,} pairs across entities scored, {result.merges} would"
        f" merge, {result.refused_identifiers} refused by identifiers",
        flush=True,
    )


def _line(size: int, resolve: list[float], ingest: list[float], candidates: list[int]) -> str:
    return (
        f"{size:>10,} persons  resolve p50 {_ms(resolve, 0.5):6.2f} ms"
        f"  p99 {_ms(resolve, 0.99):6.2f} ms"
        f"   ingest p50 {_ms(ingest, 0.5):6.2f} ms  p99 {_ms(ingest, 0.99):6.2f} ms"
        f"   candidates/person mean {statistics.mean(candidates or [0]):5.1f}"
        f" max {max(candidates or [0])}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default=PG_URL)
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    parser.add_argument("--reports", type=int, default=300, help="measured reports per size")
    parser.add_argument("--seed", type=int, default=5)
    parser.add_argument("--recluster", action="store_true", help="also time a recluster pass")
    asyncio.run(main_async(parser.parse_args()))


if __name__ == "__main__":
    main()
