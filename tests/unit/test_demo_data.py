"""The demo generator: deterministic, valid reports with recurring persons and recruiters."""

from __future__ import annotations

from collections import Counter
from typing import Any

from app.demo import generate_reports
from app.matching.normalize import normalize_nik, normalize_person
from app.schemas.report import ReportIn


def _persons(reports: list[tuple[str, dict[str, Any]]], role: str) -> list[dict[str, Any]]:
    return [p for _, body in reports for p in body["persons"] if p["role"] == role]


def test_same_seed_same_reports_other_seed_other_reports() -> None:
    assert generate_reports(seed=7, size=60) == generate_reports(seed=7, size=60)
    assert generate_reports(seed=7, size=60) != generate_reports(seed=8, size=60)


def test_every_report_is_valid_and_its_niks_agree_with_the_stated_facts() -> None:
    reports = generate_reports(size=200)
    refs = Counter((agency, body["external_ref"]) for agency, body in reports)
    assert max(refs.values()) == 1, "an external_ref is used twice by one agency"
    for _, body in reports:
        report = ReportIn.model_validate(body)
        for index, person in enumerate(report.persons):
            _, warnings = normalize_person(person, pointer=f"/persons/{index}")
            assert warnings == [], (body["external_ref"], warnings)


def test_the_scenarios_of_a_dumai_timpora_are_all_there() -> None:
    reports = generate_reports(size=200)
    by_agency = Counter(agency for agency, _ in reports)
    assert set(by_agency) >= {"IMIGRASI-DUMAI", "POLRES-DUMAI", "BP3MI-RIAU", "DP3A-DUMAI"}
    deferred = [
        body
        for _, body in reports
        if any(
            d["type"] == "PASSPORT_APPLICATION" and d["status"] == "DEFERRED"
            for d in body.get("documents", [])
        )
    ]
    unofficial_ports = [b for _, b in reports if "UNOFFICIAL_PORT" in b["modus_operandi"]]
    scam_countries = {
        c
        for _, b in reports
        if "ONLINE_SCAM_RECRUITMENT" in b["modus_operandi"]
        for c in b["destination_countries"]
    }
    assert len(deferred) > 40
    assert len(unofficial_ports) > 20
    assert scam_countries == {"KHM", "MMR", "LAO"}
    assert any(body["tlp"] == "RED" and body["recipients"] for _, body in reports)


def test_recruiters_recur_and_victims_come_back_under_other_spellings() -> None:
    reports = generate_reports(size=200)
    recruiters = Counter(p["phone"] for p in _persons(reports, "SUSPECT"))
    assert sum(1 for n in recruiters.values() if n >= 3) >= 5

    names_by_nik: dict[str, set[str]] = {}
    for _, body in reports:
        for person in body["persons"]:
            if "nik" in person:
                nik = normalize_nik(person["nik"]).nik
                names_by_nik.setdefault(nik, set()).add(person["full_name"])
    respelled = [names for names in names_by_nik.values() if len(names) > 1]
    assert len(respelled) >= 10
