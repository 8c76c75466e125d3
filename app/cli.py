"""The ``sinergi`` command: serve (and the demo), worker, import, migrate, openapi, admin, audit."""

from __future__ import annotations

import asyncio
import json
import os
import socket
import sys
from collections.abc import Awaitable, Callable
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, TypeVar

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app import cli_messages
from app import migrate as migrations
from app.config import Settings, get_settings
from app.errors import SinergiError

if TYPE_CHECKING:
    from app.matching.scoring import Weights

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
routing_cli = typer.Typer(help="Routing rules: who receives which report.", no_args_is_help=True)
cli.add_typer(routing_cli, name="routing")
dedup_cli = typer.Typer(help="Person resolution (deduplication).", no_args_is_help=True)
cli.add_typer(dedup_cli, name="dedup")

OPENAPI_PATH = Path("openapi/openapi.json")


DEMO_DATABASE = Path("sinergi-demo.db")


def uvicorn_options(settings: Settings) -> dict[str, object]:
    """How ``serve`` runs Uvicorn (the benchmark baseline uses exactly these too).

    uvloop and httptools are named rather than left to "auto", so a missing extra fails loudly
    instead of quietly serving on the slower pure-Python loop and parser.
    """
    return {
        "loop": "uvloop",
        "http": "httptools",
        "proxy_headers": True,
        "log_level": settings.log_level.lower(),
        "timeout_graceful_shutdown": max(1, round(settings.shutdown_timeout_seconds)),
    }


@cli.command()
def serve(
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port.")] = 8000,
    workers: Annotated[
        int,
        typer.Option(
            min=1,
            help="Server processes; each listens on the port itself (SO_REUSEPORT on Linux), so "
            "the kernel spreads connections over them. One or two per core.",
        ),
    ] = 1,
    no_migrate: Annotated[
        bool, typer.Option("--no-migrate", help="Do not upgrade the database to head on start.")
    ] = False,
    demo: Annotated[
        bool,
        typer.Option(
            "--demo",
            help="Serve a fresh demo: a Kota Dumai TIMPORA with synthetic reports on its own "
            "SQLite file (development secrets); prints each agency's API key once.",
        ),
    ] = False,
    demo_db: Annotated[
        Path, typer.Option(help="The demo's SQLite file (deleted and recreated).")
    ] = DEMO_DATABASE,
    demo_reports: Annotated[
        int, typer.Option(min=0, max=5000, help="How many synthetic reports the demo ingests.")
    ] = 300,
    demo_seed: Annotated[
        int, typer.Option(help="Seed of the demo's data (same seed, same data).")
    ] = 2025,
) -> None:
    """Serve the API (upgrading the database to the latest schema first).

    On SIGTERM the server stops accepting connections and lets in-flight requests finish
    (SINERGI_SHUTDOWN_TIMEOUT_SECONDS at most).
    """
    import uvicorn

    if (busy := cli_messages.port_in_use(host, port)) is not None:
        typer.echo(busy, err=True)
        raise typer.Exit(2)
    if demo:
        settings = _prepare_demo(demo_db, seed=demo_seed, size=demo_reports, host=host, port=port)
    else:
        settings = get_settings()
        if not no_migrate:
            migrations.upgrade(settings.database_url)
        _check_secrets_or_exit()
    options: dict[str, object] = {
        "app": "app.main:create_served_app",
        "factory": True,
        "host": host,
        "port": port,
        **uvicorn_options(settings),
    }
    if workers > 1 and _REUSE_PORT:
        _serve_processes(options, workers)
        return
    uvicorn.run(workers=workers, **options)  # type: ignore[arg-type]


#: Whether each server process can listen on the port itself and have the kernel balance
#: connections between them (Linux's SO_REUSEPORT; elsewhere the option exists but does not
#: balance, and uvicorn's shared socket is used).
_REUSE_PORT = sys.platform == "linux" and hasattr(socket, "SO_REUSEPORT")


def _serve_processes(options: dict[str, object], workers: int) -> None:
    """Run ``workers`` server processes, each on its own SO_REUSEPORT socket; restart any that
    dies; on SIGTERM or SIGINT stop them all (each finishes its requests in flight).

    Uvicorn's own ``--workers`` shares one listening socket: the process that wakes first takes
    every waiting connection (a load test's 32 keep-alive connections all went to one of two).
    With one socket per process the kernel hashes each new connection to one of them.
    """
    import multiprocessing
    import signal
    import time

    spawn = multiprocessing.get_context("spawn")
    stopping = False

    def stop(_signum: int, _frame: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)

    def start() -> multiprocessing.process.BaseProcess:
        process = spawn.Process(target=_serve_one_process, args=(options,), daemon=False)
        process.start()
        return process

    processes = [start() for _ in range(workers)]
    try:
        while not stopping:
            time.sleep(0.5)
            for i, process in enumerate(processes):
                if process.is_alive() or stopping:
                    continue
                if process.exitcode == STARTUP_FAILURE:
                    typer.echo("a server process failed to start; stopping", err=True)
                    stopping = True
                    break
                typer.echo(f"server process {process.pid} died; starting another", err=True)
                processes[i] = start()
    finally:
        for process in processes:
            if process.is_alive() and process.pid is not None:
                os.kill(process.pid, signal.SIGTERM)
        for process in processes:
            process.join()


#: uvicorn's exit code for a process that could not start (``uvicorn.config.STARTUP_FAILURE``).
STARTUP_FAILURE = 3


def _serve_one_process(options: dict[str, object]) -> None:
    """One server process of ``_serve_processes``: its own socket on the shared port."""
    import uvicorn

    host, port = str(options["host"]), int(str(options["port"]))
    family, kind, proto, _, address = socket.getaddrinfo(
        host, port, type=socket.SOCK_STREAM, proto=socket.IPPROTO_TCP
    )[0]
    # proto IPPROTO_TCP: accepted sockets inherit it, and asyncio sets TCP_NODELAY only then
    sock = socket.socket(family, kind, proto)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    try:
        sock.bind(address)
    except OSError as error:
        typer.echo(f"cannot listen on {host}:{port}: {error}", err=True)
        sys.exit(STARTUP_FAILURE)
    config = uvicorn.Config(**options)  # type: ignore[arg-type]
    uvicorn.Server(config).run(sockets=[sock])


def _prepare_demo(path: Path, *, seed: int, size: int, host: str, port: int) -> Settings:
    """Recreate the demo database, seed it, print the agencies' keys; the settings to serve."""
    import os
    import time

    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn

    from app import demo

    for suffix in ("", "-wal", "-shm", "-journal"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    # The served app (and any uvicorn worker process) reads its settings from the environment.
    os.environ["SINERGI_ENV"] = "development"
    os.environ["SINERGI_DATABASE_URL"] = f"sqlite+aiosqlite:///{path}"
    get_settings.cache_clear()
    settings = get_settings()
    console = Console(stderr=True)
    console.print(f"Sinergi demo: a fresh database at {path} (development secrets)")
    migrations.upgrade(settings.database_url)
    started = time.monotonic()
    with Progress(
        "[progress.description]{task.description}",
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=True,
    ) as progress:
        task = progress.add_task("ingesting synthetic reports", total=size)
        seeded = asyncio.run(
            demo.seed_demo(settings, seed=seed, size=size, on_report=lambda: progress.advance(task))
        )
    outcomes = seeded.outcomes
    console.print(
        f"{len(seeded.agencies)} agencies, {seeded.rules} routing rules, "
        f"{outcomes['created']} reports created ({outcomes['rejected']} rejected) "
        f"in {time.monotonic() - started:.1f} s"
    )
    base = f"http://{'127.0.0.1' if host in {'0.0.0.0', '::'} else host}:{port}"  # noqa: S104
    extract = "python3 -c 'import json,sys; print(json.load(sys.stdin)[\"access_token\"])'"
    typer.echo("\nAPI keys, shown once (each in the command that gets a token for its agency):")
    for code, name in seeded.agencies:
        typer.echo(f"\n# {code}: {name}")
        typer.echo(
            f"TOKEN=$(curl -s -u '{code}:{seeded.keys[code]}' -d grant_type=client_credentials "
            f"{base}/v1/auth/token | {extract})"
        )
    typer.echo(
        f"\nOfficers (people): open the console at {base}/ in a browser and sign in, for "
        f"example as petugas.polres-dumai, with the development password "
        f"'{demo.DEMO_OFFICER_PASSWORD}' (systems sign in at POST {base}/v1/session with the "
        "same). Admin roles also need a TOTP code: add the "
        "secret shown to an authenticator app, or print the current code with\n"
        "  python3 -c 'import pyotp,sys; print(pyotp.TOTP(sys.argv[1]).now())' SECRET"
    )
    for officer in seeded.officers:
        second = f"  TOTP secret {officer.totp_secret}" if officer.totp_secret else ""
        typer.echo(f"  {officer.username:<34} {officer.role.value:<13}{second}")
    typer.echo(f"Analysts: sign in as analis.admin and review possible matches at {base}/tinjauan")
    typer.echo(
        f"For example (the cookie is sinergi_session in development):\n"
        f"curl -s -c cookies.txt -H 'Content-Type: application/json' "
        f'-d \'{{"username": "petugas.polres-dumai", '
        f'"password": "{demo.DEMO_OFFICER_PASSWORD}"}}\' '
        f"{base}/v1/session\n"
        f'curl -s -b cookies.txt "{base}/v1/inbox?limit=5"'
    )
    typer.echo(
        "\nThen, for example as POLRES-DUMAI, read the reports routed to you:\n"
        f'curl -s -H "Authorization: Bearer $TOKEN" "{base}/v1/inbox?limit=5"\n'
        f"API documentation: {base}/docs\n"
    )
    return settings


@cli.command()
def worker(
    metrics_port: Annotated[
        int | None,
        typer.Option(help="Serve Prometheus metrics (webhook attempts, latency) on this port."),
    ] = None,
    metrics_host: Annotated[str, typer.Option(help="Interface of the metrics port.")] = "127.0.0.1",
) -> None:
    """Push due deliveries to agencies' webhooks until SIGTERM (graceful) or SIGINT.

    On SIGTERM the worker claims nothing more, finishes the round in progress (each send is
    bounded by SINERGI_WEBHOOK_TIMEOUT_SECONDS), records its outcomes and exits. Any number of
    workers may share one PostgreSQL; on SQLite run exactly one.
    """
    import asyncio

    from app.logging import configure_logging
    from app.worker import run_worker

    settings = _existing_database(get_settings())
    configure_logging(settings)
    if metrics_port is not None:
        from prometheus_client import start_http_server

        start_http_server(metrics_port, addr=metrics_host)
    asyncio.run(run_worker(settings))


@cli.command("import")
def import_reports(
    file: Annotated[
        Path, typer.Argument(exists=True, dir_okay=False, help="JSON Lines: one report per line.")
    ],
    agency: Annotated[str, typer.Option(help="Code of the agency submitting the reports.")],
    rejects: Annotated[
        Path | None,
        typer.Option(help="Where rejected lines go (default: FILE with .rejects.jsonl)."),
    ] = None,
) -> None:
    """Ingest reports from a JSON Lines file, each line in a transaction of its own.

    Each line goes through the same ingest as POST /v1/reports: a line whose external_ref is
    already stored with the same body is replayed (nothing changes). Rejected lines are written
    with their line number and problem+json errors; the exit code is 1 when any line was rejected.
    """
    from app.db import create_engine, create_session_factory, transaction
    from app.services import imports
    from app.services.reports import IngestSettings

    settings = _existing_database(get_settings())
    if (shape := imports.json_lines_problem(file)) is not None:
        typer.echo(f"error: {shape}", err=True)
        raise typer.Exit(2)
    rejects_path = rejects or file.with_name(f"{file.stem}.rejects.jsonl")
    console = Console(stderr=True)
    with file.open("rb") as handle:
        total = sum(1 for line in handle if line.removeprefix(imports.UTF8_BOM).strip())
    counts = {"created": 0, "replayed": 0, "rejected": 0}
    rejected: list[dict[str, object]] = []

    async def run() -> None:
        engine = create_engine(settings)
        factory = create_session_factory(engine)
        try:
            async with transaction(factory) as session:
                caller = await imports.submitting_agency(session, agency)
            ingest = IngestSettings.of(settings)
            with import_progress(console) as progress, file.open("rb") as lines:
                task = progress.add_task("importing", total=total, counts="")
                for number, raw in enumerate(lines, start=1):
                    line = raw.removeprefix(imports.UTF8_BOM) if number == 1 else raw
                    if not line.strip():
                        continue
                    result = await imports.ingest_one(
                        factory, caller, line.strip(), settings=ingest, via="cli-import"
                    )
                    counts[result.outcome] += 1
                    if result.problem is not None:
                        rejected.append({"line": number, **result.problem})
                    progress.update(
                        task,
                        advance=1,
                        counts=f"ok {counts['created']} re {counts['replayed']} "
                        f"rej {counts['rejected']}",
                    )
        finally:
            await engine.dispose()

    try:
        asyncio.run(run())
    except SinergiError as exc:
        typer.echo(f"error: {exc.detail or exc.title}", err=True)
        raise typer.Exit(2) from None
    if rejected:
        with rejects_path.open("w", encoding="utf-8") as out:
            for item in rejected:
                out.write(json.dumps(item, ensure_ascii=False) + "\n")
    typer.echo(
        f"imported {file} as {agency}: created {counts['created']}, "
        f"replayed {counts['replayed']}, rejected {counts['rejected']}"
        + (f" (written to {rejects_path})" if rejected else "")
    )
    if rejected:
        raise typer.Exit(1)


def import_progress(console: Console) -> Progress:
    """The import's progress line; count and elapsed time first, so 80 columns never cut them."""
    return Progress(
        "[progress.description]{task.description}",
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        BarColumn(bar_width=16),
        "{task.fields[counts]}",
        console=console,
    )


@migrate_cli.command("upgrade")
def migrate_upgrade(revision: Annotated[str, typer.Argument()] = "head") -> None:
    """Upgrade the database to REVISION (default: head)."""
    migrations.upgrade(get_settings().database_url, revision)


@migrate_cli.command("downgrade")
def migrate_downgrade(
    revision: Annotated[
        str, typer.Argument(help="Target revision; `base` empties the database.")
    ] = "-1",
    yes: Annotated[
        bool, typer.Option("--yes", help="Do not ask: destroy what the downgrade removes.")
    ] = False,
) -> None:
    """Downgrade the database one step, or to REVISION (``base`` for empty).

    A downgrade drops what the undone migrations added (tables, columns, with their data):
    it names them and asks first, unless --yes is given.
    """
    database_url = get_settings().database_url

    async def read() -> set[str]:
        from app.db import create_engine

        engine = create_engine(get_settings())
        try:
            async with engine.connect() as conn:
                return await conn.run_sync(migrations.current_revisions)
        finally:
            await engine.dispose()

    if cli_messages.missing_sqlite_file(database_url) is not None:
        typer.echo("nothing to downgrade: the database does not exist", err=True)
        raise typer.Exit(2)
    undone = migrations.revisions_undone(asyncio.run(read()), revision)
    if not undone:
        typer.echo("nothing to downgrade: the database is already at or below that revision")
        return
    typer.echo(f"Downgrading undoes {len(undone)} migration(s):", err=True)
    for rev, title in undone:
        typer.echo(f"  {rev}  {title}", err=True)
    if revision == "base":
        typer.echo(
            "This drops EVERY table: all agencies, keys, reports, persons, cases, deliveries "
            "and the audit trail are destroyed.",
            err=True,
        )
    else:
        typer.echo(
            "The tables and columns these migrations added are dropped with the data in them.",
            err=True,
        )
    if not yes and not typer.confirm("Take a backup first (docs/operations.md). Downgrade now?"):
        typer.echo("nothing changed", err=True)
        raise typer.Exit(1)
    migrations.downgrade(database_url, revision)
    typer.echo(f"downgraded to {revision}", err=True)


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


def _check_secrets_or_exit() -> None:
    """Refuse to serve with a secret that does not match the database (its stored canary);
    record the canaries on first start. An unreachable database is left to ``/readyz``."""
    from app.db import is_database_unavailable
    from app.services.secrets import SecretStatus, check_secrets, problems

    async def check(session: AsyncSession) -> list[str]:
        checks = await check_secrets(session, get_settings(), record=True)
        if any(c.status is SecretStatus.ROTATING for c in checks):
            typer.echo(
                "warning: a secret rotation is under way; run `sinergi admin rotate-secrets`",
                err=True,
            )
        return problems(checks)

    try:
        refused = _in_transaction(check)
    except Exception as exc:
        if not is_database_unavailable(exc):
            raise
        typer.echo("warning: the database is unreachable; secrets not checked", err=True)
        return
    for problem in refused:
        typer.echo(f"error: {problem}", err=True)
    if refused:
        raise typer.Exit(1)


def _existing_database(settings: Settings) -> Settings:
    """``settings``, unless they name a SQLite file that does not exist (then exit 2).

    Only ``serve`` and ``migrate`` may create a database; any other command run in the wrong
    folder would otherwise leave an empty ``sinergi.db`` there and fail on a missing table.
    """
    if (missing := cli_messages.missing_sqlite_file(settings.database_url)) is not None:
        typer.echo(missing, err=True)
        raise typer.Exit(2)
    return settings


def _with_sessions(work: Callable[[async_sessionmaker[AsyncSession]], Awaitable[T]]) -> T:
    """Run ``work`` with a session factory on the configured database, then dispose of it."""
    from app.db import create_engine, create_session_factory

    _existing_database(get_settings())

    async def run() -> T:
        engine = create_engine(get_settings())
        try:
            return await work(create_session_factory(engine))
        finally:
            await engine.dispose()

    return asyncio.run(run())


def _in_transaction(work: Callable[[AsyncSession], Awaitable[T]]) -> T:
    """Run ``work`` in one transaction on the configured database (committed if it returns)."""
    from app.db import transaction

    async def once(sessions: async_sessionmaker[AsyncSession]) -> T:
        async with transaction(sessions) as session:
            return await work(session)

    return _with_sessions(once)


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


@routing_cli.command("load-defaults")
def routing_load_defaults(
    region: Annotated[
        str | None,
        typer.Option(
            help="The team's Kemendagri region code, e.g. 14.72 (Kota Dumai): only agencies of "
            "that region, inside it or above it receive."
        ),
    ] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Print what would be created; create nothing.")
    ] = False,
) -> None:
    """Load the default city-TIMPORA routing rules (what POST .../load-defaults does).

    Register the agencies first: each rule goes to the active agencies of its kinds (Immigration,
    Police, BP3MI, …). Rules already stored are left alone, so running it twice adds nothing.
    """
    import re

    from app.services import routing

    if region is not None and not re.fullmatch(r"\d{2}(\.\d{2}(\.\d{2}(\.\d{4})?)?)?", region):
        typer.echo(
            f"error: --region {region!r} is not a Kemendagri region code (e.g. 14.72)", err=True
        )
        raise typer.Exit(2)

    async def use_case(session: AsyncSession, _settings: Settings) -> list[routing.DefaultRulePlan]:
        return await routing.load_default_rules_into(session, region_code=region, dry_run=dry_run)

    plan = _run_admin(use_case)
    labels = {
        "created": "created",
        "would_create": "would create",
        "exists": "already stored, left as it is",
        "no_recipient": "skipped: no active agency of its kinds in the region",
    }
    for item in plan:
        to = f" -> {', '.join(item.recipients)}" if item.recipients else ""
        typer.echo(f"{item.name}: {labels[item.outcome]}{to}")
    created = sum(p.outcome in {"created", "would_create"} for p in plan)
    verb = "would be created (dry run: nothing stored)" if dry_run else "created"
    typer.echo(f"{created} of {len(plan)} default rules {verb}", err=True)
    if created == 0 and not any(p.outcome == "exists" for p in plan):
        typer.echo(
            "no agency can receive any default rule: register the agencies first "
            "(sinergi admin create-agency)",
            err=True,
        )


@dedup_cli.command("calibrate")
def dedup_calibrate(
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Print the estimate without storing it.")
    ] = False,
    max_pairs: Annotated[
        int, typer.Option(help="Candidate pairs to learn from, at most.")
    ] = 200_000,
    min_pairs: Annotated[
        int,
        typer.Option(
            help="Store nothing with fewer candidate pairs than this; a field that fewer"
            " candidate pairs show keeps its shipped m."
        ),
    ] = 200,
    min_random_pairs: Annotated[
        int, typer.Option(help="Store nothing with fewer random pairs (for u) than this.")
    ] = 500,
    precision: Annotated[
        float | None,
        typer.Option(
            min=0.5,
            max=0.99999,
            help="Also estimate (and store) the link threshold that keeps this precision.",
        ),
    ] = None,
    terms_only: Annotated[
        bool,
        typer.Option(
            "--terms-only",
            help="Only count term frequencies (names, address words); keep the m/u weights in use.",
        ),
    ] = False,
    min_persons: Annotated[
        int, typer.Option(help="With --terms-only: store nothing below this many persons.")
    ] = 1000,
    shipped_u: Annotated[
        bool,
        typer.Option(
            "--shipped-u",
            help="Learn m only and keep the shipped u (names weigh as shipped; no random pairs).",
        ),
    ] = False,
) -> None:
    """Estimate the matcher's m/u weights (unsupervised EM) and the term frequencies of names
    and address words from the stored persons."""
    from app.services.match_weights import calibrate, calibrate_terms

    if terms_only:
        counted = _in_transaction(
            lambda session: calibrate_terms(session, save=not dry_run, min_persons=min_persons)
        )
        _echo_terms(counted.weights, counted.term_persons)
        if dry_run:
            typer.echo("dry run: nothing stored", err=True)
        elif not counted.stored:
            typer.echo(
                f"too few persons to count terms on (need {min_persons}): nothing stored",
                err=True,
            )
        else:
            typer.echo(
                "stored beside the weights in use; resolution counts terms from now on", err=True
            )
        return
    result = _in_transaction(
        lambda session: calibrate(
            session,
            max_pairs=max_pairs,
            save=not dry_run,
            min_pairs=min_pairs,
            min_random_pairs=min_random_pairs,
            precision=precision,
            shipped_u=shipped_u,
        )
    )
    converged = "converged" if result.converged else "did not converge"
    typer.echo(
        f"{result.pairs} candidate pairs, {result.random_pairs} random pairs; EM {converged}"
        f" after {result.iterations} iterations"
    )
    if result.not_one_person:
        typer.echo(
            "EM over all candidate pairs found households, not persons (records differing more"
            f" often than agreeing in {', '.join(result.not_one_person)}): m learnt within pairs"
            " of one name, the name's within pairs of one birth date"
        )
    if result.namesake_u:
        typer.echo(
            f"u raised to how often namesakes agree for {', '.join(result.namesake_u)}"
            " (two persons of one name among the candidate pairs agree in them more often than"
            " random pairs do)"
        )
    if result.kept_fields:
        typer.echo(
            f"m kept as shipped for {', '.join(result.kept_fields)} (too few candidate pairs"
            " show them, or no estimate of one person)"
        )
    if precision is not None:
        typer.echo(
            f"link threshold for precision {precision}: {result.link_threshold:.4f}"
            " (adopt it with SINERGI_MATCH_LINK_THRESHOLD)"
            if result.link_threshold is not None
            else f"no link threshold reaches precision {precision} on these pairs"
        )
    _echo_terms(result.weights, result.term_persons)
    for name, field in result.weights.fields.items():
        levels = ", ".join(
            f"{level} {field.bits(level):+.1f}" for level in field.m if level != "missing"
        )
        typer.echo(f"  {name}: {levels} (bits)")
    if dry_run:
        typer.echo("dry run: nothing stored", err=True)
    elif not result.stored:
        typer.echo(
            f"too few pairs to estimate from (need {min_pairs} candidate and {min_random_pairs} "
            "random pairs): nothing stored, the current weights stay in use",
            err=True,
        )
    else:
        typer.echo("stored; ingest and screening use these weights from now on", err=True)


def _echo_terms(weights: Weights, persons: int) -> None:
    tf = weights.term_frequencies
    if tf is not None:
        kept = ", ".join(f"{len(terms)} {kind} terms" for kind, terms in tf.counts.items())
        typer.echo(f"term frequencies counted over {persons} persons: {kept}")


@dedup_cli.command("rekey")
def dedup_rekey(
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Count what would change; change nothing.")
    ] = False,
    batch_size: Annotated[
        int, typer.Option(min=1, max=100_000, help="Persons per transaction.")
    ] = 1000,
) -> None:
    """Recompute every stored person's blocking keys (after an upgrade that changed them)."""
    from app.services.rekey import RekeyResult, rekey

    def show(result: RekeyResult) -> None:
        typer.echo(
            f"{result.persons} persons read, {result.changed} re-keyed "
            f"(+{result.keys_added} / -{result.keys_removed} keys)",
            err=True,
        )

    result = _with_sessions(
        lambda sessions: rekey(sessions, batch_size=batch_size, dry_run=dry_run, progress=show)
    )
    verb = "would change" if dry_run else "changed"
    typer.echo(
        f"{result.persons} stored persons; {verb} the keys of {result.changed} "
        f"(+{result.keys_added} / -{result.keys_removed})"
    )


@dedup_cli.command("recluster")
def dedup_recluster(
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Count the merges it would make; change nothing.")
    ] = False,
    batch_size: Annotated[
        int, typer.Option(min=1, max=100_000, help="Persons per transaction.")
    ] = 1000,
    merge_threshold: Annotated[
        float | None,
        typer.Option(min=0.5, max=1.0, help="Merge bar (default: SINERGI_MATCH_MERGE_THRESHOLD)."),
    ] = None,
    full: Annotated[
        bool,
        typer.Option(
            "--full",
            help="Walk every stored person, not only those touched since the last pass "
            "(after new match weights, say).",
        ),
    ] = False,
    key_limit: Annotated[
        int | None,
        typer.Option(
            min=2,
            max=100_000,
            help="Pair no persons on a key held by more than this many, a hotline phone say "
            "(default: 100).",
        ),
    ] = None,
) -> None:
    """Re-score pairs across entities and merge those online resolution missed (undoable).

    Without --full, only the persons touched since the last recorded pass are walked (all of
    them when no pass was recorded yet), as the worker's scheduled pass does.
    """
    from app.services.recluster import ReclusterResult, recluster

    def show(result: ReclusterResult) -> None:
        typer.echo(
            f"{result.persons} persons, {result.pairs} pairs scored, {result.merges} merges",
            err=True,
        )

    threshold = merge_threshold or get_settings().match_merge_threshold
    result = _with_sessions(
        lambda sessions: recluster(
            sessions,
            merge_threshold=threshold,
            batch_size=batch_size,
            dry_run=dry_run,
            full=full,
            progress=show,
            **({} if key_limit is None else {"key_limit": key_limit}),
        )
    )
    verb = "would merge" if dry_run else "merged"
    walked = "stored persons" if result.full else "persons touched since the last pass"
    typer.echo(
        f"{result.persons} {walked}, {result.pairs} pairs across entities scored; "
        f"{verb} {result.merges} pairs of entities ({result.cases_joined} cases joined, "
        f"{result.events} case.linked events); kept apart: {result.refused_identifiers} by "
        f"contradicting identifiers, {result.refused_analyst} by an analyst's decision, "
        f"{result.refused_restricted} left to analysts (RED or AMBER_STRICT across agencies)"
    )


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
    """Run ``use_case`` in one transaction; a refused request is an error line, exit 1."""
    try:
        return _in_transaction(lambda session: use_case(session, get_settings()))
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


@admin_cli.command("create-user")
def admin_create_user(
    code: Annotated[str, typer.Argument(help="Agency code, e.g. IMIGRASI-DUMAI.")],
    username: Annotated[str, typer.Argument(help="Sign-in name, often the NIP.")],
    role: Annotated[
        str, typer.Option(help="OFFICER, ANALYST, AGENCY_ADMIN or SYSTEM_ADMIN.")
    ] = "OFFICER",
    name: Annotated[str | None, typer.Option(help="Full name (default: the username).")] = None,
    nip: Annotated[str | None, typer.Option(help="NIP, the 18-digit civil-servant number.")] = None,
    email: Annotated[str | None, typer.Option(help="E-mail address.")] = None,
) -> None:
    """Create an officer; the one-time setup code is printed once, alone on stdout."""
    from pydantic import ValidationError

    from app.schemas.officer import OfficerCreate
    from app.services.agencies import get_agency
    from app.services.officers import OfficerDraft, create_officer

    try:
        data = OfficerCreate(
            username=username, full_name=name or username, role=role, nip=nip, email=email
        )
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or 'input'}: {e['msg']}" for e in exc.errors()
        )
        typer.echo(f"error: {problems}", err=True)
        raise typer.Exit(2) from None

    async def use_case(session: AsyncSession, settings: Settings) -> str:
        agency = await get_agency(session, code)
        draft = OfficerDraft(
            username=data.username,
            full_name=data.full_name,
            role=data.role,
            nip=data.nip,
            email=data.email,
        )
        setup = await create_officer(session, settings, agency, draft, actor="cli")
        typer.echo(
            f"officer {setup.officer.username} ({data.role.value}) created in {agency.code}; "
            f"the setup code below works once, until {setup.expires_at:%Y-%m-%d %H:%M} UTC",
            err=True,
        )
        return setup.code

    typer.echo(_run_admin(use_case))


@admin_cli.command("issue-key")
def admin_issue_key(
    code: Annotated[str, typer.Argument(help="Agency code.")],
    expires_in_days: Annotated[int | None, typer.Option(help="Days until expiry.")] = None,
) -> None:
    """Issue an API key for an agency; the key is printed once, alone on stdout."""
    from app.services.agencies import get_agency
    from app.services.api_keys import expiry_after, issue_api_key

    async def use_case(session: AsyncSession, settings: Settings) -> str:
        agency = await get_agency(session, code)
        issued = await issue_api_key(
            session,
            secret_key=settings.secret_key,
            agency=agency,
            expires_at=expiry_after(expires_in_days),
            actor="cli",
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
    """Issue a successor key (printed alone on stdout);
    the old one expires after the grace period."""
    import uuid

    from app.services.agencies import get_agency
    from app.services.api_keys import rotate_api_key, rotation_grace

    async def use_case(session: AsyncSession, settings: Settings) -> str:
        agency = await get_agency(session, code)
        issued = await rotate_api_key(
            session,
            secret_key=settings.secret_key,
            agency=agency,
            key_id=uuid.UUID(key_id),
            grace=rotation_grace(settings, grace_hours),
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
    """Rotate the service's token signing key (next → current;
    the old one verifies until expiry)."""
    from app.services.signing_keys import rotate_signing_keys

    async def use_case(session: AsyncSession, settings: Settings) -> str:
        return (await rotate_signing_keys(session, settings, actor="cli")).kid

    typer.echo(f"signing with key {_run_admin(use_case)}", err=True)


@admin_cli.command("rotate-secrets")
def admin_rotate_secrets(
    force: Annotated[
        bool,
        typer.Option(
            "--force",
            help="Close the rotation of SINERGI_SECRET_KEY even though some API keys have not "
            "been used since it began (they stop working once the previous value is removed).",
        ),
    ] = False,
) -> None:
    """Finish a rotation of SINERGI_SECRET_KEY / SINERGI_KEY_ENCRYPTION_KEY (see docs/security.md).

    Re-encrypts signing keys and webhook secrets under the new key-encryption key at once. API
    keys are re-hashed under the new secret key as each is used; the command lists those not
    used yet. When it reports both secrets done, remove the SINERGI_PREVIOUS_… settings.
    """
    from app.services.secrets import RotationReport, rotate_secrets

    async def use_case(session: AsyncSession, settings: Settings) -> RotationReport:
        return await rotate_secrets(session, settings, force=force)

    report = _run_admin(use_case)
    typer.echo(
        f"key-encryption key: {report.signing_keys_reencrypted} signing keys and "
        f"{report.webhook_secrets_reencrypted} webhook endpoints and "
        f"{report.totp_secrets_reencrypted} officers' TOTP secrets re-encrypted; done",
        err=True,
    )
    for code, prefix in report.api_keys_pending:
        typer.echo(f"  not used since the rotation began: {code} {prefix}…", err=True)
    if report.secret_key_done:
        typer.echo(
            "secret key: done; SINERGI_PREVIOUS_SECRET_KEY and "
            "SINERGI_PREVIOUS_KEY_ENCRYPTION_KEY may now be removed",
            err=True,
        )
        return
    typer.echo(
        f"secret key: NOT done: {len(report.api_keys_pending)} API keys still verify only with "
        "SINERGI_PREVIOUS_SECRET_KEY; keep it until their agencies have fetched a token, then "
        "run this again (or rotate those keys, or pass --force)",
        err=True,
    )
    raise typer.Exit(3)


def main() -> None:
    """The ``sinergi`` entry point: an operator's mistake is one sentence and exit code 2."""
    from pydantic import ValidationError

    try:
        cli()
    except ValidationError as exc:  # settings refused (for example a missing or short secret)
        typer.echo(cli_messages.settings_problem(exc), err=True)
        sys.exit(2)
    except Exception as exc:
        try:
            database_url = get_settings().database_url
        except ValidationError:
            raise exc from None
        problem = cli_messages.database_problem(exc, database_url)
        if problem is None:
            raise
        typer.echo(problem, err=True)
        sys.exit(2)


if __name__ == "__main__":
    main()
