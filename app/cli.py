"""The ``sinergi`` command: serve, worker, migrate, openapi, admin."""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import Awaitable, Callable
from datetime import datetime
from pathlib import Path
from typing import Annotated, TypeVar

import typer
from sqlalchemy.ext.asyncio import AsyncSession

from app import migrate as migrations
from app.config import Settings, get_settings
from app.errors import SinergiError

T = TypeVar("T")

cli = typer.Typer(help="Sinergi: the inter-agency TPPO/TPPM report exchange.", no_args_is_help=True)
migrate_cli = typer.Typer(help="Database schema migrations (Alembic).", no_args_is_help=True)
cli.add_typer(migrate_cli, name="migrate")
admin_cli = typer.Typer(
    help="Agencies and credentials (what the /v1/admin endpoints do).", no_args_is_help=True
)
cli.add_typer(admin_cli, name="admin")
audit_cli = typer.Typer(help="The tamper-evident audit trail.", no_args_is_help=True)
cli.add_typer(audit_cli, name="audit")
stats_cli = typer.Typer(help="Statistics for coordination meetings.", no_args_is_help=True)
cli.add_typer(stats_cli, name="stats")
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


@stats_cli.command("report")
def stats_report(
    start: Annotated[
        datetime, typer.Option("--from", formats=["%Y-%m-%d"], help="First day (YYYY-MM-DD).")
    ],
    end: Annotated[
        datetime, typer.Option("--to", formats=["%Y-%m-%d"], help="Last day, included.")
    ],
    out: Annotated[Path, typer.Option(help="The HTML file to write.")] = Path("report.html"),
    agency: Annotated[
        str | None,
        typer.Option(
            help="Count only what this agency may see (need-to-know), as its token would."
        ),
    ] = None,
    unsuppressed: Annotated[
        bool,
        typer.Option(
            "--unsuppressed", help="Show counts below the threshold (not for a shared screen)."
        ),
    ] = False,
) -> None:
    """Write the coordination-meeting report: one self-contained HTML page with charts.

    Without --agency it counts every report, with small counts suppressed as for an agency,
    so the page is safe to put on a meeting-room screen.
    """
    from app.services import stats
    from app.services.agencies import get_agency

    async def use_case(session: AsyncSession, settings: Settings) -> str:
        period = stats.parse_period(
            start.date(),
            end.date(),
            utc_offset=settings.stats_utc_offset,
            max_days=settings.stats_max_period_days,
        )
        threshold = None if unsuppressed else settings.stats_suppression_threshold
        agency_id = (await get_agency(session, agency)).id if agency else None
        audience = stats.Audience(agency_id=agency_id, suppress_below=threshold)
        return await stats.meeting_page(
            session, audience, period, label=stats.audience_label(agency)
        )

    page = _run_admin(use_case)
    out.write_text(page, encoding="utf-8")
    typer.echo(f"wrote {out}", err=True)


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


def _run_admin(use_case: Callable[[AsyncSession, Settings], Awaitable[T]]) -> T:
    """Run ``use_case`` in one transaction against the configured database."""
    import asyncio

    from app.db import create_engine, create_session_factory, transaction

    async def run() -> T:
        settings = get_settings()
        engine = create_engine(settings)
        try:
            async with transaction(create_session_factory(engine)) as session:
                return await use_case(session, settings)
        finally:
            await engine.dispose()

    try:
        return asyncio.run(run())
    except SinergiError as exc:
        typer.echo(f"error: {exc.detail or exc.title}", err=True)
        raise typer.Exit(1) from None


@admin_cli.command("bootstrap")
def admin_bootstrap() -> None:
    """Create the ADMIN agency and print its API key once, alone on stdout."""
    from app.services.agencies import bootstrap_admin

    async def use_case(session: AsyncSession, settings: Settings) -> str:
        issued = await bootstrap_admin(session, settings)
        return issued.key

    key = _run_admin(use_case)
    typer.echo("ADMIN agency created; its API key is shown once, on stdout.", err=True)
    typer.echo(key)


@admin_cli.command("create-agency")
def admin_create_agency(
    code: Annotated[str, typer.Argument(help="Agency code, e.g. IMIGRASI-DUMAI.")],
    name: Annotated[str, typer.Option(help="Full name of the agency.")],
    kind: Annotated[str, typer.Option(help="IMMIGRATION, POLICE, MIGRANT_WORKER_PROTECTION, …")],
    region_code: Annotated[str | None, typer.Option(help="Kemendagri region code.")] = None,
) -> None:
    """Register an agency (no key yet: see issue-key)."""
    from pydantic import ValidationError

    from app.schemas.agency import AgencyCreate
    from app.services.agencies import create_agency

    try:
        data = AgencyCreate(code=code, name=name, kind=kind, region_code=region_code)
    except ValidationError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None

    async def use_case(session: AsyncSession, _settings: Settings) -> str:
        return (await create_agency(session, data)).code

    typer.echo(f"agency {_run_admin(use_case)} created", err=True)


@admin_cli.command("issue-key")
def admin_issue_key(
    code: Annotated[str, typer.Argument(help="Agency code.")],
    expires_in_days: Annotated[int | None, typer.Option(help="Days until expiry.")] = None,
) -> None:
    """Issue an API key for an agency; the key is printed once, alone on stdout."""
    from datetime import timedelta

    from app.models.base import utcnow
    from app.services.agencies import get_agency
    from app.services.api_keys import issue_api_key

    async def use_case(session: AsyncSession, settings: Settings) -> str:
        agency = await get_agency(session, code)
        expires = utcnow() + timedelta(days=expires_in_days) if expires_in_days else None
        issued = await issue_api_key(
            session, secret_key=settings.secret_key, agency=agency, expires_at=expires, actor="cli"
        )
        typer.echo(f"key id {issued.record.id}", err=True)
        return issued.key

    typer.echo(_run_admin(use_case))


@admin_cli.command("rotate-key")
def admin_rotate_key(
    code: Annotated[str, typer.Argument(help="Agency code.")],
    key_id: Annotated[str, typer.Argument(help="Id of the key to replace.")],
    grace_hours: Annotated[
        int | None, typer.Option(help="Hours the old key keeps working (default from settings).")
    ] = None,
) -> None:
    """Issue a successor key (printed alone on stdout); the old one expires after the grace period."""
    import uuid
    from datetime import timedelta

    from app.services.agencies import get_agency
    from app.services.api_keys import rotate_api_key

    async def use_case(session: AsyncSession, settings: Settings) -> str:
        agency = await get_agency(session, code)
        hours = grace_hours if grace_hours is not None else settings.api_key_rotation_grace_hours
        issued = await rotate_api_key(
            session,
            secret_key=settings.secret_key,
            agency=agency,
            key_id=uuid.UUID(key_id),
            grace=timedelta(hours=hours),
            actor="cli",
        )
        typer.echo(f"key id {issued.record.id}", err=True)
        return issued.key

    typer.echo(_run_admin(use_case))


@admin_cli.command("revoke-key")
def admin_revoke_key(
    code: Annotated[str, typer.Argument(help="Agency code.")],
    key_id: Annotated[str, typer.Argument(help="Id of the key to revoke.")],
) -> None:
    """Revoke an API key now; tokens minted from it stop working at once."""
    import uuid

    from app.services.agencies import get_agency
    from app.services.api_keys import revoke_api_key

    async def use_case(session: AsyncSession, _settings: Settings) -> None:
        agency = await get_agency(session, code)
        await revoke_api_key(session, agency=agency, key_id=uuid.UUID(key_id), actor="cli")

    _run_admin(use_case)
    typer.echo(f"key {key_id} revoked", err=True)


@admin_cli.command("rotate-signing-key")
def admin_rotate_signing_key() -> None:
    """Rotate the service's token signing key (next → current; the old one verifies until expiry)."""
    from app.services.signing_keys import rotate_signing_keys

    async def use_case(session: AsyncSession, settings: Settings) -> str:
        return (await rotate_signing_keys(session, settings, actor="cli")).kid

    typer.echo(f"signing with key {_run_admin(use_case)}", err=True)


def main() -> None:
    try:
        cli()
    except ValueError as exc:  # settings refused (for example a missing secret)
        typer.echo(f"error: {exc}", err=True)
        sys.exit(2)


if __name__ == "__main__":
    main()
