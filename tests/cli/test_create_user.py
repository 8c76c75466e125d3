"""`sinergi admin create-user`: the one-time setup code alone on stdout, and it works once."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from typer.testing import CliRunner

from app import config
from tests.conftest import TEST_SECRET, invoke_cli
from tests.factories import create_agency

pytestmark = pytest.mark.anyio


async def test_create_user_prints_a_setup_code_that_opens_the_setup(
    app: Any, console: httpx.AsyncClient, cli_runner: CliRunner, monkeypatch: pytest.MonkeyPatch
) -> None:
    # the command and the served app share the secret that keys the setup code's hash
    monkeypatch.setenv("SINERGI_SECRET_KEY", TEST_SECRET)
    config.get_settings.cache_clear()
    await create_agency(app, "DINSOS-DUMAI")
    result = await invoke_cli(
        cli_runner, "admin", "create-user", "DINSOS-DUMAI", "199203042019032001",
        "--role", "AGENCY_ADMIN", "--name", "Rina Marlina",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    code = result.stdout.strip()
    assert "\n" not in code
    assert len(code.replace("-", "")) == 16
    signed = await console.post(
        "/v1/session", json={"username": "199203042019032001", "setup_code": code}
    )
    assert signed.status_code == 200, signed.text
    assert signed.json()["needs"] == ["password", "totp"]
    assert signed.json()["officer"]["role"] == "AGENCY_ADMIN"


async def test_create_user_refuses_bad_input_without_a_traceback(
    app: Any, cli_runner: CliRunner
) -> None:
    await create_agency(app, "DINSOS-DUMAI")
    bad_role = await invoke_cli(
        cli_runner, "admin", "create-user", "DINSOS-DUMAI", "someone", "--role", "CHIEF"
    )
    no_agency = await invoke_cli(cli_runner, "admin", "create-user", "NOPE", "someone")
    system_admin = await invoke_cli(
        cli_runner, "admin", "create-user", "DINSOS-DUMAI", "someone", "--role", "SYSTEM_ADMIN"
    )
    assert bad_role.exit_code == 2
    assert "role" in bad_role.stderr
    assert no_agency.exit_code == 1
    assert "NOPE" in no_agency.stderr
    assert system_admin.exit_code == 1
    assert "SYSTEM_ADMIN" in system_admin.stderr
    assert not (bad_role.stdout + no_agency.stdout + system_admin.stdout).strip()
