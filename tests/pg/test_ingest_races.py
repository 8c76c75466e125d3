"""Races that only a real multi-connection database shows (PostgreSQL)."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest

from app.models.agency import AgencyKind
from tests.factories import bearer, create_agency, token_for
from tests.report_samples import deferral, interception, victim

pytestmark = pytest.mark.pg


async def test_twenty_identical_reports_at_once_end_as_one(
    app: Any, client: httpx.AsyncClient
) -> None:
    await create_agency(app, "IMIGRASI-DUMAI", kind=AgencyKind.IMMIGRATION)
    headers = bearer(await token_for(client, app, "IMIGRASI-DUMAI"))
    responses = await asyncio.gather(
        *(client.post("/v1/reports", json=deferral(), headers=headers) for _ in range(20))
    )
    statuses = sorted(r.status_code for r in responses)
    assert statuses.count(201) == 1, statuses
    assert set(statuses) <= {200, 201}, [r.text for r in responses if r.status_code >= 300]
    assert len({r.json()["id"] for r in responses}) == 1
    listed = await client.get("/v1/reports", headers=headers)
    assert len(listed.json()["items"]) == 1


async def test_two_reports_about_one_new_person_at_once_end_in_one_entity(
    app: Any, client: httpx.AsyncClient
) -> None:
    await create_agency(app, "IMIGRASI-DUMAI", kind=AgencyKind.IMMIGRATION)
    await create_agency(app, "LANAL-DUMAI", kind=AgencyKind.NAVY)
    imi = bearer(await token_for(client, app, "IMIGRASI-DUMAI"))
    lanal = bearer(await token_for(client, app, "LANAL-DUMAI"))
    for round_ in range(5):
        nik = f"33740145010{round_:02d}003"
        person = victim(f"Dewi Lestari {round_}", "2001-01-05", nik)
        a, b = await asyncio.gather(
            client.post(
                "/v1/reports",
                json=deferral(external_ref=f"A-{round_}", persons=[person]),
                headers=imi,
            ),
            client.post(
                "/v1/reports",
                json=interception(external_ref=f"B-{round_}", persons=[person]),
                headers=lanal,
            ),
        )
        assert a.status_code == b.status_code == 201, (a.text, b.text)
        assert a.json()["persons"][0]["entity_id"] == b.json()["persons"][0]["entity_id"]
        assert a.json()["case_id"] == b.json()["case_id"]


async def test_two_reports_naming_two_people_in_opposite_order_do_not_deadlock(
    app: Any, client: httpx.AsyncClient
) -> None:
    await create_agency(app, "IMIGRASI-DUMAI", kind=AgencyKind.IMMIGRATION)
    await create_agency(app, "LANAL-DUMAI", kind=AgencyKind.NAVY)
    imi = bearer(await token_for(client, app, "IMIGRASI-DUMAI"))
    lanal = bearer(await token_for(client, app, "LANAL-DUMAI"))
    for round_ in range(5):
        first = victim(f"Rina Marlina {round_}", "2000-02-03", f"33740143020{round_:02d}004")
        second = victim(f"Yuliana Safitri {round_}", "1998-07-09", f"33740149079{round_:02d}002")
        a, b = await asyncio.gather(
            client.post(
                "/v1/reports",
                json=deferral(external_ref=f"A-{round_}", persons=[first, second]),
                headers=imi,
            ),
            client.post(
                "/v1/reports",
                json=interception(external_ref=f"B-{round_}", persons=[second, first]),
                headers=lanal,
            ),
        )
        assert a.status_code == b.status_code == 201, (a.text, b.text)
        ids_a = [p["entity_id"] for p in a.json()["persons"]]
        ids_b = [p["entity_id"] for p in b.json()["persons"]]
        assert ids_a == list(reversed(ids_b))
