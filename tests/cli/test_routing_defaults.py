"""`sinergi routing load-defaults`: on a fresh database the README's Navy report finds its way."""

from __future__ import annotations

from typing import Any

from typer.testing import CliRunner

from app.db import transaction
from app.services.routing import list_rules
from app.vocab.enums import AgencyKind
from tests.conftest import invoke_cli
from tests.factories import create_agency


async def test_load_defaults_from_the_command_line(cli_runner: CliRunner, app: Any) -> None:
    await create_agency(app, "POLRES-DUMAI", AgencyKind.POLICE, region_code="14.72")
    await create_agency(app, "LANAL-DUMAI", AgencyKind.NAVY, region_code="14.72")
    await create_agency(app, "POLDA-SUMUT", AgencyKind.POLICE, region_code="12")

    dry = await invoke_cli(cli_runner, "routing", "load-defaults", "--region", "14.72", "--dry-run")
    assert dry.exit_code == 0, dry.output
    assert "criminal-investigation: would create -> POLRES-DUMAI" in dry.output
    assert "maritime-routes: would create -> LANAL-DUMAI" in dry.output
    assert "POLDA-SUMUT" not in dry.output  # another province's police is not Dumai's
    assert "dry run: nothing stored" in dry.output
    async with transaction(app.state.session_factory) as session:
        assert await list_rules(session) == []

    loaded = await invoke_cli(cli_runner, "routing", "load-defaults", "--region", "14.72")
    assert loaded.exit_code == 0, loaded.output
    assert "maritime-routes: created -> LANAL-DUMAI" in loaded.output
    async with transaction(app.state.session_factory) as session:
        names = {r.name for r in await list_rules(session)}
    assert {"criminal-investigation", "maritime-routes"} <= names

    again = await invoke_cli(cli_runner, "routing", "load-defaults", "--region", "14.72")
    assert "maritime-routes: already stored" in again.output
    assert "0 of" in again.output


async def test_a_region_that_is_not_a_code_is_refused(cli_runner: CliRunner) -> None:
    result = await invoke_cli(cli_runner, "routing", "load-defaults", "--region", "Dumai")
    assert result.exit_code == 2
    assert "--region 'Dumai' is not a Kemendagri region code" in result.output
