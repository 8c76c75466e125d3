"""Instructions per audited read, counted by callgrind: a figure that does not move with the load.

    valgrind --tool=callgrind --instr-atstart=no --callgrind-out-file=/tmp/reads.%p \
        python -m benchmarks.read_instructions --callgrind --phase read \
        --database-url postgresql+asyncpg://…

A fresh database (``benchmarks.setup``), ``--reports`` ingests, then the app called in process
through ``httpx.ASGITransport``: ``--requests`` calls of the phase to warm up, then callgrind's
instrumentation switched on (``callgrind_control -i on``) for ``--requests`` more, ``--concurrency``
at a time (concurrent reads share their audit events' commits). ``--phase read`` is
``GET /v1/reports/{id}`` by the report's source; ``--phase inbox`` is ``GET /v1/inbox`` (a page of
up to 50 deliveries). Divide the ``Collected`` figure valgrind prints by ``--requests``: the
instructions of one request in this process (the in-process client's included, the database's
not). Without valgrind it prints the process's CPU time per request instead; ``--profile FILE``
writes a cProfile of the measured requests.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import itertools

import httpx
import orjson

from app.main import create_app
from benchmarks.ingest_instructions import measured
from benchmarks.load import exchange_keys
from benchmarks.setup import NEVER_REFUSING_BURST, SENDERS, bench_settings, prepare
from benchmarks.workload import fresh_reports


async def main_async(args: argparse.Namespace) -> None:
    prepared = await prepare(args.database_url)
    settings = bench_settings(args.database_url).model_copy(
        update={"log_level": "WARNING", "rate_limit_reads_burst": NEVER_REFUSING_BURST}
    )
    app = create_app(settings)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://sinergi") as http:
        tokens = await exchange_keys(http, {code: prepared.keys[code] for code in SENDERS})
        headers = [{"Authorization": f"Bearer {token}"} for token in tokens.values()]
        senders = itertools.cycle(headers)
        reads: list[tuple[dict[str, str], str]] = []
        for body in fresh_reports("READS", 5, args.reports):
            sender = next(senders)
            answer = await http.post(
                "/v1/reports",
                content=orjson.dumps(body),
                headers={**sender, "Content-Type": "application/json"},
            )
            assert answer.status_code == 201, answer.text
            reads.append((sender, answer.headers["location"]))
        if args.phase == "read":
            calls = ((h, location) for h, location in itertools.cycle(reads))
        else:
            calls = ((h, "/v1/inbox") for h in itertools.cycle(headers))

        async def call() -> None:
            sender, path = next(calls)
            answer = await http.get(path, headers=sender)
            assert answer.status_code == 200, answer.text

        async def calls_of(count: int) -> None:
            async def client(share: int) -> None:
                for _ in range(share):
                    await call()

            each, extra = divmod(count, args.concurrency)
            shares = [each + (i < extra) for i in range(args.concurrency)]
            await asyncio.gather(*(client(share) for share in shares))

        await calls_of(args.requests)
        gc.collect()
        gc.freeze()  # what the warm-up left is not collected again during the measured ones
        with measured(callgrind=args.callgrind, profile=args.profile) as cpu:
            await calls_of(args.requests)
    await app.state.engine.dispose()
    each = cpu[0] / args.requests * 1000
    print(f"{args.requests} {args.phase}s, {each:.3f} ms CPU each", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--phase", choices=("read", "inbox"), default="read")
    parser.add_argument("--reports", type=int, default=60, help="ingests before the reads")
    parser.add_argument("--requests", type=int, default=200, help="measured (and warm-up) calls")
    parser.add_argument("--concurrency", type=int, default=1, help="requests at a time")
    parser.add_argument("--callgrind", action="store_true", help="count the measured ones only")
    parser.add_argument("--profile", metavar="FILE", help="cProfile the measured requests")
    asyncio.run(main_async(parser.parse_args()))


if __name__ == "__main__":
    main()
