"""UU PDP: no name, NIK, passport number, phone number or credential reaches a log line."""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import APIRouter, FastAPI
from pydantic import BaseModel, ConfigDict, Field

from app.api.deps import AgencyWriter
from app.api.route_class import SinergiRoute, operation_id
from app.logging import JsonFormatter, redact
from app.main import create_app
from tests.api.audit_support import as_agency, authenticate_by_header
from tests.conftest import make_settings

NAME = "Siti Aminah Lubis"
OTHER_NAME = "Budi Santoso"
NIK = "3201234567890123"
PASSPORT = "C1234567"
PHONES = ["+62 812-3456-7890", "081234567890", "0812 3456 7891", "+60 12-345 6789"]
API_KEY = "sng_live_4f8a9b2c7d1e0f3a5b6c8d9e0f1a2b3c_k9x2"
WEBHOOK_SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
JWT = (
    "eyJhbGciOiJFUzI1NiIsImtpZCI6ImsxIiwidHlwIjoiYXQrand0In0"
    ".eyJzdWIiOiJJTUlHUkFTSS1EVU1BSSIsImp0aSI6IjEyMyJ9"
    ".MEUCIQDx3Fv2pQ9uXgNw1oZcY7bKj5sHn8tLq2aRm4eVd6iWfA"
)
SECRETS = [NAME, OTHER_NAME, NIK, PASSPORT, *PHONES, API_KEY, WEBHOOK_SECRET, JWT]


def _leaks(text: str) -> list[str]:
    found = [value for value in SECRETS if value in text]
    # names must not leak in part either (a first name alone identifies in a small case)
    found += [part for part in (*NAME.split(), *OTHER_NAME.split()) if part in text]
    # nor a NIK or phone written without its separators
    digits = "".join(c for c in text if c.isdigit() or c == "\n")
    found += [NIK] if NIK in digits else []
    return found


@pytest.mark.parametrize(
    "line",
    [
        f'{{"name": "{NAME}", "nik": "{NIK}", "passport_number": "{PASSPORT}"}}',
        f"{{'full_name': '{OTHER_NAME}', 'phone': '{PHONES[0]}'}}",
        f"person nama={NAME}, nik={NIK}",
        f"GET /v1/screenings?name={NAME.replace(' ', '+')}&phone={PHONES[1]}",
        f"Authorization: Bearer {JWT}",
        f"client_secret={API_KEY}&grant_type=client_credentials",
        f"webhook secret is {WEBHOOK_SECRET}",
        f"called {PHONES[2]} and {PHONES[3]} about passport {PASSPORT} and NIK {NIK}",
        f"1 validation error for Person\nname\n  String should have at most 5 characters "
        f"[type=string_too_long, input_value='{NAME}', input_type=str]",
        f"(sqlite3.IntegrityError) UNIQUE constraint failed\n[SQL: INSERT INTO persons "  # noqa: S608
        f"(name, nik) VALUES (?, ?)]\n[parameters: ('{NAME}', '{NIK}')]\n(Background on this error",
    ],
)
def test_redact_removes_identifiers_and_credentials(line: str) -> None:
    assert _leaks(redact(line)) == [], redact(line)


def test_redact_keeps_what_operators_need() -> None:
    kept = (
        "GET /v1/reports/{id} 200 in 12.5 ms; report 0c6f4f3e-7d2a-4b5e-9a61-3f2d8e1c9b7a "
        "from IMIGRASI-DUMAI, 3 persons, cutoff 2026-11-28T12:00:00+00:00, seq 1042"
    )
    assert redact(kept) == kept


def test_formatter_redacts_message_args_extras_and_tracebacks() -> None:
    logger = logging.getLogger("sinergi.test.redaction")
    try:
        raise ValueError(f"cannot match {NAME} ({NIK})")
    except ValueError:
        import sys

        record = logger.makeRecord(
            logger.name,
            logging.ERROR,
            __file__,
            1,
            "screening for %s with passport %s",
            (OTHER_NAME, PASSPORT),
            sys.exc_info(),
            extra={"person": {"name": NAME, "phone": PHONES[0]}, "token": JWT},
        )
    line = JsonFormatter().format(record)
    document = json.loads(line)
    assert document["level"] == "ERROR"
    assert "ValueError" in document["exception"]
    assert _leaks(line) == [], line


class _Person(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(max_length=200)
    nik: str | None = None
    passport: str | None = None
    phone: str | None = None


class _ReportIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    persons: list[_Person]


def _careless_router() -> APIRouter:
    """A route written carelessly: it logs the whole body and fails with personal data."""
    router = APIRouter(
        prefix="/v1/careless",
        tags=["careless"],
        route_class=SinergiRoute,
        generate_unique_id_function=operation_id,
    )
    logger = logging.getLogger("sinergi.careless")

    @router.post("", status_code=201, summary="careless")
    async def submit(body: _ReportIn, principal: AgencyWriter) -> dict[str, int]:
        logger.info("received report %s", body.model_dump())
        logger.warning("persons: %r", body.persons)
        if len(body.persons) > 1:
            raise RuntimeError(f"could not link {body.persons[1].name} ({body.persons[1].nik})")
        return {"persons": len(body.persons)}

    return router


@pytest.fixture
async def careless_app(database_url: str) -> AsyncIterator[FastAPI]:
    app = create_app(make_settings(database_url))
    app.include_router(_careless_router())
    authenticate_by_header(app)
    yield app
    await app.state.engine.dispose()


async def test_posting_a_report_full_of_identifiers_leaves_clean_logs(
    careless_app: FastAPI, capsys: pytest.CaptureFixture[str]
) -> None:
    person = {"name": NAME, "nik": NIK, "passport": PASSPORT, "phone": PHONES[0]}
    other = {"name": OTHER_NAME, "nik": NIK, "phone": PHONES[1]}
    headers = {
        **as_agency("IMIGRASI-DUMAI"),
        "authorization": f"Bearer {JWT}",
        "x-request-id": "req-clean-logs-1",
    }
    transport = httpx.ASGITransport(app=careless_app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        ok = await client.post("/v1/careless", json={"persons": [person]}, headers=headers)
        crash = await client.post(
            "/v1/careless", json={"persons": [person, other]}, headers=headers
        )
        invalid = await client.post(
            "/v1/careless", json={"persons": [{**person, "name": NAME * 20}]}, headers=headers
        )
        await client.get(f"/v1/careless?name={NAME}&nik={NIK}&key={API_KEY}", headers=headers)
    assert (ok.status_code, crash.status_code, invalid.status_code) == (201, 500, 422)

    output = capsys.readouterr().err
    lines = [json.loads(line) for line in output.splitlines() if line.strip()]
    assert any(line.get("logger") == "sinergi.careless" for line in lines)
    assert any("exception" in line for line in lines)  # the crash was logged, redacted
    assert _leaks(output) == [], output

    requests = [line for line in lines if line.get("logger") == "sinergi.request"]
    assert [(r["method"], r["route"], r["status"]) for r in requests[:3]] == [
        ("POST", "/v1/careless", 201),
        ("POST", "/v1/careless", 500),
        ("POST", "/v1/careless", 422),
    ]
    first = requests[0]
    assert first["request_id"] == "req-clean-logs-1"
    assert first["agency"] == "IMIGRASI-DUMAI"
    assert isinstance(first["duration_ms"], float)


def test_ids_that_happen_to_be_digits_survive() -> None:
    request_id = "06123456-e5a4-4247-b4df-123456789012"
    line = redact(f"request {request_id} for NIK 1472035403990002")
    assert request_id in line
    assert "1472035403990002" not in line
