"""Routing with the rules a process holds: a change to the rules or the agencies, made by an
admin here or by anyone in another process, routes the very next report."""

from __future__ import annotations

from typing import Any

import httpx
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from app.config import Settings
from tests.factories import Agencies
from tests.report_samples import deferral

RULES = "/v1/admin/routing-rules"


async def _routed(client: httpx.AsyncClient, headers: dict[str, str], ref: str) -> list[Any]:
    answer = await client.post(
        "/v1/reports", json=deferral(external_ref=ref, recipients=[]), headers=headers
    )
    assert answer.status_code == 201, answer.text
    return [(r["agency"], r["rule"]) for r in answer.json()["routed_to"]]


async def _elsewhere(settings: Settings, statement: str) -> None:
    """``statement`` committed on a connection of its own, as another process would."""
    engine = create_async_engine(settings.database_url)
    try:
        async with engine.begin() as connection:
            await connection.execute(text(statement))
    finally:
        await engine.dispose()


async def test_an_admins_rule_change_routes_the_next_report(
    client: httpx.AsyncClient, agencies: Agencies
) -> None:
    imi, admin = agencies["IMIGRASI-DUMAI"], agencies["ADMIN"]
    created = await client.post(
        RULES, json={"name": "police-all", "recipients": ["POLRES-DUMAI"]}, headers=admin
    )
    assert created.status_code == 201, created.text
    assert await _routed(client, imi, "HELD/1") == [("POLRES-DUMAI", "police-all")]
    assert await _routed(client, imi, "HELD/2") == [("POLRES-DUMAI", "police-all")]

    changed = await client.put(
        f"{RULES}/{created.json()['id']}",
        json={"name": "navy-all", "recipients": ["LANAL-DUMAI"]},
        headers=admin,
    )
    assert changed.status_code == 200, changed.text
    assert await _routed(client, imi, "HELD/3") == [("LANAL-DUMAI", "navy-all")]

    deactivated = await client.post("/v1/admin/agencies/LANAL-DUMAI/deactivate", headers=admin)
    assert deactivated.status_code == 200, deactivated.text
    assert await _routed(client, imi, "HELD/4") == []


async def test_a_change_made_in_another_process_routes_the_next_report(
    client: httpx.AsyncClient, agencies: Agencies, settings: Settings
) -> None:
    imi, admin = agencies["IMIGRASI-DUMAI"], agencies["ADMIN"]
    for name, recipients in (("police-all", ["POLRES-DUMAI"]), ("navy-all", ["LANAL-DUMAI"])):
        created = await client.post(
            RULES, json={"name": name, "recipients": recipients}, headers=admin
        )
        assert created.status_code == 201, created.text
    both = [("POLRES-DUMAI", "police-all"), ("LANAL-DUMAI", "navy-all")]
    assert await _routed(client, imi, "ELSEWHERE/1") == both
    assert await _routed(client, imi, "ELSEWHERE/2") == both

    # a rule switched off and an agency deactivated by plain SQL (no timestamp touched)
    await _elsewhere(settings, "UPDATE routing_rules SET active = false WHERE name = 'navy-all'")
    assert await _routed(client, imi, "ELSEWHERE/3") == [("POLRES-DUMAI", "police-all")]
    await _elsewhere(settings, "UPDATE agencies SET active = false WHERE code = 'POLRES-DUMAI'")
    assert await _routed(client, imi, "ELSEWHERE/4") == []

    # and back, then a rule deleted
    await _elsewhere(settings, "UPDATE agencies SET active = true WHERE code = 'POLRES-DUMAI'")
    await _elsewhere(settings, "UPDATE routing_rules SET active = true WHERE name = 'navy-all'")
    assert await _routed(client, imi, "ELSEWHERE/5") == both
    await _elsewhere(settings, "DELETE FROM routing_rules WHERE name = 'police-all'")
    assert await _routed(client, imi, "ELSEWHERE/6") == [("LANAL-DUMAI", "navy-all")]
