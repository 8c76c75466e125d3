"""Resolution scores a new person against everything known of a candidate entity at once."""

from __future__ import annotations

from typing import Any

import httpx

from app.models.agency import AgencyKind
from tests.factories import bearer, create_agency, token_for
from tests.report_samples import deferral, victim


async def test_the_third_record_links_on_what_the_first_two_say_together(
    app: Any, client: httpx.AsyncClient
) -> None:
    """The shelter knew her sex, the village office her address; the police report names her
    with both. Against either record alone it is a possible match (0.77, 0.86); against the
    person they make together it is a link."""
    await create_agency(app, "IMIGRASI-DUMAI", kind=AgencyKind.IMMIGRATION)
    headers = bearer(await token_for(client, app, "IMIGRASI-DUMAI"))

    async def report(ref: str, **person: Any) -> dict[str, Any]:
        body = deferral(external_ref=ref, persons=[person])
        answer = await client.post("/v1/reports", json=body, headers=headers)
        assert answer.status_code == 201, answer.text
        result: dict[str, Any] = answer.json()["persons"][0]
        return result

    shelter = await report("A", **victim("Zulaikha Anwar", "1990-01-01", "3201014101900001"))
    village = await report(
        "B",
        **victim("Zulaikha Anwar", "1990-01-01", sex=None, address="Desa Sukamaju, Bogor"),
    )
    assert village["entity_id"] == shelter["entity_id"]  # name and birth date: one person

    police = victim("Zulaikha Anwar", "1990-01-01", address="Jl. Melati 5, Desa Sukamaju")
    del police["date_of_birth"]
    third = await report("C", **police)
    assert third["entity_id"] == shelter["entity_id"]
    assert third["score"] >= 0.9
    assert any("address partly shared" in reason for reason in third["reasons"])
    assert any("sex equal" in reason for reason in third["reasons"])
