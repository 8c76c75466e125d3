"""SQL statements per request, counted on the in-process app (no timing, no server).

Builds a fresh benchmark database (``benchmarks.setup``: agencies, default routing rules, keys),
drives the app through ``httpx.ASGITransport`` and counts what SQLAlchemy sends to the driver
(``before_cursor_execute``) for each request: token issue and use, ``POST /v1/reports``,
``GET /v1/reports/{id}`` (by the source and by a recipient), ``GET /v1/inbox``.

    python -m benchmarks.statements                      # PostgreSQL (database bench_stmts)
    python -m benchmarks.statements --sqlite             # SQLite, a temporary file
    python -m benchmarks.statements --show               # also print each statement
    python -m benchmarks.statements --batch 10           # also: 10 ingests held in one
                                                         # group-commit batch (PostgreSQL;
                                                         # with --show, its statements by kind)
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
from collections import Counter, defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import orjson
from sqlalchemy import event

from app.api.reports import ingest_group_commit
from app.main import create_app
from benchmarks.setup import SENDERS, bench_settings, prepare
from benchmarks.workload import fresh_reports

PG_URL = "postgresql+asyncpg://postgres@127.0.0.1:5432/bench_stmts"


#: How a statement the app sent straight through asyncpg (``app.db.driver_rows``, a flush's plain
#: rows) is marked in the log: SQLAlchemy's events never see those.
DRIVER = "[driver] "
_NOT_COUNTED = ("BEGIN", "COMMIT", "ROLLBACK")


class StatementLog:
    """Statements the engine sent while ``counting()`` is open: SQLAlchemy's, and on PostgreSQL
    those sent by the driver alone (asyncpg's query logger, marked ``DRIVER``)."""

    def __init__(self, engine: Any) -> None:
        self.statements: list[str] | None = None
        event.listen(engine.sync_engine, "before_cursor_execute", self._seen)
        if engine.dialect.driver == "asyncpg":
            event.listen(engine.sync_engine, "checkout", self._log_driver)

    def _seen(self, _conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if self.statements is not None:
            self.statements.append(statement)

    def _log_driver(self, connection: Any, *_args: Any) -> None:
        connection._connection.add_query_logger(self._driver_seen)

    def _driver_seen(self, record: Any) -> None:
        query: str = record.query
        # BEGIN and COMMIT are not counted (nor by SQLAlchemy's event), nor asyncpg's own type
        # introspection when a connection first prepares a statement naming a type
        own = query.startswith(_NOT_COUNTED) or "typeinfo_tree" in query or "'jit'" in query
        if self.statements is not None and not own:
            self.statements.append(DRIVER + query)

    @contextmanager
    def counting(self) -> Iterator[list[str]]:
        self.statements = []
        try:
            yield self.statements
        finally:
            self.statements = None


async def batch_statements(
    app: Any, log: StatementLog, client: httpx.AsyncClient, tokens: list[str], size: int
) -> list[str]:
    """Statements sent for ``size`` ingests gathered into one held group-commit batch."""
    group = ingest_group_commit(app.state)
    assert group is not None, "group commit is off (SQLite?)"
    group.hold()
    pending = []
    with log.counting() as statements:
        for i, body in enumerate(fresh_reports("STMTB", 9, size)):
            queued = group.waiting
            headers = {"Authorization": f"Bearer {tokens[i % len(tokens)]}"}
            pending.append(
                asyncio.create_task(
                    client.post(
                        "/v1/reports",
                        headers={**headers, "Content-Type": "application/json"},
                        content=orjson.dumps(body),
                    )
                )
            )
            while group.waiting == queued:
                await asyncio.sleep(0.005)
        # the requests' own statements before the batch (their token) are not the batch's
        del statements[:]
        group.release()
        answers = await asyncio.gather(*pending)
        await asyncio.sleep(0.05)  # asyncpg's query loggers run soon after each statement
        sent = list(statements)
    assert all(a.status_code == 201 for a in answers), [a.text for a in answers]
    assert group.sizes[-1] == size
    return sent


async def measure(
    database_url: str, reports: int, show: bool, batch: int = 0
) -> dict[str, list[int]]:
    prepared = await prepare(database_url)
    app = create_app(bench_settings(database_url).model_copy(update={"log_level": "WARNING"}))
    log = StatementLog(app.state.engine)
    counts: dict[str, list[int]] = defaultdict(list)
    shown: set[str] = set()

    async def call(name: str, client: httpx.AsyncClient, *args: Any, **kwargs: Any) -> Any:
        with log.counting() as statements:
            response = await client.request(*args, **kwargs)
        assert response.status_code < 300, (name, response.status_code, response.text)
        counts[name].append(len(statements))
        if show and name not in shown:
            shown.add(name)
            print(f"\n-- {name}: {len(statements)} statements")
            for s in statements:
                print("  ", " ".join(s.split())[:160])
        return response

    transport = httpx.ASGITransport(app=app)
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://sinergi.test") as client:
            tokens: dict[str, str] = {}
            for code in SENDERS:
                response = await call(
                    "POST /v1/auth/token", client, "POST", "/v1/auth/token",
                    data={"grant_type": "client_credentials", "client_id": code,
                          "client_secret": prepared.keys[code]},
                )  # fmt: skip
                tokens[code] = response.json()["access_token"]
            created: list[tuple[str, str]] = []
            bodies = fresh_reports("STMT", 7, reports)
            for i, body in enumerate(bodies):
                code = SENDERS[i % len(SENDERS)]
                headers = {"Authorization": f"Bearer {tokens[code]}"}
                post_headers = {**headers, "Content-Type": "application/json"}
                response = await call(
                    "POST /v1/reports", client, "POST", "/v1/reports", headers=post_headers,
                    content=orjson.dumps(body),
                )  # fmt: skip
                created.append((code, response.headers["location"]))
                routed = [r["agency"] for r in response.json()["routed_to"]]
                await call("GET /v1/reports/{id}", client, "GET", created[-1][1], headers=headers)
                for other in routed:
                    if other in tokens:
                        await call(
                            "GET /v1/reports/{id} (recipient)", client, "GET", created[-1][1],
                            headers={"Authorization": f"Bearer {tokens[other]}"},
                        )  # fmt: skip
                        break
            for code in SENDERS:
                headers = {"Authorization": f"Bearer {tokens[code]}"}
                await call("GET /v1/inbox", client, "GET", "/v1/inbox", headers=headers)
                await call("GET /healthz", client, "GET", "/healthz")
            if batch:
                sent = await batch_statements(app, log, client, list(tokens.values()), batch)
                by_driver = sum(s.startswith(DRIVER) for s in sent)
                print(
                    f"POST /v1/reports, {batch} in one batch: {len(sent)} statements, "
                    f"{len(sent) / batch:.1f} per request ({by_driver / batch:.1f} of them "
                    "straight through the driver)"
                )
                if show:
                    kinds = Counter(" ".join(s.split())[:70] for s in sent)
                    for kind, n in sorted(kinds.items(), key=lambda k: -k[1]):
                        print(f"  {n:4d}  {kind}")
    finally:
        await app.state.engine.dispose()
    return counts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default=PG_URL)
    parser.add_argument("--sqlite", action="store_true")
    parser.add_argument("--reports", type=int, default=40)
    parser.add_argument("--show", action="store_true", help="print each statement (first request)")
    parser.add_argument("--batch", type=int, default=0, help="also N ingests in one batch")
    args = parser.parse_args()
    url = args.database_url
    if args.sqlite:
        url = f"sqlite+aiosqlite:///{Path(tempfile.mkdtemp()) / 'stmts.db'}"
    counts = asyncio.run(measure(url, args.reports, args.show, args.batch))
    print(f"\nSQL statements per request ({'SQLite' if args.sqlite else 'PostgreSQL'})")
    print(f"{'request':<36} {'n':>4} {'min':>5} {'median':>7} {'max':>5}")
    for name, values in counts.items():
        print(
            f"{name:<36} {len(values):>4} {min(values):>5} "
            f"{statistics.median(values):>7.1f} {max(values):>5}"
        )


if __name__ == "__main__":
    main()
