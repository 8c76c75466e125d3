"""GET /v1/vocab and /v1/vocab/{name}: the code lists agency forms fill their dropdowns from."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest

from app.models.agency import AgencyKind
from tests.api.test_foundation import assert_problem

DESIGN_LISTS = {
    "case_types": {"TPPO", "TPPM", "TPPO_TPPM", "UNDETERMINED"},
    "tlp": {"CLEAR", "GREEN", "AMBER", "AMBER_STRICT", "RED"},
    "person_roles": {"VICTIM", "POTENTIAL_VICTIM", "SUSPECT", "WITNESS", "APPLICANT", "OTHER"},
    "trafficking_statuses": {"POSSIBLE", "CONFIRMED", "NOT_A_VICTIM"},
    "event_types": {
        "RECRUITMENT",
        "DEPARTURE",
        "TRANSIT",
        "EXPLOITATION",
        "INTERCEPTION",
        "RETURN",
    },
    "source_reliability": {"A", "B", "C", "X"},
    "information_accuracy": {"1", "2", "3", "4"},
    "forced_labour_sectors": {chr(c) for c in range(ord("A"), ord("U") + 1)},
}


async def _codes(client: httpx.AsyncClient, name: str, **params: str) -> dict[str, dict[str, str]]:
    response = await client.get(f"/v1/vocab/{name}", params=params)
    assert response.status_code == 200, response.text
    return {c["code"]: c for c in response.json()["codes"]}


async def test_index_lists_every_code_list_with_its_size(client: httpx.AsyncClient) -> None:
    response = await client.get("/v1/vocab")
    assert response.status_code == 200
    items = {i["name"]: i for i in response.json()["items"]}
    expected = {
        *DESIGN_LISTS,
        "modus_operandi",
        "exploitation_types",
        "means_of_control",
        "sexes",
        "relationships_to_recruiter",
        "perpetrator_roles",
        "recruitment_methods",
        "recruitment_channels",
        "document_types",
        "document_statuses",
        "conveyance_types",
        "actions_taken",
        "countries",
        "regions",
        "agency_kinds",
    }
    assert expected <= set(items)
    assert "countries_supplement" not in items
    for name, item in items.items():
        listed = await client.get(f"/v1/vocab/{name}")
        assert item["count"] == len(listed.json()["codes"]) > 0


@pytest.mark.anyio
@pytest.mark.parametrize(("name", "codes"), sorted(DESIGN_LISTS.items()))
async def test_lists_carry_the_codes_of_the_design(
    client: httpx.AsyncClient, name: str, codes: set[str]
) -> None:
    assert codes <= set(await _codes(client, name))


async def test_every_code_has_indonesian_and_english_labels(client: httpx.AsyncClient) -> None:
    index = (await client.get("/v1/vocab")).json()["items"]
    for item in index:
        assert item["label_id"]
        assert item["label_en"]
        for code in (await _codes(client, item["name"])).values():
            assert code["label_id"].strip(), (item["name"], code)
            assert code["label_en"].strip(), (item["name"], code)


async def test_design_modus_codes_and_labels(client: httpx.AsyncClient) -> None:
    modus = await _codes(client, "modus_operandi")
    assert {
        "HIGH_SALARY_JOB_OFFER",
        "TOURIST_DISGUISE",
        "STUDENT_DISGUISE",
        "TRANSIT_ROUTE",
        "NONPROCEDURAL_MIGRANT_WORKER",
        "UNOFFICIAL_PORT",
        "FORGED_DOCUMENTS",
        "ONLINE_SCAM_RECRUITMENT",
        "DEBT_BONDAGE",
        "MARRIAGE",
        "ABDUCTION",
        "OTHER",
    } <= set(modus)
    assert modus["NONPROCEDURAL_MIGRANT_WORKER"]["label_id"] == "PMI nonprosedural"


async def test_regions_have_kemendagri_codes_and_the_2025_counts(
    client: httpx.AsyncClient,
) -> None:
    regions = await _codes(client, "regions")
    assert regions["14"]["label_id"] == "Riau"
    assert regions["14"]["kind"] == "PROVINCE"
    assert regions["14.72"]["label_id"] == "Kota Dumai"
    assert regions["14.72"]["parent"] == "14"
    assert regions["14.72"]["kind"] == "CITY"
    assert "Jakarta Pusat" in regions["31.71"]["label_id"]
    assert regions["21.71"]["label_id"] == "Kota Batam"
    assert regions["32.01"]["kind"] == "REGENCY"
    provinces = [c for c in regions.values() if c["kind"] == "PROVINCE"]
    assert len(provinces) == 38
    assert len(regions) - len(provinces) == 514
    assert all(c["parent"] in regions for c in regions.values() if c["kind"] != "PROVINCE")


async def test_regions_filtered_by_province(client: httpx.AsyncClient) -> None:
    riau = await _codes(client, "regions", parent="14")
    assert "14.72" in riau
    assert "21.71" not in riau
    assert all(code.startswith("14.") for code in riau)
    response = await client.get("/v1/vocab/regions", params={"parent": "14"})
    assert response.json()["count"] == len(riau) == 12


async def test_countries_are_iso_alpha3_with_indonesian_labels(client: httpx.AsyncClient) -> None:
    countries = await _codes(client, "countries")
    assert countries["MYS"]["label_en"] == "Malaysia"
    assert countries["DEU"]["label_id"] == "Jerman"
    assert countries["KOR"]["label_id"] == "Korea Selatan"
    assert countries["XXA"]["label_en"] == "Stateless person"
    assert all(len(code) == 3 and code.isupper() for code in countries)
    assert len(countries) >= 249


async def test_unknown_list_is_problem_404_naming_the_lists(client: httpx.AsyncClient) -> None:
    body = assert_problem(await client.get("/v1/vocab/colours"), 404)
    assert "case_types" in str(body["detail"])


async def test_vocab_is_public_and_cacheable_with_etag(client: httpx.AsyncClient) -> None:
    first = await client.get("/v1/vocab/case_types")
    etag = first.headers["etag"]
    assert etag.startswith('"')
    assert "public" in first.headers["cache-control"]
    again = await client.get("/v1/vocab/case_types", headers={"if-none-match": etag})
    assert again.status_code == 304
    assert again.content == b""
    assert again.headers["etag"] == etag
    other = await client.get("/v1/vocab/tlp", headers={"if-none-match": etag})
    assert other.status_code == 200
    assert other.headers["etag"] != etag
    index = await client.get("/v1/vocab")
    assert (
        await client.get("/v1/vocab", headers={"if-none-match": index.headers["etag"]})
    ).status_code == 304


async def test_data_files_follow_the_documented_shape(repo_root: Path) -> None:
    for path in sorted((repo_root / "app" / "vocab" / "data").glob("*.json")):
        document = json.loads(path.read_text(encoding="utf-8"))
        assert document["name"] == path.stem
        codes = [c["code"] for c in document["codes"]]
        assert len(codes) == len(set(codes)), f"{path.name} repeats a code"
        for code in document["codes"]:
            assert {"code", "label_id", "label_en"} <= set(code), (path.name, code)


async def test_agency_kinds_are_exactly_the_kinds_an_agency_may_have(
    client: httpx.AsyncClient,
) -> None:
    codes = await _codes(client, "agency_kinds")
    assert set(codes) == {k.value for k in AgencyKind}
    assert codes["NAVY"]["label_id"].startswith("TNI Angkatan Laut")
