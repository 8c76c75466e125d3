"""Factories for tests: agencies, their API keys, access tokens obtained through the API,
reports."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from functools import cache
from typing import Any

import httpx
from sqlalchemy import select

from app.db import transaction
from app.models.agency import ADMIN_AGENCY_CODE, Agency, AgencyKind, Scope
from app.models.base import utcnow
from app.models.officer import OfficerRole
from app.models.resolution import MatchWeights
from app.schemas.agency import AgencyCreate
from app.services import agencies, api_keys, officers, passwords, totp
from app.worker import Worker

#: A password every test officer gets (not on the common list, 12+ characters).
OFFICER_PASSWORD = "kopi hitam di pelabuhan dumai"


async def create_agency(
    app: Any,
    code: str,
    kind: AgencyKind = AgencyKind.IMMIGRATION,
    scopes: list[Scope] | None = None,
    *,
    region_code: str | None = None,
) -> Agency:
    """Register an agency directly in the app's database (member scopes unless given)."""
    async with transaction(app.state.session_factory) as session:
        return await agencies.create_agency(
            session,
            AgencyCreate(
                code=code,
                name=f"Agency {code}",
                kind=kind,
                region_code=region_code,
                scopes=scopes,
            ),
        )


async def create_admin(app: Any) -> Agency:
    """The ADMIN agency (scope ``admin``)."""
    return await create_agency(app, ADMIN_AGENCY_CODE, kind=AgencyKind.OTHER, scopes=[Scope.ADMIN])


async def issue_key(app: Any, code: str) -> str:
    """A fresh API key for the agency ``code`` (plain value)."""
    async with transaction(app.state.session_factory) as session:
        agency = await agencies.get_agency(session, code)
        issued = await api_keys.issue_api_key(
            session, secret_key=app.state.settings.secret_key, agency=agency
        )
        return issued.key


async def token_for(client: httpx.AsyncClient, app: Any, code: str) -> str:
    """An access token for ``code`` obtained at POST /v1/auth/token.

    The agency's API key is issued once per app and reused, so calling this often never runs
    into the two-active-keys limit.
    """
    keys: dict[str, str] = app.state.__dict__.setdefault("_test_api_keys", {})
    if code not in keys:
        keys[code] = await issue_key(app, code)
    response = await client.post(
        "/v1/auth/token",
        data={"grant_type": "client_credentials", "client_id": code, "client_secret": keys[code]},
    )
    assert response.status_code == 200, response.text
    token: str = response.json()["access_token"]
    return token


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


#: The member agencies of the Dumai TIMPORA most tests work with.
DUMAI_AGENCIES: dict[str, AgencyKind] = {
    "IMIGRASI-DUMAI": AgencyKind.IMMIGRATION,
    "POLRES-DUMAI": AgencyKind.POLICE,
    "LANAL-DUMAI": AgencyKind.NAVY,
}

#: Bearer headers by agency code.
Agencies = dict[str, dict[str, str]]


async def dumai_agencies(
    app: Any, client: httpx.AsyncClient, more: dict[str, AgencyKind] | None = None
) -> Agencies:
    """The admin and the Dumai agencies (and ``more``), registered, each with a bearer header."""
    members = {**DUMAI_AGENCIES, **(more or {})}
    await create_admin(app)
    for code, kind in members.items():
        await create_agency(app, code, kind=kind)
    return {code: bearer(await token_for(client, app, code)) for code in ["ADMIN", *members]}


async def submit_report(
    client: httpx.AsyncClient, headers: dict[str, str], body: dict[str, Any]
) -> dict[str, Any]:
    """POST the report and expect it created (201); the answer's JSON."""
    response = await client.post("/v1/reports", json=body, headers=headers)
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


@dataclass(frozen=True)
class SeededOfficer:
    username: str
    password: str
    agency_code: str
    #: The TOTP secret when the officer enrolled an authenticator app.
    totp_secret: str | None

    def totp_code(self, *, steps_ahead: int = 0) -> str:
        """The code the officer's app shows now (or ``steps_ahead`` 30-second steps later)."""
        assert self.totp_secret is not None
        return totp.code_at(self.totp_secret, utcnow() + timedelta(seconds=30 * steps_ahead))


@cache
def _password_hash() -> str:
    """``OFFICER_PASSWORD`` hashed once per test run (Argon2 is slow on purpose)."""
    return passwords.hash_password(OFFICER_PASSWORD)


async def create_officer(
    app: Any,
    agency_code: str,
    username: str,
    role: OfficerRole = OfficerRole.OFFICER,
    *,
    with_totp: bool | None = None,
) -> SeededOfficer:
    """An officer who already chose ``OFFICER_PASSWORD`` (and enrolled TOTP: admins always)."""
    settings = app.state.settings
    enrol = (
        role in (OfficerRole.AGENCY_ADMIN, OfficerRole.SYSTEM_ADMIN)
        if with_totp is None
        else with_totp
    )
    secret = totp.new_secret() if enrol else None
    async with transaction(app.state.session_factory) as session:
        agency = await agencies.get_agency(session, agency_code)
        await officers.create_ready_officer(
            session,
            settings,
            agency,
            officers.OfficerDraft(username=username, full_name=f"Petugas {username}", role=role),
            password_hash=_password_hash(),
            totp_secret=secret,
            actor="test",
        )
    return SeededOfficer(username, OFFICER_PASSWORD, agency_code, secret)


async def create_officer_to_set_up(
    app: Any, agency_code: str, username: str, role: OfficerRole = OfficerRole.OFFICER
) -> str:
    """A new officer as an admin creates one: no password yet, only a setup code (returned)."""
    async with transaction(app.state.session_factory) as session:
        agency = await agencies.get_agency(session, agency_code)
        setup = await officers.create_officer(
            session,
            app.state.settings,
            agency,
            officers.OfficerDraft(username=username, full_name=f"Petugas {username}", role=role),
            actor="test",
        )
    return setup.code


async def sign_in(console: httpx.AsyncClient, officer: SeededOfficer, **extra: str) -> str:
    """Sign ``officer`` in on ``console`` (the cookie stays in its jar); the CSRF token."""
    body: dict[str, str] = {"username": officer.username, "password": officer.password}
    if officer.totp_secret is not None:
        body["totp_code"] = officer.totp_code()
    body.update(extra)
    response = await console.post("/v1/session", json=body)
    assert response.status_code == 200, response.text
    csrf: str = response.json()["csrf_token"]
    return csrf


#: A browser's Accept header: console pages answer HTML (and HTML error pages) to it.
HTML = {"accept": "text/html,application/xhtml+xml,*/*;q=0.8"}


def form_csrf(page: str) -> str:
    """The CSRF token a console page puts into its forms (``<input name="csrf_token">``)."""
    found = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert found is not None, "the page has no form with a CSRF token"
    return found.group(1)


async def console_sign_in(console: httpx.AsyncClient, officer: SeededOfficer) -> str:
    """Sign ``officer`` in through the console's sign-in form; the session's CSRF token."""
    form = await console.get("/", headers=HTML)
    data = {
        "username": officer.username,
        "password": officer.password,
        "csrf_token": form_csrf(form.text),
    }
    if officer.totp_secret is not None:
        data["code"] = officer.totp_code()
    response = await console.post("/masuk", data=data, headers=HTML)
    assert response.status_code == 303, response.text
    home = await console.get("/", headers=HTML)
    assert home.status_code == 200, home.text
    return form_csrf(home.text)


def woman_victim(full_name: str, date_of_birth: str, address: str, **fields: Any) -> dict[str, Any]:
    """A report person: an Indonesian woman, a possible victim."""
    return {
        "role": "VICTIM",
        "full_name": full_name,
        "sex": "FEMALE",
        "nationality": "IDN",
        "trafficking_status": "POSSIBLE",
        "date_of_birth": date_of_birth,
        "address": address,
        **fields,
    }


async def stored_weights(app: Any) -> list[MatchWeights]:
    """Every stored row of match weights, oldest first."""
    async with transaction(app.state.session_factory) as session:
        rows = await session.execute(select(MatchWeights).order_by(MatchWeights.created_at))
        return list(rows.scalars())


async def three_workers_due_at_once(
    app: Any,
    settings: Any,
    monkeypatch: Any,
    step: str,
    check: Callable[[Worker], Awaitable[Any]],
) -> list[Any]:
    """Three workers run ``check`` at once, each held at a barrier before the step
    ``app.services.match_weights.<step>`` until all three found the work due; their results."""
    from app.services import match_weights

    workers = [Worker(settings, app.state.session_factory, name=f"w-{i}") for i in range(3)]
    all_due = asyncio.Barrier(len(workers))
    original = getattr(match_weights, step)

    async def once_all_are_due(*args: Any, **kwargs: Any) -> Any:
        await all_due.wait()
        return await original(*args, **kwargs)

    monkeypatch.setattr(match_weights, step, once_all_are_due)
    try:
        return list(await asyncio.gather(*(check(w) for w in workers)))
    finally:
        for w in workers:
            await w.aclose()
