"""The ``sinergi`` command: serve, worker, migrate, openapi (and, as issues land, admin, …)."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer

from app import migrate as migrations
from app.config import get_settings

cli = typer.Typer(help="Sinergi: the inter-agency TPPO/TPPM report exchange.", no_args_is_help=True)
migrate_cli = typer.Typer(help="Database schema migrations (Alembic).", no_args_is_help=True)
cli.add_typer(migrate_cli, name="migrate")

OPENAPI_PATH = Path("openapi/openapi.json")


@cli.command()
def serve(
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port.")] = 8000,
    workers: Annotated[int, typer.Option(help="Uvicorn worker processes.")] = 1,
    no_migrate: Annotated[
        bool, typer.Option("--no-migrate", help="Do not upgrade the database to head on start.")
    ] = False,
) -> None:
    """Serve the API (upgrading the database to the latest schema first)."""
    import uvicorn

    settings = get_settings()
    if not no_migrate:
        migrations.upgrade(settings.database_url)
    uvicorn.run(
        "app.main:create_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        proxy_headers=True,
        log_level=settings.log_level.lower(),
    )


@cli.command()
def worker() -> None:
    """Push due deliveries to agencies' webhooks until SIGTERM (graceful) or SIGINT.

    Any number of workers may share one PostgreSQL; on SQLite run exactly one.
    """
    import asyncio
    import logging

    from app.services.worker import run_worker

    settings = get_settings()
    logging.basicConfig(
        level=settings.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s %(message)s"
    )
    asyncio.run(run_worker(settings))


@migrate_cli.command("upgrade")
def migrate_upgrade(revision: Annotated[str, typer.Argument()] = "head") -> None:
    """Upgrade the database to REVISION (default: head)."""
    migrations.upgrade(get_settings().database_url, revision)


@migrate_cli.command("downgrade")
def migrate_downgrade(revision: Annotated[str, typer.Argument()]) -> None:
    """Downgrade the database to REVISION (``-1`` for one step, ``base`` for empty)."""
    migrations.downgrade(get_settings().database_url, revision)


@migrate_cli.command("current")
def migrate_current() -> None:
    """Print the database's current revision and the code's head."""
    import asyncio

    from app.db import create_engine

    async def read() -> set[str]:
        engine = create_engine(get_settings())
        async with engine.connect() as conn:
            current = await conn.run_sync(migrations.current_revisions)
        await engine.dispose()
        return current

    current = asyncio.run(read())
    typer.echo(f"current: {', '.join(sorted(current)) or '(empty database)'}")
    typer.echo(f"head:    {', '.join(sorted(migrations.head_revisions()))}")


@migrate_cli.command("check")
def migrate_check() -> None:
    """Fail if the models and the migrations disagree."""
    migrations.check(get_settings().database_url)
    typer.echo("models and migrations agree")


def openapi_document() -> str:
    from app.config import Environment, Settings
    from app.main import create_app

    # The spec must not depend on the machine's environment: build it from the defaults.
    spec = create_app(
        Settings(env=Environment.DEVELOPMENT, database_url="sqlite+aiosqlite://")
    ).openapi()
    return json.dumps(spec, indent=2, ensure_ascii=False, sort_keys=False) + "\n"


@cli.command()
def openapi(
    out: Annotated[Path, typer.Option(help="Where to write the spec.")] = OPENAPI_PATH,
    check: Annotated[
        bool, typer.Option(help="Only compare; exit 1 when the file differs.")
    ] = False,
) -> None:
    """Write the OpenAPI spec to openapi/openapi.json (or check it is current)."""
    document = openapi_document()
    if check:
        if not out.exists() or out.read_text(encoding="utf-8") != document:
            typer.echo(f"{out} is out of date: run `sinergi openapi`", err=True)
            raise typer.Exit(1)
        typer.echo(f"{out} is current")
        return
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(document, encoding="utf-8")
    typer.echo(f"wrote {out}", err=True)


def main() -> None:
    try:
        cli()
    except ValueError as exc:  # settings refused (for example a missing secret)
        typer.echo(f"error: {exc}", err=True)
        sys.exit(2)


if __name__ == "__main__":
    main()
