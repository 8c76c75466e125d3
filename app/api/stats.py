"""Statistics for coordination meetings: JSON, CSV and a self-contained HTML report."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Query
from starlette.responses import HTMLResponse, Response

from app.api.audit_hook import AuditDep
from app.api.deps import AgencyReader, SessionDep, SettingsDep
from app.api.problems import problem_responses
from app.api.route_class import SinergiRoute, operation_id
from app.config import Settings
from app.schemas.stats import GroupBy, StatsFormat, StatsOut
from app.services import stats as service

router = APIRouter(
    prefix="/v1/stats",
    tags=["stats"],
    route_class=SinergiRoute,
    generate_unique_id_function=operation_id,
)

From = Annotated[
    date,
    Query(
        alias="from",
        description="First day counted (by `reported_at`, in the local time of "
        "`SINERGI_STATS_UTC_OFFSET`, WIB by default).",
        examples=["2025-01-01"],
    ),
]
To = Annotated[
    date,
    Query(
        description="Last day counted (included). The period may not be longer than "
        "`SINERGI_STATS_MAX_PERIOD_DAYS` (5 years by default).",
        examples=["2025-12-31"],
    ),
]

_SUPPRESSION = (
    "Need-to-know: an agency counts the reports it submitted or was routed; admins count every "
    "report. Retracted reports are left out. For non-admins a count from 1 to "
    "`SINERGI_STATS_SUPPRESSION_THRESHOLD` minus 1 (default 5) is null with `suppressed: true`; "
    "where the cells add up to the total (month, case type, province, region, source agency) and "
    "only one would be hidden, the next smallest is hidden too, so the total cannot give it away."
)


def _period(settings: Settings, start: date, end: date) -> service.Period:
    return service.parse_period(
        start, end, utc_offset=settings.stats_utc_offset, max_days=settings.stats_max_period_days
    )


@router.get(
    "",
    summary="Count reports by month, case type, modus, destination, region or agency",
    description=(
        "Counts of reports in a period grouped by one dimension, plus totals of reports, "
        "deferred passport applications (*penundaan paspor*) and prevented departures "
        "(*pencegahan keberangkatan*). Labels in Indonesian and English. `format=csv` answers "
        "`text/csv` with a header row: the cells, then the totals (`group_by` = `total`). "
        + _SUPPRESSION
    ),
    status_code=200,
    response_model=StatsOut,
    responses={
        200: {
            "content": {"text/csv": {"schema": {"type": "string"}}},
            "description": "The counts (JSON, or CSV with format=csv)",
        },
        **problem_responses(401, 403, 422),
    },
    name="read",
)
async def read_stats(
    principal: AgencyReader,
    session: SessionDep,
    settings: SettingsDep,
    audit: AuditDep,
    start: From,
    to: To,
    group_by: Annotated[GroupBy, Query(description="What to group by.")] = GroupBy.MONTH,
    format: Annotated[StatsFormat, Query(description="json or csv.")] = StatsFormat.JSON,
) -> StatsOut | Response:
    audit.action("stats.read").note("group_by", group_by.value)
    period = _period(settings, start, to)
    audience = service.audience_of(principal, settings.stats_suppression_threshold)
    stats = await service.statistics(session, audience, period, group_by)
    if format is StatsFormat.CSV:
        filename = service.csv_filename(group_by, period)
        return Response(
            content=service.to_csv(stats),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="{filename}"'},
        )
    return stats


@router.get(
    "/report",
    summary="The coordination-meeting report (HTML)",
    description=(
        "One self-contained HTML page (inline SVG charts, no external assets) for a meeting "
        "room screen: totals, reports per month, per modus, per destination country and per "
        "regency/city, with bilingual headings. " + _SUPPRESSION
    ),
    status_code=200,
    response_class=HTMLResponse,
    responses=problem_responses(401, 403, 422),
    name="report",
)
async def report_page(
    principal: AgencyReader,
    session: SessionDep,
    settings: SettingsDep,
    audit: AuditDep,
    start: From,
    to: To,
) -> HTMLResponse:
    audit.action("stats.report")
    period = _period(settings, start, to)
    audience = service.audience_of(principal, settings.stats_suppression_threshold)
    page = await service.meeting_page(
        session,
        audience,
        period,
        label=service.audience_label(None if principal.is_admin else principal.agency_code),
    )
    return HTMLResponse(page, headers={"Cache-Control": "no-store"})
