"""A flush's rows sent as one JSON document per table (``app.db._driver_insert_all``) are
stored exactly as SQLAlchemy's own INSERT stores them: every column of every table the ingest
writes this way, with NULLs, unicode, nested JSON, empty arrays, timestamps at other offsets
and edge numbers, compared as PostgreSQL prints them."""

from __future__ import annotations

import math
import uuid
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

import pytest
from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    Connection,
    Date,
    Float,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Uuid,
    insert,
    text,
)

from app.db import _driver_insert_all
from app.models.base import Base, UTCDateTime

pytestmark = pytest.mark.pg

#: The tables the ingest, the merges and curation write through ``add_rows``.
WRITTEN = (
    "person_entities",
    "person_keys",
    "report_persons",
    "possible_matches",
    "case_links",
    "report_recipients",
    "deliveries",
    "report_modus",
    "report_facets",
    "report_versions",
    "resolution_actions",
    "audit_pending",
)

NAMES = ('Siti Nur\'aini binti Abdul "Ucok" \\ Ñoño 漢字 😀', "", " spaces  ")
JAKARTA = timezone(timedelta(hours=7))
NEWFOUNDLAND = timezone(-timedelta(hours=3, minutes=30))


def _value(column: Column[Any], variant: int) -> Any:
    """An edge value for ``column``'s type (variant 0, 1, 2; 2 is NULL where allowed)."""
    if variant == 2 and column.nullable and not isinstance(column.type, JSON):
        return None
    kind = column.type
    if isinstance(kind, Uuid):
        return uuid.UUID(int=variant) if variant < 2 else uuid.uuid4()
    if isinstance(kind, UTCDateTime):
        return (
            datetime(2026, 12, 7, 6, 59, 54, 123456, tzinfo=JAKARTA),
            datetime(1999, 1, 1, tzinfo=UTC),
            datetime(
                2030, 6, 30, 23, 59, 59, 999999, tzinfo=timezone(-timedelta(hours=3, minutes=30))
            ),
        )[variant]
    if isinstance(kind, JSON):
        return (
            {"nama": NAMES[0], "a": [1, 2.5, None, {"b": [], "c": {}}], "t": True, "n": None},
            [],
            {"": "", "ñ": [[[]]], "x": -0.0, "big": 2**53, "s": "line\nbreak\t\u2028"},
        )[variant]
    if isinstance(kind, Date):
        return (date(2001, 2, 28), date(1, 1, 1), date(9999, 12, 31))[variant]
    if isinstance(kind, Boolean):
        return variant == 0
    if isinstance(kind, Float):
        return (0.1, -2.5e-300, 1.7976931348623157e308)[variant]
    if isinstance(kind, BigInteger):
        return (0, -(2**63), 2**63 - 1)[variant]
    if isinstance(kind, Integer):
        return (0, -(2**31), 2**31 - 1)[variant]
    if isinstance(kind, LargeBinary):
        return (b"\x00\xff\\x", b"", b"abc")[variant]
    if isinstance(kind, String):
        value = NAMES[variant]
        return value[: kind.length] if kind.length else value
    raise AssertionError(f"no edge value for {column}")


def _copy(table: Table, metadata: MetaData, name: str) -> Table:
    """``table``'s columns (keys, types and Python defaults) without its constraints."""
    columns = [
        Column(c.name, c.type, key=c.key, default=None if c.default is None else c.default.arg)  # type: ignore[attr-defined]
        for c in table.columns
    ]
    return Table(name, metadata, *columns)


def _rows(table: Table) -> list[dict[str, Any]]:
    return [{c.key: _value(c, variant) for c in table.columns} for variant in range(3)]


def _printed(connection: Connection, name: str, table: Table) -> list[tuple[str | None, ...]]:
    """Every row of ``name`` as PostgreSQL prints each column, in a stable order."""
    columns = ", ".join(f'"{c.name}"::text' for c in table.columns)
    rows = connection.execute(text(f"SELECT {columns} FROM {name}")).all()  # noqa: S608
    return sorted((tuple(row) for row in rows), key=repr)


def _compare(connection: Connection) -> dict[str, tuple[Any, Any]]:
    metadata = MetaData()
    pending: list[tuple[Table, list[dict[str, Any]]]] = []
    expected: list[tuple[Table, Table, list[dict[str, Any]]]] = []
    for name in WRITTEN:
        table = Base.metadata.tables[name]
        for copy in (f"enc_json_{name}", f"enc_core_{name}"):
            connection.execute(text(f"CREATE TEMP TABLE {copy} (LIKE {name}) ON COMMIT DROP"))
        rows = _rows(table)
        pending.append((_copy(table, metadata, f"enc_json_{name}"), rows))
        expected.append((table, _copy(table, metadata, f"enc_core_{name}"), rows))
    assert _driver_insert_all(connection, pending), "the rows were not sent as JSON"
    for _table, core, rows in expected:
        connection.execute(insert(core), rows)
    return {
        table.name: (
            _printed(connection, f"enc_json_{table.name}", table),
            _printed(connection, f"enc_core_{table.name}", table),
        )
        for table, _core, _rows in expected
    }


async def test_rows_sent_as_json_are_stored_as_sqlalchemy_stores_them(app: Any) -> None:
    async with app.state.engine.connect() as connection, connection.begin():
        compared = await connection.run_sync(_compare)
    for name, (sent, stored) in compared.items():
        assert len(sent) == 3, name
        assert sent == stored, name


def _flushed(connection: Connection, rows: list[dict[str, Any]]) -> list[Any]:
    """``rows`` written as ``AppSession.flush`` writes them (SQLAlchemy's INSERT if the driver's
    was not done), then read back."""
    copy = _copy(Base.metadata.tables["case_links"], MetaData(), "enc_links")
    connection.execute(text("CREATE TEMP TABLE enc_links (LIKE case_links) ON COMMIT DROP"))
    if not _driver_insert_all(connection, [(copy, rows)]):
        connection.execute(insert(copy), rows)
    stored = connection.execute(text("SELECT score::text FROM enc_links")).all()
    return [tuple(row) for row in stored]


@pytest.mark.parametrize(("score", "printed"), [(math.nan, "NaN"), (-math.inf, "-Infinity")])
async def test_a_score_json_cannot_carry_is_stored_as_it_was(
    app: Any, score: float, printed: str
) -> None:
    """orjson writes NaN and infinities as null: such rows still store the float itself."""
    table = Base.metadata.tables["case_links"]
    row = {c.key: _value(c, 0) for c in table.columns} | {"score": score}
    async with app.state.engine.connect() as connection, connection.begin():
        stored = await connection.run_sync(_flushed, [row])
    assert stored == [(printed,)]
