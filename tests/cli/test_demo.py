"""`sinergi serve --demo`: a fresh database, keys printed once, content to look at."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

import httpx
import pytest

from app import config
from app.cli import _prepare_demo
from app.config import Settings
from app.main import create_app
from tests.factories import bearer

CURL = re.compile(
    r"-u '([A-Z0-9-]+):(sng_\w+)' -d grant_type=client_credentials (\S+)/v1/auth/token"
)


@pytest.fixture
def demo_env(monkeypatch: pytest.MonkeyPatch) -> None:
    # _prepare_demo sets these for the served app; monkeypatch puts them back afterwards.
    monkeypatch.setenv("SINERGI_ENV", "production")
    monkeypatch.setenv("SINERGI_DATABASE_URL", "sqlite+aiosqlite:///./not-the-demo.db")
    yield
    config.get_settings.cache_clear()


async def _look_around(settings: Settings, keys: dict[str, str]) -> dict[str, object]:
    app = create_app(settings)
    seen: dict[str, object] = {}
    try:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://demo.test") as client:
            for code in ("POLRES-DUMAI", "ADMIN"):
                token = await client.post(
                    "/v1/auth/token",
                    data={"grant_type": "client_credentials"},
                    auth=(code, keys[code]),
                )
                assert token.status_code == 200, token.text
                seen[code] = token.json()["access_token"]
            inbox = await client.get(
                "/v1/inbox?limit=200", headers=bearer(str(seen["POLRES-DUMAI"]))
            )
            assert inbox.status_code == 200
            seen["inbox"] = inbox.json()["items"]
            cases = await client.get("/v1/cases?limit=200", headers=bearer(str(seen["ADMIN"])))
            assert cases.status_code == 200
            seen["cases"] = cases.json()["items"]
            matches = await client.get(
                "/v1/admin/possible-matches", headers=bearer(str(seen["ADMIN"]))
            )
            assert matches.status_code == 200
            seen["possible_matches"] = matches.json()["items"]
    finally:
        await app.state.engine.dispose()
    return seen


@pytest.mark.usefixtures("demo_env")
def test_demo_seeds_a_timpora_whose_printed_keys_work(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "demo.db"
    settings = _prepare_demo(path, seed=11, size=40, host="127.0.0.1", port=8123)
    printed = capsys.readouterr().out

    assert settings.database_url == f"sqlite+aiosqlite:///{path}"
    assert settings.env.value == "development"
    keys = {code: key for code, key, _ in CURL.findall(printed)}
    assert {m[2] for m in CURL.findall(printed)} == {"http://127.0.0.1:8123"}
    assert set(keys) == {
        "ADMIN", "IMIGRASI-DUMAI", "POLRES-DUMAI", "BP3MI-RIAU", "DISNAKER-DUMAI", "KEJARI-DUMAI",
        "LANAL-DUMAI", "KSOP-DUMAI", "DP3A-DUMAI", "PEMKOT-DUMAI",
    }  # fmt: skip
    for key in keys.values():
        assert printed.count(key) == 1, "each key is printed exactly once"

    seen = asyncio.run(_look_around(settings, keys))
    inbox = seen["inbox"]
    assert isinstance(inbox, list)
    assert len(inbox) > 10
    assert {item["event"] for item in inbox} >= {"report.routed"}
    cases = seen["cases"]
    assert isinstance(cases, list)
    assert any(case["visible_reports"] > 1 for case in cases), "no two reports share a victim"
    # A victim known only by name is left to the analysts: the review queue is not empty.
    assert seen["possible_matches"], "the demo gives the analysts nothing to review"


@pytest.mark.usefixtures("demo_env")
def test_demo_starts_from_scratch_every_time(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "demo.db"
    first_settings = _prepare_demo(path, seed=11, size=3, host="127.0.0.1", port=8000)
    first = {c: k for c, k, _ in CURL.findall(capsys.readouterr().out)}
    settings = _prepare_demo(path, seed=11, size=3, host="127.0.0.1", port=8000)
    second = {c: k for c, k, _ in CURL.findall(capsys.readouterr().out)}
    assert first_settings.database_url == settings.database_url
    assert first["ADMIN"] != second["ADMIN"]

    async def old_key_refused() -> int:
        app = create_app(settings)
        try:
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
                response = await client.post(
                    "/v1/auth/token",
                    data={"grant_type": "client_credentials"},
                    auth=("ADMIN", first["ADMIN"]),
                )
                return response.status_code
        finally:
            await app.state.engine.dispose()

    assert asyncio.run(old_key_refused()) == 401


OFFICER_LINE = re.compile(
    r"^  ([a-z0-9.-]+)\s+(OFFICER|ANALYST|AGENCY_ADMIN|SYSTEM_ADMIN)\s*(?:TOTP secret (\w+))?$",
    re.M,
)


@pytest.mark.usefixtures("demo_env")
def test_demo_officers_sign_in_with_the_printed_password_and_totp(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from app.demo import DEMO_OFFICER_PASSWORD
    from app.models.base import utcnow
    from app.services.totp import code_at

    settings = _prepare_demo(tmp_path / "demo.db", seed=11, size=3, host="127.0.0.1", port=8000)
    printed = capsys.readouterr().out
    officers = {name: (role, secret) for name, role, secret in OFFICER_LINE.findall(printed)}
    assert DEMO_OFFICER_PASSWORD in printed
    assert officers["petugas.polres-dumai"] == ("OFFICER", "")
    assert officers["sysadmin.admin"][0] == "SYSTEM_ADMIN"
    assert officers["admin.ksop-dumai"][1], "admins get a TOTP secret to sign in with"

    async def sign_in_both() -> list[int]:
        app = create_app(settings)
        try:
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(
                transport=transport, base_url="http://demo.test"
            ) as client:
                plain = await client.post(
                    "/v1/session",
                    json={"username": "petugas.polres-dumai", "password": DEMO_OFFICER_PASSWORD},
                )
                # development serves plain http: the cookie is `sinergi_session`, not Secure
                assert "sinergi_session=" in plain.headers["set-cookie"]
                inbox = await client.get("/v1/inbox?limit=5")
                admin = await client.post(
                    "/v1/session",
                    json={
                        "username": "admin.ksop-dumai",
                        "password": DEMO_OFFICER_PASSWORD,
                        "totp_code": code_at(officers["admin.ksop-dumai"][1], utcnow()),
                    },
                )
                return [plain.status_code, inbox.status_code, admin.status_code]
        finally:
            await app.state.engine.dispose()

    assert asyncio.run(sign_in_both()) == [200, 200, 200]
