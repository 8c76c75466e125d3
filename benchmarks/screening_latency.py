"""Issue 8's screening measure: latency of one screening with a large store (PostgreSQL).

The store is the one ``benchmarks.store`` fills (``benchmarks.dedup_cost`` grows it to 1,000,000
persons). Each screening goes through the service ``POST /v1/screenings`` uses
(``app.services.screening.screen``, no HTTP), one person per call, as an officer at the counter
does; two thirds of the persons are held-back records of stored people (hits expected), a third
new people (no hit). Printed: median, p90 and p99 in milliseconds, and how many of each half
hit (a link) or were only a possible match (review band).

    python -m benchmarks.screening_latency                       # against bench_cost (1M)
    python -m benchmarks.screening_latency --database-url … --queries 500
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import time
from typing import Any

from pydantic import ValidationError

from app.db import create_engine, create_session_factory
from app.errors import SinergiError
from app.schemas.screening import ScreeningIn
from app.services import screening
from app.services.agencies import get_agency
from benchmarks import store
from benchmarks.dedup_cost import PG_URL, Sender
from benchmarks.setup import SENDERS, bench_settings
from benchmarks.synthetic import generate
from benchmarks.workload import person_json

QUERY_FIELDS = (
    "full_name",
    "aliases",
    "date_of_birth",
    "birth_year",
    "sex",
    "nationality",
    "nik",
    "passport_number",
    "phone",
)


def _query(record: Any) -> ScreeningIn | None:
    person = person_json(record, "APPLICANT")
    wanted = {k: v for k, v in person.items() if k in QUERY_FIELDS and v not in (None, [], "")}
    try:
        body = ScreeningIn.model_validate({"persons": [wanted]})
        screening.require_identification([("/persons/0", body.persons[0])])
    except (ValidationError, SinergiError):
        return None  # too vague to screen (the API would answer 422)
    return body


def _ms(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return 1000 * ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def main_async(args: argparse.Namespace) -> None:
    rng = random.Random(args.seed)
    known = [q for q in map(_query, store.held_back_records(1_000_000)) if q]
    new = [q for q in map(_query, generate(args.queries, seed=args.seed + 99)) if q]
    queries = [(True, q) for q in rng.sample(known, min(len(known), 2 * args.queries // 3))]
    queries += [(False, q) for q in new[: args.queries - len(queries)]]
    rng.shuffle(queries)

    settings = bench_settings(args.database_url)
    engine = create_engine(settings)
    factory = create_session_factory(engine)
    screen_settings = screening.ScreeningSettings.of(settings)
    async with factory() as session:
        agency = await get_agency(session, SENDERS[0])
        caller = Sender(agency.id, agency.code)
        stored = await store.stored_persons(args.database_url)
    print(f"database: {args.database_url} ({stored:,} stored persons)", flush=True)

    timings: list[float] = []
    hits = {True: 0, False: 0}
    possible = {True: 0, False: 0}
    counts = {True: 0, False: 0}
    for i, (is_known, body) in enumerate(queries):
        async with factory() as session, session.begin():
            started = time.perf_counter()
            answer = await screening.screen(session, caller, body, settings=screen_settings)
            elapsed = time.perf_counter() - started
        if i < 20:  # warm the pool and the caches
            continue
        timings.append(elapsed)
        counts[is_known] += 1
        hits[is_known] += int(answer.results[0].hit)
        possible[is_known] += int(bool(answer.results[0].hits) and not answer.results[0].hit)
    await engine.dispose()
    print(
        f"{len(timings)} screenings, one person each: p50 {_ms(timings, 0.5):.2f} ms  "
        f"p90 {_ms(timings, 0.9):.2f} ms  p99 {_ms(timings, 0.99):.2f} ms  "
        f"mean {1000 * statistics.mean(timings):.2f} ms"
    )
    print(
        f"persons the store holds: {hits[True]}/{counts[True]} hit, {possible[True]} more only a "
        f"possible match; new persons: {hits[False]}/{counts[False]} hit, {possible[False]} more "
        "only a possible match"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default=PG_URL)
    parser.add_argument("--queries", type=int, default=600)
    parser.add_argument("--seed", type=int, default=11)
    asyncio.run(main_async(parser.parse_args()))


if __name__ == "__main__":
    main()
