"""Changed server secrets: detected by `/readyz` and `sinergi serve`, rotated without lockout.

Every step a real operator takes is driven here: bootstrap under the old secrets, a restart with
new values (and the old ones as SINERGI_PREVIOUS_…), `sinergi admin rotate-secrets`, and agencies
fetching tokens over HTTP throughout.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from typer.testing import CliRunner

from app import config
from app.main import create_app
from app.vocab.enums import OfficerRole
from tests.conftest import invoke_cli, make_settings
from tests.factories import create_officer

pytestmark = pytest.mark.anyio

OLD = "old-secret-0123456789-0123456789-abcdef"
NEW = "new-secret-0123456789-0123456789-abcdef"
OLD_KEK = "old-kek-0123456789-0123456789-0123456789"
NEW_KEK = "new-kek-0123456789-0123456789-0123456789"


def _configure(monkeypatch: pytest.MonkeyPatch, **secrets: str) -> None:
    """What the operator puts in the environment before (re)starting."""
    for name in (
        "secret_key",
        "key_encryption_key",
        "previous_secret_key",
        "previous_key_encryption_key",
    ):
        variable = f"SINERGI_{name.upper()}"
        if name in secrets:
            monkeypatch.setenv(variable, secrets[name])
        else:
            monkeypatch.delenv(variable, raising=False)
    config.get_settings.cache_clear()


class Service:
    """The API as a client sees it, under given secrets (one app per 'restart')."""

    def __init__(self, database_url: str, **secrets: str) -> None:
        # every secret named, so that none is read from the CLI's environment
        unset = {"previous_secret_key": "", "previous_key_encryption_key": ""}
        self.app = create_app(make_settings(database_url, **{**unset, **secrets}))
        self.client = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=self.app), base_url="http://sinergi.test"
        )

    async def token_status(self, code: str, key: str) -> int:
        response = await self.client.post(
            "/v1/auth/token",
            data={"grant_type": "client_credentials", "client_id": code, "client_secret": key},
        )
        return response.status_code

    async def aclose(self) -> None:
        await self.client.aclose()
        await self.app.state.engine.dispose()


@pytest.fixture
async def keys(
    cli_runner: CliRunner, monkeypatch: pytest.MonkeyPatch, database_url: str
) -> dict[str, str]:
    """A database set up under the old secrets: ADMIN and IMIGRASI-DUMAI keys, canaries kept."""
    _configure(monkeypatch, secret_key=OLD, key_encryption_key=OLD_KEK)
    admin = await invoke_cli(cli_runner, "admin", "bootstrap")
    assert admin.exit_code == 0, admin.output
    created = await invoke_cli(
        cli_runner, "admin", "create-agency", "IMIGRASI-DUMAI", "--name", "Imigrasi Dumai",
        "--kind", "IMMIGRATION",
    )  # fmt: skip
    assert created.exit_code == 0, created.output
    issued = await invoke_cli(cli_runner, "admin", "issue-key", "IMIGRASI-DUMAI")
    assert issued.exit_code == 0, issued.output
    # what `serve` does at its first start: it records the canaries
    first = await invoke_cli(cli_runner, "admin", "rotate-secrets")
    assert first.exit_code == 0, first.output
    return {"ADMIN": admin.stdout.strip(), "IMIGRASI-DUMAI": issued.stdout.strip()}


async def test_a_changed_secret_is_named_by_readyz_and_serve(
    cli_runner: CliRunner,
    monkeypatch: pytest.MonkeyPatch,
    database_url: str,
    keys: dict[str, str],
) -> None:
    changed = Service(database_url, secret_key=NEW, key_encryption_key=NEW_KEK)
    ready = await changed.client.get("/readyz")
    assert await changed.token_status("ADMIN", keys["ADMIN"]) == 401
    await changed.aclose()
    assert ready.status_code == 503
    assert "SINERGI_SECRET_KEY does not match" in ready.json()["detail"]
    assert "SINERGI_KEY_ENCRYPTION_KEY does not match" in ready.json()["detail"]
    assert "SINERGI_PREVIOUS_SECRET_KEY" in ready.json()["detail"]

    _configure(monkeypatch, secret_key=NEW, key_encryption_key=OLD_KEK)
    started: list[Any] = []
    monkeypatch.setattr("uvicorn.run", lambda *a, **k: started.append(a))
    serve = await invoke_cli(cli_runner, "serve", "--port", "18290", "--no-migrate")
    assert serve.exit_code == 1
    assert "SINERGI_SECRET_KEY does not match" in serve.stderr
    assert "KEY_ENCRYPTION_KEY" not in serve.stderr
    assert started == []

    unchanged = Service(database_url, secret_key=OLD, key_encryption_key=OLD_KEK)
    assert (await unchanged.client.get("/readyz")).status_code == 200
    await unchanged.aclose()


async def test_secrets_rotate_without_locking_anyone_out(
    cli_runner: CliRunner,
    monkeypatch: pytest.MonkeyPatch,
    database_url: str,
    keys: dict[str, str],
) -> None:
    rotating = {
        "secret_key": NEW,
        "key_encryption_key": NEW_KEK,
        "previous_secret_key": OLD,
        "previous_key_encryption_key": OLD_KEK,
    }
    _configure(monkeypatch, **rotating)
    begun = await invoke_cli(cli_runner, "admin", "rotate-secrets")  # or `serve` restarting
    assert begun.exit_code == 3, begun.output
    assert "IMIGRASI-DUMAI" in begun.stderr
    assert "2 API keys still verify only with SINERGI_PREVIOUS_SECRET_KEY" in begun.stderr

    during = Service(database_url, **rotating)
    assert (await during.client.get("/readyz")).status_code == 200
    assert await during.token_status("ADMIN", keys["ADMIN"]) == 200  # re-hashed under NEW
    await during.aclose()

    pending = await invoke_cli(cli_runner, "admin", "rotate-secrets")
    assert pending.exit_code == 3
    assert "1 API keys still verify only" in pending.stderr
    assert "IMIGRASI-DUMAI" in pending.stderr

    # the key-encryption key is done: the signing keys open under the new one alone
    kek_only = Service(
        database_url, secret_key=NEW, key_encryption_key=NEW_KEK, previous_secret_key=OLD
    )
    assert await kek_only.token_status("ADMIN", keys["ADMIN"]) == 200
    assert await kek_only.token_status("IMIGRASI-DUMAI", keys["IMIGRASI-DUMAI"]) == 200
    await kek_only.aclose()

    done = await invoke_cli(cli_runner, "admin", "rotate-secrets")
    assert done.exit_code == 0, done.output
    assert "may now be removed" in done.stderr

    after = Service(database_url, secret_key=NEW, key_encryption_key=NEW_KEK)
    assert (await after.client.get("/readyz")).status_code == 200
    assert await after.token_status("ADMIN", keys["ADMIN"]) == 200
    assert await after.token_status("IMIGRASI-DUMAI", keys["IMIGRASI-DUMAI"]) == 200
    await after.aclose()


async def test_force_closes_the_rotation_and_unused_keys_stop_working(
    cli_runner: CliRunner,
    monkeypatch: pytest.MonkeyPatch,
    database_url: str,
    keys: dict[str, str],
) -> None:
    _configure(
        monkeypatch,
        secret_key=NEW,
        key_encryption_key=OLD_KEK,
        previous_secret_key=OLD,
    )
    forced = await invoke_cli(cli_runner, "admin", "rotate-secrets", "--force")
    assert forced.exit_code == 0, forced.output
    after = Service(database_url, secret_key=NEW, key_encryption_key=OLD_KEK)
    assert (await after.client.get("/readyz")).status_code == 200
    assert await after.token_status("IMIGRASI-DUMAI", keys["IMIGRASI-DUMAI"]) == 401
    await after.aclose()


async def test_an_officer_s_totp_survives_the_rotation_of_the_key_encryption_key(
    cli_runner: CliRunner,
    monkeypatch: pytest.MonkeyPatch,
    database_url: str,
    keys: dict[str, str],
) -> None:
    before = Service(database_url, secret_key=OLD, key_encryption_key=OLD_KEK)
    officer = await create_officer(
        before.app, "IMIGRASI-DUMAI", "admin.imigrasi", OfficerRole.AGENCY_ADMIN
    )
    await before.aclose()
    assert officer.totp_secret is not None

    rotating = {
        "secret_key": OLD,
        "key_encryption_key": NEW_KEK,
        "previous_key_encryption_key": OLD_KEK,
    }
    _configure(monkeypatch, **rotating)
    done = await invoke_cli(cli_runner, "admin", "rotate-secrets")
    assert done.exit_code == 0, done.output
    assert "1 officers' TOTP secrets re-encrypted" in done.stderr

    after = Service(database_url, secret_key=OLD, key_encryption_key=NEW_KEK)
    signed_in = await after.client.post(
        "/v1/session",
        json={
            "username": officer.username,
            "password": officer.password,
            "totp_code": officer.totp_code(),
        },
    )
    await after.aclose()
    assert signed_in.status_code == 200, signed_in.text
