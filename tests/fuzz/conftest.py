"""Counts what schemathesis exercised, so CI can print it (``SINERGI_FUZZ=1 pytest tests/fuzz``)."""

from __future__ import annotations

import os
import secrets
from collections import Counter

import pytest

#: One seed for the whole run: ``SINERGI_FUZZ_SEED`` replays one; otherwise a fresh one.
SEED = int(os.environ.get("SINERGI_FUZZ_SEED") or secrets.randbits(32))
#: Requests sent per operation label (``POST /v1/reports``), filled by the fuzz test.
EXERCISED: Counter[str] = Counter()
#: Suffix of the labels counting calls made in stateful scenarios.
STATEFUL = " (stateful)"


def pytest_report_header() -> str:
    return f"schemathesis seed: {SEED} (replay with SINERGI_FUZZ_SEED={SEED})"


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    terminalreporter.write_sep("=", "schemathesis")
    for label, count in sorted(EXERCISED.items()):
        terminalreporter.write_line(f"{count:6d}  {label}")
    operations = {label.removesuffix(STATEFUL) for label in EXERCISED}
    stateful = sum(n for label, n in EXERCISED.items() if label.endswith(STATEFUL))
    terminalreporter.write_line(
        f"schemathesis exercised {len(operations)} operations with {sum(EXERCISED.values())} "
        f"generated examples ({stateful} in stateful scenarios), seed {SEED} "
        f"(replay with SINERGI_FUZZ_SEED={SEED})"
    )
