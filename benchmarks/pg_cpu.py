"""PostgreSQL's CPU per ingest, statement by statement, read from the backends' own counters.

    python -m benchmarks.pg_cpu --database-url postgresql+asyncpg://postgres@127.0.0.1/bench_x \
        --template bench_x_tpl --persons 100000 [--reports 300] [--concurrency 32]

The database is a fresh copy (``CREATE DATABASE … TEMPLATE``) of ``--template``, which is built
on first use (``benchmarks.setup``, then a store of ``--persons`` persons, ``benchmarks.store``;
the senders' API keys are kept in ``/tmp/<template>.keys.json``), so every run starts from the
same store, migrated to this code's head. The app runs in this process (``httpx.ASGITransport``)
and posts ``--reports`` ingests after as many to warm up (new and known persons,
``benchmarks.workload``), ``--concurrency`` at a time: above 1, concurrent requests share
group-commit batches as they do in the server.

PostgreSQL runs on this machine: each backend's time on a CPU (``/proc/<pid>/schedstat``, in
nanoseconds, whatever else the machine runs) is read after every round trip of the driver (a
statement's prepare, its execution, BEGIN, COMMIT; SQLAlchemy's or the app's own), and what the
backend spent since its previous round trip is put on that statement: parse, plan, execution,
the protocol's messages, a COMMIT's deferred triggers and WAL flush. Printed: each kind of
statement, its calls per ingest, CPU per call, per ingest and its share; and, as a check, the
CPU of every backend of the database over the measured ingests (start-ups included); and the
blocks each ingest found in PostgreSQL's shared buffers or had to read into them (a read is a copy
from the kernel's page cache, often after writing out the dirty buffer it replaces).
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import re
import tempfile
import time
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import orjson
from sqlalchemy import event

from app import migrate
from app.main import create_app
from benchmarks import store
from benchmarks.load import exchange_keys
from benchmarks.setup import SENDERS, bench_settings, prepare
from benchmarks.workload import fresh_reports


def on_cpu_ns(pid: int) -> int:
    """Nanoseconds process ``pid`` spent on a CPU so far (the kernel's scheduler statistics).

    The kernel adds a running process's time when it stops running (or at a clock tick): the
    backend is read once it sleeps again, waiting for the next message, so what it did after
    sending the answer (ReadyForQuery, its statistics) is its statement's, not the next one's.
    """
    for _ in range(2000):
        with open(f"/proc/{pid}/stat") as stat:
            # the state follows the process name, which is in parentheses
            if stat.read().rpartition(")")[2].split()[0] != "R":
                break
    with open(f"/proc/{pid}/schedstat") as stats:
        return int(stats.read().split()[0])


_FLUSH_TABLE = re.compile(r"INSERT INTO (\w+)")


def kind_of(statement: str) -> str:
    """A short name for a statement: its first words, a flush by the tables it writes."""
    text = " ".join(statement.split())
    if "json_to_recordset" in text:
        tables = _FLUSH_TABLE.findall(text)
        return f"flush: {len(tables)} table(s) from JSON ({tables[0]}…)"
    if text.startswith("WITH claimed AS"):
        return "report's claim (+ case, locks)"
    if text.startswith("WITH wanted AS"):
        return "candidates (keys counted, holders ranked)"
    return text[:72]


class Meter:
    """CPU of each backend between its connection's statements, gathered by statement kind."""

    def __init__(self) -> None:
        self.last: dict[int, int] = {}
        self.by_kind: dict[str, list[int]] = defaultdict(list)
        self.on = False

    def seen(self, pid: int, statement: str) -> None:
        now = on_cpu_ns(pid)
        before = self.last.get(pid)
        self.last[pid] = now
        if self.on and before is not None:
            self.by_kind[kind_of(statement)].append(now - before)

    def watch(self, engine: Any) -> None:
        """Hook every connection the engine opens: each round trip its driver makes (a prepare,
        an execution, BEGIN, COMMIT) is followed by a reading of its backend."""

        def on_connect(dbapi_connection: Any, _record: Any) -> None:
            driver = dbapi_connection.driver_connection
            pid = int(driver.get_server_pid())
            self.last[pid] = on_cpu_ns(pid)
            driver._protocol = _MeteredProtocol(driver._protocol, pid, self)

        event.listen(engine.sync_engine, "connect", on_connect)


class _MeteredProtocol:
    """asyncpg's protocol of one connection, each round trip followed by ``Meter.seen``."""

    _ROUND_TRIPS = frozenset(
        {"bind_execute", "bind_execute_many", "query", "prepare", "close_statement"}
    )

    def __init__(self, protocol: Any, pid: int, meter: Meter) -> None:
        self._protocol = protocol
        self._pid = pid
        self._meter = meter

    def __getattr__(self, name: str) -> Any:
        found = getattr(self._protocol, name)
        if name not in self._ROUND_TRIPS:
            return found

        async def metered(*args: Any, **kwargs: Any) -> Any:
            try:
                return await found(*args, **kwargs)
            finally:
                # a prepare names its text second; an execution passes the prepared state
                first = kwargs.get("state", args[0] if args else "")
                text = args[1] if name == "prepare" else getattr(first, "query", first)
                self._meter.seen(self._pid, str(text))

        return metered


async def backends_ns(monitor: asyncpg.Connection, database: str) -> dict[int, int]:
    pids = await monitor.fetch(
        "SELECT pid FROM pg_stat_activity WHERE datname = $1 AND backend_type = 'client backend'",
        database,
    )
    found: dict[int, int] = {}
    for row in pids:
        try:
            found[row["pid"]] = on_cpu_ns(row["pid"])
        except FileNotFoundError:
            continue
    return found


async def blocks(monitor: asyncpg.Connection, database: str) -> tuple[int, int]:
    """(blocks read into shared buffers, blocks found there) for the database so far."""
    row = await monitor.fetchrow(
        "SELECT blks_read, blks_hit FROM pg_stat_database WHERE datname = $1", database
    )
    assert row is not None
    return int(row["blks_read"]), int(row["blks_hit"])


async def fresh_copy(
    database_url: str, template: str, persons: int, *, keep: bool = False
) -> dict[str, str]:
    """Make the database a copy of ``template`` (built first if missing; ``keep``: one made
    before, as it is, e.g. with settings of its own); the senders' keys."""
    dsn = store.asyncpg_dsn(database_url)
    base, _, name = dsn.rpartition("/")
    keys_file = Path(tempfile.gettempdir()) / f"{template}.keys.json"
    admin = await asyncpg.connect(f"{base}/postgres")
    try:
        exists = await admin.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", template)
        if not exists or not keys_file.exists():
            template_url = database_url.rsplit("/", 1)[0] + f"/{template}"
            prepared = await prepare(template_url)
            await store.load(template_url, persons, quiet=True)
            keys_file.write_text(json.dumps(prepared.keys))
        if not keep:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            await admin.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
    finally:
        await admin.close()
    # the copy migrated to this code's head (the template may predate a migration)
    await asyncio.to_thread(migrate.upgrade, database_url)
    keys: dict[str, str] = json.loads(keys_file.read_text())
    return keys


async def main_async(args: argparse.Namespace) -> None:
    database = args.database_url.rsplit("/", 1)[1]
    keys = await fresh_copy(args.database_url, args.template, args.persons, keep=args.keep)
    known = store.held_back_records(args.persons)
    app = create_app(bench_settings(args.database_url).model_copy(update={"log_level": "WARNING"}))
    meter = Meter()
    meter.watch(app.state.engine)
    monitor = await asyncpg.connect(store.asyncpg_dsn(args.database_url).rsplit("/", 1)[0])
    blocks_before = await blocks(monitor, database)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://sinergi") as http:
        tokens = await exchange_keys(http, {code: keys[code] for code in SENDERS})
        headers = [
            {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
            for token in tokens.values()
        ]
        bodies = [
            orjson.dumps(b)
            for b in fresh_reports(f"PGCPU{args.seed}", args.seed, 2 * args.reports, known=known)
        ]
        senders = itertools.cycle(headers)

        async def post_all(todo: Iterator[bytes]) -> None:
            for body in todo:
                answer = await http.post("/v1/reports", content=body, headers=next(senders))
                assert answer.status_code == 201, answer.text

        async def run(part: list[bytes]) -> None:
            todo = iter(part)
            await asyncio.gather(*(post_all(todo) for _ in range(args.concurrency)))

        await run(bodies[: args.reports])
        before = await backends_ns(monitor, database)
        meter.on = True
        started = time.perf_counter()
        await run(bodies[args.reports :])
        elapsed = time.perf_counter() - started
        meter.on = False
        after = await backends_ns(monitor, database)
    # the backends end, so their statistics are in pg_stat_database when it is read
    await app.state.engine.dispose()
    await asyncio.sleep(1)
    read, hit = (a - b for a, b in zip(await blocks(monitor, database), blocks_before, strict=True))
    await monitor.close()

    n = args.reports
    attributed = sum(sum(v) for v in meter.by_kind.values())
    total = sum(ns - before.get(pid, 0) for pid, ns in after.items())
    print(
        f"\n{n} ingests, {args.concurrency} at a time, in {elapsed:.1f} s; {args.persons:,} stored"
        f" persons (template {args.template})"
    )
    print(f"{'statement':<76} {'per ingest':>10} {'ms/call':>8} {'ms/ingest':>9} {'share':>6}")
    for kind, spent in sorted(meter.by_kind.items(), key=lambda kv: -sum(kv[1])):
        print(
            f"{kind:<76} {len(spent) / n:>10.2f} {sum(spent) / len(spent) / 1e6:>8.3f} "
            f"{sum(spent) / n / 1e6:>9.3f} {100 * sum(spent) / attributed:>5.1f}%"
        )
    print(f"{'all statements':<76} {'':>10} {'':>8} {attributed / n / 1e6:>9.3f}")
    print(f"{'every backend of the database (check)':<76} {'':>10} {'':>8} {total / n / 1e6:>9.3f}")
    print(
        f"buffers per ingest (warm-up and measured ingests): {hit / (2 * n):.0f} found in "
        f"PostgreSQL's shared buffers, {read / (2 * n):.0f} read into them"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--template", required=True, help="database to copy (built if missing)")
    parser.add_argument("--persons", type=int, default=100_000, help="stored persons (template)")
    parser.add_argument("--reports", type=int, default=300, help="measured ingests (and warm-up)")
    parser.add_argument("--concurrency", type=int, default=1)
    parser.add_argument("--keep", action="store_true", help="use the database as it is")
    parser.add_argument("--seed", type=int, default=13, help="of the reports' persons")
    asyncio.run(main_async(parser.parse_args()))


if __name__ == "__main__":
    main()
