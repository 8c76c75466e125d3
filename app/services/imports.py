"""Bulk ingest outside HTTP (``sinergi import``, the demo): one report per transaction.

Each report goes through the same ingest as ``POST /v1/reports`` (validation, normalization,
idempotency by ``external_ref``, resolution, routing, outbox) and leaves an audit event, in its
own transaction: a rejected report leaves nothing behind but its audit event and its problem.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import orjson
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app import metrics
from app.db import transaction
from app.errors import (
    PROBLEM_BASE,
    Conflict,
    Forbidden,
    SinergiError,
    field_problems_from_validation,
)
from app.models.agency import Agency, Scope
from app.schemas.report import ReportIn
from app.services import reports
from app.services.agencies import get_agency
from app.services.audit import AuditEventIn, outcome_for_status, record_event
from app.services.caller import Caller

IngestOutcome = Literal["created", "replayed", "rejected"]


@dataclass(frozen=True)
class AgencyCaller:
    """An agency acting outside HTTP (the import command, the demo), as services see callers."""

    agency_id: uuid.UUID
    agency_code: str
    is_admin: bool = False

    @classmethod
    def of(cls, agency: Agency) -> AgencyCaller:
        return cls(agency.id, agency.code, Scope.ADMIN in agency.scopes)


async def submitting_agency(session: AsyncSession, code: str) -> AgencyCaller:
    """The agency reports are imported for: it must exist (404),
    be active and hold reports:write."""
    agency = await get_agency(session, code)
    if not agency.active:
        raise Conflict(detail=f"Agency {code} is deactivated")
    if Scope.REPORTS_WRITE not in agency.scopes:
        raise Forbidden(detail=f"Agency {code} does not hold the scope {Scope.REPORTS_WRITE.value}")
    return AgencyCaller.of(agency)


@dataclass(frozen=True)
class IngestResult:
    """What became of one report: created, replayed (same ``external_ref``, same body)
    or rejected."""

    outcome: IngestOutcome
    report_id: uuid.UUID | None = None
    #: The problem+json document of a rejected report (RFC 9457, with ``errors[]``).
    problem: dict[str, Any] | None = None


def problem_of(exc: SinergiError | ValidationError | orjson.JSONDecodeError) -> dict[str, Any]:
    """The problem+json document the API would answer for ``exc``."""
    if isinstance(exc, orjson.JSONDecodeError):
        return {
            "type": PROBLEM_BASE + "malformed-json",
            "title": "Malformed JSON",
            "status": 400,
            "detail": f"The line is not valid JSON: {exc}",
        }
    if isinstance(exc, ValidationError):
        problems = field_problems_from_validation(exc.errors(include_url=False))
        names = ", ".join(sorted({p.pointer or p.location for p in problems})[:10])
        return {
            "type": PROBLEM_BASE + "validation-error",
            "title": "The request is not valid",
            "status": 422,
            "detail": f"Invalid fields: {names}",
            "errors": [p.as_dict() for p in problems],
        }
    document: dict[str, Any] = {
        "type": exc.type,
        "title": exc.title,
        "status": exc.status,
        "detail": exc.detail or exc.title,
    }
    if exc.errors:
        document["errors"] = [e.as_dict() for e in exc.errors]
    return document


#: The UTF-8 byte-order mark that Windows tools (Excel, Notepad) put at the start of a file.
UTF8_BOM = b"\xef\xbb\xbf"


def json_lines_problem(path: Path) -> str | None:
    """Why the file is not JSON Lines when it is JSON of another shape (None when it looks right).

    A JSON array or a pretty-printed report spreads one report over many lines, which would be
    rejected line by line; this says so once, with the command that converts it.
    """
    with path.open("rb") as handle:
        first = next((line for line in handle if line.strip()), b"")
    first = first.removeprefix(UTF8_BOM).strip()
    if not first:
        return None
    convert = f"{path.stem}.jsonl"
    array = (
        f"{path} is a JSON array, not JSON Lines (one report per line); "
        f"convert it with: jq -c '.[]' {path} > {convert}"
    )
    if first.startswith(b"["):
        return array
    try:
        orjson.loads(first)
        return None
    except orjson.JSONDecodeError:
        pass
    try:
        whole = orjson.loads(path.read_bytes().removeprefix(UTF8_BOM))
    except orjson.JSONDecodeError:
        return None  # broken lines: each is rejected with its line number
    if isinstance(whole, list):
        return array
    return (
        f"{path} is pretty-printed JSON (a report over several lines), not JSON Lines (one "
        f"report per line); convert it with: jq -c . {path} > {convert}"
    )


def parse_report(raw: bytes | str | dict[str, Any]) -> ReportIn:
    """A report from a JSON text or an already decoded object (raises on malformed or invalid)."""
    data = orjson.loads(raw) if isinstance(raw, bytes | str) else raw
    return ReportIn.model_validate(data)


def _audit(
    caller: Caller,
    via: str,
    status: int,
    *,
    report_id: uuid.UUID | None = None,
    error: str | None = None,
) -> AuditEventIn:
    """The audit event of one ingest, as the API's audit hook would write for POST /v1/reports."""
    detail = {"via": via}
    if error:
        detail["error"] = error
    return AuditEventIn(
        action="report.create",
        outcome=outcome_for_status(status),
        actor_agency_id=caller.agency_id,
        actor_agency_code=caller.agency_code,
        object_type="report" if report_id else None,
        object_ids=(str(report_id),) if report_id else (),
        http_status=status,
        detail=detail,
    )


async def ingest_one(
    factory: async_sessionmaker[AsyncSession],
    caller: Caller,
    raw: bytes | str | dict[str, Any],
    *,
    settings: reports.IngestSettings,
    via: str,
) -> IngestResult:
    """Ingest one report for ``caller`` in a transaction of its own, audited; never raises on
    a bad report (the result says why it was rejected)."""
    try:
        body = parse_report(raw)
        async with transaction(factory) as session:
            status, created = await reports.submit(
                session, caller, body, idempotency_key=None, settings=settings
            )
            await record_event(session, _audit(caller, via, status, report_id=created.id))
    except (SinergiError, ValidationError, orjson.JSONDecodeError) as exc:
        problem = problem_of(exc)
        error = str(problem["type"]).removeprefix(PROBLEM_BASE)
        async with transaction(factory) as session:
            await record_event(session, _audit(caller, via, problem["status"], error=error))
        metrics.INGEST.labels("rejected").inc()
        return IngestResult("rejected", problem=problem)
    outcome: IngestOutcome = "created" if status == 201 else "replayed"
    metrics.INGEST.labels(outcome).inc()
    return IngestResult(outcome, report_id=created.id)
