"""Resolution at scale through the API: common names weigh less;
one person can join two entities."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import httpx
import pytest
from typer.testing import CliRunner

from app.db import transaction
from app.matching.scoring import DEFAULT_WEIGHTS, NAME, FieldWeights
from app.models.resolution import MatchWeights
from app.services.match_weights import forget_cached_weights
from tests.conftest import invoke_cli
from tests.factories import submit_report
from tests.report_samples import interception

NIK = "1472035403990002"
OTHER_NIK = "1472035403990117"  # a different woman's NIK, not a one-digit typo of the first


def woman(**fields: Any) -> dict[str, Any]:
    return {
        "role": "VICTIM",
        "full_name": "Rahmawati Siregar",
        "sex": "FEMALE",
        "nationality": "IDN",
        "trafficking_status": "POSSIBLE",
        **fields,
    }


async def submit(
    client: httpx.AsyncClient, headers: dict[str, str], ref: str, *persons: dict[str, Any]
) -> dict[str, Any]:
    return await submit_report(
        client, headers, interception(external_ref=ref, persons=list(persons))
    )


async def proposed_matches(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> list[tuple[str, str]]:
    """The possible matches an admin is shown: (report, candidate entity) pairs."""
    listed = await client.get("/v1/admin/possible-matches", headers=admin)
    assert listed.status_code == 200, listed.text
    return [(m["report_id"], m["candidate_entity_id"]) for m in listed.json()["items"]]


async def test_a_common_name_needs_more_than_a_near_birth_date(
    client: httpx.AsyncClient, agencies: dict[str, dict[str, str]]
) -> None:
    imigrasi = agencies["IMIGRASI-DUMAI"]
    first = await submit(
        client, imigrasi, "NG-0", woman(full_name="Ngatini", date_of_birth="2002-06-20")
    )
    # Alone in the store, "Ngatini" with a birth date one digit apart is the same woman.
    near = woman(full_name="Ngatini", date_of_birth="2002-06-21")
    query = {"full_name": "Ngatini", "date_of_birth": "2002-06-21", "sex": "FEMALE"}
    linked = await client.post(
        "/v1/screenings", json={"persons": [query]}, headers=agencies["POLRES-DUMAI"]
    )
    assert linked.status_code == 200, linked.text
    hits = linked.json()["results"][0]["hits"]
    assert [h["match"] for h in hits] == ["LINK"], hits

    # Thirty-two more women called Ngatini, born in other years: the name is common here now.
    for i in range(32):
        other = woman(full_name="Ngatini", date_of_birth=f"{1960 + i}-01-0{1 + i % 9}")
        await submit(client, imigrasi, f"NG-{i + 1}", other)
    screened = await client.post(
        "/v1/screenings", json={"persons": [query]}, headers=agencies["POLRES-DUMAI"]
    )
    result = screened.json()["results"][0]
    assert not result["hit"]
    hits = [h for h in result["hits"] if h["entity_id"] == first["persons"][0]["entity_id"]]
    assert [h["match"] for h in hits] == ["REVIEW"], result
    assert any("a common name" in r for r in hits[0]["reasons"]), hits[0]["reasons"]

    # Ingest decides alike: the new report is not linked to the first one, only proposed.
    later = await submit(client, agencies["LANAL-DUMAI"], "NG-LATE", near)
    assert later["persons"][0]["entity_id"] != first["persons"][0]["entity_id"]
    assert any("a common name" in r for r in later["persons"][0]["reasons"])


async def test_the_birth_date_a_nik_encodes_meets_a_reported_birth_date(
    client: httpx.AsyncClient, agencies: dict[str, dict[str, str]]
) -> None:
    # Immigration knows her NIK (born 14 March 1999, digits 7-12: 540399) but wrote no birth
    # date; the Navy knows her birth date but not the NIK. Name, sex and that date: one woman.
    by_nik = await submit(client, agencies["IMIGRASI-DUMAI"], "B-1", woman(nik=NIK))
    by_date = await submit(
        client, agencies["LANAL-DUMAI"], "B-2", woman(date_of_birth="1999-03-14")
    )
    person = by_date["persons"][0]
    assert person["entity_id"] == by_nik["persons"][0]["entity_id"], person
    assert "birth date equal" in person["reasons"], person["reasons"]

    # A birth year the NIK contradicts keeps the NIK's date out: the reported fields stand.
    other = await submit(
        client,
        agencies["IMIGRASI-DUMAI"],
        "B-3",
        woman(full_name="Yuliana Pardede", nik=OTHER_NIK, birth_year=1998),
    )
    later = await submit(
        client,
        agencies["LANAL-DUMAI"],
        "B-4",
        woman(full_name="Yuliana Pardede", date_of_birth="1999-03-14"),
    )
    assert later["persons"][0]["entity_id"] != other["persons"][0]["entity_id"]


async def test_a_person_matching_two_entities_merges_them_reversibly(
    client: httpx.AsyncClient, agencies: dict[str, dict[str, str]]
) -> None:
    # Immigration knows her NIK; the Navy her phone. Name alone: only a review.
    by_nik = await submit(client, agencies["IMIGRASI-DUMAI"], "M-1", woman(nik=NIK))
    by_phone = await submit(client, agencies["LANAL-DUMAI"], "M-2", woman(phone="0812-6612-3344"))
    first, second = by_nik["persons"][0]["entity_id"], by_phone["persons"][0]["entity_id"]
    assert first != second
    assert by_nik["case_id"] != by_phone["case_id"]

    # The police report carries all three: she is plainly both.
    both = await submit(
        client,
        agencies["POLRES-DUMAI"],
        "M-3",
        woman(nik=NIK, date_of_birth="1999-03-14", phone="+62 812 6612 3344"),
    )
    person = both["persons"][0]
    assert person["entity_id"] in {first, second}
    assert any("merged them into one person" in r for r in person["reasons"]), person["reasons"]
    absorbed = ({first, second} - {person["entity_id"]}).pop()

    admin = agencies["ADMIN"]
    case = (await client.get(f"/v1/cases/{both['case_id']}", headers=admin)).json()
    assert {r["report_id"] for r in case["reports"]} == {by_nik["id"], by_phone["id"], both["id"]}
    network = await client.get(f"/v1/persons/{person['entity_id']}/network", headers=admin)
    assert {a["report_id"] for a in network.json()["appearances"]} == {
        by_nik["id"],
        by_phone["id"],
        both["id"],
    }

    listed = await client.get(
        "/v1/admin/resolution-actions",
        params={"actor": "resolution", "kind": "entity.merge"},
        headers=admin,
    )
    assert listed.status_code == 200, listed.text
    [action] = listed.json()["items"]
    assert action["result_id"] == person["entity_id"]
    assert action["merged_ids"] == [absorbed]
    denied = await client.get("/v1/admin/resolution-actions", headers=agencies["POLRES-DUMAI"])
    assert denied.status_code == 403
    for bad, status, pointer in (
        ({"kind": "entity.delete"}, 422, "/kind"),
        ({"cursor": "%%%"}, 400, "/cursor"),  # as every list answers a cursor it never issued
    ):
        refused = await client.get("/v1/admin/resolution-actions", params=bad, headers=admin)
        assert refused.status_code == status, refused.text
        assert refused.headers["content-type"].startswith("application/problem+json")
        assert pointer in str(refused.json()), refused.json()

    undone = await client.post(f"/v1/admin/resolution-actions/{action['id']}/undo", headers=admin)
    assert undone.status_code == 200, undone.text
    assert undone.json()["undone_at"] is not None
    # Each entity holds its own report again.
    for entity, report in ((first, by_nik["id"]), (second, by_phone["id"])):
        network = await client.get(f"/v1/persons/{entity}/network", headers=admin)
        assert network.status_code == 200, network.text
        assert report in {a["report_id"] for a in network.json()["appearances"]}
    network = await client.get(f"/v1/persons/{absorbed}/network", headers=admin)
    assert both["id"] not in {a["report_id"] for a in network.json()["appearances"]}


async def test_a_merge_that_carries_the_new_report_into_a_stored_case_keeps_that_case(
    client: httpx.AsyncClient, agencies: dict[str, dict[str, str]]
) -> None:
    # Her NIK and her phone are two entities in two cases. The police report names her twice
    # (two records, as a report put together from two lists may): once by her NIK alone, which
    # links at once, then with NIK and phone, which merges her two entities while the report
    # is being resolved; the merge joins the cases naming her, this report's among them, into
    # the oldest. The report must land there (it answered 500: that case was deleted under it).
    by_nik = await submit(client, agencies["IMIGRASI-DUMAI"], "K-1", woman(nik=NIK))
    by_phone = await submit(client, agencies["LANAL-DUMAI"], "K-2", woman(phone="0812-6612-3344"))
    assert by_nik["case_id"] != by_phone["case_id"]
    her = woman(nik=NIK, date_of_birth="1999-03-14", phone="+62 812 6612 3344")
    both = await submit(client, agencies["POLRES-DUMAI"], "K-3", woman(nik=NIK), her)
    assert any("merged them into one person" in r for r in both["persons"][1]["reasons"])
    admin = agencies["ADMIN"]
    case = await client.get(f"/v1/cases/{both['case_id']}", headers=admin)
    assert case.status_code == 200, case.text
    assert {r["report_id"] for r in case.json()["reports"]} == {
        by_nik["id"],
        by_phone["id"],
        both["id"],
    }
    read = await client.get(f"/v1/reports/{both['id']}", headers=agencies["POLRES-DUMAI"])
    assert read.status_code == 200, read.text


async def test_entities_with_contradicting_niks_are_never_merged(
    client: httpx.AsyncClient, agencies: dict[str, dict[str, str]]
) -> None:
    dated = {"date_of_birth": "1999-03-14", "phone": "0812-6612-3344"}
    one = await submit(client, agencies["IMIGRASI-DUMAI"], "C-1", woman(nik=NIK, **dated))
    other = await submit(client, agencies["LANAL-DUMAI"], "C-2", woman(nik=OTHER_NIK, **dated))
    assert one["persons"][0]["entity_id"] != other["persons"][0]["entity_id"]  # the NIK veto
    # No NIK here: she matches both women surely, but they are two people.
    unsure = await submit(client, agencies["POLRES-DUMAI"], "C-3", woman(**dated))
    assert not any("merged" in r for r in unsure["persons"][0]["reasons"])
    listed = await client.get(
        "/v1/admin/resolution-actions",
        params={"kind": "entity.merge"},
        headers=agencies["ADMIN"],
    )
    assert listed.json()["items"] == []


async def test_cases_joined_by_resolution_are_listed_and_can_be_undone(
    client: httpx.AsyncClient, agencies: dict[str, dict[str, str]]
) -> None:
    sister = woman(full_name="Maria Siregar", nik=OTHER_NIK, date_of_birth="1999-03-14")
    one = await submit(client, agencies["IMIGRASI-DUMAI"], "J-1", woman(nik=NIK))
    two = await submit(client, agencies["LANAL-DUMAI"], "J-2", sister)
    assert one["case_id"] != two["case_id"]
    both = await submit(client, agencies["POLRES-DUMAI"], "J-3", woman(nik=NIK), sister)
    admin = agencies["ADMIN"]
    listed = await client.get(
        "/v1/admin/resolution-actions",
        params={"actor": "resolution", "kind": "case.merge"},
        headers=admin,
    )
    [action] = listed.json()["items"]
    assert action["result_id"] == both["case_id"]
    [absorbed] = action["merged_ids"]
    assert absorbed in {one["case_id"], two["case_id"]}

    undone = await client.post(f"/v1/admin/resolution-actions/{action['id']}/undo", headers=admin)
    assert undone.status_code == 200, undone.text
    back = (await client.get(f"/v1/cases/{absorbed}", headers=admin)).json()
    moved_back = one["id"] if absorbed == one["case_id"] else two["id"]
    assert [r["report_id"] for r in back["reports"]] == [moved_back]


async def test_a_report_read_shows_each_persons_current_entity(
    client: httpx.AsyncClient, agencies: dict[str, dict[str, str]]
) -> None:
    navy = agencies["LANAL-DUMAI"]
    by_nik = await submit(client, agencies["IMIGRASI-DUMAI"], "E-1", woman(nik=NIK))
    # The Navy knows her phone, not her birth date (her NIK's date would meet it).
    by_phone = await submit(client, navy, "E-2", woman(phone="0812-6612-3344"))
    read = (await client.get(f"/v1/reports/{by_phone['id']}", headers=navy)).json()
    assert read["persons"][0]["entity_id"] == by_phone["persons"][0]["entity_id"]

    # A third report shows both were one woman: the Navy's report now names the merged entity,
    # without the Navy replaying anything.
    both = await submit(
        client,
        agencies["POLRES-DUMAI"],
        "E-3",
        woman(nik=NIK, date_of_birth="1999-03-14", phone="+62 812 6612 3344"),
    )
    merged = both["persons"][0]["entity_id"]
    assert by_nik["persons"][0]["entity_id"] != by_phone["persons"][0]["entity_id"]
    read = (await client.get(f"/v1/reports/{by_phone['id']}", headers=navy)).json()
    assert read["persons"][0]["entity_id"] == merged
    listed = (await client.get("/v1/reports", headers=navy)).json()["items"]
    assert [p["entity_id"] for r in listed for p in r["persons"]] == [merged]

    # Nobody else learns anything: the Navy's report stays invisible to the police.
    hidden = await client.get(f"/v1/reports/{by_phone['id']}", headers=agencies["POLRES-DUMAI"])
    assert hidden.status_code == 404


async def test_a_renewed_passport_links_and_twins_with_two_passports_stay_apart(
    client: httpx.AsyncClient, agencies: dict[str, dict[str, str]]
) -> None:
    household = {"date_of_birth": "1999-03-14", "address": "Jl. Sudirman No. 12 RT 03, Dumai"}
    old = await submit(
        client, agencies["IMIGRASI-DUMAI"], "P-1", woman(passport_number="C1234567", **household)
    )
    # Three years on, the Navy intercepts her with her new passport (a new number, no NIK).
    renewed = await submit(
        client, agencies["LANAL-DUMAI"], "P-2", woman(passport_number="X7654321", **household)
    )
    assert renewed["persons"][0]["entity_id"] == old["persons"][0]["entity_id"]
    assert "passport different" in renewed["persons"][0]["reasons"]
    # Her twin sister, born the same day in the same house, with her own passport.
    twin = await submit(
        client,
        agencies["POLRES-DUMAI"],
        "P-3",
        woman(full_name="Rahmadani Siregar", passport_number="C1239876", **household),
    )
    assert twin["persons"][0]["entity_id"] != old["persons"][0]["entity_id"]
    assert (
        "born the same day, given names differ, no identifier agrees: review only"
        in (twin["persons"][0]["reasons"])
    )


async def test_a_mistyped_passport_links_and_twins_with_passports_issued_together_stay_apart(
    client: httpx.AsyncClient, agencies: dict[str, dict[str, str]]
) -> None:
    household = {"date_of_birth": "1999-03-14", "address": "Jl. Sudirman No. 12 RT 03, Dumai"}
    first = await submit(
        client, agencies["IMIGRASI-DUMAI"], "S-1", woman(passport_number="C1234567", **household)
    )
    # Her twin sister applied on the same day at the same office: the next passport number.
    twin = await submit(
        client,
        agencies["POLRES-DUMAI"],
        "S-2",
        woman(full_name="Rahmadani Siregar", passport_number="C1234568", **household),
    )
    assert twin["persons"][0]["entity_id"] != first["persons"][0]["entity_id"]
    assert (
        "born the same day, given names differ, no identifier agrees: review only"
        in twin["persons"][0]["reasons"]
    )
    # The Navy intercepts the first woman under the name her recruiter gave her, her passport
    # number typed with two digits swapped: one keystroke off, still her passport.
    later = await submit(
        client,
        agencies["LANAL-DUMAI"],
        "S-3",
        woman(full_name="Ani Wulandari", passport_number="C1243567", **household),
    )
    assert later["persons"][0]["entity_id"] == first["persons"][0]["entity_id"]
    assert "passport differs by one character" in later["persons"][0]["reasons"]


async def test_one_passport_under_another_identity_goes_to_an_analyst(
    client: httpx.AsyncClient, agencies: dict[str, dict[str, str]]
) -> None:
    aunt = await submit(
        client,
        agencies["IMIGRASI-DUMAI"],
        "L-1",
        woman(passport_number="C1234567", date_of_birth="1985-02-11"),
    )
    # A girl of fifteen intercepted with her aunt's passport: another name, another birth date.
    girl = woman(full_name="Dewi Anggraini", passport_number="C1234567", date_of_birth="2009-08-01")
    query = {k: girl[k] for k in ("full_name", "passport_number", "date_of_birth")}
    screened = await client.post(
        "/v1/screenings", json={"persons": [query]}, headers=agencies["POLRES-DUMAI"]
    )
    assert screened.status_code == 200, screened.text
    hits = screened.json()["results"][0]["hits"]
    assert [(h["entity_id"], h["match"]) for h in hits] == [
        (aunt["persons"][0]["entity_id"], "REVIEW")
    ], hits
    later = await submit(client, agencies["LANAL-DUMAI"], "L-2", girl)
    assert later["persons"][0]["entity_id"] != aunt["persons"][0]["entity_id"]
    assert (
        "the same NIK or passport under another identity: review"
        in (later["persons"][0]["reasons"])
    )
    assert await proposed_matches(client, agencies["ADMIN"]) == [
        (later["id"], aunt["persons"][0]["entity_id"])
    ]


async def test_one_passport_beside_a_contradicting_nik_goes_to_an_analyst(
    client: httpx.AsyncClient, agencies: dict[str, dict[str, str]]
) -> None:
    first = await submit(
        client,
        agencies["IMIGRASI-DUMAI"],
        "N-1",
        woman(nik="1471015403990001", passport_number="C7654321", date_of_birth="1999-03-14"),
    )
    # The same passport, presented with another valid NIK: two numbers that cannot both be hers.
    later = await submit(
        client,
        agencies["POLRES-DUMAI"],
        "N-2",
        woman(nik="3201025403990007", passport_number="C7654321", date_of_birth="1999-03-14"),
    )
    person = later["persons"][0]
    assert person["entity_id"] != first["persons"][0]["entity_id"]
    assert person["reasons"][:2] == [
        "the same NIK or passport under another identity: review",
        "veto: two different NIKs",
    ]
    assert await proposed_matches(client, agencies["ADMIN"]) == [
        (later["id"], first["persons"][0]["entity_id"])
    ]


async def test_twins_reported_by_two_agencies_stay_two_persons_for_an_analyst(
    client: httpx.AsyncClient, agencies: dict[str, dict[str, str]]
) -> None:
    # Eka and Dwi (the first-born and the second-born): one birth date, one house, one phone,
    # NIKs registered together (the next serial), passports issued together (the next number).
    household = {
        "date_of_birth": "1999-03-14",
        "address": "Jl. Sudirman No. 12 RT 03, Dumai",
        "phone": "+6281234567890",
    }
    eka = await submit(
        client,
        agencies["IMIGRASI-DUMAI"],
        "T-1",
        woman(
            full_name="Eka Rahmawati Siregar",
            nik="1472035403990002",
            passport_number="C1234567",
            **household,
        ),
    )
    dwi = await submit(
        client,
        agencies["POLRES-DUMAI"],
        "T-2",
        woman(
            full_name="Dwi Rahmawati Siregar",
            nik="1472035403990003",
            passport_number="C1234568",
            **household,
        ),
    )
    assert dwi["persons"][0]["entity_id"] != eka["persons"][0]["entity_id"]
    assert (
        "born the same day, given names differ, no identifier agrees: review only"
        in dwi["persons"][0]["reasons"]
    )
    assert await proposed_matches(client, agencies["ADMIN"]) == [
        (dwi["id"], eka["persons"][0]["entity_id"])
    ]


async def test_a_twins_record_that_looks_like_the_other_twin_does_not_carry_her_in(
    client: httpx.AsyncClient, agencies: dict[str, dict[str, str]]
) -> None:
    # Rina is reported twice; then a record of her twin Rini that lost its given name
    # ("Wulandari" alone), which Rina's entity takes in; then Rini's own clean record.
    household = {
        "date_of_birth": "2001-05-14",
        "address": "Jl. Melati No. 5 RT 02 RW 03, Desa Sukamaju, Bogor",
        "phone": "+6281234567890",
    }
    sender = agencies["POLRES-DUMAI"]
    rina = await submit(client, sender, "W-1", woman(full_name="Rina Wulandari", **household))
    rina_entity = rina["persons"][0]["entity_id"]
    await submit(client, sender, "W-2", woman(full_name="Rina Wulandari", **household))
    await submit(client, sender, "W-3", woman(full_name="Wulandari", **household))
    rini = await submit(client, sender, "W-4", woman(full_name="Rini Wulandari", **household))
    person = rini["persons"][0]
    assert person["entity_id"] != rina_entity
    assert (
        "born the same day, given names differ, no identifier agrees: review only"
        in (person["reasons"])
    )
    # An analyst is asked instead.
    assert (rini["id"], rina_entity) in await proposed_matches(client, agencies["ADMIN"])


HOUSEHOLD = {
    "date_of_birth": "2001-05-14",
    "address": "Jl. Melati No. 5 RT 02 RW 03, Desa Sukamaju, Bogor",
    "phone": "+6281234567890",
}


async def test_a_brother_and_sister_named_by_a_word_siblings_share_stay_apart(
    client: httpx.AsyncClient, agencies: dict[str, dict[str, str]]
) -> None:
    # Dewi and Dewa Kusuma, born the same day in one house: only Dewi/Dewa and the sex differ.
    sender = agencies["POLRES-DUMAI"]
    dewi = await submit(client, sender, "K-1", woman(full_name="Dewi Kusuma", **HOUSEHOLD))
    dewa = await submit(
        client, sender, "K-2", woman(full_name="Kusuma Dewa", sex="MALE", **HOUSEHOLD)
    )
    person = dewa["persons"][0]
    assert person["entity_id"] != dewi["persons"][0]["entity_id"]
    assert (
        "born the same day, given names differ, no identifier agrees: review only"
        in (person["reasons"])
    )
    assert (dewa["id"], dewi["persons"][0]["entity_id"]) in await proposed_matches(
        client, agencies["ADMIN"]
    )


async def test_a_held_twin_does_not_give_way_to_a_weaker_name(
    client: httpx.AsyncClient, agencies: dict[str, dict[str, str]]
) -> None:
    # Rina Wulandari (her NIK) and another woman's record giving "Wulandari" alone (another
    # NIK), both born that day in that house. Rini, Rina's twin, is held apart from Rina; the
    # record of "Wulandari" links on its own, but on less of her name than Rina's: an analyst
    # decides, rather than Rini joining a stranger's entity.
    sender = agencies["POLRES-DUMAI"]
    rina = await submit(
        client, sender, "R-1", woman(full_name="Rina Wulandari", nik=NIK, **HOUSEHOLD)
    )
    other = await submit(
        client, sender, "R-2", woman(full_name="Wulandari", nik=OTHER_NIK, **HOUSEHOLD)
    )
    assert other["persons"][0]["entity_id"] != rina["persons"][0]["entity_id"]
    rini = await submit(client, sender, "R-3", woman(full_name="Rini Wulandari", **HOUSEHOLD))
    person = rini["persons"][0]
    assert person["entity_id"] not in {
        rina["persons"][0]["entity_id"],
        other["persons"][0]["entity_id"],
    }
    assert (rini["id"], rina["persons"][0]["entity_id"]) in await proposed_matches(
        client, agencies["ADMIN"]
    )


@pytest.fixture
def counted(cli_runner: CliRunner) -> Iterator[CliRunner]:
    """``sinergi dedup calibrate --terms-only``, for tests of rules that use the store's counts."""
    yield cli_runner
    forget_cached_weights()


async def count_given_names(
    client: httpx.AsyncClient, sender: dict[str, str], counted: CliRunner, *names: str
) -> None:
    """A store where each of these is a given name three persons bear, counted by
    ``sinergi dedup calibrate --terms-only`` (the rules that use the store's counts)."""
    for g, given in enumerate(names):
        for f, family in enumerate(("Hakim", "Lubis", "Pardede")):
            await submit(
                client,
                sender,
                f"S-{g}{f}",
                woman(
                    full_name=f"{given} {family}",
                    date_of_birth=f"19{80 + g}-0{f + 1}-1{g}",
                    address=f"Dusun {g}{f} Bogor",
                ),
            )
    terms = await invoke_cli(counted, "dedup", "calibrate", "--terms-only", "--min-persons", "1")
    assert terms.exit_code == 0, terms.output


@pytest.mark.parametrize(
    ("twin", "name", "own", "sex"),
    [
        # Agung, written together with the family name.
        ("Agus Herath", "Agungherath", "Agusherath", "MALE"),
        # The given names after the family name.
        ("Ong Lay Wahyu", "Ong Lay Wahyudi", "Ong Lay Wahyu", "MALE"),
        # Wahyudi, broken in two pieces nobody bears by a space.
        ("Wahyu Herath", "Wahy Oedi Herath", "Wahyuherath", "MALE"),
        # Irwan, written together with a family name that begins with his last letter.
        ("Iwan Nasution", "Irwannasution", "Iwannasution", "MALE"),
        # Andi (a word siblings share), written together with the family name.
        ("Andri Herath", "Andiherath", "Andriherath", "MALE"),
        # Andri and Andi, each written together with the family name.
        ("Andrihakim", "Andihakim", "Andri Hakim", "MALE"),
        # Putri misspelt "Putrie", her sex not reported: two letters from her twin brother's
        # name Putra, one from Putri (a word siblings share, which the store does not count).
        ("Putra Herath", "Putrie Herath", "Putraherath", None),
    ],
)
async def test_twins_names_written_together_or_after_the_family_name_stay_apart(
    client: httpx.AsyncClient,
    agencies: dict[str, dict[str, str]],
    counted: CliRunner,
    twin: str,
    name: str,
    own: str,
    sex: str | None,
) -> None:
    sender = agencies["POLRES-DUMAI"]
    # Andri counted twice: six bearers, too many for a slip of Andi (``_slip_bearers``).
    names = ("Agung", "Agus", "Wahyu", "Wahyudi", "Irwan", "Iwan", "Andri", "Andri", "Putra")
    await count_given_names(client, sender, counted, *names)
    first = await submit(client, sender, "A-1", woman(full_name=twin, sex="MALE", **HOUSEHOLD))
    answer = await submit(client, sender, "A-2", woman(full_name=name, sex=sex, **HOUSEHOLD))
    person = answer["persons"][0]
    assert person["entity_id"] != first["persons"][0]["entity_id"]
    assert (
        "born the same day, given names differ, no identifier agrees: review only"
        in (person["reasons"])
    )
    # The first twin's own name, written together or apart, still joins him.
    again = await submit(client, sender, "A-3", woman(full_name=own, sex="MALE", **HOUSEHOLD))
    assert again["persons"][0]["entity_id"] == first["persons"][0]["entity_id"]


async def test_siblings_named_in_pairs_and_born_years_apart_stay_apart(
    client: httpx.AsyncClient, agencies: dict[str, dict[str, str]]
) -> None:
    # Agung and his brother Agus, six years younger: one house, one phone.
    sender = agencies["POLRES-DUMAI"]
    agung = await submit(
        client,
        sender,
        "B-1",
        woman(
            full_name="Agung Saragih", sex="MALE", **{**HOUSEHOLD, "date_of_birth": "2003-12-31"}
        ),
    )
    agus = await submit(
        client,
        sender,
        "B-2",
        woman(full_name="Agus Saragih", sex="MALE", **{**HOUSEHOLD, "date_of_birth": "2009-08-30"}),
    )
    person = agus["persons"][0]
    assert person["entity_id"] != agung["persons"][0]["entity_id"]
    assert person["reasons"][0] == (
        "born in different years, given names differ, no identifier agrees: review only"
    )
    assert (agus["id"], agung["persons"][0]["entity_id"]) in await proposed_matches(
        client, agencies["ADMIN"]
    )


async def assert_held_for_review(
    client: httpx.AsyncClient,
    admin: dict[str, str],
    report: dict[str, Any],
    entity_id: str,
    reason: str,
) -> None:
    """The report's one person stays out of ``entity_id``, for this first reason, and an analyst
    is asked whether she is that person."""
    person = report["persons"][0]
    assert person["entity_id"] != entity_id
    assert person["reasons"][0] == reason
    assert (report["id"], entity_id) in await proposed_matches(client, admin)


async def test_a_sister_reported_without_a_birth_date_stays_apart(
    client: httpx.AsyncClient, agencies: dict[str, dict[str, str]], counted: CliRunner
) -> None:
    # Rina Maulana, then her sister Rini from the same house, reported with no birth date.
    sender = agencies["POLRES-DUMAI"]
    await count_given_names(client, sender, counted, "Rina", "Rini")
    rina = await submit(client, sender, "M-1", woman(full_name="Rina Maulana", **HOUSEHOLD))
    undated = {**HOUSEHOLD, "date_of_birth": None}
    rini = await submit(client, sender, "M-2", woman(full_name="Rini Maulana", **undated))
    await assert_held_for_review(
        client,
        agencies["ADMIN"],
        rini,
        rina["persons"][0]["entity_id"],
        "birth date unknown, given names differ, no identifier agrees: review only",
    )
    # Rina reported again without a birth date still joins her.
    again = await submit(client, sender, "M-3", woman(full_name="Rina Maulana", **undated))
    assert again["persons"][0]["entity_id"] == rina["persons"][0]["entity_id"]


async def test_the_fourth_report_naming_her_father_lands_in_her_case(
    client: httpx.AsyncClient, agencies: dict[str, dict[str, str]]
) -> None:
    maya = "Maya Hidayat binti Sulaiman"
    first = await submit(
        client, agencies["IMIGRASI-DUMAI"], "F-1", woman(full_name=maya, date_of_birth="1996-05-26")
    )
    second = await submit(
        client,
        agencies["LANAL-DUMAI"],
        "F-2",
        woman(full_name=maya.upper(), date_of_birth="1996-05-26"),
    )
    third = await submit(
        client,
        agencies["POLRES-DUMAI"],
        "F-3",
        woman(full_name=maya, birth_year=1996, phone="0812-7788-9900"),
    )
    case = first["case_id"]
    assert second["case_id"] == case
    assert third["case_id"] == case
    # The shelter knows only her name, her father's and her sex: her name with her father's is
    # enough to find her (her name alone would only be proposed to an analyst).
    fourth = await submit(client, agencies["LANAL-DUMAI"], "F-4", woman(full_name=f"Sdri. {maya}"))
    person = fourth["persons"][0]
    assert fourth["case_id"] == case, person
    assert person["entity_id"] == first["persons"][0]["entity_id"]
    assert any(r.startswith("name equal, father's name the same") for r in person["reasons"])

    # Another Maya Hidayat born that year, another man's daughter, is not added to her case.
    namesake = await submit(
        client,
        agencies["POLRES-DUMAI"],
        "F-5",
        woman(full_name="Maya Hidayat binti Umar", birth_year=1996),
    )
    assert namesake["case_id"] != case
    assert namesake["persons"][0]["entity_id"] != first["persons"][0]["entity_id"]


async def test_a_twin_against_an_evenly_split_entity_stays_apart(
    client: httpx.AsyncClient, agencies: dict[str, dict[str, str]], counted: CliRunner
) -> None:
    # Santi Wulandari, then a record of her that lost its given name ("Wulandari" alone), which
    # her entity takes in; then her twin Sinta. One of the entity's two records holds Sinta apart.
    sender = agencies["POLRES-DUMAI"]
    santi_entity = (
        await submit(client, sender, "T-1", woman(full_name="Santi Wulandari", **HOUSEHOLD))
    )["persons"][0]["entity_id"]
    alone = await submit(client, sender, "T-2", woman(full_name="Wulandari", **HOUSEHOLD))
    assert alone["persons"][0]["entity_id"] == santi_entity
    # Santi and Sinta are names people bear (the store's counts).
    await count_given_names(client, sender, counted, "Santi", "Sinta")
    sinta = await submit(client, sender, "T-3", woman(full_name="Sinta Wulandari", **HOUSEHOLD))
    await assert_held_for_review(
        client,
        agencies["ADMIN"],
        sinta,
        santi_entity,
        "born the same day, given names differ, no identifier agrees: review only",
    )
    # Santi reported again still joins her.
    again = await submit(client, sender, "T-4", woman(full_name="Santi Wulandari", **HOUSEHOLD))
    assert again["persons"][0]["entity_id"] == santi_entity


async def test_a_name_mistyped_in_every_word_lands_in_her_case(
    client: httpx.AsyncClient, agencies: dict[str, dict[str, str]]
) -> None:
    phone = "0812-6612-3344"
    first = await submit(
        client,
        agencies["IMIGRASI-DUMAI"],
        "S-1",
        woman(full_name="Rina Lubis", date_of_birth="1999-03-14", phone=phone),
    )
    # The Navy's clerk slipped a key in each word ("Rins Lybis") and wrote only her birth year;
    # her phone is the same. Each word is hers mistyped, not another given name.
    slipped = await submit(
        client,
        agencies["LANAL-DUMAI"],
        "S-2",
        woman(full_name="Rins Lybis", birth_year=1999, phone=phone),
    )
    person = slipped["persons"][0]
    assert slipped["case_id"] == first["case_id"], person
    assert person["entity_id"] == first["persons"][0]["entity_id"]
    assert any(r.startswith("name similar") for r in person["reasons"]), person["reasons"]

    # Her sister on the same phone, another given name: not added to her case.
    sister = await submit(
        client,
        agencies["POLRES-DUMAI"],
        "S-3",
        woman(full_name="Dewi Lubis", birth_year=1999, phone=phone),
    )
    assert sister["case_id"] != first["case_id"]
    assert sister["persons"][0]["entity_id"] != first["persons"][0]["entity_id"]


async def test_a_twins_name_mistyped_toward_his_brothers_stays_apart(
    client: httpx.AsyncClient, agencies: dict[str, dict[str, str]], counted: CliRunner
) -> None:
    # Iwan Hartono reported by the police; his twin Irwan by immigration, typed "Irwao": a word
    # nobody bears, one letter from Irwan and two from Iwan. Both names people bear.
    await count_given_names(client, agencies["POLRES-DUMAI"], counted, "Irwan", "Iwan")
    iwan = await submit(
        client,
        agencies["POLRES-DUMAI"],
        "H-1",
        woman(full_name="Iwan Hartono", sex="MALE", **HOUSEHOLD),
    )
    iwan_entity = iwan["persons"][0]["entity_id"]
    irwan = await submit(
        client,
        agencies["IMIGRASI-DUMAI"],
        "H-2",
        woman(full_name="Irwao Hartono", sex="MALE", **HOUSEHOLD),
    )
    await assert_held_for_review(
        client,
        agencies["ADMIN"],
        irwan,
        iwan_entity,
        "born the same day, given names differ, no identifier agrees: review only",
    )
    # Irwan's name spelt right, from the navy, is not taken into Iwan's entity either: it joins
    # his own mistyped record, whose name agrees less closely than his twin's but links alone.
    again = await submit(
        client,
        agencies["LANAL-DUMAI"],
        "H-3",
        woman(full_name="Irwan Hartono", sex="MALE", **HOUSEHOLD),
    )
    assert again["persons"][0]["entity_id"] != iwan_entity
    assert again["persons"][0]["entity_id"] == irwan["persons"][0]["entity_id"]
    assert again["case_id"] == irwan["case_id"]


@pytest.mark.parametrize(
    ("counted_names", "her_name", "slipped_name", "sister_name", "sex"),
    [
        # The navy's clerk dropped a letter of "Siti": a word nobody bears, one letter from Siti.
        (("Aini", "Aisyah"), "Siti Aini", "Sti Aini", "Siti Aisyah", "FEMALE"),
        # The clerk slipped an "o" between the two l's of Ella: "Elola", one key from Ella,
        # though two letters from "Ela", as names read Ella.
        (("Ella", "Eva"), "Ella Siregar", "Elola Siregar", "Eva Siregar", "FEMALE"),
        # The clerk dropped the "s" of Yusuf: "Yuuf", which names read as "Yuf", two letters
        # from Yusuf though one key slipped; his twin brother is Yunus.
        (("Yusuf", "Yunus"), "Yusuf Siregar", "Yuuf Siregar", "Yunus Siregar", "MALE"),
        # Each clerk slipped once on Rahmat: "Rahmst" and "Ramhat", two words nobody bears, two
        # letters apart from each other, each one slip from Rahmat and from no other name.
        (("Rahmat", "Rahman"), "Rahmst Siregar", "Ramhat Siregar", "Rahman Siregar", "MALE"),
        # A space typed inside his name, and a slip: "Rah Mst" is Rahmat, not two names.
        (("Rahmat", "Rahman"), "Rahmat Siregar", "Rah Mst Siregar", "Rahman Siregar", "MALE"),
    ],
    ids=[
        "a word siblings share mistyped",
        "a slip between a name's doubled letters",
        "a slip that left a letter doubled",
        "two clerks slipped on one name",
        "a name broken by a space and mistyped",
    ],
)
async def test_her_name_mistyped_lands_in_her_case_and_her_twin_stays_apart(
    client: httpx.AsyncClient,
    agencies: dict[str, dict[str, str]],
    counted: CliRunner,
    counted_names: tuple[str, str],
    her_name: str,
    slipped_name: str,
    sister_name: str,
    sex: str,
) -> None:
    await count_given_names(client, agencies["POLRES-DUMAI"], counted, *counted_names)

    async def in_the_house(agency: str, ref: str, name: str) -> dict[str, Any]:
        return await submit(
            client, agencies[agency], ref, woman(full_name=name, sex=sex, **HOUSEHOLD)
        )

    first = await in_the_house("IMIGRASI-DUMAI", "S-1", her_name)
    # Her phone, address and birth date agree: she is the same woman, not a twin.
    slipped = await in_the_house("LANAL-DUMAI", "S-2", slipped_name)
    person = slipped["persons"][0]
    assert person["entity_id"] == first["persons"][0]["entity_id"], person["reasons"]
    assert slipped["case_id"] == first["case_id"]
    # Her twin sister, in the same house, is not added to her case.
    sister = await in_the_house("POLRES-DUMAI", "S-3", sister_name)
    assert sister["persons"][0]["entity_id"] != first["persons"][0]["entity_id"]
    assert sister["case_id"] != first["case_id"]


async def test_a_namesake_born_that_year_stays_apart_and_a_mistyped_birth_date_still_joins(
    client: httpx.AsyncClient, agencies: dict[str, dict[str, str]]
) -> None:
    async def ratna(agency: str, ref: str, **born: Any) -> tuple[str, str]:
        """A report about a Ratna Sitompul: her case and her entity."""
        report = await submit(
            client, agencies[agency], ref, woman(full_name="Ratna Sitompul", **born)
        )
        return report["case_id"], report["persons"][0]["entity_id"]

    # Reported by the police with her birth date, then by immigration with the year only: one
    # woman.
    case, entity = await ratna("POLRES-DUMAI", "RS-1", date_of_birth="1990-03-15")
    assert (await ratna("IMIGRASI-DUMAI", "RS-2", birth_year=1990))[1] == entity
    # Another Ratna Sitompul born that year in November, reported by the navy: her birth date
    # denies the first record's, and the year-only record does not outweigh it.
    other_case, other_entity = await ratna("LANAL-DUMAI", "RS-3", date_of_birth="1990-11-02")
    assert other_case != case
    assert other_entity != entity
    # The first Ratna again, one digit of her birth day mistyped: she lands in her case.
    assert await ratna("LANAL-DUMAI", "RS-4", date_of_birth="1990-03-16") == (case, entity)


async def case_and_entity(
    client: httpx.AsyncClient, sender: dict[str, str], ref: str, **fields: Any
) -> tuple[str, str]:
    """A report about one woman: its case and her entity."""
    report = await submit(client, sender, ref, woman(**fields))
    return report["case_id"], report["persons"][0]["entity_id"]


async def test_her_record_giving_the_year_only_joins_her_case_and_a_namesake_elsewhere_does_not(
    client: httpx.AsyncClient, agencies: dict[str, dict[str, str]]
) -> None:
    name = {"full_name": "Yanti Simanjuntak"}
    # Twenty-three other women called Yanti Simanjuntak, born in other years: a common name.
    for i in range(23):
        born = f"{1960 + i}-02-0{1 + i % 9}"
        await case_and_entity(
            client, agencies["POLRES-DUMAI"], f"YS-{i}", **name, date_of_birth=born
        )
    case, entity = await case_and_entity(
        client,
        agencies["POLRES-DUMAI"],
        "YS-HER",
        **name,
        date_of_birth="1990-03-15",
        phone="0812-6612-3344",
    )
    # Immigration knows her birth year only, and nothing else about her: her whole name, that
    # year and nothing that says somebody else. She lands in her case.
    year_only = await case_and_entity(
        client, agencies["IMIGRASI-DUMAI"], "YS-YEAR", **name, birth_year=1990
    )
    assert year_only == (case, entity)
    # The navy's Yanti Simanjuntak born that year, on another phone in another town: a namesake,
    # not added to her case.
    other_case, other_entity = await case_and_entity(
        client,
        agencies["LANAL-DUMAI"],
        "YS-OTHER",
        **name,
        birth_year=1990,
        phone="0813-7700-1122",
        address="Jl. Kenanga No. 9, Tanjungpinang",
    )
    assert other_entity != entity
    assert other_case != case


async def test_her_name_written_family_name_first_weighs_as_her_name_does(
    client: httpx.AsyncClient, agencies: dict[str, dict[str, str]], counted: CliRunner
) -> None:
    # A counted store of twelve women: Tiurma, Rina, Dewi and Sari, each given by three, of the
    # Siregar, Lubis, Pardede and Hasibuan families, three each. Tiurma Siregar is one of them.
    sender = agencies["POLRES-DUMAI"]
    families = ("Siregar", "Lubis", "Pardede", "Hasibuan")
    entity = ""
    for g, given in enumerate(("Tiurma", "Rina", "Dewi", "Sari")):
        for f in range(3):
            family = families[(g + f) % 4]
            report = await submit(
                client,
                sender,
                f"TS-{g}{f}",
                woman(full_name=f"{given} {family}", date_of_birth=f"19{80 + g}-0{f + 1}-1{g}"),
            )
            if (given, family) == ("Tiurma", "Siregar"):
                entity = report["persons"][0]["entity_id"]
    terms = await invoke_cli(counted, "dedup", "calibrate", "--terms-only", "--min-persons", "1")
    assert terms.exit_code == 0, terms.output
    assert entity
    # Two reports of a woman called Tiurma Siregar with nothing but her name, the navy's
    # written family name first: neither is taken into Tiurma Siregar's entity on a name this
    # common here, whichever order it is written in; an analyst is asked about both.
    for ref, name in (("TS-SWAPPED", "SIREGAR TIURMA"), ("TS-IN-ORDER", "Tiurma Siregar")):
        report = await submit(client, agencies["LANAL-DUMAI"], ref, woman(full_name=name))
        assert report["persons"][0]["entity_id"] != entity, (name, report["persons"][0])
        proposed = await proposed_matches(client, agencies["ADMIN"])
        assert report["id"] in {report_id for report_id, _ in proposed}


async def test_a_name_written_together_lands_in_his_case(
    client: httpx.AsyncClient, agencies: dict[str, dict[str, str]], counted: CliRunner
) -> None:
    await count_given_names(client, agencies["POLRES-DUMAI"], counted, "Karimi", "Fajar")

    async def in_the_house(agency: str, ref: str, name: str) -> dict[str, Any]:
        return await submit(
            client, agencies[agency], ref, woman(full_name=name, sex="MALE", **HOUSEHOLD)
        )

    first = await in_the_house("IMIGRASI-DUMAI", "G-1", "Muhammad Karimi")
    # The navy's clerk wrote his two names as one word, "Mohammadkarimi": Mohammad is a way of
    # writing Muhammad, not a given name of its own; his house and birth date agree.
    glued = await in_the_house("LANAL-DUMAI", "G-2", "Mohammadkarimi")
    person = glued["persons"][0]
    assert person["entity_id"] == first["persons"][0]["entity_id"], person["reasons"]
    assert glued["case_id"] == first["case_id"]
    # His twin brother Muhammad Fajar, in the same house, is not added to his case, his names
    # written together or apart.
    for ref, name in (("G-3", "Muhammadfajar"), ("G-4", "Muhammad Fajar")):
        brother = await in_the_house("POLRES-DUMAI", ref, name)
        assert brother["persons"][0]["entity_id"] != first["persons"][0]["entity_id"]
        assert brother["case_id"] != first["case_id"]


async def test_two_women_sharing_a_one_word_alias_and_a_year_stay_apart_and_her_own_records_join(
    client: httpx.AsyncClient, agencies: dict[str, dict[str, str]]
) -> None:
    async def indah(agency: str, ref: str, full_name: str, **born: Any) -> tuple[str, str]:
        """A report about a woman called "Indah" by those who know her: case and entity."""
        report = await submit(
            client, agencies[agency], ref, woman(full_name=full_name, aliases=["Indah"], **born)
        )
        return report["case_id"], report["persons"][0]["entity_id"]

    # The police know Indah Sri Syahputra's birth year only.
    case, entity = await indah("POLRES-DUMAI", "IN-1", "Indah Sri Syahputra", birth_year=1986)
    # Immigration reports Indah Nurhaliza, born that year, also called "Indah": one given name
    # many women bear is all the two names share, not a whole name agreeing.
    other_case, other_entity = await indah(
        "IMIGRASI-DUMAI", "IN-2", "Indah Nurhaliza", date_of_birth="1986-06-04"
    )
    assert other_entity != entity
    assert other_case != case
    # The navy reports Indah Sri Syahputra herself, her whole name and her alias, with her birth
    # date: she lands in her case.
    assert await indah(
        "LANAL-DUMAI", "IN-3", "INDAH SRI SYAHPUTRA", date_of_birth="1986-02-11"
    ) == (case, entity)


@pytest.mark.parametrize(
    ("twin", "name", "sex"),
    [
        ("Sinta Handayani", "Santi Handayani", "FEMALE"),  # the letters moved, not neighbours
        ("Nani Saefullah", "Nina Saefullah", "FEMALE"),
        ("Wahyu Rajata", "Wahyudi Rajata", "MALE"),  # a syllable more, not a word written on
        ("Arif Lubis", "Arifin Lubis", "MALE"),
    ],
)
async def test_twins_on_a_young_store_stay_apart_by_the_form_of_their_names(
    client: httpx.AsyncClient,
    agencies: dict[str, dict[str, str]],
    twin: str,
    name: str,
    sex: str,
) -> None:
    # A store just opened: no names counted, nobody else bears either name. Twins born the same
    # day in one house, reported by two agencies: the second is not taken into the first's case.
    first = await submit(
        client,
        agencies["POLRES-DUMAI"],
        "Y-1",
        woman(full_name=twin, sex=sex, **HOUSEHOLD),
    )
    entity = first["persons"][0]["entity_id"]
    second = await submit(
        client,
        agencies["IMIGRASI-DUMAI"],
        "Y-2",
        woman(full_name=name, sex=sex, **HOUSEHOLD),
    )
    await assert_held_for_review(
        client,
        agencies["ADMIN"],
        second,
        entity,
        "born the same day, given names differ, no identifier agrees: review only",
    )
    assert second["case_id"] != first["case_id"]
    # The first twin again, two neighbouring letters of her given name swapped by the navy's
    # clerk: a slip, and she lands in her case.
    given, family = twin.split()
    slipped = f"{given[0]}{given[2]}{given[1]}{given[3:]} {family}"
    again = await submit(
        client,
        agencies["LANAL-DUMAI"],
        "Y-3",
        woman(full_name=slipped, sex=sex, **HOUSEHOLD),
    )
    assert again["persons"][0]["entity_id"] == entity, again["persons"][0]["reasons"]
    assert again["case_id"] == first["case_id"]


async def store_calibrated_names_often_differ(app: Any) -> None:
    """Weights as ``sinergi dedup calibrate`` stores them for a store whose records of one
    person give another name in one pair in five (as FEBRL's do): the name's m of "different"
    0.19, the other levels scaled to the rest."""
    shipped = DEFAULT_WEIGHTS.fields[NAME]
    m = {level: share * 0.81 / (1 - shipped.m["different"]) for level, share in shipped.m.items()}
    name = FieldWeights(m={**m, "different": 0.19}, u=dict(shipped.u))
    weights = replace(DEFAULT_WEIGHTS, fields={**DEFAULT_WEIGHTS.fields, NAME: name})
    async with transaction(app.state.session_factory) as session:
        session.add(MatchWeights(weights=weights.to_json(), pairs=5000, converged=True))
    forget_cached_weights()


@pytest.mark.parametrize("calibrated", [False, True], ids=["shipped weights", "names often differ"])
async def test_a_given_name_replaced_links_where_the_stores_records_often_differ_in_name(
    app: Any,
    client: httpx.AsyncClient,
    agencies: dict[str, dict[str, str]],
    calibrated: bool,
) -> None:
    if calibrated:
        await store_calibrated_names_often_differ(app)
    house = {"date_of_birth": "1990-02-03", "address": "Jl. Kenari No. 12, Dumai Timur"}

    async def in_the_house(agency: str, name: str, sex: str | None) -> tuple[str, str]:
        """A report about a person of that house: its case and the person's entity."""
        report = await submit(
            client, agencies[agency], agency, woman(full_name=name, sex=sex, **house)
        )
        return report["case_id"], report["persons"][0]["entity_id"]

    first = await in_the_house("POLRES-DUMAI", "Rina Hutapea", "FEMALE")
    # Immigration's record gives her another given name, no sex, the same birth date and house.
    # Where the store's calibration finds one person's records often named differently, she
    # is linked on her score; with the shipped weights she waits for an analyst, as a twin.
    assert (await in_the_house("IMIGRASI-DUMAI", "Sari Hutapea", None) == first) == calibrated
    # A brother born that day in that house stays apart either way: the sexes differ.
    case, entity = await in_the_house("LANAL-DUMAI", "Budi Hutapea", "MALE")
    assert case != first[0]
    assert entity != first[1]
    forget_cached_weights()
