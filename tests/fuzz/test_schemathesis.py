"""Schemathesis against the in-process app: every operation, every check, all phases, seeded.

Run by ``.ci/run`` (``SINERGI_FUZZ=1 python -m pytest tests/fuzz``), not by the default suite.
The app runs on a fresh, migrated SQLite file with two member agencies (FUZZ-IMI, FUZZ-POL),
the ADMIN agency and a few reports routed between them, so list and read operations answer with
real data. Admin operations are called with an admin token, the rest with FUZZ-IMI's token;
``ignored_auth`` then replays them without and with a forged token.

Two tests: ``test_api`` runs the examples, coverage and fuzzing phases per operation;
``test_workflows`` is the stateful phase, chaining operations through links schemathesis infers
from the spec (create an agency, then PATCH it), so bodies reach objects that exist.

``SINERGI_FUZZ_EXAMPLES`` bounds the generated examples per operation and the stateful scenarios
(default 100); ``SINERGI_FUZZ_SEED`` replays a run (default: a fresh seed, printed in the header
and the summary). See docs/testing.md.
"""

from __future__ import annotations

import asyncio
import atexit
import os
import shutil
import tempfile
import uuid
from pathlib import Path
from typing import Any

import httpx
import hypothesis
import schemathesis
from hypothesis import strategies as st
from schemathesis import Case, HookContext
from schemathesis.config import SchemathesisConfig
from schemathesis.python.asgi import get_client

from app import migrate
from app.db import create_engine, create_session_factory
from app.main import create_app
from app.models.agency import ADMIN_AGENCY_CODE, AgencyKind
from tests.conftest import make_settings
from tests.factories import bearer, create_admin, create_agency, issue_key
from tests.fuzz.conftest import EXERCISED, SEED, STATEFUL
from tests.report_samples import deferral, interception

MAX_EXAMPLES = int(os.environ.get("SINERGI_FUZZ_EXAMPLES") or "100")
SENDER, RECIPIENT = "FUZZ-IMI", "FUZZ-POL"
#: An agency only the admin operations touch: they may deactivate it or change its scopes.
SPARE = "FUZZ-NAVY"

_folder = Path(tempfile.mkdtemp(prefix="sinergi-fuzz-"))
atexit.register(shutil.rmtree, _folder, ignore_errors=True)
_database = _folder / "fuzz.db"
DATABASE_URL = f"sqlite+aiosqlite:///{_database}"
migrate.upgrade(DATABASE_URL)
SETTINGS = make_settings(
    DATABASE_URL, access_token_ttl_seconds=3600, log_level="WARNING", rate_limit_enabled=False
)


async def _seed() -> tuple[dict[str, str], dict[str, list[str]]]:
    """Agencies, their API keys, two routed reports and a routing rule, through a throw-away app.

    Returns the API keys and, per path parameter name, the seeded objects it may name.
    """
    seeding = create_app(SETTINGS)
    try:
        await create_admin(seeding)
        await create_agency(seeding, SENDER, kind=AgencyKind.IMMIGRATION)
        await create_agency(seeding, RECIPIENT, kind=AgencyKind.POLICE)
        await create_agency(seeding, SPARE, kind=AgencyKind.NAVY)
        keys = {
            code: await issue_key(seeding, code) for code in (ADMIN_AGENCY_CODE, SENDER, RECIPIENT)
        }
        transport = httpx.ASGITransport(app=seeding)
        async with httpx.AsyncClient(transport=transport, base_url="http://sinergi.test") as client:

            async def token(code: str) -> dict[str, str]:
                answer = await client.post(
                    "/v1/auth/token",
                    data={
                        "grant_type": "client_credentials",
                        "client_id": code,
                        "client_secret": keys[code],
                    },
                )
                return bearer(answer.json()["access_token"])

            sender, admin = await token(SENDER), await token(ADMIN_AGENCY_CODE)
            reports = []
            for body in (deferral(), interception()):
                body["recipients"] = [RECIPIENT]
                answer = await client.post("/v1/reports", json=body, headers=sender)
                assert answer.status_code == 201, answer.text
                reports.append(answer.json()["id"])
            rule = await client.post(
                "/v1/admin/routing-rules",
                json={"name": "fuzz-navy", "case_types": ["TPPM"], "recipients": [SPARE]},
                headers=admin,
            )
            assert rule.status_code == 201, rule.text
        return keys, {"code": [SPARE], "report_id": reports, "rule_id": [rule.json()["id"]]}
    finally:
        await seeding.state.engine.dispose()


API_KEYS, SEEDED_OBJECTS = asyncio.run(_seed())
#: The seeded database; each stateful scenario starts from a copy of it.
_seeded = _folder / "seeded.db"
shutil.copyfile(_database, _seeded)
APP = create_app(SETTINGS)


#: What the app makes on first use and holds for its process (``app.api.deps``, ``app.db``): the
#: sign-in throttle's failures, a session factory and a group commit bound to the engine of the
#: time. A scenario starts without them, as a fresh process would: otherwise a sign-in throttled in
#: one scenario (or by ``test_api``) answers 429 in the next where it answered 401, and one
#: sequence of calls gives two answers (hypothesis' FlakyStrategyDefinition, seen once).
_PROCESS_HELD = ("sign_in_throttle", "autocommit_session_factory", "audit_group_commit")


def _start_from_seeded_database() -> None:
    """Point the app at a fresh copy of the seeded database, so a scenario replays the same way."""
    global _database
    for held in _PROCESS_HELD:
        if hasattr(APP.state, held):
            delattr(APP.state, held)
    previous_engine, previous_file = APP.state.engine, _database
    _database = _folder / f"scenario-{uuid.uuid4().hex}.db"
    shutil.copyfile(_seeded, _database)
    engine = create_engine(
        SETTINGS.model_copy(update={"database_url": f"sqlite+aiosqlite:///{_database}"})
    )
    APP.state.engine = engine
    APP.state.session_factory = create_session_factory(engine)
    asyncio.run(previous_engine.dispose())
    for leftover in _folder.glob(f"{previous_file.name}*"):  # the file and its -wal, -shm
        leftover.unlink()


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
        "generation": {"max-examples": MAX_EXAMPLES, "mode": "all", "database": "none"},
        "phases": {
            "examples": {"enabled": True},
            "coverage": {"enabled": True},
            "fuzzing": {"enabled": True},
            "stateful": {
                "enabled": True,
                "inference": {"algorithms": ["location-headers", "dependency-analysis"]},
            },
        },
        "checks": {"enabled": True},
        "seed": SEED,
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


# The session routes take the officer's cookie alone (SessionCookie): a client that sends a
# bearer token too is refused with 400 by design, so they are fuzzed without one.
@schema.auth(refresh_interval=600).skip_for(path_regex="^/v1/(admin|session)(/|$)")
class AgencyToken(_BearerFor):
    code = SENDER


@schema.hook
def flatmap_path_parameters(context: HookContext, path_parameters: dict[str, Any]) -> Any:
    """Half the time, name seeded objects: a body is only fuzzed on an object that exists."""
    if not path_parameters or not any(name in SEEDED_OBJECTS for name in path_parameters):
        return st.just(path_parameters)
    seeded = st.fixed_dictionaries(
        {
            name: st.sampled_from(SEEDED_OBJECTS[name])
            if name in SEEDED_OBJECTS
            else st.just(value)
            for name, value in path_parameters.items()
        }
    )
    return st.one_of(st.just(path_parameters), seeded)


@schema.parametrize()
def test_api(case: Case) -> None:
    EXERCISED[case.operation.label] += 1
    case.call_and_validate()


class Workflows(schema.as_state_machine()):  # type: ignore[misc]
    """Sequences of calls linked by the ids and codes earlier answers returned."""

    def setup(self) -> None:
        _start_from_seeded_database()

    def before_call(self, case: Case) -> None:
        EXERCISED[case.operation.label + STATEFUL] += 1


def test_workflows() -> None:
    hypothesis.seed(SEED)(Workflows)
    Workflows.run(
        settings=hypothesis.settings(
            max_examples=MAX_EXAMPLES,
            stateful_step_count=10,
            database=None,
            deadline=None,
            phases=[hypothesis.Phase.generate],
            suppress_health_check=list(hypothesis.HealthCheck),
        )
    )
