"""Sinergi's full ingest and reads against a bare FastAPI baseline, alternating, in one run.

1. A fresh database (``bench_db``): migrated, a city TIMPORA's agencies, default routing rules,
   API keys; a store of ``--persons`` persons loaded in bulk (``benchmarks.store``).
2. ``sinergi serve`` and ``sinergi worker`` on it, and the baseline app
   (``benchmarks.baseline_app``) under the same Uvicorn settings on the same PostgreSQL.
3. Warm-up, then ``--rounds`` x (Sinergi ingest, baseline insert) alternating, then reads
   (``GET /v1/reports/{id}``, ``GET /v1/inbox``) alternating with the baseline's primary-key read.
4. The figures of every phase, pooled per kind, and the ratios against the targets.

    python -m benchmarks.ingest                      # PostgreSQL, 100,000 stored persons
    python -m benchmarks.ingest --sqlite             # SQLite single node (no target)
    python -m benchmarks.ingest --profile            # also py-spy the server (first phase of
                                                     # ingest, report read and inbox each)
    python -m benchmarks.ingest --workers 2          # `sinergi serve --workers 2`

CPU time per request is printed beside every figure (``benchmarks.cpu``): the server's, the
PostgreSQL backends' of the benchmark database, the worker's, and how busy the machine was.

Everything binds and targets 127.0.0.1; each phase lasts ``--duration`` seconds.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import asyncpg
import httpx
import uvloop

from benchmarks import store
from benchmarks.cpu import CpuMeter, PhaseCpu
from benchmarks.load import LoadResult, Request, report_posts, run, tokens_for
from benchmarks.setup import SENDERS, prepare, server_env

PG_URL = "postgresql+asyncpg://postgres@127.0.0.1:5432/bench_db"
SQLITE_PATH = Path("/tmp/sinergi-bench.sqlite")
SQLITE_BASELINE_PATH = Path("/tmp/sinergi-bench-baseline.sqlite")


async def analyze_after_ingest(database_url: str) -> None:
    """Refresh the planner's statistics of what the ingest rounds wrote, as autovacuum would.

    The benchmark's PostgreSQL may run with ``autovacuum = off`` (this machine's does): the
    deliveries written during the run then keep the statistics of the empty table analysed
    after the store was loaded, and an inbox page is planned as a bitmap scan of every one of
    the agency's deliveries and a sort (18 ms, measured) instead of an index scan that stops
    after the page (0.2 ms). A production database, autovacuum on, analyses a growing table.
    """
    conn = await asyncpg.connect(store.asyncpg_dsn(database_url))
    try:
        if await conn.fetchval("SHOW autovacuum") == "off":
            await conn.execute("ANALYZE")
    finally:
        await conn.close()


class Processes:
    """The servers this run started; stopped by their own pids at the end."""

    def __init__(self) -> None:
        self.started: list[subprocess.Popen[bytes]] = []

    def start(self, args: list[str], env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
        handle = log.open("wb")
        process = subprocess.Popen(
            args, env={**os.environ, **env}, stdout=handle, stderr=subprocess.STDOUT
        )
        self.started.append(process)
        return process

    def stop(self) -> None:
        for process in self.started:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in self.started:
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()


async def wait_ready(url: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    async with httpx.AsyncClient() as client:
        while time.monotonic() < deadline:
            try:
                if (await client.get(url)).status_code < 500:
                    return
            except httpx.TransportError:
                pass
            await asyncio.sleep(0.3)
    raise SystemExit(f"{url} did not come up; see the logs in /tmp/sinergi-bench-*.log")


def pooled(name: str, results: list[LoadResult]) -> LoadResult:
    """One result over several phases of the same kind."""
    statuses: Counter[int] = Counter()
    errors: Counter[str] = Counter()
    for r in results:
        statuses.update(r.statuses)
        errors.update(r.errors)
    return LoadResult(
        name,
        results[0].concurrency,
        sum(r.elapsed for r in results),
        [x for r in results for x in r.latencies],
        statuses,
        errors,
        sum(r.cpu_seconds for r in results),
        any(r.ran_out for r in results),
    )


def reads(pairs: list[tuple[str, str]], rng: random.Random, count: int) -> Iterator[Request]:
    for _ in range(count):
        auth, location = rng.choice(pairs)
        yield Request("GET", location, {"Authorization": auth})


def baseline_posts(count: int, seed: int) -> list[Request]:
    """The same report bodies the ingest phases send (the baseline validates a small model)."""
    return [
        Request("POST", "/reports", {"Content-Type": "application/json"}, r.body)
        for r in report_posts(["-"], f"BASE{seed}", seed, count)
    ]


async def main_async(args: argparse.Namespace) -> None:
    sqlite = args.sqlite
    if args.replicas < 1:
        raise SystemExit("--replicas must be 1 or more")
    if sqlite and args.replicas > 1:
        raise SystemExit("SQLite serves a single node: --replicas needs PostgreSQL")
    database_url = f"sqlite+aiosqlite:///{SQLITE_PATH}" if sqlite else args.database_url
    baseline_url = f"sqlite+aiosqlite:///{SQLITE_BASELINE_PATH}" if sqlite else database_url
    if sqlite:
        for path in (SQLITE_PATH, SQLITE_BASELINE_PATH):
            for suffix in ("", "-wal", "-shm"):
                Path(f"{path}{suffix}").unlink(missing_ok=True)

    print(f"database: {database_url}", flush=True)
    load_before = os.getloadavg()
    started = time.perf_counter()
    prepared = await prepare(database_url)
    persons = 0 if sqlite else args.persons
    if persons:
        print(f"loading {persons:,} stored persons …", flush=True)
        await store.load(database_url, persons, quiet=True)
    known = store.held_back_records(persons) if persons else None
    print(f"store ready in {time.perf_counter() - started:.0f} s", flush=True)

    env = {**server_env(database_url), "SINERGI_ACCESS_TOKEN_TTL_SECONDS": "3600"}
    procs = Processes()
    # Replicas listen on every other port: 8100, 8102, … and the baselines on 8101, 8103, …
    sinergi_urls = [f"http://127.0.0.1:{args.port + 2 * i}" for i in range(args.replicas)]
    baseline_urls = [f"http://127.0.0.1:{args.baseline_port + 2 * i}" for i in range(args.replicas)]
    sinergi = sinergi_urls[0]
    try:
        servers = [
            procs.start(
                [sys.executable, "-m", "app.cli", "serve", "--port", url.rsplit(":", 1)[1],
                 "--no-migrate", "--workers", str(args.workers)],
                env,
                Path(f"/tmp/sinergi-bench-serve{'' if i == 0 else f'-{i}'}.log"),
            )
            for i, url in enumerate(sinergi_urls)
        ]  # fmt: skip
        server = servers[0]
        worker = procs.start(
            [sys.executable, "-m", "app.cli", "worker"], env, Path("/tmp/sinergi-bench-worker.log")
        )
        baselines = []
        for i, url in enumerate(baseline_urls):
            baselines.append(procs.start(
                [sys.executable, "-m", "benchmarks.baseline_app", "--port", url.rsplit(":", 1)[1]],
                {**env, "BASELINE_DATABASE_URL": baseline_url},
                Path(f"/tmp/sinergi-bench-baseline{'' if i == 0 else f'-{i}'}.log"),
            ))  # fmt: skip
        meter = CpuMeter(None if sqlite else database_url.rsplit("/", 1)[1], worker.pid)
        sinergi_pids = [p.pid for p in servers]
        baseline_pids = [p.pid for p in baselines]
        kinds = ("ingest", "base", "read", "inbox", "base_read")
        cpu: dict[str, list[PhaseCpu]] = {k: [] for k in kinds}
        for url in sinergi_urls:
            await wait_ready(f"{url}/healthz")
        for url in baseline_urls:
            await wait_ready(f"{url}/docs")
        tokens = await tokens_for(sinergi, prepared.keys)
        token_list = [tokens[c] for c in SENDERS]
        c = args.concurrency
        seed = args.seed

        # Warm-up: both servers, a few seconds each (imports, caches, pools, JIT of nothing).
        warm = await run(
            "warm-up ingest", sinergi_urls,
            report_posts(token_list, f"W{seed}", seed, 4000, known=known),
            concurrency=c, duration=args.warmup,
        )  # fmt: skip
        warm_base = await run(
            "warm-up baseline", baseline_urls, baseline_posts(4000, seed + 1),
            concurrency=c, duration=args.warmup,
        )  # fmt: skip
        print(warm.line(), flush=True)
        print(warm_base.line(), flush=True)
        # Enough prepared requests for a phase at twice the warm-up rate.
        budget = max(500, int(warm.rps * args.duration * 2))
        base_budget = max(2000, int(warm_base.rps * args.duration * 2))

        ingest: list[LoadResult] = []
        base: list[LoadResult] = []
        profiles: list[Path] = []

        def spy_on(kind: str, duration: float) -> subprocess.Popen[bytes] | None:
            """py-spy the server for one phase (the first of each kind) when asked."""
            if not args.profile:
                return None
            output = Path(f"/tmp/sinergi-bench-{kind}.pyspy")
            profiles.append(output)
            return subprocess.Popen(
                [str(Path(sys.executable).with_name("py-spy")), "record", "--pid", str(server.pid),
                 "--format", "raw", "--rate", "200", "--duration", str(max(1, int(duration))),
                 "--output", str(output), "--nonblocking"],
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            )  # fmt: skip

        for round_ in range(args.rounds):
            posts = report_posts(
                token_list, f"R{seed}-{round_}", seed + 10 + round_, budget, known=known
            )
            spy = spy_on("ingest", args.duration) if round_ == 0 else None
            with meter.phase(sinergi_pids) as used:
                result = await run(
                    "POST /v1/reports", sinergi_urls, posts, concurrency=c,
                    duration=args.duration, keep_locations=True,
                )  # fmt: skip
            cpu["ingest"].append(used)
            if spy is not None:
                spy.wait(timeout=args.duration + 30)
            ingest.append(result)
            print(result.line(), flush=True)
            print(used.line(result.completed), flush=True)
            with meter.phase(baseline_pids) as used:
                result = await run(
                    "baseline POST", baseline_urls,
                    baseline_posts(base_budget, seed + 100 + round_),
                    concurrency=c, duration=args.duration, keep_locations=True,
                )  # fmt: skip
            cpu["base"].append(used)
            base.append(result)
            print(result.line(), flush=True)
            print(used.line(result.completed), flush=True)

        if not sqlite:
            await analyze_after_ingest(database_url)
        rng = random.Random(seed)
        created = [p for r in ingest for p in r.locations]
        base_created = [p for r in base for p in r.locations]
        inbox = [(f"Bearer {t}", "/v1/inbox") for t in token_list]
        read_results: dict[str, list[LoadResult]] = {"read": [], "inbox": [], "base": []}
        many = 200_000
        for round_ in range(args.rounds):
            for name, urls, pids, kind, pairs in (
                ("GET /v1/reports/{id}", sinergi_urls, sinergi_pids, "read", created),
                ("GET /v1/inbox", sinergi_urls, sinergi_pids, "inbox", inbox),
                ("baseline GET by id", baseline_urls, baseline_pids, "base", base_created),
            ):
                spy = spy_on(kind, args.duration / 2) if round_ == 0 and kind != "base" else None
                with meter.phase(pids) as used:
                    result = await run(
                        name,
                        urls,
                        reads(pairs, rng, many),
                        concurrency=c,
                        duration=args.duration / 2,
                    )
                if spy is not None:
                    spy.wait(timeout=args.duration + 30)
                read_results[kind].append(result)
                cpu["base_read" if kind == "base" else kind].append(used)
                print(result.line(), flush=True)
                print(used.line(result.completed), flush=True)
    finally:
        procs.stop()

    total_ingest = pooled("POST /v1/reports", ingest)
    total_base = pooled("baseline POST", base)
    total_read = pooled("GET /v1/reports/{id}", read_results["read"])
    total_inbox = pooled("GET /v1/inbox", read_results["inbox"])
    total_base_read = pooled("baseline GET by id", read_results["base"])
    used_by = {kind: sum(phases, PhaseCpu()) for kind, phases in cpu.items()}
    backend = "SQLite" if sqlite else f"PostgreSQL, {persons:,} stored persons"
    processes = f"{args.replicas} replica(s) x {args.workers} process(es)"
    print(f"\n== pooled over {args.rounds} alternating rounds ({backend}; {processes}) ==")
    print(f"load average before the run: {load_before}, after: {os.getloadavg()}")
    for result, kind in (
        (total_ingest, "ingest"),
        (total_base, "base"),
        (total_read, "read"),
        (total_inbox, "inbox"),
        (total_base_read, "base_read"),
    ):
        print(result.line())
        print(used_by[kind].line(result.completed))
    throughput = total_ingest.rps / total_base.rps
    p99 = total_ingest.percentile(99) / total_base.percentile(99)
    read_ratio = total_read.rps / total_base_read.rps
    inbox_ratio = total_inbox.rps / total_base_read.rps
    ingest_server, ingest_pg, _ = used_by["ingest"].per_request_ms(total_ingest.completed)
    read_server, read_pg, _ = used_by["read"].per_request_ms(total_read.completed)
    inbox_server, inbox_pg, _ = used_by["inbox"].per_request_ms(total_inbox.completed)
    base_server, base_pg, _ = used_by["base"].per_request_ms(total_base.completed)
    base_read_server, base_read_pg, _ = used_by["base_read"].per_request_ms(
        total_base_read.completed
    )
    target = not sqlite
    print()
    print(_ratio("ingest throughput / baseline", throughput, ">= 0.2" if target else None))
    print(_ratio("ingest p99 / baseline p99", p99, "<= 5.0" if target else None, lower=True))
    print(_ratio("GET report / baseline read", read_ratio, ">= 0.5" if target else None))
    print(_ratio("GET inbox / baseline read", inbox_ratio, ">= 0.4" if target else None))
    print(_ms("server CPU per ingest", ingest_server, base_server, "<= 4" if target else None))
    print(_ms("PostgreSQL CPU per ingest", ingest_pg, base_pg, "<= 3" if target else None))
    print(_ms("server CPU per report read", read_server, base_read_server,
              "<= 1.2" if target else None))  # fmt: skip
    print(_ms("PostgreSQL CPU per report read", read_pg, base_read_pg, None))
    print(_ms("server CPU per inbox page", inbox_server, base_read_server, None))
    print(_ms("PostgreSQL CPU per inbox page", inbox_pg, base_read_pg, None))
    errors = sum(r.error_count + r.non_2xx for r in (total_ingest, total_read, total_inbox))
    print(f"{'errors + non-2xx (Sinergi)':<32} {errors}{'   target 0' if target else ''}")
    for profile in profiles:
        print(f"\npy-spy raw profile of the server, first {profile.stem.split('-')[-1]} phase:")
        print(f"  python -m benchmarks.profile_summary {profile}")


def _ms(label: str, value: float, baseline: float, target: str | None) -> str:
    """CPU milliseconds per request beside the baseline's, against a target when there is one."""
    text = f"{label:<32} {value:6.2f} ms  (baseline {baseline:5.2f} ms)"
    if target is None:
        return text
    ok = value <= float(target.split()[1])
    return f"{text}   target {target} ms  {'MET' if ok else 'MISSED'}"


def _ratio(label: str, value: float, target: str | None, *, lower: bool = False) -> str:
    if target is None:
        return f"{label:<32} {value:5.2f}x"
    bound = float(target.split()[1])
    ok = value <= bound if lower else value >= bound
    return f"{label:<32} {value:5.2f}x   target {target}  {'MET' if ok else 'MISSED'}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default=PG_URL)
    parser.add_argument("--sqlite", action="store_true", help="SQLite single node instead")
    parser.add_argument("--persons", type=int, default=100_000, help="stored persons")
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--duration", type=float, default=20, help="seconds per phase")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument(
        "--replicas",
        type=int,
        default=1,
        help="server processes of each kind, on their own ports; clients spread over them",
    )
    parser.add_argument(
        "--workers", type=int, default=1, help="`sinergi serve --workers N` in each replica"
    )
    parser.add_argument("--warmup", type=float, default=5)
    parser.add_argument("--port", type=int, default=8100)
    parser.add_argument("--baseline-port", type=int, default=8101)
    parser.add_argument("--seed", type=int, default=int(time.time()) % 100_000)
    parser.add_argument(
        "--profile",
        action="store_true",
        help="py-spy the server: first ingest, read and inbox phase",
    )
    uvloop.run(main_async(parser.parse_args()))


if __name__ == "__main__":
    main()
