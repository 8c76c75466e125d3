"""`sinergi serve` leaves the heap built at start-up out of the garbage collector's work.

A served ingest at c=32 paid about 1.4 ms of CPU for full collections that traversed the
~210,000 objects of the imports and the app's construction every 150 or so ingests (issue 21,
`benchmarks/README.md`, loadprof): the served app freezes them once started. An app built for
a test or a tool (``create_app``) freezes nothing, so a test suite's many apps stay collectable.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from app import cli as cli_module
from app import main
from app.cli import cli
from tests.conftest import make_settings


@pytest.fixture
def unfrozen() -> Iterator[None]:
    thresholds = gc.get_threshold()
    gc.unfreeze()
    yield
    gc.unfreeze()
    gc.set_threshold(*thresholds)


@pytest.mark.usefixtures("unfrozen")
async def test_the_served_app_freezes_its_start_up_heap(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = make_settings(f"sqlite+aiosqlite:///{tmp_path / 'served.db'}")
    monkeypatch.setattr(main, "get_settings", lambda: settings)
    served = main.create_served_app()
    assert gc.get_freeze_count() == 0
    assert gc.get_threshold()[0] == 700  # Python's default until the app starts
    async with served.router.lifespan_context(served):
        # the modules, routes and schemas of the app at least
        assert gc.get_freeze_count() > 50_000
        # young collections far rarer, so 32 requests in flight are not promoted at each
        assert gc.get_threshold() == main.SERVED_GC_THRESHOLDS


@pytest.mark.usefixtures("unfrozen")
async def test_an_app_built_for_tests_freezes_nothing(tmp_path: Path) -> None:
    app = main.create_app(make_settings(f"sqlite+aiosqlite:///{tmp_path / 'plain.db'}"))
    async with app.router.lifespan_context(app):
        assert gc.get_freeze_count() == 0
        assert gc.get_threshold()[0] == 700


def test_sinergi_serve_runs_the_served_app(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    ran: dict[str, object] = {}
    monkeypatch.setenv("SINERGI_ENV", "development")
    monkeypatch.setenv("SINERGI_DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path / 'serve.db'}")
    monkeypatch.setattr(cli_module, "_check_secrets_or_exit", lambda: None)
    monkeypatch.setattr("uvicorn.run", lambda **options: ran.update(options))
    cli_module.get_settings.cache_clear()
    try:
        result = CliRunner().invoke(cli, ["serve", "--port", "0", "--no-migrate"])
    finally:
        cli_module.get_settings.cache_clear()
    assert result.exit_code == 0, result.output
    assert ran["app"] == "app.main:create_served_app"
    assert ran["factory"] is True
