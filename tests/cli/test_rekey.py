"""`sinergi dedup rekey`: persons indexed by an older release become findable again."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from typer.testing import CliRunner

from app.db import create_engine, create_session_factory, transaction
from app.models.report import ReportPerson
from app.models.resolution import PersonKey
from app.schemas.agency import AgencyCreate
from app.services.agencies import create_agency
from app.services.routing import seed_default_rules
from tests.conftest import invoke_cli, make_settings
from tests.report_samples import deferral, victim


@pytest.fixture
async def sessions(database_url: str) -> Any:
    engine = create_engine(make_settings(database_url))
    factory = create_session_factory(engine)
    async with transaction(factory) as session:
        await create_agency(
            session,
            AgencyCreate(
                code="IMIGRASI-DUMAI", name="Imigrasi", kind="IMMIGRATION", region_code="14.72"
            ),
        )
        await seed_default_rules(session, region_code="14.72")
    yield factory
    await engine.dispose()


async def _import(runner: CliRunner, path: Path, body: dict[str, Any]) -> None:
    path.write_text(json.dumps(body) + "\n", encoding="utf-8")
    result = await invoke_cli(runner, "import", str(path), "--agency", "IMIGRASI-DUMAI")
    assert result.exit_code == 0, result.output


async def _keys(factory: async_sessionmaker[AsyncSession]) -> set[str]:
    async with transaction(factory) as session:
        return set((await session.execute(select(PersonKey.key))).scalars().all())


async def test_rekey_restores_the_keys_an_older_release_did_not_write(
    cli_runner: CliRunner, sessions: async_sessionmaker[AsyncSession], tmp_path: Path
) -> None:
    first = deferral(
        external_ref="IMI/1",
        persons=[victim("Yohana Bria", "2001-11-02", nik="5301024211010003")],
    )
    await _import(cli_runner, tmp_path / "first.jsonl", first)
    current = await _keys(sessions)
    # An older release indexed her by NIK only, and under a key kind that no longer exists.
    async with transaction(sessions) as session:
        await session.execute(delete(PersonKey).where(~PersonKey.key.startswith("nik")))
        person_id = (await session.execute(select(ReportPerson.id))).scalar_one()
        session.add(PersonKey(key="old:bria", report_person_id=person_id))
    stale = await _keys(sessions)

    dry = await invoke_cli(cli_runner, "dedup", "rekey", "--dry-run")
    assert dry.exit_code == 0, dry.output
    assert "1 stored persons; would change the keys of 1" in dry.output
    assert await _keys(sessions) == stale

    done = await invoke_cli(cli_runner, "dedup", "rekey", "--batch-size", "1")
    assert done.exit_code == 0, done.output
    assert "changed the keys of 1" in done.output
    assert await _keys(sessions) == current
    again = await invoke_cli(cli_runner, "dedup", "rekey")
    assert "changed the keys of 0 (+0 / -0)" in again.output

    # The Navy's record of her carries no NIK: it meets her only under the restored name keys.
    later = deferral(external_ref="IMI/2", persons=[victim("Yohana Bria", "2001-11-02")])
    await _import(cli_runner, tmp_path / "later.jsonl", later)
    async with transaction(sessions) as session:
        entities = (await session.execute(select(ReportPerson.entity_id))).scalars().all()
    assert len(entities) == 2
    assert len(set(entities)) == 1
