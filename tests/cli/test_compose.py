"""compose.yaml and the Dockerfile run commands the `sinergi` CLI actually has."""

from __future__ import annotations

import re
from pathlib import Path

import yaml
from typer.testing import CliRunner

from app.cli import cli


def test_every_compose_service_runs_a_real_sinergi_command(repo_root: Path) -> None:
    compose = yaml.safe_load((repo_root / "compose.yaml").read_text(encoding="utf-8"))
    services = compose["services"]
    assert set(services) == {"db", "api", "worker"}
    assert services["api"]["command"][0] == "serve"
    assert services["worker"]["command"][0] == "worker"
    for name in ("api", "worker"):
        service = services[name]
        env = service["environment"]
        assert env["SINERGI_DATABASE_URL"].startswith("postgresql+asyncpg://")
        assert env["SINERGI_ENV"] == "production"
        # Docker must wait longer than the graceful shutdown before it kills.
        grace = int(service["stop_grace_period"].rstrip("s"))
        assert grace >= int(env["SINERGI_SHUTDOWN_TIMEOUT_SECONDS"])
        # The options parse (an unknown one would fail with exit code 2).
        result = CliRunner().invoke(cli, [*service["command"], "--help"])
        assert result.exit_code == 0, (name, result.output)


def test_the_dockerfile_default_command_is_a_real_one(repo_root: Path) -> None:
    dockerfile = (repo_root / "Dockerfile").read_text(encoding="utf-8")
    entry = re.search(r'^ENTRYPOINT \["sinergi"\]$', dockerfile, re.MULTILINE)
    command = re.search(r"^CMD (\[.*\])$", dockerfile, re.MULTILINE)
    assert entry is not None
    assert command is not None
    args = yaml.safe_load(command.group(1))
    result = CliRunner().invoke(cli, [*args, "--help"])
    assert result.exit_code == 0, result.output


def test_the_image_runs_as_a_numeric_non_root_user_with_a_healthcheck(repo_root: Path) -> None:
    dockerfile = (repo_root / "Dockerfile").read_text(encoding="utf-8")
    users = re.findall(r"^USER (\S+)$", dockerfile, re.MULTILINE)
    assert users, "the image must not run as root"
    uid = users[-1].split(":")[0]
    assert uid.isdigit()
    assert int(uid) != 0
    assert re.search(r"^HEALTHCHECK .*\n\s+CMD \[.*/healthz", dockerfile, re.MULTILINE)


def test_compose_takes_every_secret_from_the_environment(repo_root: Path) -> None:
    text = (repo_root / "compose.yaml").read_text(encoding="utf-8")
    compose = yaml.safe_load(text)
    env = compose["services"]["api"]["environment"]
    for name in ("SINERGI_SECRET_KEY", "SINERGI_KEY_ENCRYPTION_KEY"):
        assert env[name].startswith(f"${{{name}:?"), name  # required, no default
    assert "${POSTGRES_PASSWORD:?" in env["SINERGI_DATABASE_URL"]
    assert compose["services"]["db"]["environment"]["POSTGRES_PASSWORD"].startswith(
        "${POSTGRES_PASSWORD:?"
    )
    assert "healthcheck" in compose["services"]["db"]
    # One image for both: the worker is the API's image with another command.
    assert compose["services"]["worker"]["image"] == compose["services"]["api"]["image"]
