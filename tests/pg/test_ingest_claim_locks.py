"""A lone ingest takes resolution's locks with its report's claim (PostgreSQL): a report about the
same new person committed while it waited is among its candidates."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy import text

from app.db import transaction
from app.models.agency import AgencyKind
from app.schemas.report import ReportCreated, ReportIn
from app.services import reports
from tests.factories import create_agency
from tests.report_samples import deferral, interception, victim

pytestmark = pytest.mark.pg


@dataclass(frozen=True)
class _Sender:
    agency_id: Any
    agency_code: str
    is_admin: bool = False


async def _submit_alone(app: Any, sender: _Sender, body: dict[str, Any]) -> ReportCreated:
    """``POST /v1/reports``' work in a transaction of its own, as a lone ingest runs it."""
    async with transaction(app.state.session_factory) as session:
        status, answer = await reports.submit(
            session,
            sender,
            ReportIn.model_validate(body),
            idempotency_key=None,
            settings=reports.IngestSettings.of(app.state.settings),
        )
    assert status == 201
    return answer


async def _until_waiting_on_a_lock(app: Any, task: asyncio.Task[Any]) -> None:
    """Until another backend waits on an advisory lock (or ``task`` ended without waiting)."""
    async with app.state.engine.connect() as connection:
        for _ in range(200):
            waiting = await connection.scalar(
                text(
                    "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted"
                    " AND pid <> pg_backend_pid()"
                )
            )
            await connection.commit()
            if waiting or task.done():
                return
            await asyncio.sleep(0.05)


async def test_a_report_committed_while_another_waits_for_its_locks_is_found(app: Any) -> None:
    imi = await create_agency(app, "IMIGRASI-DUMAI", kind=AgencyKind.IMMIGRATION)
    lanal = await create_agency(app, "LANAL-DUMAI", kind=AgencyKind.NAVY)
    person = victim("Dewi Lestari", "2001-01-05", "3374014501010003")
    async with transaction(app.state.session_factory) as first_session:
        _, first = await reports.submit(
            first_session,
            _Sender(imi.id, imi.code),
            ReportIn.model_validate(deferral(external_ref="A-1", persons=[person])),
            idempotency_key=None,
            settings=reports.IngestSettings.of(app.state.settings),
        )
        # The second report starts while the first holds the person's locks, uncommitted.
        second_task = asyncio.create_task(
            _submit_alone(
                app,
                _Sender(lanal.id, lanal.code),
                interception(external_ref="B-1", persons=[person]),
            )
        )
        await _until_waiting_on_a_lock(app, second_task)
        assert not second_task.done()
    second = await second_task
    # one entity and one case for the one woman, as if the reports had come one after the other
    assert second.persons[0].entity_id == first.persons[0].entity_id
    assert second.case_id == first.case_id
