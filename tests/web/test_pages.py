"""Console pages over HTTP: headers, the about page's agencies, language, error pages, assets."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI

from app.db import transaction
from app.errors import NotFound
from app.models.agency import AgencyKind
from app.schemas.agency import AgencyCreate, AgencyUpdate, Contact
from app.services import agencies
from tests.factories import create_admin, create_agency

HTML = {"accept": "text/html,application/xhtml+xml,*/*;q=0.8"}
STATIC = Path(__file__).resolve().parents[2] / "app" / "web" / "static"


async def test_about_page_lists_active_member_agencies_without_contacts(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    await create_admin(app)
    await create_agency(app, "POLRES-DUMAI", kind=AgencyKind.POLICE)
    async with transaction(app.state.session_factory) as session:
        await agencies.create_agency(
            session,
            AgencyCreate(
                code="IMIGRASI-DUMAI",
                name="Kantor Imigrasi Dumai",
                kind=AgencyKind.IMMIGRATION,
                region_code="14.72",
                contact=Contact(name="Budi Santoso", phone="+6281234567890"),
            ),
        )
    await create_agency(app, "LAMA", kind=AgencyKind.OTHER)
    async with transaction(app.state.session_factory) as session:
        await agencies.update_agency(session, "LAMA", AgencyUpdate(active=False))

    response = await client.get("/tentang", headers=HTML)

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    page = response.text
    assert '<html lang="id">' in page
    assert "Kantor Imigrasi Dumai" in page
    assert "Imigrasi" in page  # the kind, in Indonesian
    assert "Kota Dumai" in page  # the region code 14.72, by name
    assert "Agency POLRES-DUMAI" in page
    assert "Kepolisian" in page
    assert "Lembaga aktif: 2." in page
    assert "Agency LAMA" not in page  # deactivated
    assert "Agency ADMIN" not in page  # the operator, not a member
    assert "Budi Santoso" not in page
    assert "6281234567890" not in page


async def test_about_page_says_when_no_agency_is_registered(client: httpx.AsyncClient) -> None:
    response = await client.get("/tentang")
    assert "Belum ada lembaga anggota yang terdaftar." in response.text


async def test_console_pages_carry_a_strict_csp_and_are_not_cached(
    client: httpx.AsyncClient,
) -> None:
    response = await client.get("/tentang", headers=HTML)
    csp = {
        d.split(" ", 1)[0]: d.split(" ", 1)[1]
        for d in response.headers["content-security-policy"].split("; ")
    }
    assert csp["default-src"] == "'self'"
    assert csp["script-src"] == "'self'"
    assert csp["style-src"] == "'self'"
    assert csp["frame-ancestors"] == "'none'"
    assert csp["form-action"] == "'self'"
    assert csp["object-src"] == "'none'"
    assert "unsafe" not in response.headers["content-security-policy"]
    assert response.headers["cache-control"] == "no-store"
    assert response.headers["referrer-policy"] == "no-referrer"
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["x-frame-options"] == "DENY"
    assert "<script>" not in response.text
    assert " style=" not in response.text


@pytest.mark.parametrize("path", ["/docs", "/redoc"])
async def test_api_docs_load_only_local_assets(client: httpx.AsyncClient, path: str) -> None:
    response = await client.get(path, headers=HTML)
    assert response.status_code == 200
    csp = response.headers["content-security-policy"]
    assert "script-src 'self';" in csp
    assert "frame-ancestors 'none'" in csp
    assert "unsafe-eval" not in csp
    assert "http" not in csp  # no remote source of any kind
    assert "cdn" not in response.text
    assert "https://" not in response.text
    assert "<script>" not in response.text


async def test_static_assets_are_cacheable_and_every_library_has_its_licence(
    client: httpx.AsyncClient,
) -> None:
    response = await client.get("/static/css/sinergi.css?v=1")
    assert response.status_code == 200
    assert response.headers["cache-control"] == "public, max-age=86400"
    assert response.headers["x-content-type-options"] == "nosniff"
    for library in (STATIC / "vendor").iterdir():
        if library.is_dir():
            assert (library / "LICENSE").is_file(), library.name
            served = await client.get(f"/static/vendor/{library.name}/LICENSE")
            assert served.status_code == 200
    htmx = await client.get("/static/vendor/htmx/htmx.min.js")
    assert htmx.headers["content-type"].startswith(("text/javascript", "application/javascript"))


async def test_language_switch_sets_a_lasting_cookie_and_returns_to_the_page(
    client: httpx.AsyncClient,
) -> None:
    response = await client.post("/bahasa", data={"lang": "en", "next": "/tentang"})
    assert response.status_code == 303
    assert response.headers["location"] == "/tentang"
    cookies = "\n".join(response.headers.get_list("set-cookie"))
    assert "lang=en;" in cookies
    assert "Max-Age=31536000" in cookies
    assert "HttpOnly" in cookies

    english = await client.get("/tentang", headers=HTML)
    assert '<html lang="en">' in english.text
    assert "About Sinergi" in english.text
    assert "The display language is now English." in english.text
    again = await client.get("/tentang", headers=HTML)
    assert "About Sinergi" in again.text
    assert "The display language is now English." not in again.text  # shown once


@pytest.mark.parametrize(
    "target", ["https://evil.example/", "//evil.example/", "/\\evil.example", "tentang"]
)
async def test_language_switch_never_redirects_off_site(
    client: httpx.AsyncClient, target: str
) -> None:
    response = await client.post("/bahasa", data={"lang": "en", "next": target})
    assert response.status_code == 303
    assert response.headers["location"] == "/tentang"


async def test_unknown_language_falls_back_to_indonesian(client: httpx.AsyncClient) -> None:
    client.cookies.set("lang", "fr")
    response = await client.get("/tentang", headers=HTML)
    assert '<html lang="id">' in response.text


async def test_a_browser_gets_a_404_page_in_the_console_style(client: httpx.AsyncClient) -> None:
    response = await client.get("/laporan/tidak-ada", headers=HTML)
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("text/html")
    assert "Halaman tidak ditemukan" in response.text
    assert response.headers["x-request-id"] in response.text  # quoted to the admin
    assert response.headers["cache-control"] == "no-store"
    assert "content-security-policy" in response.headers


async def test_api_paths_and_api_clients_keep_problem_json(client: httpx.AsyncClient) -> None:
    for path, headers in (("/v1/nothing", HTML), ("/laporan/tidak-ada", {"accept": "*/*"})):
        response = await client.get(path, headers=headers)
        assert response.status_code == 404
        assert response.headers["content-type"] == "application/problem+json"


async def test_a_crash_on_a_console_page_shows_the_error_page_without_internals(
    app: FastAPI,
) -> None:
    async def crash() -> None:
        raise RuntimeError("secret internals")

    app.add_api_route("/rusak", crash, include_in_schema=False)
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://sinergi.test") as client:
        page = await client.get("/rusak", headers=HTML)
        api = await client.get("/rusak")

    assert page.status_code == 500
    assert page.headers["content-type"].startswith("text/html")
    assert "Terjadi kesalahan pada sistem" in page.text
    assert "secret internals" not in page.text
    assert "RuntimeError" not in page.text
    assert "content-security-policy" in page.headers
    assert api.status_code == 500
    assert api.headers["content-type"] == "application/problem+json"


async def test_console_routes_stay_out_of_the_openapi_spec(client: httpx.AsyncClient) -> None:
    paths = (await client.get("/openapi.json")).json()["paths"]
    assert all(
        p.startswith(("/v1", "/.well-known", "/healthz", "/readyz", "/metrics")) for p in paths
    )


async def test_a_service_error_in_a_console_route_becomes_its_error_page(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    async def hidden_report() -> None:
        raise NotFound(detail="No report 42")  # as a service answers an outsider

    app.add_api_route("/laporan/42", hidden_report, include_in_schema=False)
    page = await client.get("/laporan/42", headers=HTML)
    api = await client.get("/laporan/42")

    assert page.status_code == 404
    assert "Halaman tidak ditemukan" in page.text
    assert "No report 42" not in page.text
    assert api.headers["content-type"] == "application/problem+json"


async def test_every_page_names_the_consoles_own_icon(client: httpx.AsyncClient) -> None:
    # Without one the browser asks for /favicon.ico on every page and logs the 404.
    page = await client.get("/tentang")
    assert '<link rel="icon" href="/static/favicon.svg' in page.text
    icon = await client.get("/static/favicon.svg")
    assert icon.status_code == 200
    assert icon.headers["content-type"].startswith("image/svg+xml")
