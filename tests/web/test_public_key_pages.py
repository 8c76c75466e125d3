"""An agency's public keys for private_key_jwt in the admin console (issue 19): paste a JWK, see
its RFC 7638 thumbprint before and after saving, revoke behind a confirmation. SYSTEM_ADMIN only,
as ``/v1/admin/agencies/{code}/public-keys``."""

from __future__ import annotations

import json
import re
import time
import uuid
from typing import Any

import httpx
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from jose import jwk, jwt
from joserfc.jwk import ECKey

from app.models.officer import OfficerRole
from tests.factories import (
    HTML,
    SeededOfficer,
    bearer,
    create_admin,
    create_agency,
    create_officer,
    sign_in,
)

KEYS = "/admin/instansi/IMIGRASI-DUMAI/kunci-publik"


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


def _ec_key() -> tuple[str, dict[str, Any]]:
    """A fresh P-256 key pair: the private PEM (the agency keeps it) and the public JWK."""
    private = ec.generate_private_key(ec.SECP256R1())
    pem = private.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    public: dict[str, Any] = jwk.construct(pem, "ES256").public_key().to_dict()
    return pem, public


async def _assertion_token(client: httpx.AsyncClient, pem: str, kid: str) -> httpx.Response:
    """What the agency's system does: sign a client assertion, trade it for a token."""
    now = int(time.time())
    claims = {
        "iss": "IMIGRASI-DUMAI",
        "sub": "IMIGRASI-DUMAI",
        "aud": "https://sinergi.local/v1/auth/token",
        "iat": now,
        "exp": now + 120,
        "jti": str(uuid.uuid4()),
    }
    assertion = jwt.encode(claims, pem, algorithm="ES256", headers={"kid": kid})
    return await client.post(
        "/v1/auth/token",
        data={
            "grant_type": "client_credentials",
            "client_id": "IMIGRASI-DUMAI",
            "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
            "client_assertion": assertion,
        },
    )


async def test_a_pasted_jwk_shows_its_thumbprint_before_and_after_saving_and_signs_in(
    client: httpx.AsyncClient, console: httpx.AsyncClient, people: dict[str, Any]
) -> None:
    pem, public = _ec_key()
    pasted = json.dumps({**public, "kid": "imigrasi-dumai-2026"}, indent=2)
    expected = ECKey.import_key(public).thumbprint()  # another library's RFC 7638 (Authlib's)
    csrf = await sign_in(console, people["sysadmin"])

    page = await console.get(KEYS, headers=HTML)
    assert page.status_code == 200
    assert 'aria-current="page">Kunci publik<' in page.text  # the agency's tab
    assert "belum mendaftarkan kunci publik" in page.text

    preview = await console.post(f"{KEYS}/periksa", data={"jwk": pasted, "csrf_token": csrf})
    assert preview.status_code == 200
    assert f'id="thumbprint" aria-labelledby="thumbprint-label">{expected}<' in preview.text
    assert "imigrasi-dumai-2026" in preview.text
    assert "Belum ada yang disimpan" in preview.text
    assert "belum mendaftarkan" in (await console.get(KEYS, headers=HTML)).text  # not saved

    saved = await console.post(KEYS, data={"jwk": pasted, "csrf_token": csrf})
    assert saved.status_code == 303
    listed = await console.get(saved.headers["location"], headers=HTML)
    assert "Kunci publik terdaftar" in listed.text
    assert f"<code>{expected}</code>" in listed.text
    assert "Baru didaftarkan" in listed.text
    assert (await console.get(KEYS, headers=HTML)).text.count("Baru didaftarkan") == 0

    token = await _assertion_token(client, pem, "imigrasi-dumai-2026")
    assert token.status_code == 200, token.text
    access = token.json()["access_token"]
    assert (await client.get("/v1/inbox", headers=bearer(access))).status_code == 200

    key_id = re.search(r"/kunci-publik/([0-9a-f-]{36})/cabut", listed.text)
    assert key_id
    confirm = await console.get(f"{KEYS}/{key_id.group(1)}/cabut", headers=HTML)
    assert confirm.status_code == 200
    assert "langsung ditolak" in confirm.text
    assert expected in confirm.text
    revoked = await console.post(f"{KEYS}/{key_id.group(1)}/cabut", data={"csrf_token": csrf})
    assert revoked.status_code == 303
    assert (await client.get("/v1/inbox", headers=bearer(access))).status_code == 401
    assert (await _assertion_token(client, pem, "imigrasi-dumai-2026")).status_code == 401
    after = await console.get(KEYS, headers=HTML)
    assert "Dicabut" in after.text
    assert "/cabut" not in after.text


async def test_a_jwk_without_kid_takes_its_thumbprint_as_kid(
    console: httpx.AsyncClient, people: dict[str, Any]
) -> None:
    _, public = _ec_key()
    expected = ECKey.import_key(public).thumbprint()
    csrf = await sign_in(console, people["sysadmin"])
    preview = await console.post(
        f"{KEYS}/periksa", data={"jwk": json.dumps(public), "csrf_token": csrf}
    )
    assert "sidik jari dipakai sebagai kid" in preview.text
    saved = await console.post(KEYS, data={"jwk": json.dumps(public), "csrf_token": csrf})
    assert saved.status_code == 303
    listed = (await console.get(KEYS, headers=HTML)).text
    assert listed.count(f"<code>{expected}</code>") == 2  # as the kid and as the thumbprint


@pytest.mark.parametrize(
    ("pasted", "words"),
    [
        ("", "Tempel kunci publik"),
        ("bukan json", "Ini bukan JWK"),
        ('{"keys": []}', "himpunan kunci (JWKS)"),
        ('{"kty": "oct", "k": "c2VjcmV0"}', "bagian privat"),
        (
            '{"kty": "OKP", "crv": "Ed25519", "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}',
            "EC P-256",
        ),
        ('{"kty": "EC", "crv": "P-256", "x": "AAAA"}', "tidak lengkap"),
        ('{"kty": "EC", "crv": "P-256", "x": "AAAA", "y": "AAAA"}', "tidak membentuk kunci"),
    ],
)
async def test_a_refused_jwk_is_explained_beside_the_box_and_kept(
    console: httpx.AsyncClient, people: dict[str, Any], pasted: str, words: str
) -> None:
    csrf = await sign_in(console, people["sysadmin"])
    for path in (f"{KEYS}/periksa", KEYS):
        refused = await console.post(path, data={"jwk": pasted, "csrf_token": csrf})
        assert refused.status_code == 422, path
        assert 'id="jwk-error"' in refused.text
        assert 'href="#jwk"' in refused.text
        assert words in refused.text
        escaped = pasted.replace('"', "&#34;")
        assert f">{escaped}</textarea>" in refused.text
    assert "belum mendaftarkan" in (await console.get(KEYS, headers=HTML)).text


async def test_a_second_key_with_the_same_kid_is_refused_beside_the_box(
    console: httpx.AsyncClient, people: dict[str, Any]
) -> None:
    csrf = await sign_in(console, people["sysadmin"])
    first = json.dumps({**_ec_key()[1], "kid": "sama"})
    assert (await console.post(KEYS, data={"jwk": first, "csrf_token": csrf})).status_code == 303
    second = json.dumps({**_ec_key()[1], "kid": "sama"})
    taken = await console.post(KEYS, data={"jwk": second, "csrf_token": csrf})
    assert taken.status_code == 409
    assert 'id="jwk-error"' in taken.text
    assert "kid yang sama" in taken.text
    assert (await console.get(KEYS, headers=HTML)).text.count("<code>sama</code>") == 1


@pytest.mark.parametrize("who", ["admin", "officer"])
async def test_only_system_admins_manage_public_keys(
    console: httpx.AsyncClient, people: dict[str, Any], who: str
) -> None:
    csrf = await sign_in(console, people[who])
    _, public = _ec_key()
    for path in (KEYS, f"{KEYS}/{uuid.uuid4()}/cabut"):
        answer = await console.get(path, headers=HTML)
        assert answer.status_code == 404, path
        assert "Halaman tidak ditemukan" in answer.text
    for path in (KEYS, f"{KEYS}/periksa"):
        body = {"jwk": json.dumps(public), "csrf_token": csrf}
        assert (await console.post(path, data=body, headers=HTML)).status_code == 404
    if who == "admin":  # their own agency's pages do not offer the tab
        own = await console.get("/admin/instansi/IMIGRASI-DUMAI/kunci", headers=HTML)
        assert own.status_code == 200
        assert "/kunci-publik" not in own.text


async def test_registering_needs_the_csrf_token_and_an_unknown_key_is_404(
    console: httpx.AsyncClient, people: dict[str, Any]
) -> None:
    await sign_in(console, people["sysadmin"])
    _, public = _ec_key()
    answer = await console.post(KEYS, data={"jwk": json.dumps(public)}, headers=HTML)
    assert answer.status_code == 403
    assert "belum mendaftarkan" in (await console.get(KEYS, headers=HTML)).text
    for key_id in (uuid.uuid4(), "bukan-id"):
        missing = await console.get(f"{KEYS}/{key_id}/cabut", headers=HTML)
        assert missing.status_code == 404
        assert "Halaman tidak ditemukan" in missing.text
    assert (
        await console.get("/admin/instansi/TIDAK-ADA/kunci-publik", headers=HTML)
    ).status_code == 404
