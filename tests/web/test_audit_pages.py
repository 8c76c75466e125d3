"""The audit trail in the admin console (issue 19): search, one event, the chain check with
anchors, and the export, as a SYSTEM_ADMIN sees them; everyone else gets 404, as from
``/v1/admin/audit`` (an ``Admin``-only API)."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import text

from app.db import transaction
from app.models.officer import OfficerRole
from app.web import admin_audit_pages
from tests.conftest import ON_POSTGRES
from tests.factories import (
    HTML,
    SeededOfficer,
    bearer,
    create_admin,
    create_agency,
    create_officer,
    sign_in,
    token_for,
)
from tests.report_samples import deferral


@pytest.fixture
async def people(app: Any) -> dict[str, SeededOfficer]:
    """ADMIN with a system admin; IMIGRASI-DUMAI with an admin and an officer; POLRES-DUMAI."""
    await create_admin(app)
    await create_agency(app, "IMIGRASI-DUMAI")
    await create_agency(app, "POLRES-DUMAI")
    return {
        "sysadmin": await create_officer(app, "ADMIN", "sysadmin", OfficerRole.SYSTEM_ADMIN),
        "admin": await create_officer(
            app, "IMIGRASI-DUMAI", "admin.imigrasi", OfficerRole.AGENCY_ADMIN
        ),
        "officer": await create_officer(app, "IMIGRASI-DUMAI", "petugas.imigrasi"),
    }


async def _report_read_by_officer(
    app: Any, client: httpx.AsyncClient, officer: SeededOfficer
) -> str:
    """IMIGRASI-DUMAI's system files a report, then its officer opens it in the console."""
    token = await token_for(client, app, "IMIGRASI-DUMAI")
    created = await client.post("/v1/reports", json=deferral(), headers=bearer(token))
    assert created.status_code == 201, created.text
    report_id: str = created.json()["id"]
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="https://sinergi.test") as reader:
        await sign_in(reader, officer)
        assert (await reader.get(f"/laporan/{report_id}", headers=HTML)).status_code == 200
    return report_id


def _seqs(html: str) -> list[int]:
    """The event numbers a result list links to, in page order."""
    return [int(n) for n in re.findall(r'href="/admin/audit/(\d+)"', html)]


async def test_the_audit_page_finds_who_read_a_report_and_opens_the_event(
    app: Any, client: httpx.AsyncClient, console: httpx.AsyncClient, people: dict[str, Any]
) -> None:
    report_id = await _report_read_by_officer(app, client, people["officer"])
    await sign_in(console, people["sysadmin"])

    page = await console.get(
        "/admin/audit", params={"objek": report_id, "tindakan": "report.read"}, headers=HTML
    )
    assert page.status_code == 200
    assert 'href="/admin/audit"' in page.text  # the section menu names the page
    assert "petugas.imigrasi" in page.text
    rows = page.text.split("<tbody>")[1].split("</tbody>")[0]
    assert rows.count("<tr>") == 1  # the system's own submission is report.create, not a read
    assert f'value="{report_id}"' in page.text  # the search stays in its field

    (seq,) = _seqs(page.text)
    event = await console.get(f"/admin/audit/{seq}", headers=HTML)
    assert event.status_code == 200
    for shown in ("report.read", "petugas.imigrasi", "IMIGRASI-DUMAI", report_id, "Berhasil"):
        assert shown in event.text, shown
    hashes = re.findall(r"<code>([0-9a-f]{64})</code>", event.text)
    assert len(hashes) == 2  # its own hash and the previous event's
    assert hashes[0] != hashes[1]
    assert re.search(r"<code>[0-9a-f]{32}</code>|<code>[0-9a-f-]{36}</code>", event.text)
    assert f'href="/admin/audit?objek={report_id}"' in event.text
    assert f'href="/admin/audit/{seq - 1}"' in event.text

    by_officer = await console.get("/admin/audit?petugas=petugas.imigrasi", headers=HTML)
    assert seq in _seqs(by_officer.text)
    other_agency = await console.get(
        "/admin/audit", params={"objek": report_id, "instansi": "polres-dumai"}, headers=HTML
    )
    assert _seqs(other_agency.text) == []
    assert "Tidak ada catatan audit yang cocok" in other_agency.text
    denied = await console.get(
        "/admin/audit", params={"objek": report_id, "hasil": "denied"}, headers=HTML
    )
    assert _seqs(denied.text) == []


async def test_results_are_newest_first_and_paged_with_the_search_kept(
    app: Any,
    client: httpx.AsyncClient,
    console: httpx.AsyncClient,
    people: dict[str, Any],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(admin_audit_pages, "PAGE_SIZE", 3)
    await sign_in(console, people["sysadmin"])
    for _ in range(4):  # each visit is itself an audit.search event of the system admin
        await console.get("/admin/audit?petugas=sysadmin&tindakan=audit.search", headers=HTML)
    first = await console.get("/admin/audit?petugas=sysadmin&tindakan=audit.search", headers=HTML)
    newest = _seqs(first.text)
    assert len(newest) == 3
    assert newest == sorted(newest, reverse=True)
    older = re.search(r'href="(/admin/audit\?[^"]*cursor=[^"]+)"', first.text)
    assert older, first.text
    link = older.group(1).replace("&amp;", "&")
    assert "petugas=sysadmin" in link
    assert "tindakan=audit.search" in link
    second = await console.get(link, headers=HTML)
    rest = _seqs(second.text)
    assert rest
    assert max(rest) < min(newest)
    assert "Kembali ke yang terbaru" in second.text


async def test_the_time_range_is_in_wib_days_and_bad_input_is_shown_beside_its_field(
    console: httpx.AsyncClient, people: dict[str, Any]
) -> None:
    await sign_in(console, people["sysadmin"])
    today = (datetime.now(UTC) + timedelta(hours=7)).date()  # the WIB day
    yesterday = today - timedelta(days=1)
    found = await console.get(f"/admin/audit?dari={yesterday}&sampai={today}", headers=HTML)
    assert _seqs(found.text)
    none = await console.get(f"/admin/audit?sampai={yesterday}", headers=HTML)
    assert _seqs(none.text) == []

    bad = await console.get(
        "/admin/audit?petugas=sysadmin&dari=2026-13-01&hasil=entah", headers=HTML
    )
    assert bad.status_code == 422
    assert 'id="dari-error"' in bad.text
    assert 'href="#dari"' in bad.text
    assert 'id="hasil-error"' in bad.text
    assert 'value="2026-13-01"' in bad.text
    assert 'value="sysadmin"' in bad.text
    assert _seqs(bad.text) == []
    backwards = await console.get(f"/admin/audit?dari={today}&sampai={yesterday}", headers=HTML)
    assert backwards.status_code == 422
    assert 'id="sampai-error"' in backwards.text
    assert "tidak boleh sebelum" in backwards.text


async def _tamper(app: Any, statement: str) -> None:
    """Change the table behind the service's back (on PostgreSQL past its trigger, as a DBA)."""
    async with transaction(app.state.session_factory) as session:
        if ON_POSTGRES:
            await session.execute(text("SET LOCAL session_replication_role = replica"))
        await session.execute(text(statement))


async def test_the_chain_check_shows_where_it_breaks_and_compares_anchors(
    app: Any, client: httpx.AsyncClient, console: httpx.AsyncClient, people: dict[str, Any]
) -> None:
    await _report_read_by_officer(app, client, people["officer"])
    csrf = await sign_in(console, people["sysadmin"])
    form = await console.get("/admin/audit/verifikasi", headers=HTML)
    assert form.status_code == 200
    anchor = re.search(r'id="anchor"[^>]*>(\d+:[0-9a-f]{64})</code>', form.text)
    assert anchor, form.text
    assert "admin-copy.js" in form.text

    intact = await console.post(
        "/admin/audit/verifikasi", data={"anchors": anchor.group(1), "csrf_token": csrf}
    )
    assert intact.status_code == 200
    assert "Rantai utuh" in intact.text
    assert "Semua jangkar" in intact.text

    seq = int(anchor.group(1).split(":")[0])
    wrong = f"{seq}:{'0' * 64}"
    mismatch = await console.post(
        "/admin/audit/verifikasi", data={"anchors": wrong, "csrf_token": csrf}
    )
    assert f"Rantai putus di catatan #{seq}" in mismatch.text
    assert "differs from its anchor" in mismatch.text

    garbled = await console.post(
        "/admin/audit/verifikasi", data={"anchors": "bukan jangkar", "csrf_token": csrf}
    )
    assert garbled.status_code == 422
    assert 'id="anchors-error"' in garbled.text
    assert "bukan jangkar</textarea>" in garbled.text

    await _tamper(app, "UPDATE audit_events SET action = 'report.list' WHERE seq = 3")
    broken = await console.post("/admin/audit/verifikasi", data={"csrf_token": csrf})
    assert broken.status_code == 200
    assert "Rantai putus di catatan #3" in broken.text
    assert "do not match its hash" in broken.text
    assert 'href="/admin/audit/3"' in broken.text

    checks = await console.get("/admin/audit?tindakan=audit.verify", headers=HTML)
    assert len(_seqs(checks.text)) == 4  # every check is itself recorded


async def test_the_export_streams_the_search_as_json_lines_and_is_audited(
    app: Any, client: httpx.AsyncClient, console: httpx.AsyncClient, people: dict[str, Any]
) -> None:
    report_id = await _report_read_by_officer(app, client, people["officer"])
    await sign_in(console, people["sysadmin"])
    page = await console.get(f"/admin/audit?objek={report_id}", headers=HTML)
    link = re.search(r'href="(/admin/audit/ekspor\?[^"]+)"', page.text)
    assert link, page.text
    export = await console.get(link.group(1).replace("&amp;", "&"))
    assert export.status_code == 200
    assert export.headers["content-type"].startswith("application/jsonl")
    assert export.headers["content-disposition"].startswith('attachment; filename="sinergi-audit-')
    events = [json.loads(line) for line in export.text.splitlines()]
    assert {e["action"] for e in events} >= {"report.create", "report.read"}
    assert all(report_id in e["object_ids"] for e in events)
    seqs = [e["seq"] for e in events]
    assert seqs == sorted(seqs)  # chain order
    assert all(len(e["hash"]) == 64 and len(e["prev_hash"]) == 64 for e in events)
    assert _seqs(page.text) == sorted(seqs, reverse=True)  # the same events as the page

    audited = await console.get("/admin/audit?tindakan=audit.export", headers=HTML)
    (seq,) = _seqs(audited.text)
    event = await console.get(f"/admin/audit/{seq}", headers=HTML)
    assert "search.objek" in event.text
    assert report_id in event.text

    refused = await console.get("/admin/audit/ekspor?dari=kemarin", headers=HTML)
    assert refused.status_code == 422
    assert 'id="dari-error"' in refused.text


AUDIT_PAGES = ["/admin/audit", "/admin/audit/1", "/admin/audit/verifikasi", "/admin/audit/ekspor"]


@pytest.mark.parametrize("who", ["admin", "officer"])
async def test_only_system_admins_see_the_audit_pages(
    console: httpx.AsyncClient, people: dict[str, Any], who: str
) -> None:
    csrf = await sign_in(console, people[who])
    for path in AUDIT_PAGES:
        answer = await console.get(path, headers=HTML)
        assert answer.status_code == 404, path
        assert "Halaman tidak ditemukan" in answer.text
    refused = await console.post("/admin/audit/verifikasi", data={"csrf_token": csrf})
    assert refused.status_code == 404
    if who == "admin":
        home = await console.get("/admin/instansi/IMIGRASI-DUMAI", headers=HTML)
        assert 'href="/admin/audit"' not in home.text


async def test_the_chain_check_needs_the_csrf_token_and_a_missing_event_is_404(
    console: httpx.AsyncClient, people: dict[str, Any]
) -> None:
    await sign_in(console, people["sysadmin"])
    assert (await console.post("/admin/audit/verifikasi", data={})).status_code == 403
    for seq in ("999999", "0", "abc", "9" * 30):
        missing = await console.get(f"/admin/audit/{seq}", headers=HTML)
        assert missing.status_code == 404, seq
        assert "Halaman tidak ditemukan" in missing.text
    bad_cursor = await console.get("/admin/audit?cursor=xyz", headers=HTML)
    assert bad_cursor.status_code == 400
