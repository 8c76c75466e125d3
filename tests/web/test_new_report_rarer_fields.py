"""The rarer parts of the report (DESIGN §4) on the new-report form: recruitment, the journey's
events, the 4x4 assessment, vessels and vehicles, a person's victim and suspect details. They
sit in sections collapsed by default, are stored as the API stores them, show on the report
page in words, and an error in one row lands beside that row's field with nothing lost."""

from __future__ import annotations

import re
from typing import Any

import httpx
from fastapi import FastAPI

from tests.factories import HTML, Agencies
from tests.web.html_form import form_fields
from tests.web.test_new_report_page import filled_form, officer_of

IMI = "IMIGRASI-DUMAI"


def without_nulls(value: Any) -> Any:
    """What the API answers, less the fields it answers as null."""
    if isinstance(value, dict):
        return {k: without_nulls(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [without_nulls(v) for v in value]
    return value


def rarer_fields(csrf: str, **extra: str) -> dict[str, Any]:
    """The deferral form with every rarer section filled in, two events and a vessel."""
    return filled_form(
        csrf,
        **{
            "persons-0-trafficking_status": "POSSIBLE",
            "persons-0-relationship_to_recruiter": "NEIGHBOUR",
            "persons-0-region_code": "14.72",
            "recruitment-methods": ["JOB_OFFER", "ONLINE_ADVERTISEMENT"],
            "recruitment-channels": ["FACEBOOK"],
            "recruitment-location-place": "Dumai Timur",
            "event_count": "2",
            "events-0-type": "RECRUITMENT",
            "events-0-date": "01/05/2025",
            "events-0-region_code": "14.72",
            "events-1-type": "TRANSIT",
            "events-1-date": "20/05/2025",
            "events-1-country": "sgp",
            "events-1-place": "Pelabuhan Harbourfront",
            "assessment-source_reliability": "B",
            "assessment-information_accuracy": "2",
            "conveyance_count": "1",
            "conveyances-0-type": "FERRY",
            "conveyances-0-name": "MV Batam Fast",
            "conveyances-0-flag_country": "sgp",
            "location-lat": "1,6745",
            "location-lon": "101.4478",
            **extra,
        },
    )


async def test_the_rarer_sections_are_collapsed_on_a_new_form(
    app: FastAPI, console: httpx.AsyncClient, agencies: Agencies
) -> None:
    await officer_of(app, console, IMI)

    page = (await console.get("/laporan-baru", headers=HTML)).text

    for section in ("recruitment", "events", "assessment", "conveyances", "coordinates"):
        assert f'<details class="more" id="{section}">' in page  # present, not open
    assert '<label class="field__label" for="assessment-source_reliability">' in page
    assert 'name="action" value="add_event"' in page
    assert 'name="action" value="add_conveyance"' in page


async def test_a_report_with_every_rarer_part_is_stored_and_shown_in_words(
    app: FastAPI, console: httpx.AsyncClient, client: httpx.AsyncClient, agencies: Agencies
) -> None:
    csrf = await officer_of(app, console, IMI)

    response = await console.post("/laporan-baru", data=rarer_fields(csrf), headers=HTML)

    assert response.status_code == 200, response.text
    assert "Laporan terkirim" in response.text
    [listed] = (await client.get("/v1/reports", headers=agencies[IMI])).json()["items"]
    stored = without_nulls(listed)
    assert stored["recruitment"] == {
        "methods": ["JOB_OFFER", "ONLINE_ADVERTISEMENT"],
        "channels": ["FACEBOOK"],
        "location": {"place": "Dumai Timur"},
    }
    assert stored["events"] == [
        {"type": "RECRUITMENT", "date": "2025-05-01", "region_code": "14.72"},
        {"type": "TRANSIT", "date": "2025-05-20", "country": "SGP",
         "place": "Pelabuhan Harbourfront"},
    ]  # fmt: skip
    assert stored["assessment"] == {"source_reliability": "B", "information_accuracy": "2"}
    assert stored["conveyances"] == [
        {"type": "FERRY", "name": "MV Batam Fast", "flag_country": "SGP"}
    ]
    assert stored["location"]["lat"] == 1.6745
    assert stored["persons"][0]["relationship_to_recruiter"] == "NEIGHBOUR"

    page = (await console.get(f"/laporan/{stored['id']}", headers=HTML)).text
    for words in (
        "Perekrutan",
        "Tawaran pekerjaan",  # JOB_OFFER
        "Iklan daring",  # ONLINE_ADVERTISEMENT
        "Dumai Timur",
        "Peristiwa 2",
        "Transit",
        "Singapura",  # SGP by its name
        "Pelabuhan Harbourfront",
        "Umumnya dapat dipercaya",  # source reliability B
        "Diketahui langsung oleh sumber",  # information accuracy 2
        "Kapal feri",
        "MV Batam Fast",
        "Tetangga",  # relationship NEIGHBOUR
    ):
        assert words in page, words


async def test_an_error_in_an_event_row_lands_beside_that_rows_field(
    app: FastAPI, console: httpx.AsyncClient, client: httpx.AsyncClient, agencies: Agencies
) -> None:
    csrf = await officer_of(app, console, IMI)

    response = await console.post(
        "/laporan-baru",
        data=rarer_fields(csrf, **{"events-1-date": "32/13/2025", "conveyances-0-type": ""}),
        headers=HTML,
    )

    assert response.status_code == 422
    page = response.text
    assert re.search(r'id="events-1-date-error">', page)
    assert 'href="#events-1-date"' in page
    assert 'id="events-0-date-error"' not in page
    assert re.search(r'id="conveyances-0-type-error">', page)
    assert '<details class="more" id="events" open>' in page
    assert '<details class="more" id="conveyances" open>' in page
    fields = form_fields(page, "/laporan-baru")
    assert fields["events-1-date"] == ["32/13/2025"]
    assert fields["events-1-place"] == ["Pelabuhan Harbourfront"]
    assert fields["conveyances-0-name"] == ["MV Batam Fast"]
    assert fields["recruitment-methods"] == ["JOB_OFFER", "ONLINE_ADVERTISEMENT"]
    assert fields["assessment-source_reliability"] == ["B"]
    assert (await client.get("/v1/reports", headers=agencies[IMI])).json()["items"] == []


async def test_an_event_in_the_future_is_refused_beside_its_date(
    app: FastAPI, console: httpx.AsyncClient, agencies: Agencies
) -> None:
    csrf = await officer_of(app, console, IMI)

    response = await console.post(
        "/laporan-baru", data=rarer_fields(csrf, **{"events-0-date": "01/05/2999"}), headers=HTML
    )

    assert response.status_code == 422
    assert 'id="events-0-date-error"' in response.text
    assert 'value="01/05/2999"' in response.text


async def test_half_an_assessment_is_refused_beside_the_missing_half(
    app: FastAPI, console: httpx.AsyncClient, agencies: Agencies
) -> None:
    csrf = await officer_of(app, console, IMI)

    response = await console.post(
        "/laporan-baru",
        data=rarer_fields(csrf, **{"assessment-information_accuracy": ""}),
        headers=HTML,
    )

    assert response.status_code == 422
    assert 'id="assessment-information_accuracy-error"' in response.text
    assert '<details class="more" id="assessment" open>' in response.text


async def test_a_victim_detail_on_a_suspect_is_refused_beside_it(
    app: FastAPI, console: httpx.AsyncClient, agencies: Agencies
) -> None:
    csrf = await officer_of(app, console, IMI)

    response = await console.post(
        "/laporan-baru",
        data=rarer_fields(csrf, **{"persons-0-role": "SUSPECT"}),
        headers=HTML,
    )

    assert response.status_code == 422
    assert 'id="persons-0-trafficking_status-error"' in response.text
    assert '<details class="more more--inner" id="persons-0-more" open>' in response.text


async def test_rows_of_events_and_vessels_are_added_and_removed(
    app: FastAPI, console: httpx.AsyncClient, agencies: Agencies
) -> None:
    csrf = await officer_of(app, console, IMI)

    added = await console.post(
        "/laporan-baru", data=rarer_fields(csrf, action="add_conveyance"), headers=HTML
    )
    fields = form_fields(added.text, "/laporan-baru")
    assert fields["conveyance_count"] == ["2"]
    assert 'id="conveyances-1-type"' in added.text

    removed = await console.post(
        "/laporan-baru", data=rarer_fields(csrf, action="remove_event-0"), headers=HTML
    )
    fields = form_fields(removed.text, "/laporan-baru")
    assert fields["event_count"] == ["1"]
    assert fields["events-0-type"] == ["TRANSIT"]  # the second row moved up, intact
    assert fields["events-0-place"] == ["Pelabuhan Harbourfront"]
