"""What an ingest asks PostgreSQL, asked more cheaply (issue 21): the watches' probe answered by
resolution's candidate lookup, and the blocking keys compared byte by byte; a report is still
found by its NIK and a watched person still hit."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from sqlalchemy import text

from app.db import transaction
from app.repositories import resolution as repo
from app.repositories import watches as watch_repo
from tests.factories import Agencies, submit_report
from tests.report_samples import deferral, victim

pytestmark = pytest.mark.pg

WATCHED = {"full_name": "Siti Nurhaliza binti Ahmad", "date_of_birth": "1999-03-14"}
WATCHED_NIK = "1472035403990002"


async def test_the_candidate_lookup_tells_whether_a_watch_holds_a_key(
    app: Any, client: httpx.AsyncClient, agencies: Agencies
) -> None:
    watch = await client.post(
        "/v1/watches",
        json={"person": {**WATCHED, "nik": WATCHED_NIK}, "note": "PERM-0001"},
        headers=agencies["IMIGRASI-DUMAI"],
    )
    assert watch.status_code == 201, watch.text
    async with transaction(app.state.session_factory) as session:
        held = [k for (k,) in (await session.execute(text("SELECT key FROM watch_keys"))).all()]
        assert held
        probes: list[list[tuple[list[str], list[str]]]] = [
            [([held[0]], [])],  # one person, one watched key
            [(["nb:nobody:1900"], []), ([f"nik:{WATCHED_NIK}"], [])],  # the second person's
            [(["nb:nobody:1900", "nik:0000000000000001"], ["nobody"])],  # no watched key
            [([], [held[0]])],  # a watched key asked only as a name count blocks nothing
        ]
        for persons in probes:
            caps = [repo._caps_of(keys, names) for keys, names in persons]
            found = await repo._candidates_in_one_statement(session, persons, caps, None, None)
            asked = await watch_repo.any_sharing_keys(session, [k for ks, _ in persons for k in ks])
            assert {f.watched for f in found} == {asked}, persons


async def test_a_watched_person_reported_is_a_hit_and_another_is_not(
    client: httpx.AsyncClient, agencies: Agencies
) -> None:
    imi = agencies["IMIGRASI-DUMAI"]
    watch = await client.post(
        "/v1/watches",
        json={"person": {**WATCHED, "nik": WATCHED_NIK}, "note": "PERM-0002"},
        headers=imi,
    )
    assert watch.status_code == 201, watch.text
    watch_id = watch.json()["id"]
    lanal = agencies["LANAL-DUMAI"]
    other = victim("Rina Marlina", "1996-08-02", "1471024208960004")
    await submit_report(client, lanal, deferral(external_ref="W-OTHER", persons=[other]))
    hits = await client.get(f"/v1/watches/{watch_id}/hits", headers=imi)
    assert hits.json()["items"] == []
    her = victim(WATCHED["full_name"], WATCHED["date_of_birth"], WATCHED_NIK)
    await submit_report(client, lanal, deferral(external_ref="W-HER", persons=[her]))
    [hit] = (await client.get(f"/v1/watches/{watch_id}/hits", headers=imi)).json()["items"]
    assert hit["contact_agency"] == "LANAL-DUMAI"


async def test_a_report_is_found_by_nik_with_keys_compared_byte_by_byte(
    app: Any, client: httpx.AsyncClient, agencies: Agencies
) -> None:
    lanal = agencies["LANAL-DUMAI"]
    first = victim("Dewi Lestari", "2001-01-05", "3374014501010003")
    stored = await submit_report(client, lanal, deferral(external_ref="K-1", persons=[first]))
    # the same NIK under another spelling of her name: found by the NIK's key, one case
    again = victim("Dewi Lestary", "2001-01-05", "3374014501010003")
    linked = await submit_report(client, lanal, deferral(external_ref="K-2", persons=[again]))
    assert stored["case_id"] is not None
    assert linked["case_id"] == stored["case_id"]
    async with transaction(app.state.session_factory) as session:
        collation = await session.scalar(
            text(
                "SELECT collation_name FROM information_schema.columns "
                "WHERE table_name = 'person_keys' AND column_name = 'key'"
            )
        )
    assert collation == "C"
