"""Instructions per ingest, counted by callgrind: a figure that does not move with the load.

    valgrind --tool=callgrind --instr-atstart=no \
        python -m benchmarks.ingest_instructions --callgrind --database-url postgresql+asyncpg://…

A fresh database (agencies, default rules, keys; no stored persons), the app called in process
through ``httpx.ASGITransport`` one request at a time: ``--reports`` ingests to warm up, then
callgrind's instrumentation is switched on (``callgrind_control -i on``) for ``--reports`` more.
Divide the ``Collected`` figure valgrind prints by ``--reports``: the instructions of one ingest
in this process (the in-process client's included, the database's not). Without valgrind it
prints the process's CPU time per ingest instead.

``--persons N`` loads a store of N persons first (``benchmarks.store``, as ``benchmarks.ingest``
does; with ``--template T``, into the database T once, then each run on a fresh copy of T) and
mixes held-back records of stored persons into the reports, so resolution meets a store like
the benchmark's; ``--count`` prints the statements sent and the rows they returned
per ingest (the candidate rows among them).
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import itertools
import os
import shutil
import statistics
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import orjson
from sqlalchemy import event

from app.main import create_app
from app.services import reports as reports_module
from app.services import resolution
from benchmarks import pg_cpu, store
from benchmarks.load import exchange_keys
from benchmarks.setup import SENDERS, bench_settings, prepare
from benchmarks.workload import fresh_reports


def instrument(on: bool) -> None:
    """Switch callgrind's counting on or off for this process (run under callgrind)."""
    control = shutil.which("callgrind_control") or "callgrind_control"
    subprocess.run(
        [control, "-i", "on" if on else "off", str(os.getpid())], check=True, capture_output=True
    )


@contextmanager
def measured(*, callgrind: bool, profile: str | None) -> Iterator[list[float]]:
    """Count what runs inside: callgrind's instructions (``callgrind``), a cProfile written to
    ``profile``, and the process's CPU seconds, held in the yielded list when the block ends."""
    profiler = cProfile.Profile() if profile else None
    if callgrind:
        instrument(True)
    if profiler:
        profiler.enable()
    cpu = [time.process_time()]
    try:
        yield cpu
    finally:
        cpu[0] = time.process_time() - cpu[0]
        if profiler:
            profiler.disable()
            profiler.dump_stats(profile)
        if callgrind:
            instrument(False)


async def main_async(args: argparse.Namespace) -> None:
    known = None
    if args.template:
        # A copy of a store built once (``pg_cpu.fresh_copy``): under valgrind, loading 100,000
        # persons in this process would take longer than the ingests it counts.
        keys = await pg_cpu.fresh_copy(args.database_url, args.template, args.persons)
    else:
        keys = (await prepare(args.database_url)).keys
        if args.persons:
            await store.load(args.database_url, args.persons, quiet=True)
    if args.persons:
        known = store.held_back_records(args.persons)
    app = create_app(bench_settings(args.database_url).model_copy(update={"log_level": "WARNING"}))
    counted: dict[str, int] = {"statements": 0, "persons": 0, "candidates": 0}
    per_ingest: list[tuple[int, int, int]] = []
    if args.count:
        event.listen(
            app.state.engine.sync_engine,
            "before_cursor_execute",
            lambda *_: counted.__setitem__("statements", counted["statements"] + 1),
        )
        lookup = resolution.candidates_of

        async def counting_lookup(*a: Any, **k: Any) -> Any:
            found = await lookup(*a, **k)
            counted["persons"] += len(found)
            counted["candidates"] += sum(len(f.rows) for f in found)
            return found

        resolution.candidates_of = counting_lookup  # type: ignore[assignment]
        reports_module.candidates_of = counting_lookup  # type: ignore[assignment]
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://sinergi") as http:
        tokens = await exchange_keys(http, {code: keys[code] for code in SENDERS})
        headers = [
            {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
            for token in tokens.values()
        ]
        bodies = list(fresh_reports("INSTR", 11, 2 * args.reports, known=known))
        senders = itertools.cycle(headers)

        async def ingest(body: dict[str, object]) -> None:
            counted.update(statements=0, persons=0, candidates=0)
            answer = await http.post(
                "/v1/reports", content=orjson.dumps(body), headers=next(senders)
            )
            assert answer.status_code == 201, answer.text
            per_ingest.append((counted["statements"], counted["persons"], counted["candidates"]))

        for body in bodies[: args.reports]:
            await ingest(body)
        per_ingest.clear()
        with measured(callgrind=args.callgrind, profile=args.profile) as cpu:
            for body in bodies[args.reports :]:
                await ingest(body)
    await app.state.engine.dispose()
    print(f"{args.reports} ingests, {cpu[0] / args.reports * 1000:.2f} ms CPU each", flush=True)
    if args.count:
        statements, persons, candidates = zip(*per_ingest, strict=True)
        print(
            f"per ingest: statements median {statistics.median(statements)} "
            f"(min {min(statements)}, max {max(statements)}); "
            f"persons {sum(persons) / len(per_ingest):.2f}, candidate rows fetched "
            f"{sum(candidates) / len(per_ingest):.1f} (max {max(candidates)})",
            flush=True,
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--reports", type=int, default=30, help="measured ingests (and warm-up)")
    parser.add_argument("--callgrind", action="store_true", help="count the measured ones only")
    parser.add_argument("--persons", type=int, default=0, help="stored persons loaded first")
    parser.add_argument(
        "--template",
        metavar="DATABASE",
        help="copy this database, built with --persons first if missing (PostgreSQL)",
    )
    parser.add_argument("--count", action="store_true", help="statements and candidate rows")
    parser.add_argument("--profile", metavar="FILE", help="cProfile the measured ingests")
    asyncio.run(main_async(parser.parse_args()))


if __name__ == "__main__":
    main()
