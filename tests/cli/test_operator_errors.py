"""The `sinergi` command tells an operator what to fix in one sentence, never a traceback.

Run as a subprocess, the way an operator meets it: exit code, stderr, and that a secret's value
never appears in what is printed.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from app.cli import cli
from tests.conftest import invoke_cli

SHORT_SECRET = "short-Secret-value-9"


def sinergi(
    *args: str, cwd: Path, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("SINERGI_")}
    return subprocess.run(
        [sys.executable, "-m", "app.cli", *args],
        cwd=cwd,
        env={**clean, "PYTHONPATH": str(Path(__file__).resolve().parents[2]), **(env or {})},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def one_sentence(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) <= 2, result.stderr
    return result.stderr


DEV = {"SINERGI_ENV": "development"}


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("postgres://sinergi@127.0.0.1/sinergi", "not a database URL Sinergi can use"),
        ("nonsense", "not a database URL Sinergi can use"),
        ("postgresql+asyncpg://postgres@127.0.0.1:1/sinergi", "cannot reach PostgreSQL at"),
    ],
)
def test_unusable_database_urls_name_the_setting(url: str, expected: str, tmp_path: Path) -> None:
    err = one_sentence(
        sinergi("audit", "verify", cwd=tmp_path, env={**DEV, "SINERGI_DATABASE_URL": url})
    )
    assert expected in err
    assert "SINERGI_DATABASE_URL" in err


def test_postgresql_down_during_migrate_is_one_sentence(tmp_path: Path) -> None:
    env = {**DEV, "SINERGI_DATABASE_URL": "postgresql+asyncpg://u:pw-Hidden-42@127.0.0.1:1/db"}
    err = one_sentence(sinergi("migrate", "upgrade", cwd=tmp_path, env=env))
    assert "pg_isready -h 127.0.0.1 -p 1" in err
    assert "pw-Hidden-42" not in err


@pytest.mark.pg
def test_missing_database_and_role_on_postgresql(tmp_path: Path) -> None:
    from tests.conftest import TEST_DATABASE_URL

    base = TEST_DATABASE_URL.rsplit("/", 1)[0]
    err = one_sentence(
        sinergi(
            "audit",
            "verify",
            cwd=tmp_path,
            env={**DEV, "SINERGI_DATABASE_URL": f"{base}/sinergi_ops_absent"},
        )
    )
    assert "'sinergi_ops_absent'" in err
    assert "does not exist" in err
    assert "createdb" in err
    host = base.split("@", 1)[1]
    err = one_sentence(
        sinergi(
            "audit",
            "verify",
            cwd=tmp_path,
            env={
                **DEV,
                "SINERGI_DATABASE_URL": f"postgresql+asyncpg://sinergi_ops_nobody@{host}/postgres",
            },
        )
    )
    assert "'sinergi_ops_nobody'" in err
    assert "createuser" in err


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({}, "SINERGI_SECRET_KEY must be set"),
        ({"SINERGI_SECRET_KEY": SHORT_SECRET}, "SINERGI_SECRET_KEY must be at least 32"),
        (
            {"SINERGI_SECRET_KEY": "x" * 40, "SINERGI_KEY_ENCRYPTION_KEY": SHORT_SECRET},
            "SINERGI_KEY_ENCRYPTION_KEY must be at least 32",
        ),
    ],
)
def test_missing_or_short_secrets_are_named_never_echoed(
    env: dict[str, str], expected: str, tmp_path: Path
) -> None:
    result = sinergi("audit", "verify", cwd=tmp_path, env=env)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert expected in result.stderr
    assert "openssl rand" in result.stderr
    for part in (SHORT_SECRET, SHORT_SECRET[:8], SHORT_SECRET[-8:], "x" * 40):
        assert part not in result.stdout + result.stderr


def test_a_secret_inside_a_refused_url_setting_is_not_echoed(tmp_path: Path) -> None:
    env = {**DEV, "SINERGI_RATE_LIMIT_STORAGE_URL": "memcached://:Very-Secret-77@host"}
    result = sinergi("audit", "verify", cwd=tmp_path, env=env)
    assert result.returncode == 2
    assert "SINERGI_RATE_LIMIT_STORAGE_URL" in result.stderr
    assert "Very-Secret-77" not in result.stderr


def test_commands_refuse_to_create_a_database_in_the_wrong_folder(tmp_path: Path) -> None:
    for command in (["audit", "verify"], ["admin", "bootstrap"], ["worker"]):
        err = one_sentence(sinergi(*command, cwd=tmp_path, env=DEV))
        assert f"no database at {tmp_path / 'sinergi.db'}" in err
        assert "sinergi migrate upgrade" in err
    assert list(tmp_path.iterdir()) == []


def test_serve_on_a_port_in_use_says_so(tmp_path: Path) -> None:
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        err = one_sentence(sinergi("serve", "--port", str(port), cwd=tmp_path, env=DEV))
    assert f"cannot listen on 127.0.0.1:{port}" in err
    assert "--port" in err
    assert list(tmp_path.iterdir()) == []  # refused before migrating a new database


async def test_downgrade_names_what_it_destroys_and_asks(cli_runner: CliRunner) -> None:
    refused = await asyncio_invoke(cli_runner, "n\n", "migrate", "downgrade", "base")
    assert refused.exit_code == 1
    assert "EVERY table" in refused.output
    assert "audit_pending" in refused.output  # the newest migration is named
    assert "nothing changed" in refused.output
    # Nothing was dropped: a command that reads the schema still works.
    assert (await invoke_cli(cli_runner, "audit", "verify")).exit_code in {0, 1}

    one_step = await invoke_cli(cli_runner, "migrate", "downgrade", "--yes")
    try:
        assert one_step.exit_code == 0, one_step.output
        assert "undoes 1 migration" in one_step.output
        assert "dropped with the data" in one_step.output
        current = await invoke_cli(cli_runner, "migrate", "current")
        assert "(empty database)" not in current.output
        assert current.output.splitlines()[0] != current.output.splitlines()[1].replace(
            "head:   ", "current:"
        )
    finally:
        # On PostgreSQL the test database is shared by the whole session: back to head.
        assert (await invoke_cli(cli_runner, "migrate", "upgrade")).exit_code == 0


async def asyncio_invoke(runner: CliRunner, answer: str, *args: str) -> object:
    import asyncio

    return await asyncio.to_thread(runner.invoke, cli, list(args), input=answer)
