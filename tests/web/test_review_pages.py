"""The match review queue (*Tinjauan kecocokan*) over HTTP: who may open it, the pair side by
side, merge and undo, keep apart, CSRF, and what a restricted match shows (issues 18 and 19).

Who may curate is exactly who may call ``/v1/admin/possible-matches``: analysts and system
admins of the admin agency. Everyone else gets the console's 404, as for a page that does not
exist.
"""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from app.models.officer import OfficerRole
from app.web import review_pages
from tests.factories import HTML, Agencies, SeededOfficer, create_officer, sign_in, submit_report
from tests.report_samples import deferral, interception, victim

#: The same woman twice: with her birth date, then by name alone (not enough to link, enough
#: to ask an analyst). The aliases differ, so the pair page has a difference to mark.
DATED = victim("Siti Rahmawati", "1995-06-10", aliases=["Siti R."])
UNDATED = {
    "role": "VICTIM",
    "full_name": "Siti Rahmawati",
    "aliases": ["Rahma"],
    "sex": "FEMALE",
    "nationality": "IDN",
}


async def _possible_match(client: httpx.AsyncClient, agencies: Agencies) -> dict[str, Any]:
    """Immigration's report, then the Navy's naming her again: one open possible match."""
    first = await submit_report(client, agencies["IMIGRASI-DUMAI"], deferral(persons=[DATED]))
    second = await submit_report(client, agencies["LANAL-DUMAI"], interception(persons=[UNDATED]))
    [match] = await _matches(client, agencies, "open")
    assert match["report_id"] == second["id"]
    return {"first": first, "second": second, "match": match}


async def _matches(client: httpx.AsyncClient, agencies: Agencies, status: str) -> list[Any]:
    answer = await client.get(
        "/v1/admin/possible-matches", params={"status": status}, headers=agencies["ADMIN"]
    )
    assert answer.status_code == 200, answer.text
    items: list[Any] = answer.json()["items"]
    return items


async def _report(client: httpx.AsyncClient, agencies: Agencies, report_id: str) -> Any:
    answer = await client.get(f"/v1/reports/{report_id}", headers=agencies["ADMIN"])
    assert answer.status_code == 200, answer.text
    return answer.json()


async def _case_reports(client: httpx.AsyncClient, agencies: Agencies, case_id: str) -> set[str]:
    answer = await client.get(f"/v1/cases/{case_id}", headers=agencies["ADMIN"])
    assert answer.status_code == 200, answer.text
    return {r["report_id"] for r in answer.json()["reports"]}


async def _analyst(app: FastAPI, console: httpx.AsyncClient) -> str:
    """An analyst of the admin agency, signed in; the CSRF token."""
    analyst = await create_officer(app, "ADMIN", "analis.satu", OfficerRole.ANALYST)
    return await sign_in(console, analyst)


@pytest.fixture
async def outsiders(app: FastAPI, agencies: Agencies) -> dict[str, SeededOfficer]:
    """Officers who may not curate: an officer, an agency admin, and an analyst of a member
    agency (its token cannot curate, and a role never adds to what the agency may do)."""
    del agencies
    return {
        "officer": await create_officer(app, "IMIGRASI-DUMAI", "petugas.imigrasi"),
        "agency_admin": await create_officer(
            app, "IMIGRASI-DUMAI", "admin.imigrasi", OfficerRole.AGENCY_ADMIN
        ),
        "member_analyst": await create_officer(
            app, "POLRES-DUMAI", "analis.polres", OfficerRole.ANALYST
        ),
    }


@pytest.mark.parametrize("who", ["officer", "agency_admin", "member_analyst"])
async def test_anyone_who_may_not_curate_gets_the_consoles_404(
    app: FastAPI,
    console: httpx.AsyncClient,
    client: httpx.AsyncClient,
    agencies: Agencies,
    outsiders: dict[str, SeededOfficer],
    who: str,
) -> None:
    seeded = await _possible_match(client, agencies)
    match_id = seeded["match"]["id"]
    entity = seeded["match"]["candidate_entity_id"]
    csrf = await sign_in(console, outsiders[who])

    home = await console.get("/", headers=HTML)
    assert home.status_code == 200
    assert 'href="/tinjauan"' not in home.text
    for path in (
        "/tinjauan",
        f"/tinjauan/{match_id}",
        f"/tinjauan/{match_id}/gabungkan",
        f"/tinjauan/entitas/{entity}/pisah",
        "/tinjauan/tindakan",
        "/admin/tinjauan",
    ):
        page = await console.get(path, headers=HTML)
        assert page.status_code == 404, path
        assert "Siti Rahmawati" not in page.text
    refused = await console.post(
        f"/tinjauan/{match_id}/gabungkan", data={"csrf_token": csrf}, headers=HTML
    )
    assert refused.status_code == 404
    assert [m["status"] for m in await _matches(client, agencies, "open")] == ["open"]


async def test_the_menu_offers_the_queue_to_analysts_and_system_admins(
    app: FastAPI, console: httpx.AsyncClient, agencies: Agencies
) -> None:
    del agencies
    await _analyst(app, console)
    home = await console.get("/", headers=HTML)
    assert 'href="/tinjauan"' in home.text
    sysadmin = await create_officer(app, "ADMIN", "sysadmin", OfficerRole.SYSTEM_ADMIN)
    await sign_in(console, sysadmin)
    admin_page = await console.get("/admin/instansi", headers=HTML)
    assert 'href="/admin/tinjauan"' in admin_page.text  # the system admin's section link
    section = await console.get("/admin/tinjauan", headers=HTML)
    assert section.status_code == 303
    assert section.headers["location"] == "/tinjauan"


async def test_the_queue_lists_the_pair_and_the_pair_page_shows_both_records(
    app: FastAPI, console: httpx.AsyncClient, client: httpx.AsyncClient, agencies: Agencies
) -> None:
    seeded = await _possible_match(client, agencies)
    match_id = seeded["match"]["id"]
    await _analyst(app, console)

    queue = await console.get("/tinjauan", headers=HTML)
    assert queue.status_code == 200
    assert f'href="/tinjauan/{match_id}"' in queue.text
    assert "Siti Rahmawati ↔" in queue.text
    assert f"{seeded['match']['score'] * 100:.0f}%" in queue.text
    assert "Nama sama" in queue.text  # the reasons in Indonesian

    pair = await console.get(f"/tinjauan/{match_id}", headers=HTML)
    assert pair.status_code == 200
    page = pair.text
    # both records, each with its report's agency, aligned field by field
    assert "Laporan LANAL-DUMAI" in page
    assert "Laporan IMIGRASI-DUMAI" in page
    assert "10 Juni 1995" in page  # only Immigration gave a birth date
    assert "Rahma" in page
    assert "Siti R." in page
    aliases_row = re.search(r"<th scope=\"row\">Nama lain</th>(.*?)</tr>", page, re.S)
    assert aliases_row is not None
    assert "compare__cell--differs" in aliases_row.group(1)
    name_row = re.search(r"<th scope=\"row\">Nama lengkap</th>(.*?)</tr>", page, re.S)
    assert name_row is not None
    assert "compare__cell--same" in name_row.group(1)
    # the analyst's agency may not read these AMBER reports: no link to them
    assert f'href="/laporan/{seeded["first"]["id"]}"' not in page
    assert "Anda hanya melihat data identitasnya" in page
    # the reasons in words, in both languages
    assert "Nama sama (Siti Rahmawati ~ Siti Rahmawati)" in page
    console.cookies.set("lang", "en")
    english = await console.get(f"/tinjauan/{match_id}", headers=HTML)
    assert "Same name (Siti Rahmawati ~ Siti Rahmawati)" in english.text
    assert "Records side by side" in english.text


async def test_merge_then_undo_puts_everything_back(
    app: FastAPI, console: httpx.AsyncClient, client: httpx.AsyncClient, agencies: Agencies
) -> None:
    seeded = await _possible_match(client, agencies)
    match, first, second = seeded["match"], seeded["first"], seeded["second"]
    own_entity = match["person_entity_id"]
    csrf = await _analyst(app, console)

    confirm = await console.get(f"/tinjauan/{match['id']}/gabungkan", headers=HTML)
    assert confirm.status_code == 200
    # it says which entity and case ids change, before anything changes
    assert f"dari entitas {own_entity} ke entitas {match['candidate_entity_id']}" in confirm.text
    assert second["case_id"] in confirm.text
    assert first["case_id"] in confirm.text
    assert await _case_reports(client, agencies, first["case_id"]) == {first["id"]}
    assert [m["id"] for m in await _matches(client, agencies, "open")] == [match["id"]]

    merged = await console.post(
        f"/tinjauan/{match['id']}/gabungkan", data={"csrf_token": csrf}, headers=HTML
    )
    assert merged.status_code == 303
    assert merged.headers["location"] == "/tinjauan/tindakan"
    after = await _report(client, agencies, second["id"])
    assert after["persons"][0]["entity_id"] == match["candidate_entity_id"]
    assert await _case_reports(client, agencies, first["case_id"]) == {first["id"], second["id"]}
    assert await _matches(client, agencies, "open") == []

    actions = await console.get("/tinjauan/tindakan", headers=HTML)
    assert "Kecocokan digabung" in actions.text
    assert "analis.satu" in actions.text  # under the analyst's name, like the API
    found = re.search(r'href="/tinjauan/tindakan/([0-9a-f-]+)/urungkan"', actions.text)
    assert found is not None
    undo_page = await console.get(f"/tinjauan/tindakan/{found.group(1)}/urungkan", headers=HTML)
    assert "1 catatan orang kembali ke entitas sebelumnya" in undo_page.text

    undone = await console.post(
        f"/tinjauan/tindakan/{found.group(1)}/urungkan", data={"csrf_token": csrf}, headers=HTML
    )
    assert undone.status_code == 303
    restored = await _report(client, agencies, second["id"])
    assert restored["persons"][0]["entity_id"] == own_entity
    assert await _case_reports(client, agencies, first["case_id"]) == {first["id"]}
    assert await _case_reports(client, agencies, second["case_id"]) == {second["id"]}
    # the decision is undone too: the pair is back in the queue
    assert [m["id"] for m in await _matches(client, agencies, "open")] == [match["id"]]
    listed = await console.get("/tinjauan/tindakan", headers=HTML)
    assert "Diurungkan" in listed.text

    # a second undo is refused in plain words, not a crash page
    again = await console.post(
        f"/tinjauan/tindakan/{found.group(1)}/urungkan", data={"csrf_token": csrf}, headers=HTML
    )
    assert again.status_code == 409
    assert "sudah diurungkan sebelumnya" in again.text


async def test_keeping_apart_removes_the_pair_from_the_queue(
    app: FastAPI, console: httpx.AsyncClient, client: httpx.AsyncClient, agencies: Agencies
) -> None:
    seeded = await _possible_match(client, agencies)
    match_id = seeded["match"]["id"]
    csrf = await _analyst(app, console)

    confirm = await console.get(f"/tinjauan/{match_id}/tolak", headers=HTML)
    assert "Tidak ada entitas atau kasus yang berubah" in confirm.text
    kept = await console.post(
        f"/tinjauan/{match_id}/tolak", data={"csrf_token": csrf}, headers=HTML
    )
    assert kept.status_code == 303
    assert kept.headers["location"] == "/tinjauan"

    queue = await console.get("/tinjauan", headers=HTML)
    assert f"/tinjauan/{match_id}" not in queue.text
    assert "Tidak ada kemungkinan kecocokan dengan status ini." in queue.text
    rejected = await console.get("/tinjauan?status=rejected", headers=HTML)
    assert f"/tinjauan/{match_id}" in rejected.text
    after = await _report(client, agencies, seeded["second"]["id"])
    assert after["persons"][0]["entity_id"] == seeded["match"]["person_entity_id"]

    # deciding again is a conflict said in plain words on the pair page
    twice = await console.post(
        f"/tinjauan/{match_id}/gabungkan", data={"csrf_token": csrf}, headers=HTML
    )
    assert twice.status_code == 409
    assert "sudah diputuskan" in twice.text
    assert "Siti Rahmawati" in twice.text


async def test_a_post_without_the_csrf_token_is_refused_and_changes_nothing(
    app: FastAPI, console: httpx.AsyncClient, client: httpx.AsyncClient, agencies: Agencies
) -> None:
    seeded = await _possible_match(client, agencies)
    match_id = seeded["match"]["id"]
    await _analyst(app, console)

    for path in (f"/tinjauan/{match_id}/gabungkan", f"/tinjauan/{match_id}/tolak"):
        refused = await console.post(path, data={}, headers=HTML)
        assert refused.status_code == 403, path
        forged = await console.post(path, data={"csrf_token": "forged"}, headers=HTML)
        assert forged.status_code == 403, path
    split = await console.post(
        f"/tinjauan/entitas/{seeded['match']['candidate_entity_id']}/pisah",
        data={"catatan": "x"},
        headers=HTML,
    )
    assert split.status_code == 403
    assert [m["status"] for m in await _matches(client, agencies, "open")] == ["open"]


async def test_splitting_an_entity_moves_the_chosen_records_out(
    app: FastAPI, console: httpx.AsyncClient, client: httpx.AsyncClient, agencies: Agencies
) -> None:
    first = await submit_report(client, agencies["IMIGRASI-DUMAI"], deferral())
    second = await submit_report(client, agencies["LANAL-DUMAI"], interception())
    entity = first["persons"][0]["entity_id"]
    assert second["persons"][1]["entity_id"] == entity  # linked by the same NIK
    csrf = await _analyst(app, console)

    form = await console.get(f"/tinjauan/entitas/{entity}/pisah", headers=HTML)
    assert form.status_code == 200
    boxes = re.findall(r'name="catatan" value="([0-9a-f-]+)"', form.text)
    assert len(boxes) == 2
    odd = await console.get(f"/tinjauan/entitas/{entity}/pisah?kembali=../../keluar", headers=HTML)
    assert "keluar" not in odd.text.split("<main", 1)[1]  # only a possible match's id goes back
    nothing = await console.post(
        f"/tinjauan/entitas/{entity}/pisah", data={"csrf_token": csrf}, headers=HTML
    )
    assert nothing.status_code == 422
    assert 'href="#persons"' in nothing.text
    assert "Pilih minimal satu catatan" in nothing.text
    everything = await console.post(
        f"/tinjauan/entitas/{entity}/pisah",
        data={"csrf_token": csrf, "catatan": boxes},
        headers=HTML,
    )
    assert everything.status_code == 422
    assert "Sisakan minimal satu catatan" in everything.text

    navy = next(b for b in boxes if "Siti Nur Haliza" in _choice(form.text, b))
    split = await console.post(
        f"/tinjauan/entitas/{entity}/pisah",
        data={"csrf_token": csrf, "catatan": navy},
        headers=HTML,
    )
    assert split.status_code == 303
    navy_report = await _report(client, agencies, second["id"])
    assert navy_report["persons"][1]["entity_id"] not in (entity, None)
    assert (await _report(client, agencies, first["id"]))["persons"][0]["entity_id"] == entity
    assert "Pemisahan entitas" in (await console.get("/tinjauan/tindakan", headers=HTML)).text


def _choice(page: str, person_id: str) -> str:
    found = re.search(rf'value="{person_id}".*?</label>', page, re.S)
    assert found is not None
    return found.group(0)


#: Agency LANAL's RED report names a woman for POLRES only; Immigration's GREEN report names
#: her again (same NIK, another birth date and phone): a restricted possible match.
HIDDEN_PERSON = victim("Rina Marlina", "2001-12-30", "3201017012010002", phone="0812-1111-2222")
SENT_PERSON = victim("Rina Marlina", "2001-12-03", "3201017012010002", phone="0813-9999-8888")


async def test_a_restricted_match_shows_nothing_of_the_hidden_report_to_an_analyst(
    app: FastAPI, console: httpx.AsyncClient, client: httpx.AsyncClient, agencies: Agencies
) -> None:
    hidden = await submit_report(
        client,
        agencies["LANAL-DUMAI"],
        interception(
            external_ref="LANAL-HIDDEN-1",
            tlp="RED",
            recipients=["POLRES-DUMAI"],
            persons=[HIDDEN_PERSON],
        ),
    )
    await submit_report(
        client, agencies["IMIGRASI-DUMAI"], deferral(tlp="GREEN", persons=[SENT_PERSON])
    )
    [match] = [m for m in await _matches(client, agencies, "open") if m["restricted"]]
    await _analyst(app, console)

    pages = {
        "queue": (await console.get("/tinjauan", headers=HTML)).text,
        "pair": (await console.get(f"/tinjauan/{match['id']}", headers=HTML)).text,
        "accept": (await console.get(f"/tinjauan/{match['id']}/gabungkan", headers=HTML)).text,
        "split": (
            await console.get(
                f"/tinjauan/entitas/{match['candidate_entity_id']}/pisah", headers=HTML
            )
        ).text,
    }
    assert "0813-9999-8888" in pages["pair"]  # Immigration's GREEN record is shown
    assert "Terbatas" in pages["queue"]
    assert "Tanggal lahir berbeda satu angka" in pages["pair"]  # the reason, without values
    for name, page in pages.items():
        for secret in (
            "0812-1111-2222",
            "6281211112222",
            "2001-12-30",
            "30 Desember 2001",
            "LANAL-DUMAI",
            "LANAL-HIDDEN-1",
            hidden["id"],
            hidden["case_id"] if name != "accept" else "never-in-a-page",
        ):
            assert secret not in page, (name, secret)
    assert "tidak boleh Anda baca" in pages["pair"]

    # a system admin is hidden nothing (as through the API): the RED record is shown to them
    sysadmin = await create_officer(app, "ADMIN", "sysadmin", OfficerRole.SYSTEM_ADMIN)
    await sign_in(console, sysadmin)
    admin_view = (await console.get(f"/tinjauan/{match['id']}", headers=HTML)).text
    assert "0812-1111-2222" in admin_view
    assert f'href="/laporan/{hidden["id"]}"' in admin_view


async def test_the_queue_orders_by_score_and_pages_with_the_cursor(
    app: FastAPI,
    console: httpx.AsyncClient,
    client: httpx.AsyncClient,
    agencies: Agencies,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for i, name in enumerate(("Siti Rahmawati", "Dewi Lestari", "Rina Susanti")):
        dated = victim(name, f"199{i}-06-10")
        await submit_report(
            client,
            agencies["IMIGRASI-DUMAI"],
            deferral(external_ref=f"IMI-{i}", persons=[dated]),
        )
        undated = {"role": "VICTIM", "full_name": name, "sex": "FEMALE", "nationality": "IDN"}
        if i == 0:
            undated["aliases"] = ["Rahma"]
        await submit_report(
            client,
            agencies["LANAL-DUMAI"],
            interception(external_ref=f"LANAL-{i}", persons=[undated]),
        )
    matches = await _matches(client, agencies, "open")
    assert len(matches) == 3
    await _analyst(app, console)
    monkeypatch.setattr(review_pages, "PAGE_SIZE", 2)
    first = await console.get("/tinjauan?urut=skor", headers=HTML)
    shown = re.findall(r'href="/tinjauan/([0-9a-f-]{36})"', first.text)
    assert len(shown) == 2
    scores = {m["id"]: m["score"] for m in matches}
    assert scores[shown[0]] >= scores[shown[1]]
    more = re.search(r'href="/tinjauan\?status=open&amp;urut=skor&amp;cursor=([^"]+)"', first.text)
    assert more is not None
    second = await console.get(f"/tinjauan?urut=skor&cursor={more.group(1)}", headers=HTML)
    rest = re.findall(r'href="/tinjauan/([0-9a-f-]{36})"', second.text)
    assert sorted(shown + rest) == sorted(scores)
    newest = await console.get("/tinjauan", headers=HTML)
    newest_first = re.findall(r'href="/tinjauan/([0-9a-f-]{36})"', newest.text)
    assert newest_first[0] == matches[-1]["id"]  # the API lists them as found: oldest first
    bad = await console.get("/tinjauan?cursor=not-a-cursor", headers=HTML)
    assert bad.status_code == 400


async def test_every_review_request_is_audited_under_the_officers_name(
    app: FastAPI,
    console: httpx.AsyncClient,
    client: httpx.AsyncClient,
    agencies: Agencies,
    outsiders: dict[str, SeededOfficer],
) -> None:
    seeded = await _possible_match(client, agencies)
    match = seeded["match"]
    csrf = await _analyst(app, console)
    await console.get(f"/tinjauan/{match['id']}", headers=HTML)
    await console.post(f"/tinjauan/{match['id']}/gabungkan", data={"csrf_token": csrf})
    await sign_in(console, outsiders["officer"])
    await console.get("/tinjauan", headers=HTML)

    def events(actor: str) -> Any:
        return client.get("/v1/admin/audit", params={"actor": actor}, headers=agencies["ADMIN"])

    analyst = [
        (e["action"], e["outcome"], e["object_ids"])
        for e in (await events("analis.satu")).json()["items"]
    ]
    read = next(ids for action, _, ids in analyst if action == "resolution.read_possible_match")
    assert {match["id"], seeded["first"]["id"], seeded["second"]["id"]} <= set(read)
    decided = next((o, ids) for action, o, ids in analyst if action == "resolution.decide")
    assert decided[0] == "success"
    assert match["id"] in decided[1]
    refused = [
        (e["action"], e["http_status"]) for e in (await events("petugas.imigrasi")).json()["items"]
    ]
    assert ("resolution.list_possible_matches", 404) in refused


async def test_a_large_candidate_shows_its_first_records_and_says_how_many_more(
    app: FastAPI,
    console: httpx.AsyncClient,
    client: httpx.AsyncClient,
    agencies: Agencies,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    await submit_report(client, agencies["IMIGRASI-DUMAI"], deferral(persons=[DATED]))
    again = {**DATED, "aliases": [], "phone": "0812-3456-7890"}
    await submit_report(client, agencies["POLRES-DUMAI"], deferral(persons=[again]))
    await submit_report(client, agencies["LANAL-DUMAI"], interception(persons=[UNDATED]))
    [match] = await _matches(client, agencies, "open")
    await _analyst(app, console)
    monkeypatch.setattr(review_pages, "CANDIDATE_COLUMNS", 1)

    page = (await console.get(f"/tinjauan/{match['id']}", headers=HTML)).text

    assert "Calon, catatan 1" in page
    assert "Calon, catatan 2" not in page
    assert "1 catatan calon lainnya tidak ditampilkan di sini" in page
