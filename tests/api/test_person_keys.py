"""A person's blocking keys live and die with the person: a correction that replaces a report's
persons leaves none of the old ones' keys behind, and no key refers to a person that is gone
(issue 21: on PostgreSQL the keys are deleted by a trigger rather than checked row by row by a
foreign key)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from sqlalchemy import func, select, text

from app.models import PersonKey, ReportPerson
from tests.conftest import ON_POSTGRES
from tests.factories import Agencies, submit_report
from tests.report_samples import deferral, victim

IMI = "IMIGRASI-DUMAI"


async def _keys_by_person(app: Any) -> dict[Any, int]:
    async with app.state.session_factory() as session:
        rows = await session.execute(
            select(PersonKey.report_person_id, func.count()).group_by(PersonKey.report_person_id)
        )
        return dict(rows.all())


async def _person_ids(app: Any) -> set[Any]:
    async with app.state.session_factory() as session:
        return set((await session.scalars(select(ReportPerson.id))).all())


async def test_a_correction_that_replaces_the_person_leaves_only_the_new_persons_keys(
    app: Any, client: httpx.AsyncClient, agencies: Agencies
) -> None:
    created = await submit_report(client, agencies[IMI], deferral())
    first = await _person_ids(app)
    assert first
    assert set(await _keys_by_person(app)) == first

    corrected = deferral(persons=[victim("Rahmawati Sembiring", "1999-02-11")])
    response = await client.put(
        f"/v1/reports/{created['id']}",
        json=corrected,
        headers={**agencies[IMI], "If-Match": f'"{created["version"]}"'},
    )
    assert response.status_code == 200, response.text

    now = await _person_ids(app)
    keys = await _keys_by_person(app)
    assert now
    assert not now & first
    # every key belongs to a stored person, and every stored person has its keys
    assert set(keys) == now, (set(keys) - now, now - set(keys))

    # the old person is no longer found by its NIK; the new one is found by its name
    old_person = deferral()["persons"][0]
    asked = [
        {k: p[k] for k in ("full_name", "date_of_birth", "nik") if k in p}
        for p in (old_person, corrected["persons"][0])
    ]
    screened = await client.post(
        "/v1/screenings", json={"persons": asked}, headers=agencies["POLRES-DUMAI"]
    )
    assert screened.status_code == 200, screened.text
    old, new = screened.json()["results"]
    assert not old["hit"], old
    assert new["hit"], new


@pytest.mark.pg
@pytest.mark.skipif(
    not ON_POSTGRES, reason="needs SINERGI_TEST_DATABASE_URL=postgresql+asyncpg://…"
)
async def test_writing_a_key_runs_no_referential_check_per_row(app: Any) -> None:
    """50-80 keys per ingest: a foreign key would run a query per key row (half its cost)."""
    async with app.state.session_factory() as session:
        checks = await session.scalar(
            text(
                "SELECT count(*) FROM pg_constraint "
                "WHERE contype = 'f' AND conrelid = 'person_keys'::regclass"
            )
        )
        cascades = await session.scalar(
            text(
                "SELECT count(*) FROM pg_trigger WHERE tgrelid = 'report_persons'::regclass "
                "AND tgname = 'tr_report_persons_delete_keys' AND tgenabled = 'O'"
            )
        )
    assert checks == 0
    assert cascades == 1
