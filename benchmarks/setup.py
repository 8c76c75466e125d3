"""A fresh benchmark database: created, migrated, with a city TIMPORA's agencies, rules and keys.

Everything goes through the app's own services (as ``sinergi admin`` does), so the server under
test sees exactly what an operator would have set up.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

import asyncpg

from app import migrate
from app.config import Settings
from app.db import create_engine, create_session_factory, transaction
from app.models.agency import AgencyKind
from app.schemas.agency import AgencyCreate
from app.services import agencies, api_keys
from app.services.routing import seed_default_rules
from benchmarks.store import asyncpg_dsn

#: The agencies of one city TIMPORA (every kind the default routing rules name).
AGENCIES = (
    ("IMIGRASI-DUMAI", AgencyKind.IMMIGRATION),
    ("POLRES-DUMAI", AgencyKind.POLICE),
    ("BP3MI-RIAU", AgencyKind.MIGRANT_WORKER_PROTECTION),
    ("DISNAKER-DUMAI", AgencyKind.MANPOWER),
    ("KEJARI-DUMAI", AgencyKind.PROSECUTOR),
    ("LANAL-DUMAI", AgencyKind.NAVY),
    ("KSOP-DUMAI", AgencyKind.PORT_AUTHORITY),
    ("DINSOS-DUMAI", AgencyKind.SOCIAL_SERVICES),
    ("PEMKOT-DUMAI", AgencyKind.LOCAL_GOVERNMENT),
)
#: Agencies whose systems submit reports in the load test (several tokens, as in real use).
SENDERS = ("IMIGRASI-DUMAI", "POLRES-DUMAI", "BP3MI-RIAU", "LANAL-DUMAI")


def bench_settings(database_url: str) -> Settings:
    """Production settings with throw-away secrets (the benchmark's server uses the same)."""
    return Settings(
        database_url=database_url,
        secret_key=BENCH_SECRET,
        key_encryption_key=BENCH_SECRET,
    )


#: The per-agency rate limits still run (their cost is measured), but a burst this large never
#: refuses: at c=32 a fast read path spends an agency's production budget (50/s, burst 500)
#: within seconds, and 429s are a policy's answer, not the cost measured here.
NEVER_REFUSING_BURST = 100_000_000

#: Fixed, so that a benchmark database can be reused by a later run; loopback only, never real.
BENCH_SECRET = "benchmark-only-secret-never-use-it-anywhere-else-0123456789"


def server_env(database_url: str) -> dict[str, str]:
    """Environment for ``sinergi serve`` / ``sinergi worker`` against the benchmark database."""
    return {
        "SINERGI_DATABASE_URL": database_url,
        "SINERGI_SECRET_KEY": BENCH_SECRET,
        "SINERGI_KEY_ENCRYPTION_KEY": BENCH_SECRET,
        "SINERGI_LOG_LEVEL": "WARNING",
        "SINERGI_RATE_LIMIT_READS_BURST": str(NEVER_REFUSING_BURST),
        "SINERGI_RATE_LIMIT_INGEST_BURST": str(NEVER_REFUSING_BURST),
    }


async def recreate_database(database_url: str) -> None:
    """Drop and create the database named in ``database_url`` (never ``test``)."""
    dsn = asyncpg_dsn(database_url)
    base, _, name = dsn.rpartition("/")
    if name in {"test", "postgres", ""}:
        raise SystemExit(f"refusing to recreate database {name!r}")
    conn = await asyncpg.connect(f"{base}/postgres")
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()


@dataclass(frozen=True)
class Prepared:
    """API keys of the sending agencies (agency code → key)."""

    keys: dict[str, str]


async def prepare(database_url: str, *, recreate: bool = True) -> Prepared:
    """Create (or reuse) the database, migrate it, and register agencies, rules and keys."""
    if recreate and database_url.startswith("postgresql"):
        await recreate_database(database_url)
    await asyncio.to_thread(migrate.upgrade, database_url)
    settings = bench_settings(database_url)
    engine = create_engine(settings)
    factory = create_session_factory(engine)
    keys: dict[str, str] = {}
    try:
        async with transaction(factory) as session:
            await agencies.bootstrap_admin(session, settings)
            for code, kind in AGENCIES:
                await agencies.create_agency(
                    session, AgencyCreate(code=code, name=f"{code} (benchmark)", kind=kind)
                )
            await seed_default_rules(session)
        async with transaction(factory) as session:
            for code in SENDERS:
                agency = await agencies.get_agency(session, code)
                issued = await api_keys.issue_api_key(
                    session, secret_key=settings.secret_key, agency=agency, actor="benchmark"
                )
                keys[code] = issued.key
    finally:
        await engine.dispose()
    return Prepared(keys)
