"""What went wrong, in one sentence an operator can act on: the ``sinergi`` command's errors.

A wrong database URL, a database or role that does not exist, PostgreSQL down, a port in use or
a missing secret are the operator's to fix, not bugs: each is told as the setting to change and
how, never as a traceback. A secret's value (or a password inside a URL) is never repeated.
Anything not recognised here is a bug and keeps its traceback.
"""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path

import asyncpg
from pydantic import ValidationError
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError, OperationalError

#: Settings whose values must never be printed.
SECRET_SETTINGS = frozenset({"secret_key", "key_encryption_key"})

URL_HELP = (
    "use postgresql+asyncpg://USER:PASSWORD@HOST:5432/DATABASE or sqlite+aiosqlite:///PATH "
    "(see docs/operations.md)"
)


def _chain(exc: BaseException) -> Iterator[BaseException]:
    """The exception and everything it wraps (causes, contexts, SQLAlchemy's ``orig``)."""
    seen: set[int] = set()
    todo: list[BaseException | None] = [exc]
    while todo:
        current = todo.pop()
        if current is None or id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        orig = getattr(current, "orig", None)
        todo.extend(
            [
                current.__cause__,
                current.__context__,
                orig if isinstance(orig, BaseException) else None,
            ]
        )


def _url(database_url: str) -> URL | None:
    try:
        return make_url(database_url)
    except ArgumentError:
        return None


def settings_problem(exc: ValidationError) -> str:
    """The refused settings, each named as its environment variable; values never shown."""
    lines = []
    for error in exc.errors(include_input=False, include_url=False):
        message = str(error["msg"]).removeprefix("Value error, ")
        field = ".".join(str(part) for part in error["loc"])
        if field:
            variable = f"SINERGI_{field.upper()}"
            lines.append(f"{variable}: {message}")
        else:  # a rule across settings: its message names the variable itself
            lines.append(message)
        named = [n for n in sorted(SECRET_SETTINGS) if f"SINERGI_{n.upper()}" in message]
        if named or field in SECRET_SETTINGS:
            variable = f"SINERGI_{(named[0] if named else field).upper()}"
            lines.append(
                f"  set it to a random value of your own, e.g. "
                f"`export {variable}=$(openssl rand -base64 48)`, "
                "or SINERGI_ENV=development on a laptop"
            )
    return "\n".join(f"error: {line}" if not line.startswith("  ") else line for line in lines)


def database_problem(exc: BaseException, database_url: str) -> str | None:
    """One sentence for a database that cannot be used as configured; None when not that."""
    url = _url(database_url)
    if url is None or any(isinstance(e, NoSuchModuleError | ArgumentError) for e in _chain(exc)):
        scheme = database_url.split("://", 1)[0] if "://" in database_url else "(none)"
        return (
            f"error: SINERGI_DATABASE_URL is not a database URL Sinergi can use "
            f"(scheme {scheme!r}); {URL_HELP}"
        )
    where = f"{url.host or 'localhost'}:{url.port or 5432}"
    for error in _chain(exc):
        if isinstance(error, asyncpg.InvalidCatalogNameError):
            return (
                f"error: the database {url.database!r} named in SINERGI_DATABASE_URL does not "
                f"exist on {where}; create it first: "
                f"`sudo -u postgres createdb -O {url.username or 'sinergi'} {url.database}`"
            )
        if isinstance(error, asyncpg.InvalidPasswordError):
            return (
                f"error: PostgreSQL on {where} refused the password of role {url.username!r} in "
                "SINERGI_DATABASE_URL; check the password (percent-encode special characters)"
            )
        if isinstance(error, asyncpg.InvalidAuthorizationSpecificationError):
            return (
                f"error: PostgreSQL on {where} refused the role {url.username!r} named in "
                f"SINERGI_DATABASE_URL ({error}); create it first: "
                f"`sudo -u postgres createuser --pwprompt {url.username}`"
            )
        if isinstance(error, ConnectionRefusedError | socket.gaierror | TimeoutError):
            if isinstance(error, socket.gaierror):
                return (
                    f"error: the host {url.host!r} in SINERGI_DATABASE_URL cannot be resolved; "
                    "check its spelling (or use 127.0.0.1 for a PostgreSQL on this machine)"
                )
            reason = "no answer" if isinstance(error, TimeoutError) else "connection refused"
            return (
                f"error: cannot reach PostgreSQL at {where} from SINERGI_DATABASE_URL "
                f"({reason}); is it running? (`pg_isready -h {url.host or 'localhost'} "
                f"-p {url.port or 5432}`)"
            )
        if isinstance(error, OperationalError) and "no such table" in str(error):
            return (
                f"error: the database at {url.database} has no Sinergi schema; "
                "run `sinergi migrate upgrade` (or point SINERGI_DATABASE_URL at the right file)"
            )
    return None


def missing_sqlite_file(database_url: str) -> str | None:
    """A refusal when a SQLite URL names a file that does not exist (None otherwise).

    SQLite would create an empty file silently, and the command would then fail on a missing
    table, leaving a stray ``sinergi.db`` in whatever folder it was run from.
    """
    url = _url(database_url)
    if url is None or not url.drivername.startswith("sqlite"):
        return None
    if not url.database or url.database == ":memory:" or url.database.startswith("file:"):
        return None
    path = Path(url.database)
    if path.exists():
        return None
    return (
        f"error: there is no database at {path.resolve()} (SINERGI_DATABASE_URL, relative to "
        f"the current folder {Path.cwd()}); run the command where the database is, point "
        "SINERGI_DATABASE_URL at it, or create one with `sinergi migrate upgrade`"
    )


def port_in_use(host: str, port: int) -> str | None:
    """A refusal when ``host:port`` cannot be listened on (None when it is free)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as exc:
            return (
                f"error: cannot listen on {host}:{port} ({exc.strerror}); another process "
                "(perhaps another `sinergi serve`) holds it: stop it or choose another "
                "port with --port"
            )
    return None
