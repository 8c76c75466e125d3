"""Signing in to the console: the form, the first-time setup, signing out, the header."""

from __future__ import annotations

from typing import Any

import httpx
import pyotp
import pytest

from app.db import transaction
from app.models.agency import AgencyKind
from app.models.officer import OfficerRole
from app.services import agencies, officers
from tests.factories import (
    HTML,
    SeededOfficer,
    console_sign_in,
    create_admin,
    create_agency,
    create_officer,
    form_csrf,
)

IMI = "IMIGRASI-DUMAI"
COOKIE = "__Host-sinergi_session"


@pytest.fixture
async def world(app: Any) -> dict[str, SeededOfficer]:
    await create_admin(app)
    await create_agency(app, IMI, kind=AgencyKind.IMMIGRATION)
    return {
        "officer": await create_officer(app, IMI, "198503122010121001"),
        "admin": await create_officer(app, IMI, "kasi.inteldakim", OfficerRole.AGENCY_ADMIN),
    }


async def _setup_code(app: Any, username: str, role: OfficerRole = OfficerRole.OFFICER) -> str:
    async with transaction(app.state.session_factory) as session:
        agency = await agencies.get_agency(session, IMI)
        created = await officers.create_officer(
            session,
            app.state.settings,
            agency,
            officers.OfficerDraft(username=username, full_name="Siti Rahmawati", role=role),
            actor="test",
        )
    return created.code


async def test_signed_out_root_is_the_sign_in_form(
    console: httpx.AsyncClient, world: dict[str, SeededOfficer]
) -> None:
    response = await console.get("/", headers=HTML)
    assert response.status_code == 200
    page = response.text
    assert "Masuk ke Sinergi" in page
    assert 'for="username"' in page
    assert 'for="password"' in page
    assert 'for="code"' in page
    assert 'action="/masuk"' in page
    assert form_csrf(page)
    assert "Kotak masuk" not in page  # the officer's menu is not shown to a stranger
    assert response.headers["cache-control"] == "no-store"


async def test_password_sign_in_shows_home_with_name_agency_and_role(
    console: httpx.AsyncClient, world: dict[str, SeededOfficer]
) -> None:
    form = await console.get("/", headers=HTML)
    response = await console.post(
        "/masuk",
        data={
            "username": world["officer"].username,
            "password": world["officer"].password,
            "csrf_token": form_csrf(form.text),
        },
        headers=HTML,
    )
    assert response.status_code == 303
    assert response.headers["location"] == "/"
    assert response.headers["set-cookie"].startswith(f"{COOKIE}=")

    home = await console.get("/", headers=HTML)
    assert home.status_code == 200
    assert "Selamat datang, Petugas 198503122010121001" in home.text
    assert f"Agency {IMI}" in home.text
    assert "Petugas" in home.text  # the role
    assert 'href="/kotak-masuk"' in home.text
    assert 'action="/keluar"' in home.text
    # the same cookie works on the API
    assert (await console.get("/v1/session")).status_code == 200


async def test_refused_sign_in_says_the_same_whatever_was_wrong(
    console: httpx.AsyncClient, world: dict[str, SeededOfficer]
) -> None:
    form = await console.get("/", headers=HTML)
    answers = []
    for username, password in (
        (world["officer"].username, "salah sekali kata sandinya"),
        ("tidak.ada", "salah sekali kata sandinya"),
    ):
        response = await console.post(
            "/masuk",
            data={"username": username, "password": password, "csrf_token": form_csrf(form.text)},
            headers=HTML,
        )
        assert response.status_code == 401
        assert COOKIE not in response.headers.get("set-cookie", "")
        assert "Tidak dapat masuk" in response.text
        assert f'value="{username}"' in response.text  # the username stays typed
        answers.append(response.text.replace(username, "U"))
    assert answers[0] == answers[1]
    assert (await console.get("/v1/session")).status_code == 401


async def test_sign_in_without_the_forms_token_is_refused(
    console: httpx.AsyncClient, world: dict[str, SeededOfficer]
) -> None:
    # a cross-site form cannot read the sign-in cookie: no session is opened (login CSRF)
    response = await console.post(
        "/masuk",
        data={"username": world["officer"].username, "password": world["officer"].password},
        headers=HTML,
    )
    assert response.status_code == 403
    assert COOKIE not in response.headers.get("set-cookie", "")


async def test_admin_signs_in_with_totp_code_and_not_without(
    console: httpx.AsyncClient, world: dict[str, SeededOfficer]
) -> None:
    admin = world["admin"]
    form = await console.get("/", headers=HTML)
    token = form_csrf(form.text)
    without = await console.post(
        "/masuk",
        data={"username": admin.username, "password": admin.password, "csrf_token": token},
        headers=HTML,
    )
    assert without.status_code == 401
    csrf = await console_sign_in(console, admin)
    assert csrf
    home = await console.get("/", headers=HTML)
    assert "Administrator lembaga" in home.text


async def test_first_sign_in_with_setup_code_chooses_password(
    app: Any, console: httpx.AsyncClient, world: dict[str, SeededOfficer]
) -> None:
    code = await _setup_code(app, "siti.r")
    form = await console.get("/masuk/kode-penyiapan", headers=HTML)
    assert 'for="setup_code"' in form.text
    signed = await console.post(
        "/masuk/kode-penyiapan",
        data={"username": "siti.r", "setup_code": code, "csrf_token": form_csrf(form.text)},
        headers=HTML,
    )
    assert signed.status_code == 303
    assert signed.headers["location"] == "/penyiapan"
    # a setup session cannot reach the officer's pages yet
    home = await console.get("/", headers=HTML)
    assert home.status_code == 303
    assert home.headers["location"] == "/penyiapan"
    inbox = await console.get("/kotak-masuk", headers=HTML)
    assert inbox.status_code == 303
    assert inbox.headers["location"] == "/penyiapan"

    setup = await console.get("/penyiapan", headers=HTML)
    assert setup.status_code == 200
    assert 'for="new_password"' in setup.text
    csrf = form_csrf(setup.text)

    mismatch = await console.post(
        "/penyiapan/kata-sandi",
        data={
            "csrf_token": csrf,
            "new_password": "perahu kayu selat rupat",
            "confirm_password": "perahu kayu selat",
        },
        headers=HTML,
    )
    assert mismatch.status_code == 422
    assert 'href="#confirm_password"' in mismatch.text
    common = await console.post(
        "/penyiapan/kata-sandi",
        data={
            "csrf_token": csrf,
            "new_password": "bismillah123456",
            "confirm_password": "bismillah123456",
        },
        headers=HTML,
    )
    assert common.status_code == 422
    assert 'id="new_password-error"' in common.text
    chosen = await console.post(
        "/penyiapan/kata-sandi",
        data={
            "csrf_token": csrf,
            "new_password": "perahu kayu selat rupat",
            "confirm_password": "perahu kayu selat rupat",
        },
        headers=HTML,
    )
    assert chosen.status_code == 303
    assert chosen.headers["location"] == "/"
    home = await console.get("/", headers=HTML)
    assert home.status_code == 200
    assert "Akun Anda siap" in home.text
    assert "Selamat datang, Siti Rahmawati" in home.text


async def test_admin_setup_enrols_totp_and_shows_recovery_codes_once(
    app: Any, console: httpx.AsyncClient, world: dict[str, SeededOfficer]
) -> None:
    code = await _setup_code(app, "admin.baru", OfficerRole.AGENCY_ADMIN)
    form = await console.get("/masuk/kode-penyiapan", headers=HTML)
    await console.post(
        "/masuk/kode-penyiapan",
        data={"username": "admin.baru", "setup_code": code, "csrf_token": form_csrf(form.text)},
        headers=HTML,
    )
    csrf = form_csrf((await console.get("/penyiapan", headers=HTML)).text)
    password = "perahu kayu selat rupat"
    chosen = await console.post(
        "/penyiapan/kata-sandi",
        data={"csrf_token": csrf, "new_password": password, "confirm_password": password},
        headers=HTML,
    )
    assert chosen.headers["location"] == "/penyiapan"
    step = await console.get("/penyiapan", headers=HTML)
    assert 'action="/penyiapan/totp"' in step.text

    started = await console.post("/penyiapan/totp", data={"csrf_token": csrf}, headers=HTML)
    assert started.status_code == 200
    assert 'src="data:image/svg+xml' in started.text
    secret = started.text.split('<code class="secret">')[1].split("<")[0]

    wrong = await console.post(
        "/penyiapan/totp/konfirmasi", data={"csrf_token": csrf, "code": "000000"}, headers=HTML
    )
    assert wrong.status_code == 422
    assert f'<code class="secret">{secret}</code>' in wrong.text  # the same QR code again

    confirmed = await console.post(
        "/penyiapan/totp/konfirmasi",
        data={"csrf_token": csrf, "code": pyotp.TOTP(secret).now()},
        headers=HTML,
    )
    assert confirmed.status_code == 200
    assert confirmed.text.count("<li><code>") == 10
    assert confirmed.headers["set-cookie"].startswith(f"{COOKIE}=")  # a new, active session
    home = await console.get("/", headers=HTML)
    assert "Selamat datang, Siti Rahmawati" in home.text


async def test_sign_out_needs_the_token_and_ends_the_session(
    console: httpx.AsyncClient, world: dict[str, SeededOfficer]
) -> None:
    csrf = await console_sign_in(console, world["officer"])
    forged = await console.post("/keluar", data={}, headers=HTML)
    assert forged.status_code == 403
    assert (await console.get("/v1/session")).status_code == 200

    cookie = console.cookies.get(COOKIE)
    out = await console.post("/keluar", data={"csrf_token": csrf}, headers=HTML)
    assert out.status_code == 303
    assert out.headers["location"] == "/"
    page = await console.get("/", headers=HTML)
    assert "Anda sudah keluar" in page.text
    assert "Masuk ke Sinergi" in page.text
    # the copied cookie no longer works either
    console.cookies.set(COOKIE, cookie or "", domain="sinergi.test")
    assert (await console.get("/v1/session")).status_code == 401


async def test_sign_out_everywhere_ends_the_other_devices_too(
    app: Any, console: httpx.AsyncClient, world: dict[str, SeededOfficer]
) -> None:
    transport = httpx.ASGITransport(app=app, client=("203.0.113.8", 51000))
    async with httpx.AsyncClient(transport=transport, base_url="https://sinergi.test") as other:
        await console_sign_in(other, world["officer"])
        csrf = await console_sign_in(console, world["officer"])
        out = await console.post("/keluar/semua", data={"csrf_token": csrf}, headers=HTML)
        assert out.status_code == 303
        assert (await other.get("/v1/session")).status_code == 401
        assert (await console.get("/v1/session")).status_code == 401


async def test_pages_for_officers_send_a_stranger_to_sign_in(console: httpx.AsyncClient) -> None:
    for path in ("/kotak-masuk", "/penyiapan"):
        response = await console.get(path, headers=HTML)
        assert response.status_code == 303, path
        assert response.headers["location"] == "/"
    polled = await console.get("/kotak-masuk/baru", headers={**HTML, "HX-Request": "true"})
    assert polled.headers["hx-redirect"] == "/"
