"""Bad report bodies through HTTP: each a problem+json naming the field by JSON pointer.

A test-only route takes the ReportIn model, as POST /v1/reports will, and echoes it back.
"""

from __future__ import annotations

import copy
import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from fastapi import APIRouter, FastAPI

from app.api.route_class import SinergiRoute, operation_id
from app.main import create_app
from app.schemas.report import ReportIn
from tests.api.test_foundation import assert_problem
from tests.conftest import make_settings

EXAMPLES: list[dict[str, Any]] = ReportIn.model_config["json_schema_extra"]["examples"]  # type: ignore[index,assignment]


def _app_with_report_probe(database_url: str) -> FastAPI:
    app = create_app(make_settings(database_url))
    probe = APIRouter(
        tags=["probe"], route_class=SinergiRoute, generate_unique_id_function=operation_id
    )

    @probe.post("/probe/report", status_code=201)
    async def take(report: ReportIn) -> dict[str, Any]:
        return report.model_dump(mode="json", exclude_unset=True)

    app.include_router(probe)
    return app


@pytest.fixture
async def probe(database_url: str) -> AsyncIterator[httpx.AsyncClient]:
    app = _app_with_report_probe(database_url)
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://sinergi.test") as c:
        yield c
    await app.state.engine.dispose()


def interception() -> dict[str, Any]:
    return copy.deepcopy(EXAMPLES[1])


def by_pointer(body: dict[str, Any]) -> dict[str, dict[str, str]]:
    return {e["pointer"]: e for e in body["errors"]}


async def post_invalid(
    probe: httpx.AsyncClient, report: dict[str, Any]
) -> dict[str, dict[str, str]]:
    response = await probe.post("/probe/report", json=report)
    return by_pointer(assert_problem(response, 422))


async def test_both_examples_are_accepted_and_echoed_verbatim(probe: httpx.AsyncClient) -> None:
    for example in EXAMPLES:
        response = await probe.post("/probe/report", json=example)
        assert response.status_code == 201, response.text
        assert response.json() == example


async def test_wrong_codes_name_the_field_and_the_allowed_values(probe: httpx.AsyncClient) -> None:
    report = interception()
    report["tlp"] = "ORANGE"
    report["persons"][0]["perpetrator_roles"] = ["RECRUITER"]
    report["events"][2]["type"] = "ARRESTED"
    errors = await post_invalid(probe, report)
    assert errors["/tlp"]["code"] == "enum"
    for code in ("CLEAR", "GREEN", "AMBER", "AMBER_STRICT", "RED"):
        assert code in errors["/tlp"]["detail"]
    assert "RECRUITER_OR_INTERMEDIARY" in errors["/persons/0/perpetrator_roles/0"]["detail"]
    assert "INTERCEPTION" in errors["/events/2/type"]["detail"]


async def test_unknown_country_and_region_point_to_their_lists(probe: httpx.AsyncClient) -> None:
    report = interception()
    report["transit_countries"] = ["SGP", "ZZZ"]
    report["events"][0]["region_code"] = "53.99"
    errors = await post_invalid(probe, report)
    assert "/v1/vocab/countries" in errors["/transit_countries/1"]["detail"]
    assert errors["/events/0/region_code"]["code"] == "unknown_region"
    assert "/v1/vocab/regions" in errors["/events/0/region_code"]["detail"]


async def test_unknown_fields_are_named(probe: httpx.AsyncClient) -> None:
    report = interception()
    report["persons"][1]["religion"] = "-"
    report["severity"] = 5
    errors = await post_invalid(probe, report)
    assert errors["/persons/1/religion"]["code"] == "extra_forbidden"
    assert errors["/severity"]["code"] == "extra_forbidden"


async def test_malformed_identifiers_are_named(probe: httpx.AsyncClient) -> None:
    report = interception()
    report["persons"][1]["nik"] = "5371 0102 1101 000"
    report["persons"][1]["passport_number"] = "1234567"
    report["persons"][0]["phone"] = "0812"
    errors = await post_invalid(probe, report)
    assert errors["/persons/1/nik"]["code"] == "nik_format"
    assert errors["/persons/1/nik"]["detail"] == "NIK must be 16 digits"
    assert errors["/persons/1/passport_number"]["code"] == "passport_format"
    assert errors["/persons/0/phone"]["code"] == "phone_invalid"


async def test_misplaced_role_fields_are_named(probe: httpx.AsyncClient) -> None:
    report = interception()
    report["persons"][0]["trafficking_status"] = "CONFIRMED"
    report["persons"][1]["perpetrator_roles"] = ["EXPLOITER"]
    errors = await post_invalid(probe, report)
    assert errors["/persons/0/trafficking_status"]["code"] == "field_not_allowed_for_role"
    assert "VICTIM" in errors["/persons/0/trafficking_status"]["detail"]
    assert errors["/persons/1/perpetrator_roles"]["code"] == "field_not_allowed_for_role"


async def test_impossible_dates_are_named(probe: httpx.AsyncClient) -> None:
    report = interception()
    report["occurred_to"] = "2025-05-20"
    report["reported_at"] = "2025-05-21T23:40:00"
    report["persons"][1]["date_of_birth"] = "2999-01-01"
    report["persons"][0]["birth_year"] = 1985
    report["persons"][0]["date_of_birth"] = "1986-02-30"
    errors = await post_invalid(probe, report)
    assert errors["/occurred_to"]["code"] == "date_order"
    assert errors["/reported_at"]["code"] == "timezone_aware"
    assert errors["/persons/1/date_of_birth"]["code"] == "date_in_future"
    assert "/persons/0/date_of_birth" in errors


async def test_red_without_recipients_is_named(probe: httpx.AsyncClient) -> None:
    report = interception()
    del report["recipients"]
    errors = await post_invalid(probe, report)
    assert errors["/recipients"]["code"] == "recipients_required"


async def test_nul_and_lone_surrogate_in_raw_json_are_named(probe: httpx.AsyncClient) -> None:
    text = json.dumps(interception())
    text = text.replace('"Hendra Saputra"', '"Hendra\\u0000Saputra"')
    text = text.replace('"Bang Hen"', '"Bang \\ud800Hen"')
    response = await probe.post(
        "/probe/report", content=text.encode(), headers={"content-type": "application/json"}
    )
    errors = by_pointer(assert_problem(response, 422))
    assert errors["/persons/0/full_name"]["code"] == "control_character"
    assert "/persons/0/aliases/0" in errors


async def test_injection_looking_strings_come_back_verbatim(probe: httpx.AsyncClient) -> None:
    report = interception()
    report["narrative"] = "' OR 1=1-- <script>alert(1)</script> {{7*7}} ${jndi:ldap://e/x}"
    report["persons"][0]["aliases"] = ["'; DROP TABLE reports;--"]
    response = await probe.post("/probe/report", json=report)
    assert response.status_code == 201
    assert response.json()["narrative"] == report["narrative"]
    assert response.json()["persons"][0]["aliases"] == ["'; DROP TABLE reports;--"]


async def test_huge_arrays_and_strings_are_refused(probe: httpx.AsyncClient) -> None:
    report = interception()
    report["persons"] = [{"role": "VICTIM"}] * 101
    report["narrative"] = "x" * 20_001
    report["modus_operandi"] = ["OTHER"] * 26
    errors = await post_invalid(probe, report)
    assert errors["/persons"]["code"] == "too_long"
    assert errors["/narrative"]["code"] == "string_too_long"
    assert errors["/modus_operandi"]["code"] == "too_long"


async def test_ten_thousand_deep_nesting_is_a_problem_not_a_crash(
    probe: httpx.AsyncClient,
) -> None:
    nested = b'{"external_ref": "X", "persons": ' + b"[" * 10_000 + b"]" * 10_000 + b"}"
    response = await probe.post(
        "/probe/report", content=nested, headers={"content-type": "application/json"}
    )
    assert response.status_code in {400, 422}, response.text
    assert response.headers["content-type"] == "application/problem+json"


async def test_non_json_content_type_is_415(probe: httpx.AsyncClient) -> None:
    response = await probe.post(
        "/probe/report",
        content=json.dumps(interception()).encode(),
        headers={"content-type": "text/plain"},
    )
    assert_problem(response, 415)


async def test_the_spec_carries_the_report_schema_and_its_examples(
    probe: httpx.AsyncClient,
) -> None:
    spec = (await probe.get("/openapi.json")).json()
    operation = spec["paths"]["/probe/report"]["post"]
    ref = operation["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    report = spec["components"]["schemas"][ref.rsplit("/", 1)[1]]
    assert report["examples"] == EXAMPLES
    assert "ModusOperandi" in spec["components"]["schemas"]
