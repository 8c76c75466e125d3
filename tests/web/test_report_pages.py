"""The report page (/laporan/<id>): every field in words, versions with what changed, and the
source agency's retract and close behind a confirmation; need-to-know as in the API."""

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
    form_csrf,
    submit_report,
)
from tests.report_samples import interception

NAVY = "LANAL-DUMAI"
UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
POL = "POLRES-DUMAI"
IMI = "IMIGRASI-DUMAI"


def routed_to(page: str) -> list[str]:
    """The agencies the page's "Diteruskan ke" list names."""
    return re.findall(r"<li><strong>([A-Z0-9-]+)</strong>", page)


def navy_report() -> dict[str, Any]:
    """The Navy's interception with aliases, a passport, means of control, events
    and a narrative."""
    body = interception(
        recipients=[POL, IMI],
        means_of_control=["DEBT_BONDAGE"],
        events=[{"type": "TRANSIT", "date": "2025-05-19", "country": "IDN", "place": "Batam"}],
        narrative="Patroli menghentikan speedboat menuju Malaysia.",
    )
    body["persons"][0]["aliases"] = ["Bang Hen"]
    body["persons"][1]["passport_number"] = "C 1234567"
    return body


@pytest.fixture
async def world(app: Any, client: httpx.AsyncClient, agencies: Agencies) -> dict[str, Any]:
    """The Navy's interception, addressed to the police; an officer of each and an outsider."""
    created = await submit_report(client, agencies[NAVY], navy_report())
    await create_agency(app, "DINSOS-DUMAI", kind=AgencyKind.OTHER)
    return {
        "id": created["id"],
        "case_id": created["case_id"],
        "navy": await create_officer(app, NAVY, "letda.sari"),
        "police": await create_officer(app, POL, "bripka.andi"),
        "outsider": await create_officer(app, "DINSOS-DUMAI", "staf.dinsos"),
    }


async def test_source_sees_every_field_in_words_case_routing_and_actions(
    console: httpx.AsyncClient, world: dict[str, Any]
) -> None:
    await console_sign_in(console, world["navy"])
    response = await console.get(f"/laporan/{world['id']}", headers=HTML)
    assert response.status_code == 200
    assert response.headers["cache-control"] == "no-store"
    page = response.text
    assert "LANAL-DUMAI/2025/0027" in page
    assert "Hendra Saputra" in page
    assert "Bang Hen" in page
    assert "Malaysia" in page  # destination country by its name, not MYS
    assert "Pelabuhan tidak resmi" in page or "pelabuhan tidak resmi" in page.lower()
    assert "UNOFFICIAL_PORT" not in page  # codes appear as words
    assert "Kota Dumai" in page  # region 14.72
    assert f'href="/kasus/{world["case_id"]}"' in page
    assert routed_to(page) == [POL, IMI]  # with the rule that chose each
    assert "Orang yang sama lintas laporan:" in page  # each person's current entity
    assert f'href="/laporan/{world["id"]}/tarik"' in page
    assert f'href="/laporan/{world["id"]}/tutup"' in page
    assert "Aktif" in page


async def test_english_labels_from_the_catalogue(
    console: httpx.AsyncClient, world: dict[str, Any]
) -> None:
    await console_sign_in(console, world["navy"])
    console.cookies.set("lang", "en")
    page = (await console.get(f"/laporan/{world['id']}", headers=HTML)).text
    assert "Destination countries" in page
    assert "Debt bondage" in page or "debt bondage" in page.lower()


async def test_recipient_reads_it_without_actions_and_cannot_retract(
    console: httpx.AsyncClient, world: dict[str, Any]
) -> None:
    csrf = await console_sign_in(console, world["police"])
    page = (await console.get(f"/laporan/{world['id']}", headers=HTML)).text
    assert "Hendra Saputra" in page
    assert routed_to(page) == [POL]  # only its own line of the routing
    assert "/tarik" not in page
    assert "/tutup" not in page
    confirm = await console.get(f"/laporan/{world['id']}/tarik", headers=HTML)
    assert confirm.status_code == 403
    forced = await console.post(
        f"/laporan/{world['id']}/tarik",
        data={"csrf_token": csrf, "alasan": "bukan laporan kami"},
        headers=HTML,
    )
    assert forced.status_code == 403
    closed = await console.post(
        f"/laporan/{world['id']}/tutup", data={"csrf_token": csrf}, headers=HTML
    )
    assert closed.status_code == 403
    again = (await console.get(f"/laporan/{world['id']}", headers=HTML)).text
    assert "Aktif" in again
    assert "Ditarik" not in again


async def test_outsider_and_missing_report_get_the_same_404(
    console: httpx.AsyncClient, world: dict[str, Any]
) -> None:
    csrf = await console_sign_in(console, world["outsider"])
    missing = "00000000-0000-4000-8000-000000000000"
    pages = {}
    for report_id in (world["id"], missing):
        for suffix in ("", "/tarik", "/tutup"):
            response = await console.get(f"/laporan/{report_id}{suffix}", headers=HTML)
            assert response.status_code == 404, suffix
            pages[(report_id, suffix)] = UUID.sub("ID", response.text)  # and the request id
        post = await console.post(
            f"/laporan/{report_id}/tarik", data={"csrf_token": csrf, "alasan": "x"}, headers=HTML
        )
        assert post.status_code == 404
    assert pages[(world["id"], "")] == pages[(missing, "")]
    assert "Hendra" not in pages[(world["id"], "")]
    assert (await console.get("/laporan/bukan-id", headers=HTML)).status_code == 404


async def test_signed_out_goes_to_sign_in(
    console: httpx.AsyncClient, world: dict[str, Any]
) -> None:
    response = await console.get(f"/laporan/{world['id']}", headers=HTML)
    assert response.status_code in (303, 307)
    assert response.headers["location"].startswith("/")


async def test_versions_show_what_changed(
    client: httpx.AsyncClient, console: httpx.AsyncClient, agencies: Agencies, world: dict[str, Any]
) -> None:
    corrected = navy_report()
    corrected["persons"][1]["passport_number"] = "C 7654321"
    corrected["transit_countries"] = ["SGP"]
    del corrected["narrative"]
    response = await client.put(
        f"/v1/reports/{world['id']}",
        json=corrected,
        headers={**agencies[NAVY], "If-Match": '"1"'},
    )
    assert response.status_code == 200, response.text
    await console_sign_in(console, world["police"])
    page = (await console.get(f"/laporan/{world['id']}", headers=HTML)).text
    assert "Riwayat versi" in page
    changes = re.findall(
        r'<tr class="change change--(\w+)">\s*<td class="table__title">([^<]*)</td>', page
    )
    assert ("changed", "Orang 2 / Nomor paspor") in changes
    assert ("added", "Negara transit") in changes
    assert ("removed", "Uraian") in changes
    assert "C 1234567" in page
    assert "C 7654321" in page
    assert "Singapura" in page


async def test_source_retracts_after_confirming_and_recipients_are_told(
    client: httpx.AsyncClient, console: httpx.AsyncClient, agencies: Agencies, world: dict[str, Any]
) -> None:
    await console_sign_in(console, world["navy"])
    confirm = await console.get(f"/laporan/{world['id']}/tarik", headers=HTML)
    assert confirm.status_code == 200
    assert "POLRES-DUMAI" in confirm.text  # who will be told
    csrf = form_csrf(confirm.text)

    forged = await console.post(
        f"/laporan/{world['id']}/tarik", data={"alasan": "salah sasaran"}, headers=HTML
    )
    assert forged.status_code == 403
    empty = await console.post(
        f"/laporan/{world['id']}/tarik", data={"csrf_token": csrf, "alasan": "   "}, headers=HTML
    )
    assert empty.status_code == 422
    assert 'href="#reason"' in empty.text
    assert 'id="reason"' in empty.text
    still = await client.get(f"/v1/reports/{world['id']}", headers=agencies[NAVY])
    assert still.json()["status"] == "ACTIVE"

    done = await console.post(
        f"/laporan/{world['id']}/tarik",
        data={"csrf_token": csrf, "alasan": "Ternyata PMI prosedural."},
        headers=HTML,
    )
    assert done.status_code == 303
    assert done.headers["location"] == f"/laporan/{world['id']}"
    page = (await console.get(done.headers["location"], headers=HTML)).text
    assert "Laporan sudah ditarik" in page
    assert "Ternyata PMI prosedural." in page
    assert "Ditarik" in page
    assert "/tarik" not in page
    assert "/tutup" not in page
    inbox = await client.get("/v1/inbox", headers=agencies[POL])
    events = [(i["event"], i["payload"].get("reason")) for i in inbox.json()["items"]]
    assert ("report.retracted", "Ternyata PMI prosedural.") in events


async def test_source_closes_with_an_optional_note(
    client: httpx.AsyncClient, console: httpx.AsyncClient, agencies: Agencies, world: dict[str, Any]
) -> None:
    await console_sign_in(console, world["navy"])
    confirm = await console.get(f"/laporan/{world['id']}/tutup", headers=HTML)
    assert "Masa simpan data pribadi" in confirm.text
    done = await console.post(
        f"/laporan/{world['id']}/tutup", data={"csrf_token": form_csrf(confirm.text)}, headers=HTML
    )
    assert done.status_code == 303
    page = (await console.get(done.headers["location"], headers=HTML)).text
    assert "Laporan sudah ditutup." in page
    assert "Ditutup" in page
    assert "/tutup" not in page
    read = await client.get(f"/v1/reports/{world['id']}", headers=agencies[NAVY])
    assert read.json()["status"] == "CLOSED"


async def test_reads_refusals_and_retracts_are_audited_with_the_officer(
    client: httpx.AsyncClient, console: httpx.AsyncClient, agencies: Agencies, world: dict[str, Any]
) -> None:
    await console_sign_in(console, world["outsider"])
    assert (await console.get(f"/laporan/{world['id']}", headers=HTML)).status_code == 404
    console.cookies.clear()
    await console_sign_in(console, world["navy"])
    confirm = await console.get(f"/laporan/{world['id']}", headers=HTML)
    await console.post(
        f"/laporan/{world['id']}/tarik",
        data={"csrf_token": form_csrf(confirm.text), "alasan": "Laporan ganda."},
        headers=HTML,
    )

    async def events(actor: str) -> list[tuple[str, str, list[str]]]:
        found = await client.get(f"/v1/admin/audit?actor={actor}", headers=agencies["ADMIN"])
        assert found.status_code == 200, found.text
        return [(e["action"], e["outcome"], e["object_ids"]) for e in found.json()["items"]]

    outsider = await events("staf.dinsos")
    assert ("report.read", "not_found", [world["id"]]) in outsider
    navy = await events("letda.sari")
    assert ("report.read", "success", [world["id"]]) in navy
    assert ("report.retract", "success", [world["id"]]) in navy
