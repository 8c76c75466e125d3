"""Correcting a report from the console (/laporan/<id>/koreksi): the form holds the current
version's every field, saving makes the next version through the same service as the API's
PUT (with its version check), a stale form keeps what was typed, and only the source agency
may correct (an outsider gets the same 404 as for a missing report)."""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest

from app.models.agency import AgencyKind
from tests.factories import (
    HTML,
    Agencies,
    console_sign_in,
    create_agency,
    create_officer,
    submit_report,
)
from tests.report_samples import interception
from tests.web.html_form import form_fields

NAVY = "LANAL-DUMAI"
POL = "POLRES-DUMAI"
IMI = "IMIGRASI-DUMAI"
UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def full_report() -> dict[str, Any]:
    """The Navy's interception with every field of the report schema filled in."""
    body = interception(
        recipients=[POL, IMI],
        occurred_to="2025-05-22",
        location={
            "region_code": "14.72",
            "place": "Pantai Purnama",
            "lat": 1.6745,
            "lon": 101.4478,
            "port_of_exit": "Pelabuhan rakyat Purnama",
        },
        exploitation_types=["FORCED_LABOUR"],
        forced_labour_sector="A",
        means_of_control=["DEBT_BONDAGE", "WITHHELD_DOCUMENTS"],
        transit_countries=["SGP"],
        recruitment={
            "methods": ["JOB_OFFER"],
            "channels": ["FACEBOOK", "WHATSAPP"],
            "location": {"region_code": "53.71", "place": "Kupang"},
        },
        events=[
            {
                "type": "RECRUITMENT",
                "date": "2025-04-30",
                "region_code": "53.71",
                "place": "Kupang",
            },
            {"type": "TRANSIT", "date": "2025-05-19", "country": "IDN", "place": "Batam"},
        ],
        assessment={"source_reliability": "B", "information_accuracy": "2"},
        documents=[
            {
                "type": "PASSPORT",
                "number": "C1234567",
                "status": "REVOKED",
                "issuer": "Kantor Imigrasi Kupang",
                "issuing_country": "IDN",
            }
        ],
        conveyances=[
            {
                "type": "SPEEDBOAT",
                "name": "KM Sinar Laut",
                "registration": "GT 5 No. 112/PPa",
                "flag_country": "IDN",
            }
        ],
        actions_taken=["DEPARTURE_PREVENTED", "ARREST"],
        narrative="Patroli menghentikan speedboat menuju Malaysia.",
    )
    body["persons"][0].update(aliases=["Bang Hen", "Hendra S"], address="Jl. Sudirman 1, Dumai")
    body["persons"][0]["perpetrator_roles"] = ["RECRUITER_OR_INTERMEDIARY", "TRANSPORTER"]
    body["persons"][1].update(
        passport_number="C 1234567",
        phone="0812-6612-3344",
        region_code="14.72",
        relationship_to_recruiter="STRANGER",
    )
    return body


@pytest.fixture
async def world(app: Any, client: httpx.AsyncClient, agencies: Agencies) -> dict[str, Any]:
    """The Navy's full report, routed to the police; an officer of each and an outsider."""
    created = await submit_report(client, agencies[NAVY], full_report())
    await create_agency(app, "DINSOS-DUMAI", kind=AgencyKind.OTHER)
    return {
        "id": created["id"],
        "navy": await create_officer(app, NAVY, "letda.sari"),
        "police": await create_officer(app, POL, "bripka.andi"),
        "outsider": await create_officer(app, "DINSOS-DUMAI", "staf.dinsos"),
    }


async def stored(client: httpx.AsyncClient, agencies: Agencies, report_id: str) -> dict[str, Any]:
    response = await client.get(f"/v1/reports/{report_id}", headers=agencies[NAVY])
    assert response.status_code == 200
    body: dict[str, Any] = response.json()
    return body


async def open_form(console: httpx.AsyncClient, report_id: str) -> dict[str, list[str]]:
    response = await console.get(f"/laporan/{report_id}/koreksi", headers=HTML)
    assert response.status_code == 200, response.text
    return form_fields(response.text, f"/laporan/{report_id}/koreksi")


async def test_the_report_page_offers_the_correction_to_the_source_only(
    console: httpx.AsyncClient, world: dict[str, Any]
) -> None:
    await console_sign_in(console, world["navy"])
    page = (await console.get(f"/laporan/{world['id']}", headers=HTML)).text
    assert f'href="/laporan/{world["id"]}/koreksi">Koreksi</a>' in page

    console.cookies.clear()
    await console_sign_in(console, world["police"])
    page = (await console.get(f"/laporan/{world['id']}", headers=HTML)).text
    assert "Hendra Saputra" in page
    assert "/koreksi" not in page


async def test_the_form_is_prefilled_with_every_field_of_the_current_version(
    console: httpx.AsyncClient, client: httpx.AsyncClient, agencies: Agencies, world: dict[str, Any]
) -> None:
    await console_sign_in(console, world["navy"])
    fields = await open_form(console, world["id"])

    expected = {
        "version": "1",
        "external_ref": "LANAL-DUMAI/2025/0027",
        "case_type": "TPPO_TPPM",
        "occurred_from": "21/05/2025",
        "occurred_to": "22/05/2025",
        "location-lat": "1.6745",
        "location-port_of_exit": "Pelabuhan rakyat Purnama",
        "transit_countries": "SGP",
        "forced_labour_sector": "A",
        "persons-0-full_name": "Hendra Saputra",
        "persons-0-aliases": "Bang Hen, Hendra S",
        "persons-0-birth_year": "1985",
        "persons-1-passport_number": "C 1234567",
        "persons-1-relationship_to_recruiter": "STRANGER",
        "persons-1-region_code": "14.72",
        "documents-0-issuing_country": "IDN",
        "recruitment-location-place": "Kupang",
        "events-1-place": "Batam",
        "events-0-date": "30/04/2025",
        "assessment-information_accuracy": "2",
        "conveyances-0-name": "KM Sinar Laut",
        "narrative": "Patroli menghentikan speedboat menuju Malaysia.",
    }
    assert {name: fields[name][0] for name in expected} == expected
    assert fields["persons-0-perpetrator_roles"] == ["RECRUITER_OR_INTERMEDIARY", "TRANSPORTER"]
    assert fields["recruitment-channels"] == ["FACEBOOK", "WHATSAPP"]
    assert sorted(fields["recipients"]) == [IMI, POL]

    # the prefilled form sent back unchanged changes nothing: no field was dropped on the way
    response = await console.post(
        f"/laporan/{world['id']}/koreksi", data={**fields, "action": "submit"}, headers=HTML
    )
    assert response.status_code == 303, response.text
    assert (await stored(client, agencies, world["id"]))["version"] == 1
    page = (await console.get(response.headers["location"], headers=HTML)).text
    assert "Tidak ada yang berubah" in page


async def test_a_correction_saves_version_2_and_the_report_page_lists_the_change(
    console: httpx.AsyncClient, client: httpx.AsyncClient, agencies: Agencies, world: dict[str, Any]
) -> None:
    await console_sign_in(console, world["navy"])
    fields = await open_form(console, world["id"])
    fields["conveyances-0-name"] = ["KM Bintang Laut"]
    fields["persons-1-phone"] = ["0812-6612-9999"]

    response = await console.post(
        f"/laporan/{world['id']}/koreksi", data={**fields, "action": "submit"}, headers=HTML
    )

    assert response.status_code == 303, response.text
    assert response.headers["location"] == f"/laporan/{world['id']}#versi-2"
    report = await stored(client, agencies, world["id"])
    assert report["version"] == 2
    assert report["conveyances"][0]["name"] == "KM Bintang Laut"
    assert report["events"][1]["place"] == "Batam"  # what was not touched stays
    page = (await console.get(f"/laporan/{world['id']}", headers=HTML)).text
    assert "Koreksi tersimpan sebagai versi baru" in page
    assert "Versi 2" in page
    assert re.search(r"<td[^>]*>KM Sinar Laut</td>\s*<td[^>]*>KM Bintang Laut</td>", page)
    assert "0812-6612-9999" in page


async def test_a_stale_form_answers_the_conflict_and_keeps_what_was_typed(
    console: httpx.AsyncClient, client: httpx.AsyncClient, agencies: Agencies, world: dict[str, Any]
) -> None:
    await console_sign_in(console, world["navy"])
    fields = await open_form(console, world["id"])
    # meanwhile the Navy's system corrects the report through the API
    theirs = full_report()
    theirs["narrative"] = "Koreksi dari sistem: 14 calon PMI."
    put = await client.put(
        f"/v1/reports/{world['id']}", json=theirs, headers={**agencies[NAVY], "If-Match": '"1"'}
    )
    assert put.status_code == 200, put.text
    fields["persons-1-phone"] = ["0812-6612-7777"]

    response = await console.post(
        f"/laporan/{world['id']}/koreksi", data={**fields, "action": "submit"}, headers=HTML
    )

    assert response.status_code == 409
    page = response.text
    assert "Laporan ini sudah dikoreksi orang lain" in page
    assert "Koreksi dari sistem: 14 calon PMI." in page  # what they changed, listed
    assert 'value="0812-6612-7777"' in page  # what the officer typed, kept
    assert (await stored(client, agencies, world["id"]))["version"] == 2  # nothing saved

    # saving again, knowingly, makes version 3 from what is on the form
    again = form_fields(page, f"/laporan/{world['id']}/koreksi")
    assert again["version"] == ["2"]
    saved = await console.post(
        f"/laporan/{world['id']}/koreksi", data={**again, "action": "submit"}, headers=HTML
    )
    assert saved.status_code == 303
    report = await stored(client, agencies, world["id"])
    assert report["version"] == 3
    assert report["persons"][1]["phone"] == "0812-6612-7777"


async def test_an_error_is_shown_beside_the_field_and_nothing_is_saved(
    console: httpx.AsyncClient, client: httpx.AsyncClient, agencies: Agencies, world: dict[str, Any]
) -> None:
    await console_sign_in(console, world["navy"])
    fields = await open_form(console, world["id"])
    fields["persons-1-nik"] = ["14720354"]
    fields["events-1-date"] = ["01/01/2999"]
    fields["external_ref"] = ["LANAL-DUMAI/LAIN"]

    response = await console.post(
        f"/laporan/{world['id']}/koreksi", data={**fields, "action": "submit"}, headers=HTML
    )

    assert response.status_code == 422
    page = response.text
    assert re.search(r'id="persons-1-nik-error">.*NIK harus 16 angka', page)
    assert 'href="#persons-1-nik"' in page
    assert 'value="14720354"' in page
    assert 'value="KM Sinar Laut"' in page
    assert (await stored(client, agencies, world["id"]))["version"] == 1


async def test_the_reference_cannot_change_in_a_correction(
    console: httpx.AsyncClient, client: httpx.AsyncClient, agencies: Agencies, world: dict[str, Any]
) -> None:
    await console_sign_in(console, world["navy"])
    fields = await open_form(console, world["id"])
    fields["external_ref"] = ["LANAL-DUMAI/LAIN"]

    response = await console.post(
        f"/laporan/{world['id']}/koreksi", data={**fields, "action": "submit"}, headers=HTML
    )

    assert response.status_code == 422
    assert 'id="external_ref-error"' in response.text
    assert (await stored(client, agencies, world["id"]))["version"] == 1


async def test_adding_an_event_row_keeps_the_version_and_everything_typed(
    console: httpx.AsyncClient, world: dict[str, Any]
) -> None:
    await console_sign_in(console, world["navy"])
    fields = await open_form(console, world["id"])
    fields["narrative"] = ["Diketik sebelum menambah baris."]

    response = await console.post(
        f"/laporan/{world['id']}/koreksi", data={**fields, "action": "add_event"}, headers=HTML
    )

    assert response.status_code == 200
    again = form_fields(response.text, f"/laporan/{world['id']}/koreksi")
    assert again["version"] == ["1"]
    assert again["event_count"] == ["3"]
    assert again["narrative"] == ["Diketik sebelum menambah baris."]
    assert re.search(r'<details class="more" id="events" open>', response.text)


async def test_the_correction_needs_the_csrf_token(
    console: httpx.AsyncClient, client: httpx.AsyncClient, agencies: Agencies, world: dict[str, Any]
) -> None:
    await console_sign_in(console, world["navy"])
    fields = await open_form(console, world["id"])
    fields["narrative"] = ["Tanpa token."]
    del fields["csrf_token"]

    response = await console.post(
        f"/laporan/{world['id']}/koreksi", data={**fields, "action": "submit"}, headers=HTML
    )

    assert response.status_code == 403
    assert (await stored(client, agencies, world["id"]))["narrative"] != "Tanpa token."


async def test_a_recipient_may_not_correct(
    console: httpx.AsyncClient, client: httpx.AsyncClient, agencies: Agencies, world: dict[str, Any]
) -> None:
    csrf = await console_sign_in(console, world["police"])
    assert (await console.get(f"/laporan/{world['id']}/koreksi", headers=HTML)).status_code == 403
    forced = await console.post(
        f"/laporan/{world['id']}/koreksi",
        data={"csrf_token": csrf, "version": "1", "external_ref": "x", "action": "submit"},
        headers=HTML,
    )
    assert forced.status_code == 403
    assert (await stored(client, agencies, world["id"]))["version"] == 1


async def test_an_outsider_gets_the_same_404_as_for_a_missing_report(
    console: httpx.AsyncClient, world: dict[str, Any]
) -> None:
    csrf = await console_sign_in(console, world["outsider"])
    missing = "00000000-0000-4000-8000-000000000000"
    pages = {}
    for report_id in (world["id"], missing):
        response = await console.get(f"/laporan/{report_id}/koreksi", headers=HTML)
        assert response.status_code == 404
        pages[report_id] = UUID.sub("ID", response.text)
        posted = await console.post(
            f"/laporan/{report_id}/koreksi",
            data={"csrf_token": csrf, "version": "1", "action": "submit"},
            headers=HTML,
        )
        assert posted.status_code == 404
    assert pages[world["id"]] == pages[missing]
    assert "Hendra" not in pages[world["id"]]


async def test_a_retracted_report_offers_no_correction(
    console: httpx.AsyncClient, client: httpx.AsyncClient, agencies: Agencies, world: dict[str, Any]
) -> None:
    await console_sign_in(console, world["navy"])
    fields = await open_form(console, world["id"])
    retract = await client.post(
        f"/v1/reports/{world['id']}/retract", json={"reason": "ganda"}, headers=agencies[NAVY]
    )
    assert retract.status_code == 200

    page = (await console.get(f"/laporan/{world['id']}", headers=HTML)).text
    assert "/koreksi" not in page
    assert (await console.get(f"/laporan/{world['id']}/koreksi", headers=HTML)).status_code == 409
    fields["narrative"] = ["Diketik sebelum ditarik."]
    fields["version"] = ["2"]
    response = await console.post(
        f"/laporan/{world['id']}/koreksi", data={**fields, "action": "submit"}, headers=HTML
    )
    assert response.status_code == 422
    assert "sudah ditarik" in response.text
    assert "Diketik sebelum ditarik." in response.text
