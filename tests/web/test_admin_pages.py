"""The administrators' console (issue 19): agencies, officers and API keys,
through the browser's eyes.

Each page answers what ``/v1/admin`` answers: a SYSTEM_ADMIN manages every agency, an
AGENCY_ADMIN only their own (any other is the console's 404), an OFFICER gets 404 everywhere
under ``/admin``, and no POST works without the session's CSRF token.
"""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest

from app.models.officer import OfficerRole
from tests.factories import (
    SeededOfficer,
    bearer,
    create_admin,
    create_agency,
    create_officer,
    sign_in,
    token_for,
)

HTML = {"Accept": "text/html"}


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
        "polres": await create_officer(app, "POLRES-DUMAI", "petugas.polres"),
    }


def _secret(html: str) -> str:
    """The secret (API key or setup code) a shown-once page displays."""
    found = re.search(r'<code class="secret" id="secret"[^>]*>([^<]+)</code>', html)
    assert found, html
    return found.group(1)


async def _token(client: httpx.AsyncClient, code: str, key: str) -> httpx.Response:
    return await client.post(
        "/v1/auth/token",
        data={"grant_type": "client_credentials", "client_id": code, "client_secret": key},
    )


async def test_a_system_admin_registers_an_agency_and_errors_land_beside_the_field(
    console: httpx.AsyncClient, people: dict[str, SeededOfficer]
) -> None:
    csrf = await sign_in(console, people["sysadmin"])
    form = await console.get("/admin/instansi/baru", headers=HTML)
    assert form.status_code == 200
    assert 'name="csrf_token"' in form.text
    assert 'list="regions"' in form.text
    assert "Kota Dumai" in form.text  # the region search offers the Kemendagri names

    typed = {"code": "bad code", "name": "Dinas Tenaga Kerja Kota Dumai", "kind": "MANPOWER"}
    refused = await console.post("/admin/instansi/baru", data={**typed, "csrf_token": csrf})
    assert refused.status_code == 422
    assert 'href="#code"' in refused.text
    assert 'id="code-error"' in refused.text
    assert "Isi kode dengan huruf besar" in refused.text  # plain words, not the schema's
    assert 'value="Dinas Tenaga Kerja Kota Dumai"' in refused.text  # nothing typed is lost

    typed["code"] = "DISNAKER-DUMAI"
    made = await console.post(
        "/admin/instansi/baru", data={**typed, "region_code": "14.72", "csrf_token": csrf}
    )
    assert made.status_code == 303
    assert made.headers["location"] == "/admin/instansi/DISNAKER-DUMAI"
    page = await console.get("/admin/instansi/DISNAKER-DUMAI", headers=HTML)
    assert "Instansi terdaftar" in page.text
    assert "14.72 — Kota Dumai" in page.text
    listed = await console.get("/admin/instansi", headers=HTML)
    assert "DISNAKER-DUMAI" in listed.text
    assert "POLRES-DUMAI" in listed.text

    taken = await console.post("/admin/instansi/baru", data={**typed, "csrf_token": csrf})
    assert taken.status_code == 409
    assert 'id="code-error"' in taken.text
    assert "sudah dipakai instansi lain" in taken.text


async def test_a_system_admin_changes_an_agency_and_the_api_answers_the_change(
    app: Any, client: httpx.AsyncClient, console: httpx.AsyncClient, people: dict[str, Any]
) -> None:
    csrf = await sign_in(console, people["sysadmin"])
    page = await console.get("/admin/instansi/POLRES-DUMAI", headers=HTML)
    assert 'href="/admin/instansi/POLRES-DUMAI/ubah"' in page.text
    form = await console.get("/admin/instansi/POLRES-DUMAI/ubah", headers=HTML)
    assert form.status_code == 200
    assert 'name="code"' not in form.text  # the code is the client id: it never changes
    assert 'value="reports:write" checked' in form.text  # prefilled with today's scopes

    typed = {"name": "Polres Dumai (Satreskrim)", "kind": "POLICE", "region_code": "14.72"}
    refused = await console.post(
        "/admin/instansi/POLRES-DUMAI/ubah", data={**typed, "csrf_token": csrf}
    )
    assert refused.status_code == 422  # no scope ticked
    assert 'id="scopes-error"' in refused.text
    assert "paling sedikit satu" in refused.text
    assert 'value="Polres Dumai (Satreskrim)"' in refused.text  # nothing typed is lost
    admin = bearer(await token_for(client, app, "ADMIN"))
    before = (await client.get("/v1/admin/agencies/POLRES-DUMAI", headers=admin)).json()
    assert before["name"] != typed["name"]  # the refused form changed nothing

    saved = await console.post(
        "/admin/instansi/POLRES-DUMAI/ubah",
        data={
            **typed,
            "contact_email": "reskrim@polres-dumai.example.go.id",
            "scopes": ["reports:read", "inbox:read"],
            "csrf_token": csrf,
        },
    )
    assert saved.status_code == 303
    after = (await client.get("/v1/admin/agencies/POLRES-DUMAI", headers=admin)).json()
    assert after["name"] == "Polres Dumai (Satreskrim)"
    assert after["region_code"] == "14.72"
    assert after["contact"]["email"] == "reskrim@polres-dumai.example.go.id"
    assert sorted(after["scopes"]) == ["inbox:read", "reports:read"]

    keeps_admin = await console.post(
        "/admin/instansi/ADMIN/ubah",
        data={"name": "Admin", "kind": "OTHER", "scopes": ["reports:read"], "csrf_token": csrf},
    )
    assert keeps_admin.status_code == 409
    assert "harus tetap memiliki hak akses admin" in keeps_admin.text
    no_csrf = await console.post("/admin/instansi/POLRES-DUMAI/ubah", data=typed)
    assert no_csrf.status_code == 403


async def test_deactivation_says_what_it_does_first_then_refuses_the_agencys_tokens(
    app: Any, client: httpx.AsyncClient, console: httpx.AsyncClient, people: dict[str, Any]
) -> None:
    token = await token_for(client, app, "POLRES-DUMAI")
    csrf = await sign_in(console, people["sysadmin"])
    confirm = await console.get("/admin/instansi/POLRES-DUMAI/nonaktifkan", headers=HTML)
    assert confirm.status_code == 200
    assert "langsung ditolak" in confirm.text
    assert "tetap tersimpan" in confirm.text
    assert (await client.get("/v1/inbox", headers=bearer(token))).status_code == 200

    done = await console.post("/admin/instansi/POLRES-DUMAI/nonaktifkan", data={"csrf_token": csrf})
    assert done.status_code == 303
    assert (await client.get("/v1/inbox", headers=bearer(token))).status_code == 401
    page = await console.get("/admin/instansi/POLRES-DUMAI", headers=HTML)
    assert "Aktifkan kembali" in page.text

    again = await console.post("/admin/instansi/POLRES-DUMAI/aktifkan", data={"csrf_token": csrf})
    assert again.status_code == 303
    assert "diaktifkan kembali" in (await console.get(again.headers["location"])).text
    assert (await token_for_again(client, app)).status_code == 200


async def token_for_again(client: httpx.AsyncClient, app: Any) -> httpx.Response:
    """POLRES-DUMAI's key (issued by ``token_for``) obtains a token again."""
    key = app.state._test_api_keys["POLRES-DUMAI"]
    return await _token(client, "POLRES-DUMAI", key)


async def test_an_agency_admin_creates_an_officer_who_signs_in_with_the_setup_code(
    app: Any, console: httpx.AsyncClient, people: dict[str, SeededOfficer]
) -> None:
    csrf = await sign_in(console, people["admin"])
    start = await console.get("/admin", headers=HTML)
    assert start.status_code == 303
    assert start.headers["location"] == "/admin/instansi/IMIGRASI-DUMAI"
    form = await console.get("/admin/instansi/IMIGRASI-DUMAI/petugas/baru", headers=HTML)
    assert 'value="SYSTEM_ADMIN"' not in form.text  # an agency admin cannot give that role
    created = await console.post(
        "/admin/instansi/IMIGRASI-DUMAI/petugas/baru",
        data={
            "username": "siti.loket",
            "full_name": "Siti Rahmawati",
            "role": "OFFICER",
            "csrf_token": csrf,
        },
    )
    assert created.status_code == 200
    assert "hanya ditampilkan sekali" in created.text
    setup_code = _secret(created.text)

    listed = await console.get("/admin/instansi/IMIGRASI-DUMAI/petugas", headers=HTML)
    assert "siti.loket" in listed.text
    assert "Menunggu penyiapan" in listed.text
    assert setup_code not in listed.text  # shown once

    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="https://sinergi.test") as other:
        opened = await other.post(
            "/v1/session", json={"username": "siti.loket", "setup_code": setup_code}
        )
        assert opened.status_code == 200, opened.text
        assert opened.json()["needs"] == ["password"]

    refused = await console.post(
        "/admin/instansi/IMIGRASI-DUMAI/petugas/baru",
        data={"username": "x", "full_name": "", "role": "SYSTEM_ADMIN", "csrf_token": csrf},
    )
    assert refused.status_code == 422
    assert 'id="username-error"' in refused.text
    assert 'id="full_name-error"' in refused.text


async def test_officer_actions_disable_enable_reset_and_unlock(
    app: Any, console: httpx.AsyncClient, people: dict[str, SeededOfficer]
) -> None:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="https://sinergi.test") as officer:
        await sign_in(officer, people["officer"])
        assert (await officer.get("/v1/session")).status_code == 200
        csrf = await sign_in(console, people["admin"])
        base = "/admin/instansi/IMIGRASI-DUMAI/petugas/petugas.imigrasi"

        disabled = await console.post(f"{base}/nonaktifkan", data={"csrf_token": csrf})
        assert disabled.status_code == 303
        assert (await officer.get("/v1/session")).status_code == 401  # signed out at once
        listed = await console.get(disabled.headers["location"], headers=HTML)
        assert "dinonaktifkan" in listed.text
        assert "Nonaktif" in listed.text

        assert (
            await console.post(f"{base}/aktifkan", data={"csrf_token": csrf})
        ).status_code == 303
        assert (
            await console.post(f"{base}/buka-kunci", data={"csrf_token": csrf})
        ).status_code == 303
        reset = await console.post(f"{base}/reset-sandi", data={"csrf_token": csrf})
        assert reset.status_code == 200
        assert "Kata sandi diatur ulang" in reset.text
        opened = await officer.post(
            "/v1/session", json={"username": "petugas.imigrasi", "setup_code": _secret(reset.text)}
        )
        assert opened.status_code == 200
        assert opened.json()["needs"] == ["password"]

        totp = await console.post(
            "/admin/instansi/IMIGRASI-DUMAI/petugas/admin.imigrasi/reset-totp",
            data={"csrf_token": csrf},
        )
        assert totp.status_code == 303


async def test_keys_are_issued_once_rotated_with_grace_and_revoked_at_once(
    client: httpx.AsyncClient, console: httpx.AsyncClient, people: dict[str, SeededOfficer]
) -> None:
    csrf = await sign_in(console, people["admin"])
    keys = "/admin/instansi/IMIGRASI-DUMAI/kunci"
    issued = await console.post(keys, data={"expires_in_days": "", "csrf_token": csrf})
    assert issued.status_code == 200
    assert "hanya ditampilkan sekali" in issued.text
    assert 'data-copy="secret"' in issued.text
    assert "admin-copy.js" in issued.text
    first = _secret(issued.text)
    assert (await _token(client, "IMIGRASI-DUMAI", first)).status_code == 200

    listed = await console.get(keys, headers=HTML)
    assert first not in listed.text  # shown once: the list has only its prefix
    key_id = re.search(r"/kunci/([0-9a-f-]{36})/rotasi", listed.text)
    assert key_id
    rotate = f"{keys}/{key_id.group(1)}/rotasi"
    assert "24" in (await console.get(rotate, headers=HTML)).text
    bad = await console.post(rotate, data={"grace_hours": "lama", "csrf_token": csrf})
    assert bad.status_code == 422
    assert 'id="grace_hours-error"' in bad.text
    rotated = await console.post(rotate, data={"grace_hours": "48", "csrf_token": csrf})
    assert rotated.status_code == 200
    second = _secret(rotated.text)
    old_token = (await _token(client, "IMIGRASI-DUMAI", first)).json()["access_token"]
    assert (await _token(client, "IMIGRASI-DUMAI", second)).status_code == 200  # both work
    assert (await client.get("/v1/inbox", headers=bearer(old_token))).status_code == 200

    confirm = await console.get(f"{keys}/{key_id.group(1)}/cabut", headers=HTML)
    assert "langsung ditolak" in confirm.text
    assert "IMIGRASI-DUMAI" in confirm.text
    revoked = await console.post(f"{keys}/{key_id.group(1)}/cabut", data={"csrf_token": csrf})
    assert revoked.status_code == 303
    assert (await client.get("/v1/inbox", headers=bearer(old_token))).status_code == 401
    assert (await _token(client, "IMIGRASI-DUMAI", first)).status_code == 401
    assert "Dicabut" in (await console.get(keys, headers=HTML)).text


async def test_a_key_expiring_within_the_warning_window_is_flagged(
    console: httpx.AsyncClient, people: dict[str, SeededOfficer]
) -> None:
    csrf = await sign_in(console, people["sysadmin"])
    keys = "/admin/instansi/POLRES-DUMAI/kunci"
    await console.post(keys, data={"expires_in_days": "400", "csrf_token": csrf})
    assert "Segera habis" not in (await console.get(keys, headers=HTML)).text
    await console.post(keys, data={"expires_in_days": "3", "csrf_token": csrf})
    page = await console.get(keys, headers=HTML)
    assert page.text.count("Segera habis") == 1
    assert "habis berlaku dalam 14 hari" in page.text
    full = await console.post(keys, data={"csrf_token": csrf})
    assert full.status_code == 409
    assert "sudah punya dua kunci aktif" in full.text
    refused = await console.post(keys, data={"expires_in_days": "0", "csrf_token": csrf})
    assert refused.status_code == 422
    assert 'id="expires_in_days-error"' in refused.text


ADMIN_PAGES = [
    "/admin/instansi/POLRES-DUMAI",
    "/admin/instansi/POLRES-DUMAI/petugas",
    "/admin/instansi/POLRES-DUMAI/petugas/baru",
    "/admin/instansi/POLRES-DUMAI/kunci",
]


async def test_an_agency_admin_gets_404_for_another_agency_and_for_agency_registration(
    console: httpx.AsyncClient, people: dict[str, SeededOfficer]
) -> None:
    csrf = await sign_in(console, people["admin"])
    own_edit = "/admin/instansi/IMIGRASI-DUMAI/ubah"  # changing an agency is for system admins
    for path in [
        *ADMIN_PAGES,
        "/admin/instansi",
        "/admin/instansi/baru",
        "/admin/instansi/NOPE",
        own_edit,
    ]:
        answer = await console.get(path, headers=HTML)
        assert answer.status_code == 404, path
        assert "Halaman tidak ditemukan" in answer.text
    for path in [
        "/admin/instansi/POLRES-DUMAI/kunci",
        "/admin/instansi/POLRES-DUMAI/petugas/baru",
        "/admin/instansi/POLRES-DUMAI/petugas/petugas.polres/nonaktifkan",
        "/admin/instansi/POLRES-DUMAI/nonaktifkan",
    ]:
        answer = await console.post(path, data={"csrf_token": csrf}, headers=HTML)
        assert answer.status_code == 404, path
    assert (
        await console.get("/admin/instansi/IMIGRASI-DUMAI/kunci", headers=HTML)
    ).status_code == 200


async def test_an_officer_gets_404_on_every_admin_page(
    console: httpx.AsyncClient, people: dict[str, SeededOfficer]
) -> None:
    csrf = await sign_in(console, people["officer"])
    own = [p.replace("POLRES-DUMAI", "IMIGRASI-DUMAI") for p in ADMIN_PAGES]
    for path in ["/admin", "/admin/instansi", "/admin/instansi/baru", *own]:
        assert (await console.get(path, headers=HTML)).status_code == 404, path
    answer = await console.post(
        "/admin/instansi/IMIGRASI-DUMAI/kunci", data={"csrf_token": csrf}, headers=HTML
    )
    assert answer.status_code == 404


async def test_every_admin_post_needs_the_csrf_token_and_changes_nothing_without_it(
    client: httpx.AsyncClient, console: httpx.AsyncClient, people: dict[str, SeededOfficer]
) -> None:
    csrf = await sign_in(console, people["sysadmin"])
    posts = [
        ("/admin/instansi/baru", {"code": "BARU", "name": "Baru", "kind": "OTHER"}),
        ("/admin/instansi/POLRES-DUMAI/nonaktifkan", {}),
        (
            "/admin/instansi/POLRES-DUMAI/petugas/baru",
            {"username": "tanpa.csrf", "full_name": "X", "role": "OFFICER"},
        ),
        ("/admin/instansi/POLRES-DUMAI/petugas/petugas.polres/nonaktifkan", {}),
        ("/admin/instansi/POLRES-DUMAI/petugas/petugas.polres/reset-sandi", {}),
        ("/admin/instansi/POLRES-DUMAI/kunci", {}),
    ]
    for path, data in posts:
        for token in (None, "salah"):
            body = data if token is None else {**data, "csrf_token": token}
            answer = await console.post(path, data=body, headers=HTML)
            assert answer.status_code == 403, path
    assert (await console.get("/admin/instansi/BARU", headers=HTML)).status_code == 404
    agencies = await console.get("/admin/instansi", headers=HTML)
    assert "Nonaktif" not in agencies.text.split("<tbody>")[1]
    officers = await console.get("/admin/instansi/POLRES-DUMAI/petugas", headers=HTML)
    assert "tanpa.csrf" not in officers.text
    assert "Nonaktif<" not in officers.text
    assert "belum punya kunci" in (await console.get("/admin/instansi/POLRES-DUMAI/kunci")).text
    assert csrf


async def test_signed_out_visitors_get_no_admin_page(
    client: httpx.AsyncClient, people: Any
) -> None:
    answer = await client.get("/admin/instansi", headers=HTML)
    assert answer.status_code == 303  # to the sign-in page
    assert answer.headers["location"] == "/"
    assert "IMIGRASI-DUMAI" not in answer.text


async def test_the_menu_offers_administration_to_admins_only(
    console: httpx.AsyncClient, people: dict[str, SeededOfficer]
) -> None:
    await sign_in(console, people["admin"])
    assert 'href="/admin"' in (await console.get("/pemeriksaan", headers=HTML)).text
    console.cookies.clear()
    await sign_in(console, people["officer"])
    page = (await console.get("/pemeriksaan", headers=HTML)).text
    assert 'href="/pemeriksaan"' in page
    assert 'href="/admin"' not in page
