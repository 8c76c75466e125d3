"""The officer's home page and inbox (Kotak masuk): newest first, filters, acknowledge, polling."""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest

from app.models.agency import AgencyKind
from tests.factories import (
    HTML,
    Agencies,
    SeededOfficer,
    console_sign_in,
    create_agency,
    create_officer,
    submit_report,
)
from tests.report_samples import deferral, interception

POL = "POLRES-DUMAI"


def delivery_ids(page: str) -> list[str]:
    """The inbox rows' delivery ids, top to bottom."""
    return re.findall(r'<tr class="inbox-row[^"]*" id="item-([0-9a-f-]+)"', page)


@pytest.fixture
async def routed(app: Any, client: httpx.AsyncClient, agencies: Agencies) -> dict[str, Any]:
    """Two reports routed to the police: Immigration's deferral (TPPO),
    then the Navy's (TPPO_TPPM)."""
    first = await submit_report(client, agencies["IMIGRASI-DUMAI"], deferral(recipients=[POL]))
    second = await submit_report(client, agencies["LANAL-DUMAI"], interception(recipients=[POL]))
    await create_agency(app, "DINSOS-DUMAI", kind=AgencyKind.OTHER)
    return {
        "first": first["id"],
        "second": second["id"],
        "police": await create_officer(app, POL, "bripka.andi"),
        "outsider": await create_officer(app, "DINSOS-DUMAI", "staf.dinsos"),
    }


async def test_inbox_lists_routed_reports_newest_first_with_links(
    console: httpx.AsyncClient, routed: dict[str, Any]
) -> None:
    await console_sign_in(console, routed["police"])
    page = (await console.get("/kotak-masuk", headers=HTML)).text
    first = page.index("IMI-DUMAI/2025/0001")
    second = page.index("LANAL-DUMAI/2025/0027")
    assert second < first  # newest first
    assert f'href="/laporan/{routed["first"]}"' in page
    assert "Laporan masuk" in page
    assert '<abbr title="TPPO dan TPPM">TPPO+TPPM</abbr>' in page  # the case type, explained
    assert 'hx-get="/kotak-masuk/baru?setelah=' in page  # new items come by polling


async def test_inbox_filters_by_case_type_and_event(
    console: httpx.AsyncClient, routed: dict[str, Any]
) -> None:
    await console_sign_in(console, routed["police"])
    tppo = (await console.get("/kotak-masuk?case_type=TPPO", headers=HTML)).text
    assert "IMI-DUMAI/2025/0001" in tppo
    assert "LANAL-DUMAI/2025/0027" not in tppo
    retracted = (await console.get("/kotak-masuk?event=report.retracted", headers=HTML)).text
    assert delivery_ids(retracted) == []
    assert "Tidak ada item yang cocok." in retracted
    future = (await console.get("/kotak-masuk?dari=2999-01-01", headers=HTML)).text
    assert delivery_ids(future) == []


async def test_acknowledging_one_and_many(
    console: httpx.AsyncClient, routed: dict[str, Any]
) -> None:
    csrf = await console_sign_in(console, routed["police"])
    ids = delivery_ids((await console.get("/kotak-masuk", headers=HTML)).text)
    assert len(ids) >= 2
    forged = await console.post("/kotak-masuk/akui", data={"id": ids[0]}, headers=HTML)
    assert forged.status_code == 403

    one = await console.post(
        "/kotak-masuk/akui", data={"id": ids[0], "csrf_token": csrf}, headers=HTML
    )
    assert one.status_code == 303
    after = await console.get("/kotak-masuk", headers=HTML)
    assert ids[0] not in delivery_ids(after.text)
    assert "Item yang dipilih sudah diakui." in after.text
    everything = (await console.get("/kotak-masuk?tampil=semua", headers=HTML)).text
    assert ids[0] in delivery_ids(everything)
    assert "Sudah diakui" in everything

    many = await console.post(
        "/kotak-masuk/akui", data={"id": ids[1:], "csrf_token": csrf}, headers=HTML
    )
    assert many.status_code == 303
    assert delivery_ids((await console.get("/kotak-masuk", headers=HTML)).text) == []
    home = (await console.get("/", headers=HTML)).text
    assert "0 item belum diakui" in home


async def test_polling_answers_only_what_is_newer(
    console: httpx.AsyncClient,
    client: httpx.AsyncClient,
    agencies: Agencies,
    routed: dict[str, Any],
) -> None:
    await console_sign_in(console, routed["police"])
    page = (await console.get("/kotak-masuk", headers=HTML)).text
    newest = re.search(r"setelah=(\d+)", page)
    assert newest is not None
    polled = await console.get(
        f"/kotak-masuk/baru?setelah={newest.group(1)}", headers={**HTML, "HX-Request": "true"}
    )
    assert delivery_ids(polled.text) == []
    await submit_report(
        client,
        agencies["IMIGRASI-DUMAI"],
        deferral(external_ref="IMI-DUMAI/2025/0002", recipients=[POL]),
    )
    polled = await console.get(
        f"/kotak-masuk/baru?setelah={newest.group(1)}", headers={**HTML, "HX-Request": "true"}
    )
    assert "IMI-DUMAI/2025/0002" in polled.text
    assert "IMI-DUMAI/2025/0001" not in polled.text
    assert 'hx-swap-oob="true"' in polled.text  # the poller moves on past the new item


async def test_home_shows_unacknowledged_items_at_a_glance(
    console: httpx.AsyncClient, routed: dict[str, Any]
) -> None:
    await console_sign_in(console, routed["police"])
    home = (await console.get("/", headers=HTML)).text
    assert re.search(r"[1-9]\d* item belum diakui", home)
    assert "LANAL-DUMAI/2025/0027" in home
    assert "Temuan pantauan" in home
    assert "Kasus yang bertambah" in home


async def test_an_outsider_sees_and_acknowledges_nothing_of_another_agency(
    app: Any, console: httpx.AsyncClient, routed: dict[str, Any]
) -> None:
    transport = httpx.ASGITransport(app=app, client=("203.0.113.9", 51000))
    async with httpx.AsyncClient(transport=transport, base_url="https://sinergi.test") as police:
        await console_sign_in(police, routed["police"])
        ids = delivery_ids((await police.get("/kotak-masuk", headers=HTML)).text)
        outsider: SeededOfficer = routed["outsider"]
        csrf = await console_sign_in(console, outsider)
        page = (await console.get("/kotak-masuk?tampil=semua", headers=HTML)).text
        assert delivery_ids(page) == []
        assert "IMI-DUMAI/2025/0001" not in page
        home = (await console.get("/", headers=HTML)).text
        assert "IMI-DUMAI/2025/0001" not in home
        tried = await console.post(
            "/kotak-masuk/akui", data={"id": ids, "csrf_token": csrf}, headers=HTML
        )
        assert tried.status_code == 303
        assert "Tidak ada item yang diakui" in (await console.get("/", headers=HTML)).text
        assert delivery_ids((await police.get("/kotak-masuk", headers=HTML)).text) == ids


async def test_home_inbox_and_acknowledging_are_audited_with_the_officer(
    client: httpx.AsyncClient,
    console: httpx.AsyncClient,
    agencies: Agencies,
    routed: dict[str, Any],
) -> None:
    csrf = await console_sign_in(console, routed["police"])
    ids = delivery_ids((await console.get("/kotak-masuk", headers=HTML)).text)
    await console.post("/kotak-masuk/akui", data={"id": ids[0], "csrf_token": csrf}, headers=HTML)

    found = await client.get("/v1/admin/audit?actor=bripka.andi", headers=agencies["ADMIN"])
    assert found.status_code == 200, found.text
    events = [(e["action"], e["outcome"], e["object_ids"]) for e in found.json()["items"]]
    listed = [ids_ for action, outcome, ids_ in events if action == "inbox.list"]
    # the home page after sign-in and the inbox both name every delivery and report they showed
    assert any(set(ids) <= set(shown) for shown in listed), events
    assert any({routed["first"], routed["second"]} <= set(shown) for shown in listed), events
    assert ("inbox.ack", "success", [ids[0]]) in events
