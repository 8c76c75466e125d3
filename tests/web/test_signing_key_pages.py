"""The service's token signing keys in the admin console (issue 19): the list and a rotation
behind a confirmation that says what happens to tokens already issued. SYSTEM_ADMIN only, as
``/v1/admin/signing-keys``."""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest
from jose import jwt

from app.models.officer import OfficerRole
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

PAGE = "/admin/kunci-penandatangan"


@pytest.fixture
async def people(app: Any) -> dict[str, SeededOfficer]:
    await create_admin(app)
    await create_agency(app, "IMIGRASI-DUMAI")
    return {
        "sysadmin": await create_officer(app, "ADMIN", "sysadmin", OfficerRole.SYSTEM_ADMIN),
        "admin": await create_officer(
            app, "IMIGRASI-DUMAI", "admin.imigrasi", OfficerRole.AGENCY_ADMIN
        ),
        "officer": await create_officer(app, "IMIGRASI-DUMAI", "petugas.imigrasi"),
    }


def _rows(html: str) -> dict[str, str]:
    """kid → the state shown in its row."""
    body = html.split("<tbody>")[1].split("</tbody>")[0]
    found = re.findall(
        r"<code>([A-Za-z0-9_-]{43})</code>.*?<span class=\"tag[^\"]*\">([^<]+)<", body, re.S
    )
    return dict(found)


async def _jwks_kids(client: httpx.AsyncClient) -> set[str]:
    return {k["kid"] for k in (await client.get("/.well-known/jwks.json")).json()["keys"]}


async def test_rotation_is_explained_first_and_tokens_already_issued_keep_working(
    app: Any, client: httpx.AsyncClient, console: httpx.AsyncClient, people: dict[str, Any]
) -> None:
    old_token = await token_for(client, app, "IMIGRASI-DUMAI")
    signed_by = jwt.get_unverified_header(old_token)["kid"]
    csrf = await sign_in(console, people["sysadmin"])

    page = await console.get(PAGE, headers=HTML)
    assert page.status_code == 200
    assert f'href="{PAGE}"' in page.text  # a section of the system admin's menu
    before = _rows(page.text)
    assert before[signed_by] == "Sedang dipakai"
    (waiting,) = [kid for kid, state in before.items() if state == "Berikutnya"]
    assert set(before) == await _jwks_kids(client)  # both published

    confirm = await console.get(f"{PAGE}/rotasi", headers=HTML)
    assert confirm.status_code == 200
    assert "Token yang sudah diterbitkan tetap berlaku" in confirm.text
    assert "paling lama 15 menit" in confirm.text
    assert waiting in confirm.text
    assert signed_by in confirm.text
    assert _rows((await console.get(PAGE, headers=HTML)).text) == before  # nothing happened yet

    done = await console.post(f"{PAGE}/rotasi", data={"csrf_token": csrf})
    assert done.status_code == 303
    after_page = await console.get(done.headers["location"], headers=HTML)
    assert "Rotasi selesai" in after_page.text
    after = _rows(after_page.text)
    assert after[signed_by] == "Pensiun"
    assert after[waiting] == "Sedang dipakai"
    assert len(after) == 3
    assert "Diterbitkan sampai" in after_page.text
    assert set(after) == await _jwks_kids(client)  # the retired key is still published

    assert (await client.get("/v1/inbox", headers=bearer(old_token))).status_code == 200
    fresh = await client.post(
        "/v1/auth/token",
        data={
            "grant_type": "client_credentials",
            "client_id": "IMIGRASI-DUMAI",
            "client_secret": app.state._test_api_keys["IMIGRASI-DUMAI"],
        },
    )
    assert jwt.get_unverified_header(fresh.json()["access_token"])["kid"] == waiting

    rotations = await console.get("/admin/audit?tindakan=signing_key.rotate", headers=HTML)
    assert "sysadmin" in rotations.text


@pytest.mark.parametrize("who", ["admin", "officer"])
async def test_only_system_admins_see_or_rotate_signing_keys(
    client: httpx.AsyncClient, console: httpx.AsyncClient, people: dict[str, Any], who: str
) -> None:
    kids = await _jwks_kids(client)
    csrf = await sign_in(console, people[who])
    for path in (PAGE, f"{PAGE}/rotasi"):
        answer = await console.get(path, headers=HTML)
        assert answer.status_code == 404, path
        assert "Halaman tidak ditemukan" in answer.text
    refused = await console.post(f"{PAGE}/rotasi", data={"csrf_token": csrf}, headers=HTML)
    assert refused.status_code == 404
    assert await _jwks_kids(client) == kids


async def test_rotating_needs_the_csrf_token(
    client: httpx.AsyncClient, console: httpx.AsyncClient, people: dict[str, Any]
) -> None:
    kids = await _jwks_kids(client)
    await sign_in(console, people["sysadmin"])
    assert (await console.post(f"{PAGE}/rotasi", data={}, headers=HTML)).status_code == 403
    assert await _jwks_kids(client) == kids
