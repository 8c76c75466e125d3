"""Statistik: the coordination-meeting statistics in the console, with the officer's session.

The page shows the report ``GET /v1/stats/report`` draws (``app.services.stats_page``), inside the
console's layout, for the period and grouping chosen in a form, and offers the chosen grouping as
CSV, the same file as ``GET /v1/stats?format=csv``. The figures come from ``app.services.stats``
with the same need-to-know and suppression of small counts; both are audited as ``stats.read``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response
from markupsafe import Markup

from app.api.audit_hook import AuditDep, RequestAudit
from app.api.deps import AgencyReader, Principal, SessionDep, SettingsDep
from app.config import Settings
from app.errors import FieldProblem, InvalidInput
from app.schemas.stats import GroupBy
from app.services import stats
from app.services.stats_page import count_table
from app.web.forms import NO_ERRORS, FormErrors, form_errors
from app.web.i18n import to_wib
from app.web.report_form import form_date
from app.web.templating import catalogue_for, render

router = APIRouter(include_in_schema=False)

STATS = "/statistik"
#: The form's query parameters (Indonesian, like the inbox's filters) and the API's names.
FROM, TO, GROUP = "dari", "sampai", "kelompok"
Text = Annotated[str | None, Query(max_length=40)]


@dataclass(frozen=True)
class StatsQuery:
    """What the officer asked for, as typed (to refill the form) and, when usable, parsed."""

    values: dict[str, str]
    period: stats.Period | None
    group_by: GroupBy
    errors: FormErrors

    @property
    def query_string(self) -> str:
        return urlencode({FROM: self.values[FROM], TO: self.values[TO], GROUP: self.group_by})


def _months_back(today: date) -> date:
    """The first day of the month eleven months before ``today``'s: a year of months."""
    month, year = today.month - 11, today.year
    if month < 1:
        month, year = month + 12, year - 1
    return date(year, month, 1)


def _day(text: str, pointer: str) -> tuple[date | None, FieldProblem | None]:
    """A day as officers write it (31/12/2025, or 2025-12-31); a problem for the field else."""
    if not text:
        return None, FieldProblem(pointer, "a date is needed", "date_missing", "query")
    try:
        return date.fromisoformat(form_date(text)), None
    except ValueError:
        return None, FieldProblem(pointer, "not a date", "date_invalid", "query")


def _worded(request: Request, problems: list[FieldProblem], settings: Settings) -> FormErrors:
    """The problems in the officer's language (the API's English when a code is not worded)."""
    words = catalogue_for(request)
    worded = []
    for problem in problems:
        key = f"stats.problem.{problem.code}"
        detail = (
            words.text(key, days=settings.stats_max_period_days)
            if words.has(key)
            else problem.detail
        )
        worded.append(FieldProblem(problem.pointer, detail, problem.code, problem.location))
    return form_errors(worded)


def read_query(
    request: Request, settings: Settings, start: str | None, end: str | None, group: str | None
) -> StatsQuery:
    """The form's values, checked as the API checks ``from``, ``to`` and ``group_by``; with
    nothing asked yet, the last twelve months (WIB days) by month."""
    if start is None and end is None and group is None:
        today = to_wib(datetime.now(UTC)).date()
        start, end = f"{_months_back(today):%d/%m/%Y}", f"{today:%d/%m/%Y}"
    values = {FROM: (start or "").strip(), TO: (end or "").strip(), GROUP: group or ""}
    problems: list[FieldProblem] = []
    first, problem = _day(values[FROM], "/from")
    problems += [problem] if problem else []
    last, problem = _day(values[TO], "/to")
    problems += [problem] if problem else []
    group_by = GroupBy.MONTH
    if group:
        try:
            group_by = GroupBy(group)
        except ValueError:
            problems.append(FieldProblem("/group_by", "unknown grouping", "group_by", "query"))
    period = None
    if first is not None and last is not None:
        try:
            period = stats.parse_period(
                first,
                last,
                utc_offset=settings.stats_utc_offset,
                max_days=settings.stats_max_period_days,
            )
        except InvalidInput as refused:
            problems += refused.errors
    if problems:
        return StatsQuery(values, None, group_by, _worded(request, problems, settings))
    return StatsQuery(values, period, group_by, NO_ERRORS)


def _audience(principal: Principal, settings: Settings) -> tuple[stats.Audience, str]:
    audience = stats.audience_of(principal, settings.stats_suppression_threshold)
    label = stats.audience_label(None if principal.is_admin else principal.agency_code)
    return audience, label


def _audited(audit: RequestAudit, asked: StatsQuery, what: str) -> None:
    audit.action("stats.read").note("group_by", asked.group_by.value).note("format", what)


def _form(request: Request, asked: StatsQuery) -> dict[str, object]:
    words = catalogue_for(request)
    return {
        "values": asked.values,
        "errors": asked.errors,
        "groupings": [(g.value, words.text(f"stats.group.{g.value}")) for g in GroupBy],
        "chosen": asked.group_by.value,
        "sections": None,
    }


def _refused(request: Request, audit: RequestAudit, asked: StatsQuery) -> HTMLResponse:
    """The form again, the errors beside their fields, no figures (422, audited as such)."""
    audit.response.status_code = 422
    return render(request, "pages/stats/stats.html", _form(request, asked), status_code=422)


@router.get(STATS, response_class=HTMLResponse)
async def stats_page(
    request: Request,
    principal: AgencyReader,
    session: SessionDep,
    settings: SettingsDep,
    audit: AuditDep,
    start: Annotated[Text, Query(alias=FROM)] = None,
    end: Annotated[Text, Query(alias=TO)] = None,
    group: Annotated[Text, Query(alias=GROUP)] = None,
) -> HTMLResponse:
    """Statistik: the form (period, grouping) and the meeting report for it."""
    asked = read_query(request, settings, start, end, group)
    _audited(audit, asked, "html")
    if asked.period is None:
        return _refused(request, audit, asked)
    context = _form(request, asked)
    audience, label = _audience(principal, settings)
    parts, detail = await stats.console_report(
        session, audience, asked.period, asked.group_by, label=label
    )
    context |= {
        "meta": Markup(parts.meta),  # noqa: S704 - built by stats_page, every value escaped
        "sections": Markup(parts.sections),  # noqa: S704
        "detail": Markup(count_table(detail)),  # noqa: S704
        "csv_href": f"{STATS}/csv?{asked.query_string}",
    }
    return render(request, "pages/stats/stats.html", context)


@router.get(STATS + "/csv", response_model=None)
async def stats_csv(
    request: Request,
    principal: AgencyReader,
    session: SessionDep,
    settings: SettingsDep,
    audit: AuditDep,
    start: Annotated[Text, Query(alias=FROM)] = None,
    end: Annotated[Text, Query(alias=TO)] = None,
    group: Annotated[Text, Query(alias=GROUP)] = None,
) -> Response:
    """The chosen grouping's counts as CSV: the file ``GET /v1/stats?format=csv`` answers."""
    asked = read_query(request, settings, start, end, group)
    _audited(audit, asked, "csv")
    if asked.period is None:
        return _refused(request, audit, asked)
    audience, _ = _audience(principal, settings)
    counted = await stats.statistics(session, audience, asked.period, asked.group_by)
    filename = stats.csv_filename(asked.group_by, asked.period)
    return Response(
        content=stats.to_csv(counted),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )
