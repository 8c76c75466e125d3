"""The v1 report schema: its examples are valid, and each rule of DESIGN.md §4 is enforced."""

from __future__ import annotations

import copy
import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from pydantic import ValidationError

from app.schemas.report import (
    Page,
    PersonIn,
    ReportCreated,
    ReportIn,
    ReportOut,
    ReportRetractIn,
)
from app.schemas.screening import PersonQuery

EXAMPLES: list[dict[str, Any]] = ReportIn.model_config["json_schema_extra"]["examples"]  # type: ignore[index,assignment]


def deferred_passport() -> dict[str, Any]:
    return copy.deepcopy(EXAMPLES[0])


def port_interception() -> dict[str, Any]:
    return copy.deepcopy(EXAMPLES[1])


def errors_of(
    body: dict[str, Any], model: type[Any] = ReportIn
) -> dict[tuple[Any, ...], dict[str, Any]]:
    with pytest.raises(ValidationError) as caught:
        model.model_validate(body)
    return {tuple(e["loc"]): e for e in caught.value.errors()}


def test_both_examples_are_valid_and_round_trip() -> None:
    for example in EXAMPLES:
        report = ReportIn.model_validate(example)
        dumped = report.model_dump(mode="json", exclude_unset=True)
        assert dumped == example


def test_examples_cover_a_deferred_passport_and_a_port_interception() -> None:
    first, second = (ReportIn.model_validate(e) for e in EXAMPLES)
    assert "PASSPORT_DEFERRED" in first.actions_taken
    assert first.persons[0].role == "POTENTIAL_VICTIM"
    assert "NONPROCEDURAL_MIGRANT_WORKER" in first.modus_operandi
    assert "DEPARTURE_PREVENTED" in second.actions_taken
    assert {p.role for p in second.persons} == {"SUSPECT", "VICTIM"}


def test_codes_serialize_as_plain_strings() -> None:
    report = ReportIn.model_validate(port_interception())
    dumped = report.model_dump(mode="json")
    assert dumped["case_type"] == "TPPO_TPPM"
    assert dumped["persons"][0]["perpetrator_roles"] == ["RECRUITER_OR_INTERMEDIARY", "TRANSPORTER"]
    assert report.tlp == "RED"


def test_unknown_fields_are_rejected_at_every_level() -> None:
    body = deferred_passport()
    body["priority"] = "HIGH"
    body["persons"][0]["religion"] = "x"
    body["location"]["rt_rw"] = "001/002"
    errors = errors_of(body)
    assert {k for k, e in errors.items() if e["type"] == "extra_forbidden"} == {
        ("priority",),
        ("persons", 0, "religion"),
        ("location", "rt_rw"),
    }


def test_wrong_code_names_the_allowed_values() -> None:
    body = deferred_passport()
    body["case_type"] = "TRAFFICKING"
    body["modus_operandi"] = ["TOURIST_DISGUISE", "FAKE_TOURISM"]
    errors = errors_of(body)
    assert "'TPPO', 'TPPM', 'TPPO_TPPM' or 'UNDETERMINED'" in errors[("case_type",)]["msg"]
    assert "TOURIST_DISGUISE" in errors[("modus_operandi", 1)]["msg"]


def test_codes_are_case_sensitive() -> None:
    body = deferred_passport()
    body["tlp"] = "amber"
    assert ("tlp",) in errors_of(body)


def test_country_and_region_codes_are_checked_against_the_lists() -> None:
    body = deferred_passport()
    body["destination_countries"] = ["MYS", "XYZ", "my"]
    body["location"]["region_code"] = "14.99"
    body["persons"][0]["region_code"] = "1472"
    errors = errors_of(body)
    assert errors[("destination_countries", 1)]["type"] == "unknown_country"
    assert "/v1/vocab/countries" in errors[("destination_countries", 1)]["msg"]
    assert ("destination_countries", 2) in errors
    assert errors[("location", "region_code")]["type"] == "unknown_region"
    assert ("persons", 0, "region_code") in errors


def test_reported_at_needs_an_offset() -> None:
    body = deferred_passport()
    body["reported_at"] = "2025-03-04T10:15:00"
    assert errors_of(body)[("reported_at",)]["type"] == "timezone_aware"


def test_occurred_to_before_occurred_from_is_rejected() -> None:
    body = deferred_passport()
    body["occurred_from"], body["occurred_to"] = "2025-03-03", "2025-03-02"
    assert errors_of(body)[("occurred_to",)]["type"] == "date_order"
    body["occurred_to"] = "2025-03-03"
    ReportIn.model_validate(body)


def test_birth_in_the_future_is_rejected() -> None:
    body = deferred_passport()
    tomorrow = date.today() + timedelta(days=1)
    body["persons"][0]["date_of_birth"] = tomorrow.isoformat()
    assert errors_of(body)[("persons", 0, "date_of_birth")]["type"] == "date_in_future"
    body["persons"][0]["date_of_birth"] = None
    body["persons"][0]["birth_year"] = tomorrow.year + 1
    assert ("persons", 0, "birth_year") in errors_of(body)


def test_date_of_birth_and_birth_year_must_agree() -> None:
    body = deferred_passport()
    body["persons"][0]["birth_year"] = 1997
    assert errors_of(body)[("persons", 0, "birth_year")]["type"] == "birth_year_mismatch"
    body["persons"][0]["birth_year"] = 1998
    ReportIn.model_validate(body)


@pytest.mark.parametrize(
    ("field", "value", "code"),
    [
        ("nik", "14720557039800", "nik_format"),
        ("nik", "1472055713980002", "nik_birth_date"),
        ("phone", "0812", "phone_invalid"),
        ("passport_number", "12345678", "passport_format"),
    ],
)
def test_malformed_identifiers_are_rejected_naming_the_field(
    field: str, value: str, code: str
) -> None:
    body = deferred_passport()
    body["persons"][0][field] = value
    assert errors_of(body)[("persons", 0, field)]["type"] == code


def test_foreign_passport_is_not_held_to_the_indonesian_format() -> None:
    body = deferred_passport()
    body["persons"][0]["nationality"] = "MYS"
    body["persons"][0]["passport_number"] = "123456789"
    ReportIn.model_validate(body)


def test_the_stored_report_keeps_what_the_agency_sent() -> None:
    body = deferred_passport()
    body["persons"][0]["nik"] = "1472.0557.0398.0002"
    report = ReportIn.model_validate(body)
    assert report.persons[0].nik == "1472.0557.0398.0002"
    assert report.persons[0].phone == "0812-6612-3456"


def test_red_needs_recipients() -> None:
    body = port_interception()
    body["recipients"] = []
    assert errors_of(body)[("recipients",)]["type"] == "recipients_required"
    del body["recipients"]
    assert errors_of(body)[("recipients",)]["type"] == "recipients_required"
    body["tlp"] = "AMBER"
    ReportIn.model_validate(body)


def test_recipients_are_agency_codes_named_once() -> None:
    body = port_interception()
    body["recipients"] = ["POLRES-DUMAI", "POLRES-DUMAI"]
    assert errors_of(body)[("recipients",)]["type"] == "duplicate"
    body["recipients"] = ["Polres Dumai; DROP TABLE"]
    assert errors_of(body)[("recipients", 0)]["type"] == "string_pattern_mismatch"


def test_victim_fields_are_refused_on_suspects_and_perpetrator_roles_on_victims() -> None:
    body = port_interception()
    body["persons"][0]["trafficking_status"] = "CONFIRMED"
    body["persons"][0]["relationship_to_recruiter"] = "FRIEND"
    body["persons"][1]["perpetrator_roles"] = ["SMUGGLER"]
    errors = errors_of(body)
    for loc in (
        ("persons", 0, "trafficking_status"),
        ("persons", 0, "relationship_to_recruiter"),
        ("persons", 1, "perpetrator_roles"),
    ):
        assert errors[loc]["type"] == "field_not_allowed_for_role"
    assert "SUSPECT" in errors[("persons", 0, "trafficking_status")]["msg"]


@pytest.mark.parametrize("role", ["WITNESS", "APPLICANT", "OTHER"])
def test_neither_victim_nor_suspect_details_on_other_roles(role: str) -> None:
    with pytest.raises(ValidationError):
        PersonIn.model_validate({"role": role, "trafficking_status": "POSSIBLE"})
    with pytest.raises(ValidationError):
        PersonIn.model_validate({"role": role, "perpetrator_roles": ["FINANCIER"]})
    PersonIn.model_validate({"role": role, "full_name": "Budi"})


def test_potential_victim_may_carry_victim_details() -> None:
    PersonIn.model_validate({"role": "POTENTIAL_VICTIM", "trafficking_status": "POSSIBLE"})


def test_forced_labour_sector_needs_forced_labour() -> None:
    body = port_interception()
    body["exploitation_types"] = ["SEXUAL_EXPLOITATION"]
    assert errors_of(body)[("forced_labour_sector",)]["type"] == "field_needs_forced_labour"
    body["exploitation_types"] = ["FORCED_LABOUR"]
    body["forced_labour_sector"] = "Z"
    assert errors_of(body)[("forced_labour_sector",)]["type"] == "enum"


def test_coordinates_come_in_pairs() -> None:
    body = port_interception()
    del body["location"]["lon"]
    assert errors_of(body)[("location", "lon")]["type"] == "coordinates_incomplete"
    body["location"]["lon"] = 181
    assert errors_of(body)[("location", "lon")]["type"] == "less_than_equal"


@pytest.mark.parametrize("bad", ["a\x00b", "x\x1by", "\ud800", "   "])
def test_nul_control_characters_lone_surrogates_and_blanks_are_rejected(bad: str) -> None:
    body = deferred_passport()
    body["narrative"] = bad
    body["persons"][0]["aliases"] = [bad]
    body["documents"][0]["issuer"] = bad
    errors = errors_of(body)
    assert {("narrative",), ("persons", 0, "aliases", 0), ("documents", 0, "issuer")} <= set(errors)


def test_newlines_and_tabs_are_fine_in_text() -> None:
    body = deferred_passport()
    body["narrative"] = "Baris satu.\n\tBaris dua.\r\n"
    ReportIn.model_validate(body)


def test_lengths_and_list_sizes_are_bounded() -> None:
    body = deferred_passport()
    body["narrative"] = "x" * 20_001
    body["external_ref"] = "R" * 65
    body["persons"] = [{"role": "VICTIM"}] * 101
    body["destination_countries"] = ["MYS"] * 21
    errors = errors_of(body)
    assert errors[("narrative",)]["type"] == "string_too_long"
    assert errors[("external_ref",)]["type"] == "string_too_long"
    assert errors[("persons",)]["type"] == "too_long"
    assert errors[("destination_countries",)]["type"] == "too_long"


def test_injection_looking_text_is_kept_verbatim() -> None:
    body = deferred_passport()
    texts = ["' OR 1=1--", "<script>alert(1)</script>", "{{7*7}}", "${jndi:ldap://x/a}"]
    body["narrative"] = " | ".join(texts)
    body["persons"][0]["aliases"] = texts
    report = ReportIn.model_validate(body)
    assert report.persons[0].aliases == texts
    assert report.narrative == " | ".join(texts)


def test_linked_report_ids_are_uuids() -> None:
    body = deferred_passport()
    body["linked_report_ids"] = [str(uuid.uuid4()), "IMI-DUMAI/2025/1"]
    assert ("linked_report_ids", 1) in errors_of(body)


def test_assessment_is_the_four_by_four() -> None:
    body = deferred_passport()
    body["assessment"] = {"source_reliability": "D", "information_accuracy": "5"}
    errors = errors_of(body)
    assert "'A', 'B', 'C' or 'X'" in errors[("assessment", "source_reliability")]["msg"]
    assert "'1', '2', '3' or '4'" in errors[("assessment", "information_accuracy")]["msg"]


def test_response_models_carry_the_contract() -> None:
    stored = ReportOut.model_validate(
        {
            **deferred_passport(),
            "id": str(uuid.uuid4()),
            "version": 2,
            "status": "RETRACTED",
            "source_agency": "IMIGRASI-DUMAI",
            "created_at": datetime(2025, 3, 4, 3, 15, tzinfo=UTC),
            "updated_at": datetime(2025, 3, 5, 3, 15, tzinfo=UTC),
            "retraction_reason": "Keliru",
        }
    )
    assert stored.status == "RETRACTED"
    created = ReportCreated.model_validate(
        {
            "id": str(uuid.uuid4()),
            "version": 1,
            "case_id": None,
            "persons": [
                {
                    "index": 0,
                    "role": "POTENTIAL_VICTIM",
                    "entity_id": None,
                    "score": None,
                    "reasons": [],
                    "normalized": {"nik": "1472055703980002", "phone": "+6281266123456"},
                }
            ],
            "routed_to": [{"agency": "POLRES-DUMAI", "rule": "default:tppo-to-police"}],
            "warnings": [{"pointer": "/persons/0/nik", "code": "nik_sex_mismatch", "detail": "…"}],
        }
    )
    assert created.persons[0].normalized.nik == "1472055703980002"
    page = Page[ReportOut].model_validate({"items": [stored], "next_cursor": "abc"})
    assert page.items[0].id == stored.id
    with pytest.raises(ValidationError):
        ReportRetractIn.model_validate({"reason": "x", "note": "y"})
    with pytest.raises(ValidationError):
        ReportRetractIn.model_validate({"reason": ""})


def test_json_schema_gives_generated_clients_enums_labels_and_examples() -> None:
    schema = ReportIn.model_json_schema()
    assert schema["examples"] == EXAMPLES
    tlp = schema["$defs"]["Tlp"]
    assert tlp["enum"] == ["CLEAR", "GREEN", "AMBER", "AMBER_STRICT", "RED"]
    assert len(tlp["x-enum-descriptions"]) == len(tlp["enum"])
    assert "GET /v1/vocab/tlp" in tlp["description"]
    person = schema["$defs"]["PersonIn"]
    assert person["additionalProperties"] is False
    assert person["properties"]["perpetrator_roles"]["items"] == {"$ref": "#/$defs/PerpetratorRole"}
    nationality = person["properties"]["nationality"]["anyOf"][0]
    assert nationality["pattern"] == "^[A-Z]{3}$"


def test_a_person_looked_for_is_described_like_a_report_person() -> None:
    """Screenings and watches take the identity fields of a report person, with the same checks."""
    report_person = PersonIn.model_json_schema()["properties"]
    for name, schema in PersonQuery.model_json_schema()["properties"].items():
        assert schema == report_person[name], name
    for field, value in (("nik", "12"), ("phone", "12"), ("passport_number", "?")):
        with pytest.raises(ValidationError) as in_report:
            PersonIn.model_validate({"role": "VICTIM", field: value})
        with pytest.raises(ValidationError) as in_query:
            PersonQuery.model_validate({field: value})
        assert in_report.value.errors()[0]["type"] == in_query.value.errors()[0]["type"], field
