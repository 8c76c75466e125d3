"""Database engine and sessions for SQLite (embedded default) and PostgreSQL.

One transaction per use case: the request dependency (or the worker loop) opens it with
``transaction()`` and commits or rolls back there; services and repositories only flush.
"""

from __future__ import annotations

import datetime
import functools
import math
import uuid
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from contextlib import asynccontextmanager
from typing import Any

import orjson
from sqlalchemy import (
    ARRAY,
    JSON,
    Boolean,
    ColumnElement,
    Date,
    Float,
    LargeBinary,
    MetaData,
    String,
    Table,
    TextClause,
    bindparam,
    event,
    insert,
)
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import Connection, Dialect, make_url
from sqlalchemy.engine.interfaces import DBAPIConnection
from sqlalchemy.ext.asyncio import (
    AsyncConnection,
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import InstrumentedAttribute, ORMExecuteState, Session, UOWTransaction
from sqlalchemy.pool import ConnectionPoolEntry, PoolProxiedConnection
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.expression import Select
from sqlalchemy.sql.functions import FunctionElement
from sqlalchemy.util import await_only, greenlet_spawn

from app.config import Settings

#: How long an SQLite connection waits for another process's write lock (the worker, the CLI).
SQLITE_BUSY_TIMEOUT_MS = 30_000
#: Statements asyncpg keeps prepared per connection (SQLAlchemy's default is 100; one ingest
#: alone sends some 30 distinct statements, and IN lists of every length are distinct too).
ASYNCPG_STATEMENT_CACHE_SIZE = 1000


#: SQLSTATEs that mean "the server cannot serve this connection now": class 08 (connection
#: exception), admin or crash shutdown, "the database system is starting up", too many clients.
_UNAVAILABLE_SQLSTATES = ("08", "57P01", "57P02", "57P03", "53300")
#: SQLite errors of the file rather than of the statement.
_SQLITE_UNAVAILABLE = ("unable to open database file", "disk i/o error", "database is locked")


def _causes(exc: BaseException) -> list[BaseException]:
    """``exc`` and everything it was raised from (or while handling), without loops."""
    seen: list[BaseException] = []
    pending: list[BaseException | None] = [exc]
    while pending:
        current = pending.pop()
        if current is None or any(current is s for s in seen) or len(seen) > 20:
            continue
        seen.append(current)
        orig = getattr(current, "orig", None)
        pending += [
            current.__cause__,
            current.__context__,
            orig if isinstance(orig, BaseException) else None,
        ]
    return seen


def is_database_unavailable(exc: BaseException) -> bool:
    """Whether ``exc`` says the database cannot be reached, as opposed to a bad statement.

    A refused or dropped connection, a failed name lookup, a pool that could not hand out a
    connection in time, a PostgreSQL server shutting down or starting up, an SQLite file that
    cannot be opened: each answers 503 and recovers by itself when the database is back.
    """
    for cause in _causes(exc):
        if isinstance(cause, OSError | sa_exc.TimeoutError):
            return True
        if isinstance(cause, sa_exc.DBAPIError) and cause.connection_invalidated:
            return True
        sqlstate = getattr(cause, "sqlstate", None) or getattr(cause, "pgcode", None)
        if isinstance(sqlstate, str) and sqlstate.startswith(_UNAVAILABLE_SQLSTATES):
            return True
        if type(cause).__module__.startswith("sqlite3") or isinstance(
            cause, sa_exc.OperationalError
        ):
            message = str(cause).lower()
            if any(m in message for m in _SQLITE_UNAVAILABLE):
                return True
    return False


def _json_dumps(value: Any) -> str:
    """JSON columns are encoded with orjson (several times faster than ``json.dumps``)."""
    return orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS).decode()


def _sqlite_pragmas(dbapi_connection: DBAPIConnection, _record: ConnectionPoolEntry) -> None:
    # Let SQLAlchemy, not the driver, open transactions (see _sqlite_begin_immediate).
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    # First: every later pragma (journal_mode needs a lock) then waits instead of failing with
    # "database is locked" while another process writes.
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def _sqlite_begin_immediate(conn: Connection) -> None:
    """Take SQLite's write lock when a transaction begins.

    A deferred transaction that reads and then writes fails at once with "database is locked"
    when another writer committed in between; an immediate one waits (busy_timeout) instead, so
    concurrent requests on one node serialize rather than fail.
    """
    conn.exec_driver_sql("BEGIN IMMEDIATE")


def engine_options(settings: Settings) -> dict[str, Any]:
    """``create_async_engine`` keyword arguments for the configured backend.

    SQLite has one writer, and every transaction here takes the write lock at ``BEGIN``: one
    pooled connection queues a process's transactions in order (first come, first served)
    instead of letting them race for the file lock, where a loser could wait past any busy
    timeout and fail with "database is locked". PostgreSQL gets the configured pool and a
    larger prepared-statement cache. The benchmark baseline uses the same options.
    """
    options: dict[str, Any] = {
        "echo": settings.database_echo,
        "json_serializer": _json_dumps,
        "json_deserializer": orjson.loads,
    }
    if settings.is_sqlite:
        if make_url(settings.database_url).database not in (None, "", ":memory:"):
            # (an in-memory database already has one connection, SQLAlchemy's StaticPool)
            options.update(pool_size=1, max_overflow=0, pool_timeout=120)
        return options
    options.update(
        pool_size=settings.database_pool_size,
        max_overflow=settings.database_max_overflow,
        # A round trip before every use costs each request as much as a small query; without
        # it a connection broken by a database restart fails its one request (503), and the
        # pool then renews every connection it holds (SQLAlchemy's optimistic invalidation).
        pool_pre_ping=settings.database_pre_ping,
        pool_recycle=1800,
        connect_args={"prepared_statement_cache_size": ASYNCPG_STATEMENT_CACHE_SIZE},
    )
    return options


def create_engine(settings: Settings) -> AsyncEngine:
    """An async engine for the configured URL, tuned per backend."""
    engine = create_async_engine(settings.database_url, **engine_options(settings))
    if settings.is_sqlite:
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        event.listen(engine.sync_engine, "begin", _sqlite_begin_immediate)
    return engine


#: ``session.info`` key set once a session has written in its transaction.
_WROTE = "sinergi.wrote"


#: ``session.info`` key of the rows ``add_rows`` holds until the next flush.
_PENDING_ROWS = "sinergi.pending_rows"


class AppSession(Session):
    """The app's sessions: they note whether their transaction wrote anything (``wrote``), and
    write the plain rows of ``add_rows`` at each flush, after the ORM's own."""

    def flush(self, objects: Any = None) -> None:
        super().flush(objects)
        pending: dict[Table, list[dict[str, Any]]] | None = self.info.pop(_PENDING_ROWS, None)
        if pending:
            self.info[_WROTE] = True
            connection = self.connection()
            # Parents before children, whatever order the rows were added in.
            tables = sorted(pending, key=_table_order)
            if len(tables) > 1 and _driver_insert_all(
                connection, [(t, pending[t]) for t in tables]
            ):
                return
            for table in tables:
                if not _driver_insert(connection, table, pending[table]):
                    connection.execute(insert(table), pending[table])


def _table_order(table: Table) -> int:
    """Where ``table`` comes in its metadata's foreign-key order (parents first)."""
    return _foreign_key_order(table.metadata)[table]


@functools.cache
def _foreign_key_order(metadata: MetaData) -> dict[Table, int]:
    return {table: index for index, table in enumerate(metadata.sorted_tables)}


def table_of(model: type[Any]) -> Table:
    """The table an ORM model is mapped to (for Core statements on it)."""
    table = model.__table__
    assert isinstance(table, Table)
    return table


def add_rows(session: AsyncSession, table: Table, rows: list[dict[str, Any]]) -> None:
    """Rows to insert at the session's next flush (or commit), one multi-row INSERT per table.

    For the many small rows of a use case (blocking keys, facets, recipients, an ingest's persons):
    no ORM object is made or tracked for them. They are written after the flush's ORM inserts,
    so their foreign keys may point at objects added in the same flush, and in foreign-key order
    among themselves. Nothing reads them back as objects.
    """
    if rows:
        session.info.setdefault(_PENDING_ROWS, {}).setdefault(table, []).extend(rows)


@event.listens_for(AppSession, "do_orm_execute")
def _note_statement(state: ORMExecuteState) -> None:
    if state.is_select:
        return
    statement = state.statement
    if isinstance(statement, TextClause) and statement.text.lstrip()[:6].upper() == "SELECT":
        return  # advisory locks and other reads written as text
    state.session.info[_WROTE] = True


@event.listens_for(AppSession, "after_flush")
def _note_flush(session: Session, _flush: UOWTransaction) -> None:
    session.info[_WROTE] = True


@event.listens_for(AppSession, "before_commit")
def _write_pending_rows(session: Session) -> None:
    # A commit flushes only a session with ORM changes; rows of ``add_rows`` count too.
    if session.info.get(_PENDING_ROWS):
        session.flush()


@event.listens_for(AppSession, "after_transaction_end")
def _forget_writes(session: Session, transaction: Any) -> None:
    if transaction.parent is None:
        session.info.pop(_WROTE, None)
        session.info.pop(_PENDING_ROWS, None)
        session.info.pop(_CONNECTION, None)
    elif transaction.nested:
        # A savepoint flushes what was pending when it began and, if it commits, when it ends:
        # rows still pending now were added inside a savepoint that rolled back.
        session.info.pop(_PENDING_ROWS, None)


def wrote(session: AsyncSession) -> bool:
    """Whether the session's transaction wrote (or holds changes not yet flushed).

    A transaction that only read has nothing to commit: a request that only read may then
    commit its audit event in a shared transaction (``app.services.group_commit``).
    """
    info = session.info
    if info.get(_WROTE) or info.get(_PENDING_ROWS):
        return True
    if isinstance(session, ReadSession) and not session.made:
        return False  # nothing made it, nothing could write
    return bool(session.new or session.dirty or session.deleted)


def create_session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(
        engine, expire_on_commit=False, autoflush=False, sync_session_class=AppSession
    )


@asynccontextmanager
async def transaction(factory: async_sessionmaker[AsyncSession]) -> AsyncIterator[AsyncSession]:
    """A session inside one transaction: committed on success, rolled back on any error."""
    async with factory() as session, session.begin():
        yield session


def dialect_name(session: AsyncSession) -> str:
    """``sqlite`` or ``postgresql``: for the few queries that must differ between the two."""
    return session.get_bind().dialect.name


def autocommit_sessions(state: Any) -> async_sessionmaker[AsyncSession]:
    """Sessions whose statements each commit on their own (``autocommit``), on the app's pool,
    taking a connection only at their first statement (PostgreSQL); made on first use and
    kept on ``state`` (the app's or the worker's) beside ``session_factory``."""
    factory = getattr(state, "autocommit_session_factory", None)
    if not isinstance(factory, async_sessionmaker):
        engine: AsyncEngine = state.engine
        factory = create_session_factory(engine.execution_options(isolation_level="AUTOCOMMIT"))
        state.autocommit_session_factory = factory
    return factory


async def autocommit(session: AsyncSession) -> None:
    """Send ``session``'s statements without BEGIN and COMMIT around them, each committing on
    its own: two round trips fewer where one statement is all the work (or where it only reads,
    under READ COMMITTED, where each statement takes its own snapshot anyway). PostgreSQL only."""
    await session.connection(execution_options={"isolation_level": "AUTOCOMMIT"})


class any_of(FunctionElement[bool]):
    """``column`` equals one of the list bound as ``name``, one statement text however long
    the list (prepared once per connection by ``driver_rows``, not an ``IN`` list whose length
    makes a new statement): ``= ANY($1)`` on PostgreSQL, ``IN (SELECT value FROM
    json_each(?))`` on SQLite (the list sent as JSON)."""

    type = Boolean()
    inherit_cache = True
    name = "any_of"

    def __init__(self, column: ColumnElement[Any] | InstrumentedAttribute[Any], name: str) -> None:
        super().__init__(
            column, bindparam(name, type_=ARRAY(String).with_variant(JSON(), "sqlite"))
        )


@compiles(any_of, "postgresql")
def _any_of_postgresql(element: any_of, compiler: SQLCompiler, **kw: Any) -> str:
    column, values = element.clauses
    return f"{compiler.process(column, **kw)} = ANY({compiler.process(values, **kw)})"


@compiles(any_of)
def _any_of_sqlite(element: any_of, compiler: SQLCompiler, **kw: Any) -> str:
    column, values = element.clauses
    listed = compiler.process(values, **kw)
    return f"{compiler.process(column, **kw)} IN (SELECT value FROM json_each({listed}))"  # noqa: S608 - compiled SQL, no values


#: What ``driver_rows`` sends: a Core SELECT, or a textual statement (a write).
DriverStatement = Select[*tuple[Any, ...]] | TextClause


async def driver_rows(
    session: AsyncSession,
    statement: DriverStatement,
    params: Mapping[str, Any],
    *,
    writes: bool = False,
) -> Sequence[Sequence[Any]]:
    """The rows of ``statement`` (a Core SELECT of plain columns, or a text one) on
    ``session``'s connection; ``params`` name its parameters, the values it binds itself
    (``x != 'RETRACTED'``, ``IN`` lists of constants) are held with its text.

    On PostgreSQL they come straight from asyncpg, as a statement it prepared once per
    connection: no SQLAlchemy execution context, parameter or result processing (each costs a
    small query's worth of Python, and the audited reads send one on every request). Values are
    then the driver's: UUIDs as asyncpg's own ``uuid.UUID`` subclass, JSON decoded (the codec
    the dialect registered), timestamps timezone-aware UTC. Elsewhere, through SQLAlchemy.
    Statements run in the session's transaction if it has sent BEGIN, else each on its own.

    ``writes``: a statement that writes (its rows, if any, come back the same way). It goes to
    the driver only where that changes nothing: the connection is in AUTOCOMMIT, or its
    transaction has begun; a transaction whose BEGIN SQLAlchemy has not sent yet gets it
    through SQLAlchemy, so the write is never committed on its own.
    """
    held: HeldConnection | None = session.info.get(_HELD_READS)
    if held is not None and not writes:
        found = await held.fetch(statement, params)
        if found is not None:
            return found
    connection, driver, adapter = await _transaction_connection(session)
    if driver is not None:
        sql, names, fixed = _driver_sql(statement, connection.dialect)
        if not writes or adapter.autocommit or driver.is_in_transaction():
            try:
                values = [params[n] if n in params else fixed[n] for n in names]
                rows: Sequence[Sequence[Any]] = await driver.fetch(sql, *values)
            except Exception:  # noqa: BLE001, S110 - sent again below, where SQLAlchemy tells what it was
                # A lost connection or an error of the statement: SQLAlchemy then renews the
                # pool (the request answers 503) or raises the error, as it does for its own
                # statements.
                pass
            else:
                return rows
    result = await connection.execute(statement, params)
    return result.all() if result.returns_rows else []


#: ``session.info`` key of the connection of the session's transaction, with asyncpg's
#: connection and SQLAlchemy's adapter of it (``_transaction_connection``).
_CONNECTION = "sinergi.connection"


async def _transaction_connection(session: AsyncSession) -> tuple[AsyncConnection, Any, Any]:
    """The connection of ``session``'s transaction, and (asyncpg only, else None) the driver's
    connection and SQLAlchemy's adapter of it: asked of the session once per transaction
    (``Session.connection()`` and the raw connection are a greenlet hop each, and an ingest
    sends about ten statements in one transaction), forgotten when the transaction ends
    (``_forget_writes``); a savepoint keeps its transaction's connection."""
    held: tuple[AsyncConnection, Any, Any] | None = session.info.get(_CONNECTION)
    if held is not None:
        return held
    connection = await session.connection()
    driver = adapter = None
    if connection.dialect.driver == "asyncpg":
        raw = await connection.get_raw_connection()
        driver, adapter = raw.driver_connection, raw.dbapi_connection
    held = connection, driver, adapter
    session.info[_CONNECTION] = held
    return held


_HELD_READS = "sinergi_held_reads"


class HeldConnection:
    """A pooled connection that a read's statements (``driver_rows``) share, taken from the
    engine's pool at the first and given back by ``release_reads``: no ORM session transaction,
    no ``Session.connection()`` per statement (each a greenlet hop and a pass through the
    session's machinery, several times a small query's Python). Each statement commits on its
    own, as in an AUTOCOMMIT session (under READ COMMITTED each takes its own snapshot anyway).
    """

    __slots__ = ("engine", "raw")

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self.raw: PoolProxiedConnection | None = None

    async def fetch(
        self, statement: DriverStatement, params: Mapping[str, Any]
    ) -> Sequence[Sequence[Any]] | None:
        """The rows, or None where the session must send it (not asyncpg, or an error: the
        session's own connection then says what it was, as ``driver_rows`` does)."""
        dialect = self.engine.dialect
        if dialect.driver != "asyncpg":
            return None
        sql, names, fixed = _driver_sql(statement, dialect)
        if self.raw is None:
            self.raw = await self.engine.raw_connection()
        driver: Any = self.raw.driver_connection
        try:
            values = [params[n] if n in params else fixed[n] for n in names]
            rows: Sequence[Sequence[Any]] = await driver.fetch(sql, *values)
        except Exception:  # noqa: BLE001 - sent again through the session, which tells what it was
            await release_reads_of(self, lost=driver.is_closed())
            return None
        return rows


async def driver_alone(
    engine: AsyncEngine, statement: DriverStatement, params: Mapping[str, Any]
) -> Sequence[Sequence[Any]] | None:
    """``statement``'s rows, sent by the driver on a pooled connection of its own and
    committing by itself (no session, no BEGIN or COMMIT); None where it was not sent or
    failed: the caller then sends it through a session, which tells what went wrong."""
    held = HeldConnection(engine)
    try:
        return await held.fetch(statement, params)
    finally:
        await release_reads_of(held)


#: What ``AsyncSession.__init__`` sets, which ``ReadSession`` makes on first use.
_MADE_ON_FIRST_USE = frozenset({"sync_session", "_proxied", "_async_bind", "_async_binds"})


class ReadSession(AsyncSession):
    """The session of a read whose statements go on a held connection (``hold_reads``): the
    ORM session behind it is made only when something else needs it (a statement the driver
    could not send, an ORM query, a write), so most reads never make one. Until then its
    ``info`` is its own and it has no transaction."""

    def __init__(self, factory: async_sessionmaker[AsyncSession]) -> None:
        # AsyncSession.__init__ runs on first use (``__getattr__``), with the factory's options
        self._factory: async_sessionmaker[AsyncSession] | None = factory
        self._early_info: dict[Any, Any] = {}

    def __getattr__(self, name: str) -> Any:
        # reached only for attributes not set yet: those ``AsyncSession.__init__`` sets
        factory = self.__dict__.get("_factory")
        if factory is None or name not in _MADE_ON_FIRST_USE:
            raise AttributeError(name)
        self._factory = None
        AsyncSession.__init__(self, **{**factory.kw, "info": self._early_info})
        return getattr(self, name)

    @property
    def made(self) -> bool:
        """Whether the ORM session behind it exists (something needed it)."""
        return self._factory is None

    @property
    def info(self) -> dict[Any, Any]:
        return self.sync_session.info if self.made else self._early_info

    def in_transaction(self) -> bool:
        return self.made and super().in_transaction()


def hold_reads(session: AsyncSession, engine: AsyncEngine) -> None:
    """Send ``session``'s reads through ``driver_rows`` on one pooled connection of their own
    (``HeldConnection``), until ``release_reads``; writes and ORM statements use the session."""
    session.info[_HELD_READS] = HeldConnection(engine)


def holds_reads(session: AsyncSession) -> bool:
    """Whether ``session``'s reads go on a connection of their own (``hold_reads``)."""
    return _HELD_READS in session.info


async def release_reads(session: AsyncSession) -> None:
    """Give the connection ``hold_reads``' statements took back to the pool."""
    held: HeldConnection | None = session.info.pop(_HELD_READS, None)
    if held is not None:
        await release_reads_of(held)


async def release_reads_of(held: HeldConnection, *, lost: bool = False) -> None:
    """Back to the pool, or out of it (``lost``: the driver says the connection is closed)."""
    raw, held.raw = held.raw, None
    if raw is not None:
        await greenlet_spawn(raw.invalidate if lost else raw.close)


@functools.cache
def _driver_sql(
    statement: DriverStatement, dialect: Dialect
) -> tuple[str, tuple[str, ...], dict[str, Any]]:
    """``statement`` compiled once for the driver: its text, its parameters' names in order,
    and the values it binds itself (an ``IN`` list of constants expanded into the text, as
    SQLAlchemy expands it for each execution)."""
    compiled = statement.compile(dialect=dialect)
    fixed = dict(compiled.construct_params(_check=False))
    if not compiled.post_compile_params:
        return compiled.string, tuple(compiled.positiontup or ()), fixed
    expanded = compiled._process_parameters_for_postcompile(fixed)
    return expanded.statement, tuple(expanded.positiontup or ()), dict(expanded.parameters)


def _driver_insert(connection: Connection, table: Table, rows: list[dict[str, Any]]) -> bool:
    """Insert ``rows`` straight through asyncpg, as ``driver_rows`` reads: one statement per
    table whatever the number of rows (``INSERT … SELECT … FROM json_to_recordset($1::json)``,
    the rows as one JSON document), prepared once per connection, with no SQLAlchemy execution
    context or per-row parameter processing (for a flush's plain rows that costs more Python
    than the rows). Whether it was done: not on other drivers, nor outside a transaction the
    adapter has begun (a statement sent by the driver alone would then commit on its own), nor
    for columns whose defaults only SQLAlchemy can compute; on an error SQLAlchemy sends it
    again and tells what it was, as ``driver_rows`` does."""
    return _driver_insert_all(connection, [(table, rows)])


def _driver_insert_all(
    connection: Connection, pending: Sequence[tuple[Table, list[dict[str, Any]]]]
) -> bool:
    """``_driver_insert`` for the rows of several tables (parents first) in one statement and
    one round trip: each table's ``INSERT`` but the last in a CTE of the last. PostgreSQL runs
    every one of them, and checks their foreign keys at the statement's end, so a child may
    reference a parent written in the same statement. Whether it was done (as
    ``_driver_insert``; nothing is written if not).

    Each table's rows go as one JSON document rather than one typed array per column: asyncpg
    checks every element of an array parameter in Python (``_is_array_iterable``, several
    ``isinstance`` calls against abstract classes each), which cost more than the rest of the
    encoding; orjson writes the document in C. The values are those the arrays carried (the
    same bind processors; JSON columns as their own ``_json_dumps`` text, which ``json``
    keeps as written), so the rows stored are the same."""
    if connection.dialect.driver != "asyncpg":
        return False
    adapter: Any = connection.connection.dbapi_connection
    if getattr(adapter, "_transaction", None) is None:
        return False
    shapes = tuple((table, frozenset(k for row in rows for k in row)) for table, rows in pending)
    statement = _json_inserts(shapes, connection.dialect)
    if statement is None:
        return False
    sql, columns_of = statement
    try:
        documents = [
            _rows_document(rows, columns)
            for (_table, rows), columns in zip(pending, columns_of, strict=True)
        ]
        await_only(adapter._connection.execute(sql, *documents))
    except Exception:  # noqa: BLE001 - sent again by the caller, where SQLAlchemy tells what it was
        return False
    return True


#: A column of a JSON-document insert: its key, its default (called when a row lacks the key)
#: and what turns a Python value into the document's (None: the value as it is).
_Column = tuple[str, Callable[[Any], Any] | None, Callable[[Any], Any] | None]


def _rows_document(rows: list[dict[str, Any]], columns: tuple[_Column, ...]) -> str:
    """``rows`` as the JSON array ``json_to_recordset`` reads (see ``_json_insert``)."""
    converted = [(key, encode) for key, _, encode in columns if encode is not None]
    defaults = [(key, default) for key, default, _ in columns if default is not None]
    if converted or defaults:
        documents = []
        for row in rows:
            document = dict(row)
            for key, default in defaults:
                if key not in document:
                    document[key] = default(None)
            for key, encode in converted:
                value = document.get(key)
                if value is not None:
                    document[key] = encode(value)
            documents.append(document)
        rows = documents
    return orjson.dumps(rows, default=_uuid_text, option=orjson.OPT_NON_STR_KEYS).decode()


def _uuid_text(value: Any) -> str:
    """A UUID orjson does not know as one (asyncpg's, read back by ``driver_rows``)."""
    if isinstance(value, uuid.UUID):
        return str(value)
    raise TypeError(value)


@functools.cache
def _json_inserts(
    shapes: tuple[tuple[Table, frozenset[str]], ...], dialect: Dialect
) -> tuple[str, tuple[tuple[_Column, ...], ...]] | None:
    """The statement inserting rows into each table of ``shapes`` (with those keys) from one
    JSON document per table, and each table's columns (see ``_json_insert``); built once per
    shape."""
    parts: list[str] = []
    columns_of: list[tuple[_Column, ...]] = []
    first = 1
    for table, keys in shapes:
        shape = _json_insert(table, keys, dialect, first)
        if shape is None:
            return None
        sql, columns = shape
        parts.append(sql)
        columns_of.append(columns)
        first += 1
    *ctes, last = parts
    with_ = ", ".join(f"w{i} AS ({sql})" for i, sql in enumerate(ctes))
    return (f"WITH {with_} {last}" if ctes else last), tuple(columns_of)


@functools.cache
def _json_insert(
    table: Table, keys: frozenset[str], dialect: Dialect, parameter: int = 1
) -> tuple[str, tuple[_Column, ...]] | None:
    """The statement inserting rows with ``keys`` into ``table`` from the JSON array of
    parameter ``parameter`` (one object per row, by column key; a key missing or null is NULL),
    and each column's key, default and encoder (None when a default needs SQLAlchemy)."""
    columns: list[_Column] = []
    for column in table.columns:
        default: Any = column.default
        if default is None:
            if column.key not in keys:
                continue  # the database's default, or NULL
            fill: Callable[[Any], Any] | None = None
        elif default.is_scalar:
            fill = functools.partial(_scalar, default.arg)
        elif default.is_callable:
            fill = default.arg  # called with SQLAlchemy's context, None here
        else:
            return None  # a sequence or an SQL expression
        columns.append((column.key, fill, _json_encoder(column.type, dialect)))
    quote = dialect.identifier_preparer
    names = ", ".join(quote.quote(table.c[key].name) for key, _, _ in columns)
    record = ", ".join(
        f"{quote.quote_identifier(key)} {table.c[key].type.compile(dialect=dialect)}"
        for key, _, _ in columns
    )
    selected = ", ".join(quote.quote_identifier(key) for key, _, _ in columns)
    # names and types of the table; the values are the parameter
    sql = (
        f"INSERT INTO {quote.format_table(table)} ({names}) "  # noqa: S608
        f"SELECT {selected} FROM json_to_recordset(${parameter}::json) AS r({record})"
    )
    return sql, tuple(columns)


def _json_encoder(type_: Any, dialect: Dialect) -> Callable[[Any], Any] | None:
    """What turns a column's Python value into what its JSON document carries (None: orjson
    writes the value itself as PostgreSQL reads it back: strings, numbers, booleans, UUIDs,
    and a JSON column's value, whose text ``_json_dumps`` would write the same)."""
    if isinstance(type_, JSON):
        return None
    if isinstance(type_, LargeBinary):
        return _bytea_text
    if isinstance(type_, Float):
        return _finite
    if isinstance(type_, Date):
        return _date_text
    return type_._cached_bind_processor(dialect)  # type: ignore[no-any-return]


def _bytea_text(value: Any) -> str:
    return "\\x" + bytes(value).hex()


def _date_text(value: Any) -> Any:
    """A date as asyncpg would send it: its first and last dates are -infinity and infinity."""
    if value == datetime.date.max:
        return "infinity"
    if value == datetime.date.min:
        return "-infinity"
    return value


def _finite(value: Any) -> Any:
    """A float JSON can carry (orjson would write NaN and infinities as null)."""
    if not math.isfinite(value):
        raise ValueError(value)
    return value


def _scalar(value: Any, _context: Any) -> Any:
    return value
