"""Routing rules in the admin console (issue 19), over HTTP as a browser sends it.

The rules are the API's (``/v1/admin/routing-rules``, admin scope only): a SYSTEM_ADMIN sees them
in words, creates, edits, switches, moves and deletes them, tries reports against them and loads
the default TIMPORA set; an AGENCY_ADMIN or OFFICER gets the console's 404 everywhere, and no POST
works without the session's CSRF token. What each change does is checked where a user notices
it: the routing of the next submitted report.
"""

from __future__ import annotations

import json
import re
from typing import Any

import httpx
import pytest

from app.models.agency import AgencyKind
from app.models.officer import OfficerRole
from tests.factories import (
    HTML,
    SeededOfficer,
    bearer,
    create_admin,
    create_agency,
    create_officer,
    sign_in,
    submit_report,
    token_for,
)
from tests.report_samples import deferral

RULES = "/admin/aturan-rute"


@pytest.fixture
async def people(app: Any) -> dict[str, SeededOfficer]:
    """ADMIN with a system admin; the Dumai agencies, Immigration with an admin and an officer."""
    await create_admin(app)
    await create_agency(app, "IMIGRASI-DUMAI", AgencyKind.IMMIGRATION, region_code="14.72")
    await create_agency(app, "POLRES-DUMAI", AgencyKind.POLICE, region_code="14.72")
    await create_agency(app, "BP3MI-RIAU", AgencyKind.MIGRANT_WORKER_PROTECTION, region_code="14")
    await create_agency(app, "DISNAKER-DUMAI", AgencyKind.MANPOWER, region_code="14.72")
    return {
        "sysadmin": await create_officer(app, "ADMIN", "sysadmin", OfficerRole.SYSTEM_ADMIN),
        "admin": await create_officer(
            app, "IMIGRASI-DUMAI", "admin.imigrasi", OfficerRole.AGENCY_ADMIN
        ),
        "officer": await create_officer(app, "IMIGRASI-DUMAI", "petugas.imigrasi"),
    }


async def _rule(client: httpx.AsyncClient, app: Any, **body: Any) -> dict[str, Any]:
    """A rule created through the API, as an integrator would."""
    headers = bearer(await token_for(client, app, "ADMIN"))
    answer = await client.post("/v1/admin/routing-rules", json=body, headers=headers)
    assert answer.status_code == 201, answer.text
    created: dict[str, Any] = answer.json()
    return created


async def _routed(client: httpx.AsyncClient, app: Any, ref: str) -> list[tuple[str, str]]:
    """Immigration submits the deferral sample; where it was routed, and by which rule."""
    headers = bearer(await token_for(client, app, "IMIGRASI-DUMAI"))
    created = await submit_report(client, headers, deferral(external_ref=ref))
    return [(r["agency"], r["rule"]) for r in created["routed_to"]]


def _rule_ids(page: str) -> list[str]:
    return re.findall(r'id="rule-([0-9a-f-]{36})"', page)


async def test_the_rules_are_listed_in_order_each_in_words_in_both_languages(
    app: Any, client: httpx.AsyncClient, console: httpx.AsyncClient, people: Any
) -> None:
    await _rule(
        client,
        app,
        name="pmi-nonprosedural",
        case_types=["TPPO"],
        modus_operandi=["NONPROCEDURAL_MIGRANT_WORKER"],
        recipients=["BP3MI-RIAU", "DISNAKER-DUMAI"],
    )
    await _rule(client, app, name="penyidikan", active=False, recipients=["POLRES-DUMAI"])
    await sign_in(console, people["sysadmin"])

    page = (await console.get(RULES, headers=HTML)).text
    assert (
        "Laporan TPPO dengan modus PMI nonprosedural dikirim ke BP3MI-RIAU, DISNAKER-DUMAI." in page
    )
    assert "Semua laporan dikirim ke POLRES-DUMAI." in page
    assert page.index("pmi-nonprosedural") < page.index("penyidikan")  # evaluation order
    second = page.split('id="rule-')[2]
    assert "Nonaktif" in second  # the paused rule says so
    assert 'href="/admin/aturan-rute"' in page  # the system admin's sections name the page

    console.cookies.set("lang", "en")
    english = (await console.get(RULES, headers=HTML)).text
    assert "TPPO reports with modus non-procedural migrant worker" in english
    assert "go to BP3MI-RIAU, DISNAKER-DUMAI." in english
    assert "All reports go to POLRES-DUMAI." in english


async def test_a_rule_with_errors_comes_back_with_plain_words_then_is_created_and_routes(
    app: Any, client: httpx.AsyncClient, console: httpx.AsyncClient, people: Any
) -> None:
    csrf = await sign_in(console, people["sysadmin"])
    form = (await console.get(f"{RULES}/baru", headers=HTML)).text
    assert 'value="BP3MI-RIAU"' in form  # recipients are chosen from the active agencies
    assert 'value="NONPROCEDURAL_MIGRANT_WORKER"' in form
    assert 'value="RED"' not in form  # no rule can route a RED report: not offered

    typed = {
        "name": "PMI Nonprosedural",
        "description": "BP3MI melindungi calon PMI.",
        "active": "1",
        "case_types": "TPPO",
        "modus_operandi": "NONPROCEDURAL_MIGRANT_WORKER",
        "region_prefixes": "14.72",
        "csrf_token": csrf,
    }
    refused = await console.post(f"{RULES}/baru", data=typed, headers=HTML)
    assert refused.status_code == 422
    assert 'id="name-error"' in refused.text
    assert 'id="recipients-error"' in refused.text
    assert 'href="#recipients"' in refused.text  # the summary links to the field
    assert "Pilih minimal satu instansi penerima" in refused.text
    assert 'value="PMI Nonprosedural"' in refused.text  # nothing typed is lost
    assert "BP3MI melindungi calon PMI." in refused.text
    assert re.search(r'value="NONPROCEDURAL_MIGRANT_WORKER" checked', refused.text)

    # a region no report can carry: the API refuses a rule that could never match
    never = {**typed, "name": "pmi-nonprosedural", "region_prefixes": "14.72, 99.99"}
    never["recipients"] = "BP3MI-RIAU"
    refused = await console.post(f"{RULES}/baru", data=never, headers=HTML)
    assert refused.status_code == 422
    assert 'id="region_prefixes-error"' in refused.text
    assert "tidak akan pernah cocok" in refused.text
    assert 'value="14.72, 99.99"' in refused.text

    made = await console.post(
        f"{RULES}/baru", data={**never, "region_prefixes": "14.72"}, headers=HTML
    )
    assert made.status_code == 303
    listed = await console.get(made.headers["location"], headers=HTML)
    assert "Aturan disimpan di akhir urutan" in listed.text
    assert (
        "Laporan TPPO dengan modus PMI nonprosedural dan di wilayah Kota Dumai"
        " dikirim ke BP3MI-RIAU." in listed.text
    )
    assert await _routed(client, app, "IMI/1") == [("BP3MI-RIAU", "pmi-nonprosedural")]

    taken = await console.post(f"{RULES}/baru", data=never | {"region_prefixes": ""})
    assert taken.status_code == 409
    assert "Nama ini sudah dipakai aturan lain" in taken.text


async def test_editing_a_rule_keeps_its_place_and_changes_the_next_routing(
    app: Any, client: httpx.AsyncClient, console: httpx.AsyncClient, people: Any
) -> None:
    rule = await _rule(client, app, name="pmi", recipients=["BP3MI-RIAU"], tlps=["AMBER"])
    await _rule(client, app, name="polisi", recipients=["POLRES-DUMAI"])
    csrf = await sign_in(console, people["sysadmin"])
    edit = f"{RULES}/{rule['id']}"
    form = (await console.get(edit, headers=HTML)).text
    assert 'value="pmi"' in form
    assert re.search(r'value="BP3MI-RIAU" checked', form)
    assert re.search(r'value="AMBER" checked', form)

    saved = await console.post(
        edit,
        data={
            "name": "pmi",
            "active": "1",
            "tlps": "AMBER",
            "recipients": ["BP3MI-RIAU", "DISNAKER-DUMAI"],
            "action": "save",
            "csrf_token": csrf,
        },
    )
    assert saved.status_code == 303
    page = (await console.get(RULES, headers=HTML)).text
    assert _rule_ids(page)[0] == rule["id"]  # its place is kept
    assert "berlabel TLP:AMBER dikirim ke BP3MI-RIAU, DISNAKER-DUMAI." in page
    assert await _routed(client, app, "IMI/2") == [
        ("BP3MI-RIAU", "pmi"),
        ("DISNAKER-DUMAI", "pmi"),
        ("POLRES-DUMAI", "polisi"),
    ]


async def test_moving_a_rule_up_changes_which_rule_routes_the_next_report(
    app: Any, client: httpx.AsyncClient, console: httpx.AsyncClient, people: Any
) -> None:
    await _rule(client, app, name="umum", recipients=["POLRES-DUMAI"])
    second = await _rule(
        client, app, name="khusus-tppo", case_types=["TPPO"], recipients=["POLRES-DUMAI"]
    )
    assert await _routed(client, app, "IMI/3") == [("POLRES-DUMAI", "umum")]
    csrf = await sign_in(console, people["sysadmin"])

    page = (await console.get(RULES, headers=HTML)).text
    assert re.search(
        rf'action="{RULES}/{second["id"]}/turun"[^>]*>\s*<input[^>]*>\s*<button[^>]*disabled', page
    )
    moved = await console.post(f"{RULES}/{second['id']}/naik", data={"csrf_token": csrf})
    assert moved.status_code == 303
    assert moved.headers["location"] == f"{RULES}#rule-{second['id']}"
    page = (await console.get(RULES, headers=HTML)).text
    assert "Urutan aturan diubah" in page
    assert _rule_ids(page)[0] == second["id"]
    assert await _routed(client, app, "IMI/4") == [("POLRES-DUMAI", "khusus-tppo")]

    # at the top it stays the top
    again = await console.post(f"{RULES}/{second['id']}/naik", data={"csrf_token": csrf})
    assert again.status_code == 303
    assert _rule_ids((await console.get(RULES, headers=HTML)).text)[0] == second["id"]


async def test_a_paused_rule_routes_nothing_until_it_is_activated_again(
    app: Any, client: httpx.AsyncClient, console: httpx.AsyncClient, people: Any
) -> None:
    rule = await _rule(client, app, name="polisi", recipients=["POLRES-DUMAI"])
    csrf = await sign_in(console, people["sysadmin"])
    paused = await console.post(f"{RULES}/{rule['id']}/nonaktifkan", data={"csrf_token": csrf})
    assert paused.status_code == 303
    assert "Aturan dinonaktifkan" in (await console.get(RULES, headers=HTML)).text
    assert await _routed(client, app, "IMI/5") == []
    await console.post(f"{RULES}/{rule['id']}/aktifkan", data={"csrf_token": csrf})
    assert await _routed(client, app, "IMI/6") == [("POLRES-DUMAI", "polisi")]


async def test_deleting_a_rule_says_what_happens_first_then_it_routes_no_more(
    app: Any, client: httpx.AsyncClient, console: httpx.AsyncClient, people: Any
) -> None:
    rule = await _rule(client, app, name="polisi", recipients=["POLRES-DUMAI"])
    csrf = await sign_in(console, people["sysadmin"])
    confirm = await console.get(f"{RULES}/{rule['id']}/hapus", headers=HTML)
    assert confirm.status_code == 200
    assert "Semua laporan dikirim ke POLRES-DUMAI." in confirm.text
    assert "tetap ada pada penerimanya" in confirm.text
    assert "nonaktifkan aturan saja" in confirm.text
    assert len(_rule_ids((await console.get(RULES, headers=HTML)).text)) == 1  # not yet

    deleted = await console.post(f"{RULES}/{rule['id']}/hapus", data={"csrf_token": csrf})
    assert deleted.status_code == 303
    page = (await console.get(RULES, headers=HTML)).text
    assert "Aturan dihapus." in page
    assert _rule_ids(page) == []
    assert await _routed(client, app, "IMI/7") == []
    gone = await console.get(f"{RULES}/{rule['id']}", headers=HTML)
    assert gone.status_code == 404


async def test_the_dry_run_names_who_receives_a_stored_or_pasted_report_and_by_which_rule(
    app: Any, client: httpx.AsyncClient, console: httpx.AsyncClient, people: Any
) -> None:
    await _rule(
        client,
        app,
        name="pmi",
        modus_operandi=["NONPROCEDURAL_MIGRANT_WORKER"],
        recipients=["BP3MI-RIAU"],
    )
    headers = bearer(await token_for(client, app, "IMIGRASI-DUMAI"))
    report = await submit_report(
        client, headers, deferral(recipients=["POLRES-DUMAI"], external_ref="IMI/8")
    )
    csrf = await sign_in(console, people["sysadmin"])

    tried = await console.post(
        f"{RULES}/uji", data={"report_id": report["id"], "csrf_token": csrf}, headers=HTML
    )
    assert tried.status_code == 200
    result = tried.text.split('id="dry-run-result"')[1]
    assert "POLRES-DUMAI" in result
    assert "disebut langsung oleh pengirim" in result
    assert "dikirim ke BP3MI-RIAU." in result
    assert "IMIGRASI-DUMAI" in result  # the sender, among the facts used
    assert result.index("POLRES-DUMAI") < result.index("BP3MI-RIAU")  # explicit ones first
    audit = await client.get(
        "/v1/admin/audit",
        params={"action": "rule.dry_run", "object_id": report["id"]},
        headers=bearer(await token_for(client, app, "ADMIN")),
    )
    events = audit.json()["items"]
    assert [e["actor_username"] for e in events] == ["sysadmin"]  # the read of the report

    pasted = json.dumps(deferral(modus_operandi=["TOURIST_DISGUISE"]))
    nobody = await console.post(
        f"{RULES}/uji",
        data={"report_json": pasted, "source_agency_code": "POLRES-DUMAI", "csrf_token": csrf},
    )
    assert nobody.status_code == 200
    assert "Tidak ada instansi yang akan menerima laporan ini." in nobody.text

    sample = json.dumps(
        {
            "source_agency_code": "BP3MI-RIAU",
            "case_type": "TPPO",
            "tlp": "GREEN",
            "modus_operandi": ["NONPROCEDURAL_MIGRANT_WORKER"],
        }
    )
    own = await console.post(f"{RULES}/uji", data={"report_json": sample, "csrf_token": csrf})
    assert "Tidak ada instansi yang akan menerima" in own.text  # never the sender itself

    for data, field, words in [
        ({"report_id": "bukan-nomor"}, "report_id", "Tidak ada laporan dengan nomor ini"),
        ({"report_id": "0" * 8 + "-0000-4000-8000-" + "0" * 12}, "report_id", "Tidak ada laporan"),
        ({}, "report_id", "Isi nomor laporan tersimpan"),
        ({"report_json": "{kurung"}, "report_json", "tidak dapat dipakai"),
        ({"report_json": pasted}, "source_agency_code", "Pilih instansi yang mengirim"),
        (
            {"report_json": '{"case_type": "X"}', "source_agency_code": "POLRES-DUMAI"},
            "report_json",
            "/case_type",
        ),
    ]:
        refused = await console.post(f"{RULES}/uji", data={**data, "csrf_token": csrf})
        assert refused.status_code == 422, data
        assert f'id="{field}-error"' in refused.text, data
        assert words in refused.text, data


async def test_an_edit_can_be_tried_before_it_is_saved(
    app: Any, client: httpx.AsyncClient, console: httpx.AsyncClient, people: Any
) -> None:
    rule = await _rule(client, app, name="pmi", recipients=["BP3MI-RIAU"])
    headers = bearer(await token_for(client, app, "IMIGRASI-DUMAI"))
    report = await submit_report(client, headers, deferral(external_ref="IMI/9"))
    csrf = await sign_in(console, people["sysadmin"])
    edit = f"{RULES}/{rule['id']}"
    tried = await console.post(
        edit,
        data={
            "name": "pmi",
            "active": "1",
            "recipients": ["BP3MI-RIAU", "DISNAKER-DUMAI"],
            "report_id": report["id"],
            "action": "try",
            "csrf_token": csrf,
        },
    )
    assert tried.status_code == 200
    result = tried.text.split('id="dry-run-result"')[1]
    assert "DISNAKER-DUMAI" in result
    assert re.search(r'value="DISNAKER-DUMAI" checked', tried.text)  # the edit is still there
    assert f'value="{report["id"]}"' in tried.text
    # nothing was saved
    assert not re.search(
        r'value="DISNAKER-DUMAI" checked', (await console.get(edit, headers=HTML)).text
    )
    assert await _routed(client, app, "IMI/10") == [("BP3MI-RIAU", "pmi")]


async def test_the_default_timpora_rules_are_shown_before_they_are_loaded_for_a_region(
    app: Any, client: httpx.AsyncClient, console: httpx.AsyncClient, people: Any
) -> None:
    csrf = await sign_in(console, people["sysadmin"])
    form = await console.get(f"{RULES}/bawaan", headers=HTML)
    assert 'list="regions"' in form.text
    assert "Kota Dumai" in form.text

    preview = await console.get(f"{RULES}/bawaan?region_code=14.72", headers=HTML)
    assert preview.status_code == 200
    assert "Aturan bawaan untuk Kota Dumai (14.72)" in preview.text
    assert "criminal-investigation" in preview.text
    assert "Dilewati: tidak ada instansi sejenis" in preview.text  # no Navy base registered
    added = int(re.search(r"Tambahkan (\d+) aturan", preview.text).group(1))  # type: ignore[union-attr]
    assert added >= 3
    assert _rule_ids((await console.get(RULES, headers=HTML)).text) == []  # nothing yet

    bad = await console.get(f"{RULES}/bawaan?region_code=Dumai", headers=HTML)
    assert bad.status_code == 422
    assert 'id="region_code-error"' in bad.text

    loaded = await console.post(
        f"{RULES}/bawaan", data={"region_code": "14.72", "csrf_token": csrf}
    )
    assert loaded.status_code == 303
    page = (await console.get(RULES, headers=HTML)).text
    assert "Aturan bawaan TIMPORA dimuat" in page
    assert len(_rule_ids(page)) == added
    assert ("POLRES-DUMAI", "criminal-investigation") in await _routed(client, app, "IMI/11")
    again = await console.get(f"{RULES}/bawaan?region_code=14.72", headers=HTML)
    assert "Sudah ada, dibiarkan" in again.text
    assert "Tidak ada yang perlu ditambahkan" in again.text


def _pages(rule_id: str) -> list[str]:
    return [
        RULES,
        f"{RULES}/baru",
        f"{RULES}/{rule_id}",
        f"{RULES}/{rule_id}/hapus",
        f"{RULES}/uji",
        f"{RULES}/bawaan",
    ]


def _posts(rule_id: str) -> list[tuple[str, dict[str, Any]]]:
    rule = {"name": "baru", "recipients": "POLRES-DUMAI", "action": "save"}
    return [
        (f"{RULES}/baru", rule),
        (f"{RULES}/{rule_id}", {**rule, "name": "polisi"}),
        (f"{RULES}/{rule_id}/naik", {}),
        (f"{RULES}/{rule_id}/nonaktifkan", {}),
        (f"{RULES}/{rule_id}/hapus", {}),
        (f"{RULES}/uji", {"report_json": "{}"}),
        (f"{RULES}/bawaan", {"region_code": "14.72"}),
    ]


@pytest.mark.parametrize("who", ["admin", "officer"])
async def test_agency_admins_and_officers_get_404_as_from_the_api(
    who: str, app: Any, client: httpx.AsyncClient, console: httpx.AsyncClient, people: Any
) -> None:
    rule = await _rule(client, app, name="polisi", recipients=["POLRES-DUMAI"])
    csrf = await sign_in(console, people[who])
    for path in _pages(rule["id"]):
        answer = await console.get(path, headers=HTML)
        assert answer.status_code == 404, path
        assert "Halaman tidak ditemukan" in answer.text
        assert "polisi" not in answer.text
    for path, data in _posts(rule["id"]):
        answer = await console.post(path, data={**data, "csrf_token": csrf}, headers=HTML)
        assert answer.status_code == 404, path
    assert await _routed(client, app, "IMI/12") == [("POLRES-DUMAI", "polisi")]  # untouched
    assert 'href="/admin/aturan-rute"' not in (await console.get("/", headers=HTML)).text


async def test_every_post_needs_the_csrf_token_and_changes_nothing_without_it(
    app: Any, client: httpx.AsyncClient, console: httpx.AsyncClient, people: Any
) -> None:
    rule = await _rule(client, app, name="polisi", recipients=["POLRES-DUMAI"])
    await sign_in(console, people["sysadmin"])
    for path, data in _posts(rule["id"]):
        for token in (None, "salah"):
            body = data if token is None else {**data, "csrf_token": token}
            answer = await console.post(path, data=body, headers=HTML)
            assert answer.status_code == 403, path
    page = (await console.get(RULES, headers=HTML)).text
    assert len(_rule_ids(page)) == 1
    assert "tag--off" not in page  # still active
    assert await _routed(client, app, "IMI/13") == [("POLRES-DUMAI", "polisi")]


async def test_signed_out_visitors_are_sent_to_sign_in(client: httpx.AsyncClient) -> None:
    answer = await client.get(RULES, headers=HTML)
    assert answer.status_code == 303
    assert answer.headers["location"] == "/"
