"""Closed-loop HTTP load generator on 127.0.0.1: N concurrent keep-alive clients, bounded.

Each of ``concurrency`` clients holds one HTTP/1.1 keep-alive connection and sends its next
prepared request as soon as the previous answer is complete, until ``duration`` seconds have
passed or the prepared requests run out. Requests are serialized to bytes before the clock
starts (request line, headers, body), and answers are read with a minimal HTTP/1.1 reader
(status line, ``Content-Length`` or chunked body) on uvloop: the generator's own cost per
request is a write and a read, far below a full client library's, so it can load a fast server
without saturating its own core. Its CPU seconds are printed with the figures.

Standalone, against a running server (the runner ``benchmarks.ingest`` does all of this for you):

    python -m benchmarks.load --url http://127.0.0.1:8000 --key IMIGRASI-DUMAI=sng_… \
        --key POLRES-DUMAI=sng_… --concurrency 32 --duration 20
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import statistics
import time
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import httpx
import orjson
import uvloop

from benchmarks.workload import fresh_reports


@dataclass(frozen=True, slots=True)
class Request:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes | None = None


@dataclass
class LoadResult:
    name: str
    concurrency: int
    elapsed: float
    latencies: list[float]
    statuses: Counter[int]
    errors: Counter[str]
    cpu_seconds: float
    ran_out: bool = False
    #: (Authorization header, Location) of each 201, when asked for: what reads replay later.
    locations: list[tuple[str, str]] = field(default_factory=list)

    @property
    def completed(self) -> int:
        return len(self.latencies)

    @property
    def rps(self) -> float:
        return self.completed / self.elapsed if self.elapsed else 0.0

    def percentile(self, p: float) -> float:
        """Latency at percentile ``p`` (0-100) in milliseconds."""
        if len(self.latencies) < 2:
            return self.latencies[0] * 1000 if self.latencies else float("nan")
        return (
            statistics.quantiles(self.latencies, n=1000, method="inclusive")[
                min(998, max(0, round(p * 10) - 1))
            ]
            * 1000
        )

    @property
    def non_2xx(self) -> int:
        return sum(n for status, n in self.statuses.items() if not 200 <= status < 300)

    @property
    def error_count(self) -> int:
        return sum(self.errors.values())

    def line(self) -> str:
        flags = " (ran out of prepared requests)" if self.ran_out else ""
        others = {s: n for s, n in self.statuses.items() if not 200 <= s < 300}
        return (
            f"{self.name:<22} c={self.concurrency:<3} n={self.completed:<6} "
            f"{self.rps:8.1f} req/s  p50 {self.percentile(50):7.1f} ms  "
            f"p90 {self.percentile(90):7.1f} ms  p99 {self.percentile(99):7.1f} ms  "
            f"errors {self.error_count}  non-2xx {self.non_2xx}{others or ''}  "
            f"generator CPU {self.cpu_seconds:5.1f} s "
            f"({100 * self.cpu_seconds / self.elapsed:.0f}%)"
            f"{flags}"
        )


def _check_local(url: str) -> None:
    host = urlsplit(url).hostname
    if host not in {"127.0.0.1", "localhost"}:
        raise SystemExit(f"the load generator only targets 127.0.0.1, not {host}")


def _encode(request: Request, host: str) -> bytes:
    """The request as it goes on the wire (keep-alive is HTTP/1.1's default)."""
    lines = [f"{request.method} {request.path} HTTP/1.1", f"Host: {host}"]
    lines += [f"{name}: {value}" for name, value in request.headers.items()]
    body = request.body or b""
    if body or request.method in {"POST", "PUT", "PATCH"}:
        lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


async def _read_answer(reader: asyncio.StreamReader) -> tuple[int, bytes]:
    """(status, raw header block) of one answer; the body is read and dropped."""
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head[9:12])
    lower = head.lower()
    at = lower.find(b"\r\ncontent-length:")
    if at >= 0:
        end = lower.index(b"\r\n", at + 2)
        length = int(lower[at + 17 : end])
        if length:
            await reader.readexactly(length)
    elif b"\r\ntransfer-encoding: chunked" in lower:
        while True:
            size = int((await reader.readuntil(b"\r\n")).split(b";")[0], 16)
            await reader.readexactly(size + 2)
            if size == 0:
                break
    return status, head


def _location(head: bytes) -> str:
    for line in head.split(b"\r\n"):
        if line[:9].lower() == b"location:":
            return line[9:].strip().decode("latin-1")
    return ""


async def run(
    name: str,
    base_url: str | Sequence[str],
    requests: Iterable[Request],
    *,
    concurrency: int,
    duration: float,
    keep_locations: bool = False,
    timeout: float = 30.0,
) -> LoadResult:
    """Send ``requests`` with ``concurrency`` clients for at most ``duration`` seconds.

    With several base URLs (replicas of one server) the clients are spread over them in turn,
    as a load balancer would; each keeps its connection to its replica.
    """
    servers: list[tuple[str, int]] = []
    for url in [base_url] if isinstance(base_url, str) else base_url:
        _check_local(url)
        parts = urlsplit(url)
        servers.append((parts.hostname or "127.0.0.1", parts.port or 80))
    source = iter(requests)
    latencies: list[float] = []
    statuses: Counter[int] = Counter()
    errors: Counter[str] = Counter()
    locations: list[tuple[str, str]] = []
    ran_out = False
    cpu_start = time.process_time()
    started = time.perf_counter()
    deadline = started + duration

    async def client_loop(host: str, port: int) -> None:
        nonlocal ran_out
        authority = f"{host}:{port}"
        connection: tuple[asyncio.StreamReader, asyncio.StreamWriter] | None = None
        try:
            while time.perf_counter() < deadline:
                request = next(source, None)
                if request is None:
                    ran_out = True
                    return
                wire = _encode(request, authority)
                sent = time.perf_counter()
                try:
                    if connection is None:
                        connection = await asyncio.open_connection(host, port)
                    reader, writer = connection
                    writer.write(wire)
                    async with asyncio.timeout(timeout):
                        status, head = await _read_answer(reader)
                except (TimeoutError, OSError, asyncio.IncompleteReadError) as exc:
                    errors[type(exc).__name__] += 1
                    if connection is not None:
                        connection[1].close()
                    connection = None
                    continue
                latencies.append(time.perf_counter() - sent)
                statuses[status] += 1
                if b"\r\nconnection: close" in head.lower():
                    connection[1].close()
                    connection = None
                if keep_locations and status == 201:
                    locations.append((request.headers.get("Authorization", ""), _location(head)))
        finally:
            if connection is not None:
                connection[1].close()

    await asyncio.gather(*(client_loop(*servers[i % len(servers)]) for i in range(concurrency)))
    elapsed = time.perf_counter() - started
    cpu = time.process_time() - cpu_start
    return LoadResult(
        name, concurrency, elapsed, latencies, statuses, errors, cpu, ran_out, locations
    )


async def tokens_for(base_url: str, keys: dict[str, str]) -> dict[str, str]:
    """An access token per agency, from its API key (``POST /v1/auth/token``)."""
    _check_local(base_url)
    async with httpx.AsyncClient(base_url=base_url) as client:
        return await exchange_keys(client, keys)


async def exchange_keys(client: httpx.AsyncClient, keys: dict[str, str]) -> dict[str, str]:
    """An access token per agency, from its API key, through ``client`` (a server or an app)."""
    tokens: dict[str, str] = {}
    for code, key in keys.items():
        response = await client.post(
            "/v1/auth/token",
            data={"grant_type": "client_credentials", "client_id": code, "client_secret": key},
        )
        response.raise_for_status()
        tokens[code] = response.json()["access_token"]
    return tokens


def report_posts(
    tokens: Sequence[str],
    prefix: str,
    seed: int,
    count: int,
    *,
    path: str = "/v1/reports",
    known: list[object] | None = None,
) -> list[Request]:
    """``count`` POSTs of unique reports, the senders' tokens taken in turn."""
    cycle = itertools.cycle(tokens)
    return [
        Request(
            "POST",
            path,
            {"Authorization": f"Bearer {next(cycle)}", "Content-Type": "application/json"},
            orjson.dumps(body),
        )
        for body in fresh_reports(prefix, seed, count, known=known)  # type: ignore[arg-type]
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default="http://127.0.0.1:8000")
    parser.add_argument("--key", action="append", required=True, help="CODE=API_KEY, repeatable")
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--duration", type=float, default=20)
    parser.add_argument("--requests", type=int, default=20_000, help="prepared requests at most")
    parser.add_argument("--seed", type=int, default=int(time.time()))
    args = parser.parse_args()
    keys = dict(k.split("=", 1) for k in args.key)

    async def go() -> None:
        tokens = await tokens_for(args.url, keys)
        posts = report_posts(list(tokens.values()), f"LOAD{args.seed}", args.seed, args.requests)
        result = await run(
            "POST /v1/reports",
            args.url,
            posts,
            concurrency=args.concurrency,
            duration=args.duration,
        )
        print(result.line())

    uvloop.run(go())


if __name__ == "__main__":
    main()
