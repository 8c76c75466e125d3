"""Python CPU per request inside one process, without HTTP: a quick loop for the request path.

    python -m benchmarks.request_cpu --database-url postgresql+asyncpg://…/bench_x [--profile]
    python -m benchmarks.request_cpu --sqlite

A fresh database (agencies, default rules, keys; no stored persons), the app called through
``httpx.ASGITransport`` (every middleware and dependency, no socket, no Uvicorn): ``--reports``
ingests, then ``--requests`` report reads and inbox pages, ``--concurrency`` at a time. Prints
the process's CPU time per request (``time.process_time``: this process only, whatever else the
machine runs). The database's own CPU is not counted, and resolution has no stored persons to
compare with, so ingest here is the non-resolution part; ``benchmarks.ingest`` gives the figures
of record. ``--profile`` prints cProfile's top functions of each phase.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import io
import itertools
import pstats
import time
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import orjson
import uvloop
from sqlalchemy import event

from app.main import create_app
from benchmarks.setup import NEVER_REFUSING_BURST, SENDERS, bench_settings, prepare
from benchmarks.workload import fresh_reports

SQLITE_PATH = Path("/tmp/sinergi-request-cpu.sqlite")


@contextmanager
def profiled(enabled: bool, title: str) -> Iterator[None]:
    profile = cProfile.Profile() if enabled else None
    if profile is not None:
        profile.enable()
    try:
        yield
    finally:
        if profile is not None:
            profile.disable()
            out = io.StringIO()
            pstats.Stats(profile, stream=out).sort_stats("cumulative").print_stats(45)
            print(f"--- cProfile, {title} ---\n{out.getvalue()}")


#: Database connections opened so far (a pool that keeps too few opens and closes them
#: under load: each costs a PostgreSQL backend's start and a TLS attempt).
opened = [0]


async def phase(
    name: str,
    calls: Iterator[Callable[[], Awaitable[httpx.Response]]],
    count: int,
    concurrency: int,
    profile: bool,
) -> list[httpx.Response]:
    answers: list[httpx.Response] = []

    async def client() -> None:
        for call in itertools.islice(calls, count // concurrency):
            answers.append(await call())

    connections = opened[0]
    with profiled(profile, name):
        cpu, wall = time.process_time(), time.perf_counter()
        await asyncio.gather(*(client() for _ in range(concurrency)))
        cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    bad = [a.status_code for a in answers if a.status_code >= 300]
    print(
        f"{name:<24} {len(answers):5d} requests  {cpu / len(answers) * 1000:6.2f} ms CPU each"
        f"  ({len(answers) / wall:6.1f} req/s wall)  non-2xx {len(bad)}"
        f"  connections opened {opened[0] - connections}",
        flush=True,
    )
    return answers


async def main_async(args: argparse.Namespace) -> None:
    if args.sqlite:
        for suffix in ("", "-wal", "-shm"):
            Path(f"{SQLITE_PATH}{suffix}").unlink(missing_ok=True)
        database_url = f"sqlite+aiosqlite:///{SQLITE_PATH}"
    else:
        database_url = args.database_url
    prepared = await prepare(database_url)
    # WARNING, as benchmarks.ingest serves: a log line per request is not what is measured.
    # Rate limits as ``benchmarks.ingest`` serves them: spent, never refusing (a 429 is cheaper
    # than the read it refuses, and a faster read path empties the production budget sooner).
    settings = bench_settings(database_url).model_copy(
        update={
            "log_level": "WARNING",
            "rate_limit_reads_burst": NEVER_REFUSING_BURST,
            "rate_limit_ingest_burst": NEVER_REFUSING_BURST,
        }
    )
    app = create_app(settings)
    event.listen(
        app.state.engine.sync_engine, "connect", lambda *_: opened.__setitem__(0, opened[0] + 1)
    )
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://sinergi") as http:
        tokens = []
        for code in SENDERS:
            answer = await http.post(
                "/v1/auth/token",
                data={
                    "grant_type": "client_credentials",
                    "client_id": code,
                    "client_secret": prepared.keys[code],
                },
            )
            answer.raise_for_status()
            tokens.append({"Authorization": f"Bearer {answer.json()['access_token']}"})
        bodies = [orjson.dumps(b) for b in fresh_reports("RC", args.seed, args.reports + 50)]
        senders = itertools.cycle(tokens)

        def posts() -> Iterator[Callable[[], Awaitable[httpx.Response]]]:
            for body in bodies:
                headers = {**next(senders), "Content-Type": "application/json"}
                yield lambda body=body, headers=headers: http.post(
                    "/v1/reports", content=body, headers=headers
                )

        calls = posts()
        await phase("warm-up ingest", calls, 50, args.concurrency, False)
        created = await phase(
            "POST /v1/reports", calls, args.reports, args.concurrency, args.profile
        )
        locations = [(a.request.headers["authorization"], a.headers["location"]) for a in created]

        def reads() -> Iterator[Callable[[], Awaitable[httpx.Response]]]:
            for auth, location in itertools.cycle(locations):
                yield lambda auth=auth, location=location: http.get(
                    location, headers={"Authorization": auth}
                )

        def inbox() -> Iterator[Callable[[], Awaitable[httpx.Response]]]:
            for headers in itertools.cycle(tokens):
                yield lambda headers=headers: http.get("/v1/inbox", headers=headers)

        await phase("warm-up read", reads(), 100, args.concurrency, False)
        await phase("GET /v1/reports/{id}", reads(), args.requests, args.concurrency, args.profile)
        await phase("GET /v1/inbox", inbox(), args.requests, args.concurrency, args.profile)
    await app.state.engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url")
    parser.add_argument("--sqlite", action="store_true")
    parser.add_argument("--reports", type=int, default=300)
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--seed", type=int, default=3)
    parser.add_argument("--profile", action="store_true")
    args = parser.parse_args()
    if not args.sqlite and not args.database_url:
        parser.error("--database-url or --sqlite")
    uvloop.run(main_async(args))


if __name__ == "__main__":
    main()
