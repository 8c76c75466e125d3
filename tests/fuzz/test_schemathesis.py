"""Schemathesis against the in-process app: every operation, every check, a bounded budget.

Run by ``.ci/run`` (``SINERGI_FUZZ=1 python -m pytest tests/fuzz``), not by the default suite.
The app runs on a fresh, migrated SQLite file with two member agencies (FUZZ-IMI, FUZZ-POL),
the ADMIN agency and a few reports routed between them, so list and read operations answer with
real data. Admin operations are called with an admin token, the rest with FUZZ-IMI's token;
``ignored_auth`` then replays them without and with a forged token.

``SINERGI_FUZZ_EXAMPLES`` bounds the generated examples per operation (default 25).
"""

from __future__ import annotations

import asyncio
import os
import tempfile
from pathlib import Path
from typing import Any

import httpx
import schemathesis
from schemathesis import Case
from schemathesis.config import SchemathesisConfig
from schemathesis.python.asgi import get_client

from app import migrate
from app.main import create_app
from app.models.agency import ADMIN_AGENCY_CODE, AgencyKind
from tests.conftest import make_settings
from tests.factories import bearer, create_admin, create_agency, issue_key
from tests.fuzz.conftest import EXERCISED
from tests.report_samples import deferral, interception

MAX_EXAMPLES = int(os.environ.get("SINERGI_FUZZ_EXAMPLES", "25"))
SENDER, RECIPIENT = "FUZZ-IMI", "FUZZ-POL"

_database = Path(tempfile.mkdtemp(prefix="sinergi-fuzz-")) / "fuzz.db"
DATABASE_URL = f"sqlite+aiosqlite:///{_database}"
migrate.upgrade(DATABASE_URL)
SETTINGS = make_settings(DATABASE_URL, access_token_ttl_seconds=3600, log_level="WARNING")


async def _seed() -> dict[str, str]:
    """Agencies, their API keys and two routed reports, written through a throw-away app."""
    seeding = create_app(SETTINGS)
    try:
        await create_admin(seeding)
        await create_agency(seeding, SENDER, kind=AgencyKind.IMMIGRATION)
        await create_agency(seeding, RECIPIENT, kind=AgencyKind.POLICE)
        keys = {
            code: await issue_key(seeding, code) for code in (ADMIN_AGENCY_CODE, SENDER, RECIPIENT)
        }
        transport = httpx.ASGITransport(app=seeding)
        async with httpx.AsyncClient(transport=transport, base_url="http://sinergi.test") as client:
            token = (
                await client.post(
                    "/v1/auth/token",
                    data={
                        "grant_type": "client_credentials",
                        "client_id": SENDER,
                        "client_secret": keys[SENDER],
                    },
                )
            ).json()["access_token"]
            for body in (deferral(), interception()):
                body["recipients"] = [RECIPIENT]
                answer = await client.post("/v1/reports", json=body, headers=bearer(token))
                assert answer.status_code == 201, answer.text
        return keys
    finally:
        await seeding.state.engine.dispose()


API_KEYS = asyncio.run(_seed())
APP = create_app(SETTINGS)

#: ``positive_data_acceptance`` expects schema-valid requests to succeed (or 401/403/404/409). A few
#: rules cannot be written in a JSON Schema; the check's own guidance is to allow their status for
#: the operations that have them, and that is all this does:
#: - 422 where there are parameters or a body: codes checked against code lists served at
#:   /v1/vocab (countries, regions), references to stored agencies in `recipients`, webhook URL
#:   safety, cross-field rules (TLP RED needs recipients, one agency named once, date order);
#: - 400 where there is a `cursor`: it is opaque, and one this service did not issue is refused;
#: - 412/428 where there is `If-Match`: the version must be the current one.
POSITIVE_DEFAULT = ["2xx", "3xx", "401", "403", "404", "409", "429", "5xx"]


def _rules_beyond_schema(spec: dict[str, Any]) -> list[dict[str, Any]]:
    entries = []
    for item in spec["paths"].values():
        for op in item.values():
            names = {p["name"].lower() for p in op.get("parameters", [])}
            extra = []
            if names or "requestBody" in op:
                extra.append("422")
            if "cursor" in names:
                extra.append("400")
            if "if-match" in names:
                extra += ["412", "428"]
            if extra:
                entries.append(
                    {
                        "include-operation-id": op["operationId"],
                        "checks": {
                            "positive_data_acceptance": {
                                "expected-statuses": POSITIVE_DEFAULT + extra
                            }
                        },
                    }
                )
    return entries


CONFIG = SchemathesisConfig.from_dict(
    {
        "operations": _rules_beyond_schema(APP.openapi()),
        "generation": {"max-examples": MAX_EXAMPLES, "mode": "all"},
        "phases": {"examples": {"enabled": True}, "coverage": {"enabled": True}},
        "checks": {"enabled": True},
        "seed": int(os.environ.get("SINERGI_FUZZ_SEED", "20251128")),
        "suppress-health-check": ["too_slow", "filter_too_much", "data_too_large"],
    }
)
schema = schemathesis.openapi.from_asgi("/openapi.json", APP, config=CONFIG)


def _token(code: str) -> str:
    with get_client(APP) as client:
        answer = client.post(
            "/v1/auth/token",
            data={
                "grant_type": "client_credentials",
                "client_id": code,
                "client_secret": API_KEYS[code],
            },
        )
    assert answer.status_code == 200, answer.text
    token: str = answer.json()["access_token"]
    return token


class _BearerFor:
    code: str

    def get(self, case: Case, context: Any) -> str:
        return _token(self.code)

    def set(self, case: Case, data: str, context: Any) -> None:
        case.headers = {**(case.headers or {}), "Authorization": f"Bearer {data}"}


@schema.auth(refresh_interval=600).apply_to(path_regex="^/v1/admin/")
class AdminToken(_BearerFor):
    code = ADMIN_AGENCY_CODE


@schema.auth(refresh_interval=600).skip_for(path_regex="^/v1/admin/")
class AgencyToken(_BearerFor):
    code = SENDER


@schema.parametrize()
def test_api(case: Case) -> None:
    EXERCISED[case.operation.label] += 1
    case.call_and_validate()
