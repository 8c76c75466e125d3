"""`sinergi serve` runs the app with the garbage collector set for a long-lived server (issue 21).

What the app is built from is frozen, so the oldest generation's collections stop walking it,
and the youngest generation is collected less often; tests build their apps with
``create_app`` and keep Python's defaults.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from typing import Any

import pytest
import uvicorn
from typer.testing import CliRunner
from uvicorn.importer import import_from_string

from app import cli as cli_module
from app.main import SERVED_GC_THRESHOLDS
from tests.conftest import invoke_cli


@pytest.fixture
def collector_restored() -> Iterator[None]:
    thresholds = gc.get_threshold()
    yield
    gc.unfreeze()
    gc.set_threshold(*thresholds)


async def test_serve_builds_an_app_whose_startup_objects_are_frozen(
    cli_runner: CliRunner, monkeypatch: pytest.MonkeyPatch, collector_restored: None
) -> None:
    served: dict[str, Any] = {}
    monkeypatch.setattr(uvicorn, "run", lambda **options: served.update(options))
    monkeypatch.setattr(cli_module, "_check_secrets_or_exit", lambda: None)
    monkeypatch.setattr(cli_module.cli_messages, "port_in_use", lambda host, port: None)

    result = await invoke_cli(cli_runner, "serve", "--no-migrate", "--port", "19399")

    assert result.exit_code == 0, result.output
    assert served["factory"] is True
    gc.unfreeze()
    assert gc.get_freeze_count() == 0
    app = import_from_string(served["app"])()
    assert app.routes
    assert gc.get_freeze_count() > 10_000
    assert gc.get_threshold() == SERVED_GC_THRESHOLDS
    assert SERVED_GC_THRESHOLDS[0] > 700  # Python's default
