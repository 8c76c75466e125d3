"""Officers sign in and act for their agency: sessions, second factor, CSRF, and attacks on them."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import update

from app.db import transaction
from app.main import create_app
from app.models.agency import AgencyKind
from app.models.base import utcnow
from app.models.officer import Officer, OfficerRole
from app.services import officer_sessions, passwords, totp
from tests.conftest import make_settings
from tests.factories import (
    OFFICER_PASSWORD,
    SeededOfficer,
    bearer,
    create_admin,
    create_agency,
    create_officer,
    sign_in,
    token_for,
)

pytestmark = pytest.mark.anyio

COOKIE = "__Host-sinergi_session"
IMI = "IMIGRASI-DUMAI"
WATCHED = {"full_name": "Siti Aminah", "date_of_birth": "2001-04-09"}


@pytest.fixture
async def world(app: Any) -> dict[str, SeededOfficer]:
    """The ADMIN agency, Immigration and the Navy, and one officer of each role."""
    await create_admin(app)
    await create_agency(app, IMI, kind=AgencyKind.IMMIGRATION)
    await create_agency(app, "LANAL-DUMAI", kind=AgencyKind.NAVY)
    return {
        "officer": await create_officer(app, IMI, "198503122010121001"),
        "agency_admin": await create_officer(app, IMI, "kasi.inteldakim", OfficerRole.AGENCY_ADMIN),
        "navy": await create_officer(app, "LANAL-DUMAI", "serda.budi"),
        "system_admin": await create_officer(app, "ADMIN", "admin.pusat", OfficerRole.SYSTEM_ADMIN),
        "analyst": await create_officer(app, "ADMIN", "analis.satu", OfficerRole.ANALYST),
    }


def _cookie(value: str) -> dict[str, str]:
    """A request carrying a copied session cookie (as a thief would send it)."""
    return {"Cookie": f"{COOKIE}={value}"}


def _problem(response: httpx.Response, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body: dict[str, Any] = response.json()
    assert body["status"] == status
    return body


async def test_an_officer_signs_in_acts_for_the_agency_and_is_named_in_the_audit(
    app: Any, client: httpx.AsyncClient, console: httpx.AsyncClient, world: dict[str, SeededOfficer]
) -> None:
    officer = world["officer"]
    response = await console.post(
        "/v1/session", json={"username": officer.username, "password": officer.password}
    )
    assert response.status_code == 200, response.text
    cookie = response.headers["set-cookie"]
    assert cookie.startswith(f"{COOKIE}=")
    for attribute in ("HttpOnly", "Secure", "Path=/", "SameSite=lax"):
        assert attribute.lower() in cookie.lower()
    assert "domain=" not in cookie.lower()
    body = response.json()
    assert body["stage"] == "active"
    assert body["needs"] == []
    assert body["officer"]["agency_code"] == IMI
    assert body["officer"]["role"] == "OFFICER"

    me = await console.get("/v1/session")
    assert me.status_code == 200
    assert me.json()["csrf_token"] == body["csrf_token"]

    watch = await console.post(
        "/v1/watches",
        json={"person": WATCHED},
        headers={"X-CSRF-Token": body["csrf_token"]},
    )
    assert watch.status_code == 201, watch.text
    listed = await console.get("/v1/watches")
    assert [w["id"] for w in listed.json()["items"]] == [watch.json()["id"]]

    admin = bearer(await token_for(client, app, "ADMIN"))
    for actor in (officer.username, officer.username.upper()):
        found = await client.get("/v1/admin/audit", params={"actor": actor}, headers=admin)
        assert found.status_code == 200, found.text
        actions = {e["action"]: e for e in found.json()["items"]}
        assert {"session.create", "watch.create", "watch.list"} <= set(actions)
        created = actions["watch.create"]
        assert created["actor_agency_code"] == IMI
        assert created["actor_username"] == officer.username
        assert created["credential_id"].startswith("session:")
        assert created["token_id"] is None
    by_id = await client.get(
        "/v1/admin/audit", params={"actor": created["actor_user_id"]}, headers=admin
    )
    assert {e["action"] for e in by_id.json()["items"]} >= {"watch.create"}
    # the agency's key path keeps working as it did, and the chain still verifies
    by_agency = await client.get("/v1/admin/audit", params={"actor": IMI}, headers=admin)
    assert any(e["action"] == "watch.create" for e in by_agency.json()["items"])
    verified = await client.get("/v1/admin/audit/verify", headers=admin)
    assert verified.json()["ok"] is True, verified.json()


async def test_every_refused_sign_in_answers_the_same(
    app: Any, client: httpx.AsyncClient, console: httpx.AsyncClient, world: dict[str, SeededOfficer]
) -> None:
    officer = world["officer"]
    admin = bearer(await token_for(client, app, "ADMIN"))
    wrong_password = await console.post(
        "/v1/session", json={"username": officer.username, "password": "not the password at all"}
    )
    unknown = await console.post(
        "/v1/session", json={"username": "nobody.here", "password": "not the password at all"}
    )
    disabled_user = world["navy"]
    await client.post(
        f"/v1/admin/agencies/LANAL-DUMAI/users/{disabled_user.username}/disable", headers=admin
    )
    disabled = await console.post(
        "/v1/session", json={"username": disabled_user.username, "password": disabled_user.password}
    )
    await client.post(f"/v1/admin/agencies/{IMI}/deactivate", headers=admin)
    agency_off = await console.post(
        "/v1/session", json={"username": officer.username, "password": officer.password}
    )
    bodies = [_problem(r, 401) for r in (wrong_password, unknown, disabled, agency_off)]
    assert len({(b["title"], b["detail"], b["type"]) for b in bodies}) == 1
    assert all(
        "set-cookie" not in r.headers for r in (wrong_password, unknown, disabled, agency_off)
    )


async def test_unknown_and_known_usernames_cost_the_same_password_hash(
    console: httpx.AsyncClient, world: dict[str, SeededOfficer], monkeypatch: pytest.MonkeyPatch
) -> None:
    verified: list[str | None] = []
    real = passwords.verify_password

    def counting(password: str, stored: str | None) -> bool:
        verified.append(stored)
        return real(password, stored)

    monkeypatch.setattr(passwords, "verify_password", counting)
    for username in (world["officer"].username, "nobody.here"):
        await console.post(
            "/v1/session", json={"username": username, "password": "wrong password!"}
        )
    # one Argon2 verification each: the unknown name's against a dummy hash
    assert len(verified) == 2
    assert verified[1] is None


async def test_admins_need_a_totp_code_and_each_code_works_once(
    console: httpx.AsyncClient, world: dict[str, SeededOfficer]
) -> None:
    admin = world["agency_admin"]
    plain = {"username": admin.username, "password": admin.password}
    _problem(await console.post("/v1/session", json=plain), 401)
    _problem(await console.post("/v1/session", json={**plain, "totp_code": "000000"}), 401)
    code = admin.totp_code()
    first = await console.post("/v1/session", json={**plain, "totp_code": code})
    assert first.status_code == 200, first.text
    replay = await console.post("/v1/session", json={**plain, "totp_code": code})
    _problem(replay, 401)
    # the next step's code is accepted (clock drift of one step)
    later = await console.post(
        "/v1/session", json={**plain, "totp_code": admin.totp_code(steps_ahead=1)}
    )
    assert later.status_code == 200, later.text


async def test_a_new_officer_sets_up_the_account_with_the_one_time_code(
    app: Any, client: httpx.AsyncClient, console: httpx.AsyncClient, world: dict[str, SeededOfficer]
) -> None:
    admin_csrf = await sign_in(console, world["agency_admin"])
    created = await console.post(
        f"/v1/admin/agencies/{IMI}/users",
        json={
            "username": "Petugas.Loket",
            "full_name": "Dewi Lestari",
            "role": "AGENCY_ADMIN",
            "nip": "199001012015032002",
            "email": "dewi@example.go.id",
        },
        headers={"X-CSRF-Token": admin_csrf},
    )
    assert created.status_code == 201, created.text
    setup_code = created.json()["setup_code"]
    assert created.json()["officer"]["username"] == "petugas.loket"
    assert created.json()["officer"]["setup_pending"] is True

    newcomer = httpx.AsyncClient(transport=console._transport, base_url="https://sinergi.test")
    async with newcomer:
        # the password is not set yet: only the setup code opens a (setup) session
        _problem(
            await newcomer.post(
                "/v1/session", json={"username": "petugas.loket", "password": "x" * 12}
            ),
            401,
        )
        opened = await newcomer.post(
            "/v1/session", json={"username": "PETUGAS.LOKET", "setup_code": setup_code.lower()}
        )
        assert opened.status_code == 200, opened.text
        assert opened.json()["stage"] == "setup"
        assert opened.json()["needs"] == ["password", "totp"]
        setup_cookie = newcomer.cookies[COOKIE]
        csrf = {"X-CSRF-Token": opened.json()["csrf_token"]}
        _problem(await newcomer.get("/v1/watches"), 401)  # nothing else before the setup ends

        for bad, _why in (
            ("pendek", "12"),
            ("password1234", "common"),
            ("petugas.loket", "username"),
            ("Dewi Lestari", "12"),
        ):
            refused = _problem(
                await newcomer.post(
                    "/v1/session/password", json={"new_password": bad}, headers=csrf
                ),
                422,
            )
            assert refused["errors"][0]["pointer"] == "/new_password", (bad, refused)
        _problem(
            await newcomer.post(
                "/v1/session/password", json={"new_password": "Bismillah123456"}, headers=csrf
            ),
            422,
        )
        chosen = await newcomer.post(
            "/v1/session/password", json={"new_password": "sore hujan di pelabuhan"}, headers=csrf
        )
        assert chosen.status_code == 200, chosen.text
        assert chosen.json()["needs"] == ["totp"]

        enrolment = await newcomer.post("/v1/session/totp", headers=csrf)
        assert enrolment.status_code == 200, enrolment.text
        assert enrolment.json()["otpauth_uri"].startswith("otpauth://totp/Sinergi:petugas.loket?")
        assert enrolment.json()["qr_svg_data_uri"].startswith("data:image/svg+xml")

        secret = enrolment.json()["secret"]
        _problem(
            await newcomer.post("/v1/session/totp/confirm", json={"code": "123456"}, headers=csrf),
            422,
        )
        confirmed = await newcomer.post(
            "/v1/session/totp/confirm", json={"code": totp.code_at(secret, utcnow())}, headers=csrf
        )
        assert confirmed.status_code == 200, confirmed.text
        recovery = confirmed.json()["recovery_codes"]
        assert len(recovery) == 10
        assert confirmed.json()["session"]["stage"] == "active"
        # a new session id once the setup is done; the setup session is over
        assert newcomer.cookies[COOKIE] != setup_cookie
        assert (await newcomer.get("/v1/watches")).status_code == 200
        replay = await client.get("/v1/session", headers=_cookie(setup_cookie))
        _problem(replay, 401)

        # the setup code was for one use; a recovery code stands in for TOTP, once
        _problem(
            await newcomer.post(
                "/v1/session", json={"username": "petugas.loket", "setup_code": setup_code}
            ),
            401,
        )
        with_recovery = {
            "username": "petugas.loket",
            "password": "sore hujan di pelabuhan",
            "recovery_code": recovery[0],
        }
        assert (await newcomer.post("/v1/session", json=with_recovery)).status_code == 200
        _problem(await newcomer.post("/v1/session", json=with_recovery), 401)


async def test_an_expired_setup_code_is_refused(
    app: Any, client: httpx.AsyncClient, console: httpx.AsyncClient, world: dict[str, SeededOfficer]
) -> None:
    admin = bearer(await token_for(client, app, "ADMIN"))
    created = await client.post(
        f"/v1/admin/agencies/{IMI}/users",
        json={"username": "baru.sekali", "full_name": "Baru"},
        headers=admin,
    )
    assert created.status_code == 201, created.text
    async with transaction(app.state.session_factory) as session:
        await session.execute(
            update(Officer)
            .where(Officer.username == "baru.sekali")
            .values(setup_code_expires_at=utcnow() - timedelta(minutes=1))
        )
    expired = await console.post(
        "/v1/session", json={"username": "baru.sekali", "setup_code": created.json()["setup_code"]}
    )
    _problem(expired, 401)


async def test_sign_in_gives_a_new_session_id_and_sign_out_kills_the_cookie(
    client: httpx.AsyncClient, console: httpx.AsyncClient, world: dict[str, SeededOfficer]
) -> None:
    # an attacker plants a session id before the victim signs in (session fixation)
    console.cookies.set(COOKIE, "planted-by-an-attacker", domain="sinergi.test")
    csrf = await sign_in(console, world["officer"])
    stolen = console.cookies[COOKIE]
    assert stolen != "planted-by-an-attacker"
    _problem(await client.get("/v1/watches", headers=_cookie("planted-by-an-attacker")), 401)
    assert (await client.get("/v1/watches", headers=_cookie(stolen))).status_code == 200

    _problem(await console.delete("/v1/session"), 403)  # a state change needs the CSRF token
    out = await console.delete("/v1/session", headers={"X-CSRF-Token": csrf})
    assert out.status_code == 204, out.text
    # the stolen copy of the cookie is dead too
    _problem(await client.get("/v1/watches", headers=_cookie(stolen)), 401)
    _problem(await client.get("/v1/session", headers=_cookie(stolen)), 401)


async def test_csrf_token_must_be_this_sessions(
    app: Any, client: httpx.AsyncClient, console: httpx.AsyncClient, world: dict[str, SeededOfficer]
) -> None:
    other = httpx.AsyncClient(transport=console._transport, base_url="https://sinergi.test")
    async with other:
        other_csrf = await sign_in(other, world["navy"])
    csrf = await sign_in(console, world["officer"])
    body = {"person": WATCHED}
    _problem(await console.post("/v1/watches", json=body), 403)
    _problem(
        await console.post("/v1/watches", json=body, headers={"X-CSRF-Token": other_csrf}), 403
    )
    ok = await console.post("/v1/watches", json=body, headers={"X-CSRF-Token": csrf})
    assert ok.status_code == 201, ok.text
    # the refused attempts are audited as the officer's, denied
    admin = bearer(await token_for(client, app, "ADMIN"))
    trail = await client.get(
        "/v1/admin/audit",
        params={"actor": world["officer"].username, "action": "watch.create"},
        headers=admin,
    )
    assert [e["outcome"] for e in trail.json()["items"]] == ["success", "denied", "denied"]


async def test_a_cookie_and_a_bearer_token_at_once_are_refused(
    app: Any, client: httpx.AsyncClient, console: httpx.AsyncClient, world: dict[str, SeededOfficer]
) -> None:
    await sign_in(console, world["officer"])
    token = await token_for(client, app, IMI)
    both = await console.get("/v1/watches", headers=bearer(token))
    _problem(both, 400)
    _problem(await console.get("/v1/session", headers=bearer(token)), 400)


async def test_roles_narrow_what_an_officer_may_do(
    app: Any, client: httpx.AsyncClient, console: httpx.AsyncClient, world: dict[str, SeededOfficer]
) -> None:
    csrf = {"X-CSRF-Token": await sign_in(console, world["officer"])}
    _problem(await console.get(f"/v1/admin/agencies/{IMI}/users"), 403)
    _problem(
        await console.post(f"/v1/admin/agencies/{IMI}/users/kasi.inteldakim/disable", headers=csrf),
        403,
    )
    _problem(await console.get("/v1/admin/agencies"), 403)
    _problem(await console.get("/v1/admin/possible-matches"), 403)

    analyst = httpx.AsyncClient(transport=console._transport, base_url="https://sinergi.test")
    async with analyst:
        await sign_in(analyst, world["analyst"])
        assert (await analyst.get("/v1/admin/possible-matches")).status_code == 200
        _problem(await analyst.get("/v1/admin/agencies"), 403)
        _problem(await analyst.get(f"/v1/admin/agencies/{IMI}/users"), 403)

    system = httpx.AsyncClient(transport=console._transport, base_url="https://sinergi.test")
    async with system:
        await sign_in(system, world["system_admin"])
        assert (await system.get("/v1/admin/agencies")).status_code == 200
        assert (await system.get("/v1/admin/agencies/LANAL-DUMAI/users")).status_code == 200


async def test_an_agency_admin_manages_only_their_own_agency(
    app: Any, client: httpx.AsyncClient, console: httpx.AsyncClient, world: dict[str, SeededOfficer]
) -> None:
    csrf = {"X-CSRF-Token": await sign_in(console, world["agency_admin"])}
    listed = await console.get(f"/v1/admin/agencies/{IMI}/users")
    assert listed.status_code == 200
    assert {u["username"] for u in listed.json()["items"]} == {
        "198503122010121001",
        "kasi.inteldakim",
    }
    _problem(await console.get("/v1/admin/agencies/LANAL-DUMAI/users"), 404)
    _problem(
        await console.post("/v1/admin/agencies/LANAL-DUMAI/users/serda.budi/disable", headers=csrf),
        404,
    )
    _problem(await console.get(f"/v1/admin/agencies/{IMI}/users/serda.budi"), 404)
    refused = await console.post(
        f"/v1/admin/agencies/{IMI}/users",
        json={"username": "calon.dewa", "full_name": "X", "role": "SYSTEM_ADMIN"},
        headers=csrf,
    )
    _problem(refused, 403)
    invalid = await console.post(
        f"/v1/admin/agencies/{IMI}/users",
        json={"username": "a b", "full_name": "X", "role": "CHIEF", "nip": "12"},
        headers=csrf,
    )
    pointers = {e["pointer"] for e in _problem(invalid, 422)["errors"]}
    assert pointers == {"/username", "/role", "/nip"}
    duplicate = await console.post(
        f"/v1/admin/agencies/{IMI}/users",
        json={"username": "SERDA.BUDI", "full_name": "X"},
        headers=csrf,
    )
    _problem(duplicate, 409)


async def test_disabling_or_resetting_ends_the_officers_sessions_at_once(
    app: Any, client: httpx.AsyncClient, console: httpx.AsyncClient, world: dict[str, SeededOfficer]
) -> None:
    admin = bearer(await token_for(client, app, "ADMIN"))
    officer = world["officer"]
    url = f"/v1/admin/agencies/{IMI}/users/{officer.username}"

    await sign_in(console, officer)
    assert (await client.post(f"{url}/disable", headers=admin)).json()["active"] is False
    _problem(await console.get("/v1/watches"), 401)
    assert (await client.post(f"{url}/enable", headers=admin)).json()["active"] is True
    _problem(await console.get("/v1/watches"), 401)  # enabling revives no old session

    await sign_in(console, officer)
    reset = await client.post(f"{url}/reset-password", headers=admin)
    assert reset.status_code == 200, reset.text
    assert reset.json()["setup_code"]
    _problem(await console.get("/v1/watches"), 401)
    _problem(
        await console.post(
            "/v1/session", json={"username": officer.username, "password": officer.password}
        ),
        401,
    )

    navy = world["navy"]
    other = httpx.AsyncClient(transport=console._transport, base_url="https://sinergi.test")
    async with other:
        await sign_in(other, navy)
        assert (
            await client.post("/v1/admin/agencies/LANAL-DUMAI/deactivate", headers=admin)
        ).status_code == 200
        _problem(await other.get("/v1/watches"), 401)
        reactivated = await client.patch(
            "/v1/admin/agencies/LANAL-DUMAI", json={"active": True}, headers=admin
        )
        assert reactivated.status_code == 200
        _problem(await other.get("/v1/watches"), 401)


async def test_sign_out_everywhere_and_the_idle_timeout(
    console: httpx.AsyncClient, world: dict[str, SeededOfficer], monkeypatch: pytest.MonkeyPatch
) -> None:
    officer = world["officer"]
    laptop = httpx.AsyncClient(transport=console._transport, base_url="https://sinergi.test")
    async with laptop:
        await sign_in(laptop, officer)
        csrf = await sign_in(console, officer)
        ended = await console.post("/v1/session/logout-all", headers={"X-CSRF-Token": csrf})
        assert ended.status_code == 200, ended.text
        assert ended.json()["ended"] == 2
        _problem(await laptop.get("/v1/watches"), 401)
        _problem(await console.get("/v1/watches"), 401)

    await sign_in(console, officer)
    later = utcnow() + timedelta(minutes=31)
    monkeypatch.setattr(officer_sessions, "utcnow", lambda: later)
    _problem(await console.get("/v1/watches"), 401)


async def test_the_absolute_timeout_ends_even_a_busy_session(
    console: httpx.AsyncClient, world: dict[str, SeededOfficer], monkeypatch: pytest.MonkeyPatch
) -> None:
    await sign_in(console, world["officer"])
    start = utcnow()
    for minutes in range(25, 12 * 60, 25):  # a request every 25 minutes keeps it from idling
        moment = start + timedelta(minutes=minutes)
        monkeypatch.setattr(officer_sessions, "utcnow", lambda moment=moment: moment)
        assert (await console.get("/v1/session")).status_code == 200, minutes
    moment = start + timedelta(hours=12, minutes=1)
    monkeypatch.setattr(officer_sessions, "utcnow", lambda: moment)
    _problem(await console.get("/v1/session"), 401)


async def test_changing_the_password_asks_the_current_one(
    console: httpx.AsyncClient, world: dict[str, SeededOfficer]
) -> None:
    officer = world["officer"]
    csrf = {"X-CSRF-Token": await sign_in(console, officer)}
    wrong = await console.post(
        "/v1/session/password",
        json={"current_password": "not it at all!", "new_password": "angin laut malam hari"},
        headers=csrf,
    )
    assert _problem(wrong, 422)["errors"][0]["pointer"] == "/current_password"
    changed = await console.post(
        "/v1/session/password",
        json={"current_password": OFFICER_PASSWORD, "new_password": "angin laut malam hari"},
        headers=csrf,
    )
    assert changed.status_code == 200, changed.text
    assert (await console.get("/v1/watches")).status_code == 200
    signed = await console.post(
        "/v1/session", json={"username": officer.username, "password": "angin laut malam hari"}
    )
    assert signed.status_code == 200


@pytest.fixture
async def strict_app(database_url: str) -> AsyncIterator[Any]:
    """An app that locks after 3 failures and slows from the 2nd (as a fast attacker sees it)."""
    application = create_app(
        make_settings(
            database_url,
            officer_lockout_failures=3,
            officer_throttle_after_failures=100,
            officer_throttle_base_seconds=0,
        )
    )
    yield application
    await application.state.engine.dispose()


async def test_failed_sign_ins_lock_the_account_until_an_agency_admin_unlocks_it(
    strict_app: Any,
) -> None:
    transport = httpx.ASGITransport(app=strict_app)
    async with httpx.AsyncClient(transport=transport, base_url="https://sinergi.test") as console:
        await create_agency(strict_app, IMI)
        officer = await create_officer(strict_app, IMI, "petugas.satu")
        admin = await create_officer(strict_app, IMI, "kasi.satu", OfficerRole.AGENCY_ADMIN)
        for _ in range(3):
            _problem(
                await console.post(
                    "/v1/session",
                    json={"username": officer.username, "password": "guess guess guess"},
                ),
                401,
            )
        locked = await console.post(
            "/v1/session", json={"username": officer.username, "password": officer.password}
        )
        wrong = await console.post(
            "/v1/session", json={"username": "nobody.at.all", "password": officer.password}
        )
        assert _problem(locked, 401) == _problem(wrong, 401)

        csrf = {"X-CSRF-Token": await sign_in(console, admin)}
        shown = await console.get(f"/v1/admin/agencies/{IMI}/users/{officer.username}")
        assert shown.json()["locked_until"] is not None
        unlocked = await console.post(
            f"/v1/admin/agencies/{IMI}/users/{officer.username}/unlock", headers=csrf
        )
        assert unlocked.status_code == 200, unlocked.text
        assert unlocked.json()["locked_until"] is None
    async with httpx.AsyncClient(transport=transport, base_url="https://sinergi.test") as console:
        assert (
            await console.post(
                "/v1/session", json={"username": officer.username, "password": officer.password}
            )
        ).status_code == 200


async def test_repeated_failures_are_slowed_for_known_and_unknown_usernames(
    database_url: str,
) -> None:
    application = create_app(
        make_settings(
            database_url, officer_throttle_after_failures=2, officer_throttle_base_seconds=30
        )
    )
    try:
        transport = httpx.ASGITransport(app=application)
        async with httpx.AsyncClient(
            transport=transport, base_url="https://sinergi.test"
        ) as console:
            await create_agency(application, IMI)
            officer = await create_officer(application, IMI, "petugas.dua")
            for username in (officer.username, "tidak.ada"):
                for _ in range(2):
                    _problem(
                        await console.post(
                            "/v1/session",
                            json={"username": username, "password": "guess guess guess"},
                        ),
                        401,
                    )
                slowed = _problem(
                    await console.post(
                        "/v1/session", json={"username": username, "password": officer.password}
                    ),
                    429,
                )
                assert slowed["status"] == 429
            # the right password waits its turn too
    finally:
        await application.state.engine.dispose()


async def test_sign_in_input_is_validated(
    console: httpx.AsyncClient, world: dict[str, SeededOfficer]
) -> None:
    neither = _problem(await console.post("/v1/session", json={"username": "x"}), 422)
    both = _problem(
        await console.post(
            "/v1/session", json={"username": "x", "password": "y", "setup_code": "z"}
        ),
        422,
    )
    unknown_field = _problem(
        await console.post(
            "/v1/session", json={"username": "x", "password": "y", "role": "SYSTEM_ADMIN"}
        ),
        422,
    )
    assert neither["errors"]
    assert both["errors"]
    assert unknown_field["errors"][0]["pointer"] == "/role"
    _problem(
        await console.post("/v1/session/password", json={"new_password": "whatever whatever"}), 401
    )


async def test_an_agency_admin_manages_the_agencys_own_api_keys_only(
    console: httpx.AsyncClient, world: dict[str, SeededOfficer]
) -> None:
    csrf = {"X-CSRF-Token": await sign_in(console, world["agency_admin"])}
    issued = await console.post(f"/v1/admin/agencies/{IMI}/keys", json={}, headers=csrf)
    assert issued.status_code == 201, issued.text
    listed = await console.get(f"/v1/admin/agencies/{IMI}/keys")
    assert [k["id"] for k in listed.json()] == [issued.json()["id"]]
    revoked = await console.delete(
        f"/v1/admin/agencies/{IMI}/keys/{issued.json()['id']}", headers=csrf
    )
    assert revoked.status_code == 204
    _problem(await console.get("/v1/admin/agencies/LANAL-DUMAI/keys"), 404)
    _problem(await console.post("/v1/admin/agencies/LANAL-DUMAI/keys", json={}, headers=csrf), 404)

    officer = httpx.AsyncClient(transport=console._transport, base_url="https://sinergi.test")
    async with officer:
        await sign_in(officer, world["officer"])
        _problem(await officer.get(f"/v1/admin/agencies/{IMI}/keys"), 403)


async def test_an_agency_admin_manages_the_agencys_own_webhook_only(
    console: httpx.AsyncClient, world: dict[str, SeededOfficer]
) -> None:
    """As in the console's Webhook tab: an agency admin reads and disables their own agency's
    webhook; another agency's answers 404, as for an agency that does not exist."""
    csrf = {"X-CSRF-Token": await sign_in(console, world["agency_admin"])}
    own = await console.get(f"/v1/admin/agencies/{IMI}/webhook")
    assert own.status_code == 404  # its own agency, no endpoint yet (it pulls)
    assert "has no webhook endpoint" in own.json()["detail"]
    other = await console.get("/v1/admin/agencies/LANAL-DUMAI/webhook")
    _problem(other, 404)
    missing = await console.get("/v1/admin/agencies/NO-SUCH-AGENCY/webhook")
    assert other.json()["detail"].replace("LANAL-DUMAI", "X") == missing.json()["detail"].replace(
        "NO-SUCH-AGENCY", "X"
    )
    _problem(
        await console.post("/v1/admin/agencies/LANAL-DUMAI/webhook/rotate-secret", headers=csrf),
        404,
    )


async def test_retention_forgets_departed_officers_but_keeps_who_did_what(
    app: Any, client: httpx.AsyncClient, console: httpx.AsyncClient, world: dict[str, SeededOfficer]
) -> None:
    from app.services.retention import run_retention

    admin = bearer(await token_for(client, app, "ADMIN"))
    await sign_in(console, world["navy"])
    url = "/v1/admin/agencies/LANAL-DUMAI/users/serda.budi"
    assert (await client.post(f"{url}/disable", headers=admin)).status_code == 200
    later = utcnow() + timedelta(days=app.state.settings.retention_person_data_days + 1)
    async with transaction(app.state.session_factory) as session:
        run = await run_retention(session, app.state.settings, now=later)
    assert run.purged["officers"].detail["sessions"] == "1"
    shown = (await client.get(url, headers=admin)).json()
    assert (shown["full_name"], shown["nip"], shown["email"]) == ("(removed)", None, None)
    assert shown["username"] == "serda.budi"
    still_active = (
        await client.get(
            f"/v1/admin/agencies/{IMI}/users/{world['officer'].username}", headers=admin
        )
    ).json()
    assert still_active["full_name"] != "(removed)"
    trail = await client.get("/v1/admin/audit", params={"actor": "serda.budi"}, headers=admin)
    assert any(e["action"] == "session.create" for e in trail.json()["items"])
