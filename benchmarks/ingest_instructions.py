"""Instructions per ingest, counted by callgrind: a figure that does not move with the load.

    valgrind --tool=callgrind --instr-atstart=no \
        python -m benchmarks.ingest_instructions --callgrind --database-url postgresql+asyncpg://…

A fresh database (agencies, default rules, keys; no stored persons), the app called in process
through ``httpx.ASGITransport`` one request at a time: ``--reports`` ingests to warm up, then
callgrind's instrumentation is switched on (``callgrind_control -i on``) for ``--reports`` more.
Divide the ``Collected`` figure valgrind prints by ``--reports``: the instructions of one ingest
in this process (the in-process client's included, the database's not). Without valgrind it
prints the process's CPU time per ingest instead.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import os
import shutil
import subprocess
import time

import httpx
import orjson

from app.main import create_app
from benchmarks.load import exchange_keys
from benchmarks.setup import SENDERS, bench_settings, prepare
from benchmarks.workload import fresh_reports


def instrument(on: bool) -> None:
    """Switch callgrind's counting on or off for this process (run under callgrind)."""
    control = shutil.which("callgrind_control") or "callgrind_control"
    subprocess.run(
        [control, "-i", "on" if on else "off", str(os.getpid())], check=True, capture_output=True
    )


async def main_async(args: argparse.Namespace) -> None:
    prepared = await prepare(args.database_url)
    app = create_app(bench_settings(args.database_url).model_copy(update={"log_level": "WARNING"}))
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://sinergi") as http:
        tokens = await exchange_keys(http, {code: prepared.keys[code] for code in SENDERS})
        headers = [
            {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
            for token in tokens.values()
        ]
        bodies = list(fresh_reports("INSTR", 11, 2 * args.reports))
        senders = itertools.cycle(headers)

        async def ingest(body: dict[str, object]) -> None:
            answer = await http.post(
                "/v1/reports", content=orjson.dumps(body), headers=next(senders)
            )
            assert answer.status_code == 201, answer.text

        for body in bodies[: args.reports]:
            await ingest(body)
        if args.callgrind:
            instrument(True)
        cpu = time.process_time()
        for body in bodies[args.reports :]:
            await ingest(body)
        cpu = time.process_time() - cpu
        if args.callgrind:
            instrument(False)
    await app.state.engine.dispose()
    print(f"{args.reports} ingests, {cpu / args.reports * 1000:.2f} ms CPU each", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--reports", type=int, default=30, help="measured ingests (and warm-up)")
    parser.add_argument("--callgrind", action="store_true", help="count the measured ones only")
    asyncio.run(main_async(parser.parse_args()))


if __name__ == "__main__":
    main()
