"""Bulk loader: fill a PostgreSQL Sinergi database with N stored persons, fast (COPY).

Each stored person is a one-person report exactly as ingest would have stored it: the body is
validated by ``ReportIn``, persons are normalized and featurized by the app's own ingest code
(``app.services.reports._normalize_persons``), and the blocking keys come from
``app.matching.scoring.blocking_keys``, so the candidate lookups the benchmarks time are the
real ones. Persons the synthetic generator labels as one true person share one entity and one
case, as resolution would have linked them. Rows go in with ``COPY`` (asyncpg), chunk by chunk;
the featurizing runs in worker processes while the previous chunk is copied.

    python -m benchmarks.store --database-url postgresql+asyncpg://postgres@127.0.0.1/bench_db \
        --persons 100000

The database must be migrated and hold at least one non-admin agency (``benchmarks.setup``).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import pickle
import random
import time
import uuid
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import asyncpg
import orjson

from app.matching.features_json import features_to_json
from app.matching.scoring import blocking_keys
from app.schemas.report import ReportIn
from app.services.reports import _normalize_persons, body_hash
from benchmarks.workload import CHUNK_ENTITIES, report_json, split_chunk

#: About how many stored persons one chunk holds (CHUNK_ENTITIES true persons, their records).
STORED_PER_CHUNK = 6_900
#: Seeds of the loader's chunks start here (the load generator's seeds stay far below).
SEED_BASE = 1_000_000
ROLES = ("VICTIM", "POTENTIAL_VICTIM", "SUSPECT", "WITNESS", "APPLICANT")

REPORT_COLUMNS = (
    "id", "source_agency_id", "external_ref", "version", "status", "case_type", "tlp",
    "region_code", "reported_at", "body", "body_hash", "case_id", "created_at", "updated_at",
)  # fmt: skip
PERSON_COLUMNS = (
    "id", "report_id", "position", "role", "name_normalized", "nik", "passport_number",
    "phone_e164", "date_of_birth", "birth_year", "sex", "nationality", "features", "entity_id",
    "match_score", "match_reasons", "report_status", "report_tlp", "report_source_agency_id",
)  # fmt: skip


def asyncpg_dsn(database_url: str) -> str:
    """``postgresql+asyncpg://…`` (SQLAlchemy) → ``postgresql://…`` (asyncpg)."""
    return database_url.replace("postgresql+asyncpg://", "postgresql://", 1)


@dataclass
class ChunkRows:
    """The rows of one chunk, ready for COPY."""

    entities: list[tuple[Any, ...]] = field(default_factory=list)
    cases: list[tuple[Any, ...]] = field(default_factory=list)
    reports: list[tuple[Any, ...]] = field(default_factory=list)
    persons: list[tuple[Any, ...]] = field(default_factory=list)
    keys: list[tuple[Any, ...]] = field(default_factory=list)


CACHE_DIR = Path(os.environ.get("SINERGI_BENCH_CACHE", "/tmp/sinergi-bench-cache"))


class _CacheUnpickler(pickle.Unpickler):
    """Reads our own cache files, whichever module (``__main__`` too) wrote ``ChunkRows``."""

    def find_class(self, module: str, name: str) -> Any:
        if name == "ChunkRows":
            return ChunkRows
        return super().find_class(module, name)


def chunk_rows(index: int) -> ChunkRows:
    """Rows of chunk ``index``, built once and then read from the cache (a worker process).

    Building costs about a millisecond per person (generation, validation, normalization,
    features); the cache makes a second load of the same chunks (another store size, another
    run) cost only the COPY. Row ids are fixed in the cache; every load goes into a fresh
    database, so that is harmless.
    """
    path = CACHE_DIR / f"chunk-{CHUNK_ENTITIES}-{index:05d}.pickle"
    if path.exists():
        with path.open("rb") as handle:
            rows: ChunkRows = _CacheUnpickler(handle).load()
            return rows
    rows = build_chunk(index)
    CACHE_DIR.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(f".{os.getpid()}.tmp")
    with partial.open("wb") as handle:
        pickle.dump(rows, handle, protocol=pickle.HIGHEST_PROTOCOL)
    partial.replace(path)
    return rows


def build_chunk(index: int) -> ChunkRows:
    """Rows for chunk ``index``; a report's source agency is a slot number (see ``_copy``)."""
    chunk = split_chunk(SEED_BASE + index, CHUNK_ENTITIES)
    rng = random.Random(index)
    now = datetime.now(UTC)
    rows = ChunkRows()
    entity_of: dict[int, uuid.UUID] = {}
    case_of: dict[int, uuid.UUID] = {}
    for n, record in enumerate(chunk.stored):
        if record.entity_id not in entity_of:
            entity_of[record.entity_id] = uuid.uuid4()
            case_of[record.entity_id] = uuid.uuid4()
            rows.entities.append((entity_of[record.entity_id], now, None))
            rows.cases.append((case_of[record.entity_id], now, now, None))
        role = rng.choices(ROLES, weights=(50, 15, 20, 5, 10))[0]
        raw = report_json(f"LOAD-{index:04d}-{n:05d}", [(record, role)], rng)
        body = ReportIn.model_validate(raw)
        stored_body = body.model_dump(mode="json", exclude_none=True)
        (person,), _warnings = _normalize_persons(body)
        report_id = uuid.uuid4()
        person_id = uuid.uuid4()
        rows.reports.append(
            (
                report_id,
                n,  # the agency slot
                body.external_ref,
                1,
                "ACTIVE",
                str(body.case_type),
                str(body.tlp),
                body.location.region_code if body.location else None,
                body.reported_at,
                orjson.dumps(stored_body).decode(),
                body_hash(stored_body),
                case_of[record.entity_id],
                now,
                now,
            )
        )
        normalized = person.normalized
        rows.persons.append(
            (
                person_id,
                report_id,
                0,
                role,
                normalized.full_name,
                normalized.nik,
                normalized.passport_number,
                normalized.phone,
                normalized.date_of_birth,
                normalized.birth_year,
                str(person.submitted.sex) if person.submitted.sex else None,
                person.submitted.nationality,
                orjson.dumps(features_to_json(person.features)).decode(),
                entity_of[record.entity_id],
                None,
                "[]",
            )
        )
        rows.keys.extend((key, person_id) for key in blocking_keys(person.features))
    return rows


async def _copy(conn: asyncpg.Connection, rows: ChunkRows, agency_ids: Sequence[uuid.UUID]) -> None:
    reports = [(r[0], agency_ids[r[1] % len(agency_ids)], *r[2:]) for r in rows.reports]
    # each person carries its report's status, TLP and source (``ReportPerson.report_status``)
    copied = {r[0]: (r[4], r[6], r[1]) for r in reports}
    persons = [(*p, *copied[p[1]]) for p in rows.persons]
    async with conn.transaction():
        await conn.copy_records_to_table(
            "person_entities", records=rows.entities, columns=("id", "created_at", "merged_into_id")
        )
        await conn.copy_records_to_table(
            "cases",
            records=rows.cases,
            columns=("id", "created_at", "updated_at", "merged_into_id"),
        )
        await conn.copy_records_to_table("reports", records=reports, columns=REPORT_COLUMNS)
        await conn.copy_records_to_table("report_persons", records=persons, columns=PERSON_COLUMNS)
        await conn.copy_records_to_table(
            "person_keys", records=rows.keys, columns=("key", "report_person_id")
        )


async def stored_persons(database_url: str) -> int:
    conn = await asyncpg.connect(asyncpg_dsn(database_url))
    try:
        count: int = await conn.fetchval("SELECT count(*) FROM report_persons")
        return count
    finally:
        await conn.close()


async def load(database_url: str, persons: int, *, processes: int = 2, quiet: bool = False) -> int:
    """Add ``persons`` stored persons; returns how many keys were written."""
    conn = await asyncpg.connect(asyncpg_dsn(database_url))
    # COPY is binary; the binary form of ``json`` is its text.
    await conn.set_type_codec(
        "json", encoder=str.encode, decoder=bytes.decode, schema="pg_catalog", format="binary"
    )
    agency_ids = [
        r["id"]
        for r in await conn.fetch(
            "SELECT id FROM agencies WHERE code <> 'ADMIN' AND active ORDER BY code"
        )
    ]
    if not agency_ids:
        raise SystemExit("no agency to own the reports: run benchmarks.setup first")
    # Chunks already loaded (an earlier, smaller load) are skipped: the store only grows.
    last = await conn.fetchval(
        "SELECT max(substring(external_ref from 6 for 4)::int) FROM reports "
        "WHERE external_ref LIKE 'LOAD-%'"
    )
    first = 0 if last is None else last + 1
    started = time.perf_counter()
    written = keys = 0
    loop = asyncio.get_running_loop()
    with ProcessPoolExecutor(processes) as pool:
        pending: list[asyncio.Future[ChunkRows]] = []
        index = first
        # A chunk holds about 1.35 x CHUNK_ENTITIES stored persons; ask for a few ahead.
        while written < persons:
            while len(pending) < processes + 1:
                pending.append(loop.run_in_executor(pool, chunk_rows, index))
                index += 1
            rows = await pending.pop(0)
            take = min(len(rows.persons), persons - written)
            if take < len(rows.persons):
                rows = _trim(rows, take)
            await _copy(conn, rows, agency_ids)
            written += take
            keys += len(rows.keys)
            if not quiet:
                rate = written / (time.perf_counter() - started)
                print(
                    f"  loaded {written:>9,} persons, {keys:>10,} keys ({rate:,.0f}/s)", flush=True
                )
        for future in pending:
            future.cancel()
    # A store that grew through ingest has been vacuumed by autovacuum as it grew; a bulk-loaded
    # one has an empty visibility map, and every index-only lookup (the blocking keys) would
    # visit the table as well. Vacuum, so lookups are timed as in a steady-state database.
    await conn.execute("VACUUM (ANALYZE)")
    await conn.close()
    return keys


def _trim(rows: ChunkRows, take: int) -> ChunkRows:
    persons = rows.persons[:take]
    kept_persons = {p[0] for p in persons}
    kept_reports = {p[1] for p in persons}
    kept_entities = {p[13] for p in persons}
    reports = [r for r in rows.reports if r[0] in kept_reports]
    kept_cases = {r[11] for r in reports}
    return ChunkRows(
        entities=[e for e in rows.entities if e[0] in kept_entities],
        cases=[c for c in rows.cases if c[0] in kept_cases],
        reports=reports,
        persons=persons,
        keys=[k for k in rows.keys if k[1] in kept_persons],
    )


def _prebuild(index: int) -> None:
    if not (CACHE_DIR / f"chunk-{CHUNK_ENTITIES}-{index:05d}.pickle").exists():
        chunk_rows(index)


def held_back_records(persons: int) -> list[Any]:
    """Records held back from the chunks a store of ``persons`` was loaded from."""
    chunks = max(1, persons // STORED_PER_CHUNK)
    records: list[Any] = []
    for index in range(min(chunks, 4)):
        records.extend(split_chunk(SEED_BASE + index, CHUNK_ENTITIES).held_back)
    return records


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url")
    parser.add_argument("--persons", type=int, required=True, help="stored persons to add")
    parser.add_argument("--processes", type=int, default=2)
    parser.add_argument(
        "--prebuild", action="store_true", help="only build the chunk cache (no database)"
    )
    args = parser.parse_args()
    if args.prebuild:
        chunks = -(-args.persons // STORED_PER_CHUNK) + 1
        with ProcessPoolExecutor(args.processes) as pool:
            for done, _ in enumerate(pool.map(_prebuild, range(chunks)), 1):
                print(f"  chunk {done}/{chunks} cached", flush=True)
        return
    if not args.database_url:
        parser.error("--database-url is required")
    started = time.perf_counter()
    keys = asyncio.run(load(args.database_url, args.persons, processes=args.processes))
    print(
        f"loaded {args.persons:,} persons and {keys:,} blocking keys "
        f"in {time.perf_counter() - started:.0f} s"
    )


if __name__ == "__main__":
    main()
