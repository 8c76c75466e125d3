"""The report a routing dry run tries: the API's sample, a pasted report, or a stored report.

Each becomes the same :class:`~app.services.routing.RoutingFacts` that ingest routes by, so a
dry run answers what submitting that report would do (``reports.routing_facts``).
"""

from __future__ import annotations

import json
import uuid
from typing import Any

from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from app.errors import FieldProblem, InvalidInput, field_problems_from_validation
from app.schemas.report import ReportIn
from app.schemas.routing import RoutingSample
from app.services import reports
from app.services.caller import Caller
from app.services.routing import RoutingFacts


def facts_of_sample(sample: RoutingSample) -> RoutingFacts:
    """The facts ``POST /v1/admin/routing-rules/dry-run`` names field by field."""
    return RoutingFacts(
        source_agency_code=sample.source_agency_code,
        case_type=sample.case_type,
        tlp=sample.tlp,
        modus_codes=frozenset(sample.modus_operandi),
        exploitation_types=frozenset(sample.exploitation_types),
        region_code=sample.region_code,
        has_foreign_nationals=sample.has_foreign_nationals,
        document_types=frozenset(sample.document_types),
        document_statuses=frozenset(sample.document_statuses),
        destination_countries=frozenset(sample.destination_countries),
        explicit_recipients=tuple(sample.recipients),
    )


async def facts_of_report(
    session: AsyncSession, caller: Caller, report_id: uuid.UUID
) -> RoutingFacts:
    """The facts of a stored report's current version, sent by its own source agency
    (404 when the caller may not see it, as for a missing report)."""
    report = await reports.read_visible(session, caller, report_id)
    return reports.routing_facts(report.source_agency, report)


def facts_of_pasted(text: str, source_agency_code: str | None) -> RoutingFacts:
    """The facts of pasted JSON: a report as agencies submit it (sent by
    ``source_agency_code``), or the API's dry-run sample (it names its own source).

    Problems point into the pasted document (``/case_type``); the empty pointer is the paste as
    a whole, ``/source_agency_code`` the sender that a report needs beside it.
    """
    try:
        document: Any = json.loads(text)
    except ValueError as unreadable:
        raise InvalidInput(
            detail="The pasted text is not JSON",
            errors=[FieldProblem("", str(unreadable), "json_invalid")],
        ) from None
    if not isinstance(document, dict):
        raise InvalidInput(
            detail="The pasted JSON is not an object",
            errors=[FieldProblem("", "a report is a JSON object { … }", "not_an_object")],
        )
    try:
        if "source_agency_code" in document:
            return facts_of_sample(RoutingSample.model_validate(document))
        report = ReportIn.model_validate(document)
    except ValidationError as invalid:
        raise InvalidInput(
            detail="The pasted report is not valid",
            errors=field_problems_from_validation(invalid.errors()),
        ) from None
    if source_agency_code is None:
        raise InvalidInput(
            detail="Say which agency sends the report",
            errors=[FieldProblem("/source_agency_code", "choose the sender", "missing")],
        )
    return reports.routing_facts(source_agency_code, report)
