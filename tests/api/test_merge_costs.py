"""An ingest whose person bridges two stored entities: what the merge costs in statements, and
the action it records (what an undo puts back)."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
from sqlalchemy import select

from app.db import transaction
from app.models.report import ReportPerson
from app.models.resolution import ResolutionAction
from tests.api.test_request_costs import ON_POSTGRES, Statements
from tests.api.test_resolution_merges import NIK, woman
from tests.factories import submit_report
from tests.report_samples import interception

#: Statements of the bridging ingest (PostgreSQL, SQLite), as measured when set. PostgreSQL
#: 30 before: the merge's entities, persons, their UPDATEs, the cases naming the entity and the
#: action through the ORM; now two statements and a flush.
BUDGET = (17, 36)


async def test_a_bridging_ingest_merges_in_few_statements_and_records_its_undo(
    app: Any, client: httpx.AsyncClient, agencies: dict[str, dict[str, str]]
) -> None:
    async def submit(agency: str, ref: str, person: dict[str, Any]) -> dict[str, Any]:
        body = interception(external_ref=ref, persons=[person])
        return await submit_report(client, agencies[agency], body)

    by_nik = await submit("IMIGRASI-DUMAI", "C-1", woman(nik=NIK))
    by_phone = await submit("LANAL-DUMAI", "C-2", woman(phone="0812-6612-3344"))
    statements = Statements(app)
    with statements.counting() as seen:
        both = await submit(
            "POLRES-DUMAI",
            "C-3",
            woman(nik=NIK, date_of_birth="1999-03-14", phone="0812-6612-3344"),
        )
    person = both["persons"][0]
    assert any("merged them into one person" in r for r in person["reasons"]), person["reasons"]
    assert len(seen) <= BUDGET[0 if ON_POSTGRES else 1], (len(seen), seen)

    kept = person["entity_id"]
    [absorbed] = {by_nik["persons"][0]["entity_id"], by_phone["persons"][0]["entity_id"]} - {kept}
    async with transaction(app.state.session_factory) as session:
        [action] = (await session.scalars(select(ResolutionAction))).all()
        persons = (
            await session.scalars(
                select(ReportPerson.id).where(
                    ReportPerson.report_id.in_([uuid.UUID(by_nik["id"]), uuid.UUID(by_phone["id"])])
                )
            )
        ).all()
    assert (action.kind, action.actor) == ("entity.merge", "resolution")
    # every row the merge changed, with the value an undo puts back: the absorbed entity's
    # person and the entity itself; the phone's case (the younger) joined the NIK's, where the
    # new report is
    undo = action.undo
    assert undo["result"] == kept
    assert len(undo["persons"]) == 1
    assert set(undo["persons"].values()) == {absorbed}
    assert set(undo["persons"]) <= {str(p) for p in persons}
    assert undo["entities"] == {absorbed: None}
    assert both["case_id"] == by_nik["case_id"]
    assert undo["cases"] == {by_phone["case_id"]: None}
    assert undo["reports"] == {by_phone["id"]: by_phone["case_id"]}
    assert undo["links"]
    assert set(undo["links"].values()) == {by_phone["case_id"]}
