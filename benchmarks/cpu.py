"""CPU time per process during a load phase: the server, the worker, PostgreSQL, the machine.

Throughput on this shared two-core machine moves with whatever else runs on it; CPU time spent
per request does not (much). ``CpuMeter.phase`` samples, every 0.2 s while a phase runs:

- the server processes (each pid given and its children: ``--workers`` forks them),
- the worker process,
- the PostgreSQL backends connected to the benchmark's database (found by their process
  title, ``postgres: … <user> <database> 127.0.0.1(port) …``); a backend that appears during
  the phase counts from zero (its start-up is the phase's cost), one that disappears keeps what
  was last sampled. PostgreSQL's shared background processes (WAL writer, checkpointer) are
  left out: other databases on the same server use them too.
- the whole machine (``psutil.cpu_times``), to say how busy it was.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass

import psutil


def _cpu(process: psutil.Process) -> float | None:
    try:
        times = process.cpu_times()
    except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
        return None
    return float(times.user + times.system)


def _tree(pids: Sequence[int]) -> list[psutil.Process]:
    found: list[psutil.Process] = []
    for pid in pids:
        try:
            root = psutil.Process(pid)
            found += [root, *root.children(recursive=True)]
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            continue
    return found


def _backends(database: str) -> list[psutil.Process]:
    marker = f" {database} "
    found: list[psutil.Process] = []
    for process in psutil.process_iter(["cmdline"]):
        # PostgreSQL rewrites its argv as the process title (padded with empty arguments)
        cmdline = process.info.get("cmdline") or [""]
        if cmdline[0].startswith("postgres:") and marker in cmdline[0]:
            found.append(process)
    return found


@dataclass
class PhaseCpu:
    """CPU seconds spent during one phase (or several pooled)."""

    elapsed: float = 0.0
    server: float = 0.0
    worker: float = 0.0
    postgres: float = 0.0
    #: Busy CPU seconds of the whole machine (all cores), and how many cores it has.
    machine: float = 0.0
    cores: int = 1

    def __add__(self, other: PhaseCpu) -> PhaseCpu:
        return PhaseCpu(
            self.elapsed + other.elapsed,
            self.server + other.server,
            self.worker + other.worker,
            self.postgres + other.postgres,
            self.machine + other.machine,
            max(self.cores, other.cores),
        )

    def per_request_ms(self, requests: int) -> tuple[float, float, float]:
        """(server, PostgreSQL, worker) CPU milliseconds per request."""
        n = max(1, requests)
        return 1000 * self.server / n, 1000 * self.postgres / n, 1000 * self.worker / n

    def line(self, requests: int) -> str:
        server, postgres, worker = self.per_request_ms(requests)
        seconds = max(self.elapsed, 1e-9)
        others = self.machine - self.server - self.worker - self.postgres
        return (
            f"  CPU per request: server {server:6.2f} ms  PostgreSQL {postgres:6.2f} ms  "
            f"worker {worker:5.2f} ms  |  server at {100 * self.server / seconds:3.0f}% "
            f"of a core, PostgreSQL {100 * self.postgres / seconds:3.0f}%, machine "
            f"{100 * self.machine / (seconds * self.cores):3.0f}% of {self.cores} cores "
            f"(everything else, generator included: {100 * others / seconds:3.0f}% of a core)"
        )


class _Tracker:
    """Last CPU time seen per process, and where each started."""

    def __init__(self) -> None:
        self.first: dict[tuple[int, float], float] = {}
        self.last: dict[tuple[int, float], float] = {}

    def see(self, processes: Sequence[psutil.Process], *, new_from_zero: bool) -> None:
        for process in processes:
            value = _cpu(process)
            if value is None:
                continue
            key = (process.pid, process.create_time())
            if key not in self.first:
                self.first[key] = 0.0 if new_from_zero else value
            self.last[key] = value

    def total(self) -> float:
        return sum(self.last[k] - self.first[k] for k in self.last)


class CpuMeter:
    """Measures the CPU of the servers, the worker and one database's PostgreSQL backends."""

    def __init__(self, database: str | None, worker_pid: int | None) -> None:
        self.database = database
        self.worker_pid = worker_pid

    @contextmanager
    def phase(self, server_pids: Sequence[int]) -> Iterator[PhaseCpu]:
        """Measure while the block runs; the figures are filled in when it ends."""
        result = PhaseCpu(cores=psutil.cpu_count() or 1)
        trackers = {"server": _Tracker(), "worker": _Tracker(), "postgres": _Tracker()}

        def sample(*, new_from_zero: bool) -> None:
            trackers["server"].see(_tree(server_pids), new_from_zero=new_from_zero)
            if self.worker_pid is not None:
                trackers["worker"].see(_tree([self.worker_pid]), new_from_zero=new_from_zero)
            if self.database is not None:
                trackers["postgres"].see(_backends(self.database), new_from_zero=new_from_zero)

        stop = threading.Event()

        def poll() -> None:
            while not stop.wait(0.2):
                sample(new_from_zero=True)

        sample(new_from_zero=False)
        machine_before = psutil.cpu_times()
        started = time.perf_counter()
        thread = threading.Thread(target=poll, daemon=True)
        thread.start()
        try:
            yield result
        finally:
            stop.set()
            thread.join()
            sample(new_from_zero=True)
            machine_after = psutil.cpu_times()
            result.elapsed = time.perf_counter() - started
            result.server = trackers["server"].total()
            result.worker = trackers["worker"].total()
            result.postgres = trackers["postgres"].total()
            idle = (machine_after.idle + getattr(machine_after, "iowait", 0.0)) - (
                machine_before.idle + getattr(machine_before, "iowait", 0.0)
            )
            wall = sum(machine_after) - sum(machine_before)
            result.machine = max(0.0, wall - idle)
