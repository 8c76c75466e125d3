"""Instructions per ingest of the served process (``sinergi serve`` under callgrind), at a given
concurrency: what ``benchmarks.ingest_instructions`` counts in process, here with Uvicorn, the
middleware, the group commit's batches and the garbage collector as a served request pays them.

    python -m benchmarks.served_instructions --database-url postgresql+asyncpg://…/bench_X \
        --port 19250 --concurrency 32 [--persons 100000]

A fresh database (``benchmarks.setup``) with a store of ``--persons`` stored persons
(``benchmarks.store``), the server started under ``valgrind --tool=callgrind
--instr-atstart=no``, ``--warmup`` ingests, then callgrind switched on in the server for
``--reports`` ingests sent ``--concurrency`` at a time. Prints the server's instructions per
ingest and the garbage collector's share (``gc_collect_main``, inclusive). Load does not move
the count; it moves how many requests share a batch (valgrind slows the server ~50 times, so
at c=32 batches hold about ten requests).
"""

from __future__ import annotations

import argparse
import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import uvloop

from benchmarks import store
from benchmarks.ingest import wait_ready
from benchmarks.load import report_posts, run, tokens_for
from benchmarks.setup import prepare, server_env


def _inclusive(output: Path, function: str) -> int:
    """Instructions of ``function`` and what it called (0 when it never ran)."""
    annotated = subprocess.run(
        ["callgrind_annotate", "--inclusive=yes", str(output)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    for line in annotated.splitlines():
        if function in line:
            return int(line.split()[0].replace(",", ""))
    return 0


def _total(output: Path) -> int:
    annotated = subprocess.run(
        ["callgrind_annotate", str(output)], capture_output=True, text=True, check=True
    ).stdout
    found = re.search(r"([\d,]+)\s+\(100\.0%\)\s+PROGRAM TOTALS", annotated)
    if found is None:
        raise SystemExit(f"no totals in {output}")
    return int(found.group(1).replace(",", ""))


async def main_async(args: argparse.Namespace) -> None:
    prepared = await prepare(args.database_url)
    known = None
    if args.persons:
        await store.load(args.database_url, args.persons, quiet=True)
        known = store.held_back_records(args.persons)
    output = Path(args.output)
    env = {
        **os.environ,
        **server_env(args.database_url),
        "SINERGI_ACCESS_TOKEN_TTL_SECONDS": "3600",
    }
    server = subprocess.Popen(
        ["valgrind", "--tool=callgrind", "--instr-atstart=no",
         f"--callgrind-out-file={output}", sys.executable, "-m", "app.cli", "serve",
         "--port", str(args.port), "--no-migrate"],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    base = f"http://127.0.0.1:{args.port}"
    control = ["callgrind_control", "-i"]
    try:
        await wait_ready(f"{base}/healthz", timeout=900)
        tokens = list((await tokens_for(base, prepared.keys)).values())
        c = args.concurrency
        warm = report_posts(tokens, "SW", 5, args.warmup, known=known)
        await run("warm-up", base, warm, concurrency=c, duration=1e6, timeout=900)
        subprocess.run([*control, "on", str(server.pid)], check=True, capture_output=True)
        posts = report_posts(tokens, "SM", 17, args.reports, known=known)
        measured = await run("POST", base, posts, concurrency=c, duration=1e6, timeout=900)
        subprocess.run([*control, "off", str(server.pid)], check=True, capture_output=True)
        if measured.non_2xx or measured.error_count:
            raise SystemExit(f"ingests failed: {measured.line()}")
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=300)
    total, collected = _total(output), _inclusive(output, "gc_collect_main")
    n = args.reports
    print(
        f"c={args.concurrency}, {args.persons:,} stored persons, {n} ingests: "
        f"{total / n / 1e6:.2f} M instructions per ingest in the server, of which the garbage "
        f"collector {collected / n / 1e6:.2f} M ({100 * collected / total:.1f}%)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--persons", type=int, default=100_000, help="stored persons loaded first")
    parser.add_argument("--warmup", type=int, default=64, help="ingests before counting")
    parser.add_argument("--reports", type=int, default=96, help="ingests counted")
    parser.add_argument("--output", default="/tmp/sinergi-served.callgrind")
    uvloop.run(main_async(parser.parse_args()))


if __name__ == "__main__":
    main()
