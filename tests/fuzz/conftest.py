"""Counts what schemathesis exercised, so CI can print it (``SINERGI_FUZZ=1 pytest tests/fuzz``)."""

from __future__ import annotations

from collections import Counter

import pytest

#: Requests sent per operation label (``POST /v1/reports``), filled by the fuzz test.
EXERCISED: Counter[str] = Counter()


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if not EXERCISED:
        return
    terminalreporter.write_sep("=", "schemathesis")
    for label, count in sorted(EXERCISED.items()):
        terminalreporter.write_line(f"{count:6d}  {label}")
    terminalreporter.write_line(
        f"schemathesis exercised {len(EXERCISED)} operations with {sum(EXERCISED.values())} "
        "generated examples"
    )
