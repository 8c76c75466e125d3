"""The ``sinergi`` command: serve, migrate, openapi (and, as issues land, admin, worker, …)."""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import Awaitable, Callable
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, TypeVar

import typer

from app import migrate as migrations
from app.config import get_settings

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

T = TypeVar("T")

cli = typer.Typer(help="Sinergi: the inter-agency TPPO/TPPM report exchange.", no_args_is_help=True)
migrate_cli = typer.Typer(help="Database schema migrations (Alembic).", no_args_is_help=True)
cli.add_typer(migrate_cli, name="migrate")
audit_cli = typer.Typer(help="The tamper-evident audit trail.", no_args_is_help=True)
cli.add_typer(audit_cli, name="audit")
retention_cli = typer.Typer(help="Retention of personal data (UU PDP).", no_args_is_help=True)
cli.add_typer(retention_cli, name="retention")

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


def _in_transaction(work: Callable[[AsyncSession], Awaitable[T]]) -> T:
    """Run ``work`` in one transaction on the configured database (committed if it returns)."""
    from app.db import create_engine, create_session_factory, transaction

    async def run() -> T:
        engine = create_engine(get_settings())
        try:
            async with transaction(create_session_factory(engine)) as session:
                return await work(session)
        finally:
            await engine.dispose()

    return asyncio.run(run())


@audit_cli.command("verify")
def audit_verify(
    anchor: Annotated[
        list[str] | None,
        typer.Option(
            help="A head printed earlier by `sinergi audit anchor` (SEQ:HASH); repeatable."
        ),
    ] = None,
) -> None:
    """Walk the hash chain; exit 1 and name the first edited, missing or reordered event."""
    from app.services import audit

    anchors = [audit.Anchor.parse(a) for a in anchor or []]
    result = _in_transaction(lambda session: audit.verify_chain(session, anchors))
    if result.ok:
        typer.echo(
            f"ok: {result.events_checked} events, seq {result.first_seq}..{result.head_seq}, "
            f"head {result.head_hash}"
        )
        return
    typer.echo(f"BROKEN at event {result.broken_seq}: {result.problem}", err=True)
    raise typer.Exit(1)


@audit_cli.command("anchor")
def audit_anchor() -> None:
    """Print the chain head as SEQ:HASH, to keep outside the database (for `verify --anchor`)."""
    from app.services import audit

    head = _in_transaction(audit.chain_head)
    if head is None:
        typer.echo("the audit trail is empty", err=True)
        raise typer.Exit(1)
    typer.echo(f"{head.seq}:{head.hash}")


@audit_cli.command("export")
def audit_export(
    out: Annotated[Path | None, typer.Option(help="File to write (default: stdout).")] = None,
    since: Annotated[
        datetime | None, typer.Option("--from", help="Events at or after this UTC time.")
    ] = None,
    until: Annotated[
        datetime | None, typer.Option("--to", help="Events before this UTC time.")
    ] = None,
) -> None:
    """Write audit events as JSON Lines, in chain order, hashes included."""
    from datetime import UTC

    from app.services import audit

    since = since.replace(tzinfo=UTC) if since and since.tzinfo is None else since
    until = until.replace(tzinfo=UTC) if until and until.tzinfo is None else until

    async def export(session: AsyncSession) -> int:
        if out is None:
            return await audit.export_events(session, sys.stdout, since=since, until=until)
        with out.open("w", encoding="utf-8") as handle:
            return await audit.export_events(session, handle, since=since, until=until)

    count = _in_transaction(export)
    typer.echo(f"exported {count} events", err=True)


@retention_cli.command("run")
def retention_run() -> None:
    """Remove person data past its retention period (and old audit events, if configured)."""
    from app.services import retention

    settings = get_settings()
    result = _in_transaction(lambda session: retention.run_retention(session, settings))
    for name, purged in result.purged.items():
        typer.echo(f"{name}: purged {len(purged.object_ids)} {purged.object_type}")
    typer.echo(f"audit events removed: {result.audit_events_removed}")


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
