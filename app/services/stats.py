"""Statistics for coordination meetings: counts over the reports a caller may see,
small cells hidden.

Need-to-know: an agency counts the reports it submitted or was routed; admins count every report.
Suppression (non-admins): a count from 1 to ``threshold - 1`` is shown as null with
``suppressed: true``. Where the cells of a grouping add up to the total (month, case type,
province, region, source agency: each report sits in exactly one cell) and exactly one cell is
suppressed, the smallest other non-zero cell is suppressed too, so that the total minus the
shown cells does not give the hidden one away. Totals below the threshold are suppressed alike.
"""

from __future__ import annotations

import csv
import io
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, timezone
from typing import Literal

from sqlalchemy.ext.asyncio import AsyncSession

from app.errors import FieldProblem, InvalidInput
from app.models.base import utcnow
from app.repositories import stats as repo
from app.repositories.stats import CountScope
from app.schemas.stats import (
    GroupBy,
    StatsCell,
    StatsCount,
    StatsOut,
    StatsPeriod,
    StatsTotals,
)
from app.services.caller import Caller
from app.services.facets import Facet, document_status_code
from app.services.stats_page import ReportParts, render_report, report_parts
from app.vocab import COUNTRIES, REGIONS, code_list

#: Groupings in which each report falls in exactly one cell (so the cells add up to the total).
PARTITIONS = frozenset(
    {
        GroupBy.MONTH,
        GroupBy.CASE_TYPE,
        GroupBy.PROVINCE,
        GroupBy.REGION,
        GroupBy.SOURCE_AGENCY,
    }
)
_FACET_OF = {
    GroupBy.MODUS: Facet.MODUS,
    GroupBy.EXPLOITATION_TYPE: Facet.EXPLOITATION_TYPE,
    GroupBy.DESTINATION_COUNTRY: Facet.DESTINATION_COUNTRY,
}
_CODE_LIST_OF = {
    GroupBy.CASE_TYPE: "case_types",
    GroupBy.MODUS: "modus_operandi",
    GroupBy.EXPLOITATION_TYPE: "exploitation_types",
    GroupBy.DESTINATION_COUNTRY: COUNTRIES,
    GroupBy.PROVINCE: REGIONS,
    GroupBy.REGION: REGIONS,
}
DEFERRED_PASSPORT = (
    (Facet.ACTION.value, "PASSPORT_DEFERRED"),
    (Facet.DOCUMENT_STATUS.value, document_status_code("PASSPORT_APPLICATION", "DEFERRED")),
)
PREVENTED_DEPARTURE = ((Facet.ACTION.value, "DEPARTURE_PREVENTED"),)

MONTHS_ID = (
    *("Januari", "Februari", "Maret", "April", "Mei", "Juni"),
    *("Juli", "Agustus", "September", "Oktober", "November", "Desember"),
)
MONTHS_EN = (
    *("January", "February", "March", "April", "May", "June"),
    *("July", "August", "September", "October", "November", "December"),
)
UNSTATED = ("Tidak disebutkan", "Not stated")


@dataclass(frozen=True)
class Period:
    """Days ``start`` to ``end``, both included, in a local time ``utc_offset`` (``+07:00``)."""

    start: date
    end: date
    utc_offset: str

    @property
    def tz(self) -> timezone:
        sign = -1 if self.utc_offset.startswith("-") else 1
        hours, minutes = self.utc_offset[1:].split(":")
        return timezone(sign * timedelta(hours=int(hours), minutes=int(minutes)))

    @property
    def offset_minutes(self) -> int:
        return int(self.tz.utcoffset(None).total_seconds() // 60)

    def bounds(self) -> tuple[datetime, datetime]:
        """The period as UTC instants: from its first local midnight to the one after its end."""
        first = datetime.combine(self.start, time(), self.tz)
        after = datetime.combine(self.end + timedelta(days=1), time(), self.tz)
        return first.astimezone(UTC), after.astimezone(UTC)

    def months(self) -> list[str]:
        """Every month of the period as ``YYYY-MM``, in order."""
        year, month = self.start.year, self.start.month
        found: list[str] = []
        while (year, month) <= (self.end.year, self.end.month):
            found.append(f"{year:04d}-{month:02d}")
            year, month = (year + 1, 1) if month == 12 else (year, month + 1)
        return found


#: The first and last days a period may cover: reports date from 1900 on, and a day after
#: ``LATEST_DAY`` (in any time zone) is past what a date can hold.
EARLIEST_DAY = date(1900, 1, 1)
LATEST_DAY = date(9998, 12, 31)


def parse_period(start: date, end: date, *, utc_offset: str, max_days: int) -> Period:
    """A period from the query's ``from`` and ``to``; 422 naming the field when it is unusable."""
    if start < EARLIEST_DAY:
        raise InvalidInput(
            detail=f"The period starts ({start}) before {EARLIEST_DAY}: no report is that old",
            errors=[FieldProblem("/from", f"before {EARLIEST_DAY}", "period_too_early", "query")],
        )
    if end > LATEST_DAY:
        raise InvalidInput(
            detail=f"The period ends ({end}) after {LATEST_DAY}, the last day that can be counted",
            errors=[FieldProblem("/to", f"after {LATEST_DAY}", "period_too_late", "query")],
        )
    if end < start:
        raise InvalidInput(
            detail=f"The period ends ({end}) before it starts ({start})",
            errors=[FieldProblem("/to", "before from", "period_inverted", "query")],
        )
    days = (end - start).days + 1
    if days > max_days:
        raise InvalidInput(
            detail=f"The period covers {days} days; at most {max_days} may be counted at once",
            errors=[
                FieldProblem(
                    "/to", f"period longer than {max_days} days", "period_too_long", "query"
                )
            ],
        )
    return Period(start, end, utc_offset)


@dataclass(frozen=True)
class Audience:
    """Whom the counts are for: which reports count, and below what count cells are hidden."""

    #: Only reports this agency may see; None: every report.
    agency_id: uuid.UUID | None
    #: Hide counts from 1 to this minus one; None: hide nothing.
    suppress_below: int | None


def audience_of(caller: Caller, threshold: int) -> Audience:
    """Admins count every report, unsuppressed; an agency counts what it may see, suppressed."""
    if caller.is_admin:
        return Audience(agency_id=None, suppress_below=None)
    return Audience(agency_id=caller.agency_id, suppress_below=threshold)


# -- suppression (pure) ----------------------------------------------------------------------


Suppression = Literal["small", "complementary"]


def suppression_reasons(
    counts: Sequence[int], threshold: int | None, *, partition: bool
) -> list[Suppression | None]:
    """Why each count is hidden: ``small`` from 1 to ``threshold - 1``; in a partition, when
    exactly one is small, the smallest other non-zero count is hidden too as ``complementary``
    (else the total minus the rest reveals the small one); None for a count shown."""
    reasons: list[Suppression | None] = [None] * len(counts)
    if threshold is None:
        return reasons
    for i, n in enumerate(counts):
        if 0 < n < threshold:
            reasons[i] = "small"
    if partition and reasons.count("small") == 1:
        others = [i for i, n in enumerate(counts) if n > 0 and reasons[i] is None]
        if others:
            reasons[min(others, key=lambda i: counts[i])] = "complementary"
    return reasons


def suppressed_cells(
    counts: Sequence[int], threshold: int | None, *, partition: bool
) -> list[bool]:
    """Which counts to hide (for whatever reason; see :func:`suppression_reasons`)."""
    return [r is not None for r in suppression_reasons(counts, threshold, partition=partition)]


def _count(n: int, threshold: int | None) -> StatsCount:
    hidden = threshold is not None and 0 < n < threshold
    return StatsCount(
        count=None if hidden else n, suppressed=hidden, suppression="small" if hidden else None
    )


# -- labels ----------------------------------------------------------------------------------


def _labels(group_by: GroupBy, code: str | None, agency_names: dict[str, str]) -> tuple[str, str]:
    if code is None:
        return UNSTATED
    if group_by is GroupBy.MONTH:
        year, month = code.split("-")
        return f"{MONTHS_ID[int(month) - 1]} {year}", f"{MONTHS_EN[int(month) - 1]} {year}"
    if group_by is GroupBy.SOURCE_AGENCY:
        name = agency_names.get(code, code)
        return name, name
    known = code_list(_CODE_LIST_OF[group_by]).get(code)
    return (known.label_id, known.label_en) if known else (code, code)


# -- the use case ----------------------------------------------------------------------------


async def _grouped(
    session: AsyncSession, scope: CountScope, group_by: GroupBy, period: Period
) -> list[tuple[str | None, int]]:
    facet = _FACET_OF.get(group_by)
    if facet is not None:
        return await repo.count_by_facet(session, scope, facet.value)
    rows = await repo.count_by_column(session, scope, group_by.value)
    if group_by is GroupBy.MONTH:
        found = dict(rows)
        return [(month, found.get(month, 0)) for month in period.months()]
    return rows


def _order(cells: list[StatsCell], group_by: GroupBy) -> list[StatsCell]:
    """Months in order; otherwise shown counts largest first, then hidden ones by code, and
    the unstated last (hidden counts are not ranked, which would tell them apart)."""
    if group_by is GroupBy.MONTH:
        return cells
    shown = sorted(
        (c for c in cells if c.code is not None and not c.suppressed),
        key=lambda c: (-(c.count or 0), c.code or ""),
    )
    hidden = sorted(
        (c for c in cells if c.code is not None and c.suppressed), key=lambda c: c.code or ""
    )
    return shown + hidden + [c for c in cells if c.code is None]


async def statistics(
    session: AsyncSession, audience: Audience, period: Period, group_by: GroupBy
) -> StatsOut:
    """Reports in the period by ``group_by``, with totals, for ``audience``."""
    start, end = period.bounds()
    scope = CountScope(start, end, audience.agency_id, period.offset_minutes)
    threshold = audience.suppress_below
    rows = await _grouped(session, scope, group_by, period)
    names = (
        await repo.agency_names(session, [c for c, _ in rows if c is not None])
        if group_by is GroupBy.SOURCE_AGENCY
        else {}
    )
    reasons = suppression_reasons([n for _, n in rows], threshold, partition=group_by in PARTITIONS)
    cells = []
    for (code, n), reason in zip(rows, reasons, strict=True):
        is_hidden = reason is not None
        label_id, label_en = _labels(group_by, code, names)
        cells.append(
            StatsCell(
                code=code,
                label_id=label_id,
                label_en=label_en,
                count=None if is_hidden else n,
                suppressed=is_hidden,
                suppression=reason,
            )
        )
    totals = StatsTotals(
        reports=_count(await repo.count_reports(session, scope), threshold),
        deferred_passport_applications=_count(
            await repo.count_with_any(session, scope, DEFERRED_PASSPORT), threshold
        ),
        prevented_departures=_count(
            await repo.count_with_any(session, scope, PREVENTED_DEPARTURE), threshold
        ),
    )
    return StatsOut(
        period=StatsPeriod(from_=period.start, to=period.end, utc_offset=period.utc_offset),
        group_by=group_by,
        scope="visible" if audience.agency_id is not None else "all",
        suppression_threshold=threshold,
        totals=totals,
        cells=_order(cells, group_by),
    )


def _inert(text: str) -> str:
    """A label a spreadsheet will not run as a formula (an agency name could start with ``=``)."""
    return "'" + text if text[:1] in {"=", "+", "-", "@", "\t", "\r"} else text


CSV_HEADER = ("group_by", "code", "label_id", "label_en", "count", "suppressed")


def to_csv(stats: StatsOut) -> str:
    """The cells, then the totals (``group_by`` = ``total``), one row each, with a header row."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_HEADER)

    def row(kind: str, code: str, label_id: str, label_en: str, count: StatsCount) -> None:
        value = "" if count.count is None else str(count.count)
        labels = (_inert(label_id), _inert(label_en))
        writer.writerow((kind, code, *labels, value, str(count.suppressed).lower()))

    for cell in stats.cells:
        row(stats.group_by.value, cell.code or "", cell.label_id, cell.label_en, cell)
    totals = stats.totals
    row("total", "REPORTS", "Jumlah laporan", "Reports", totals.reports)
    row(
        "total",
        "DEFERRED_PASSPORT_APPLICATIONS",
        "Penundaan permohonan paspor",
        "Deferred passport applications",
        totals.deferred_passport_applications,
    )
    row(
        "total",
        "PREVENTED_DEPARTURES",
        "Keberangkatan yang dicegah",
        "Prevented departures",
        totals.prevented_departures,
    )
    return out.getvalue()


# -- the meeting report ----------------------------------------------------------------------

#: The groupings the HTML report charts, in the order it shows them.
REPORT_GROUPINGS = (
    GroupBy.MONTH,
    GroupBy.MODUS,
    GroupBy.DESTINATION_COUNTRY,
    GroupBy.REGION,
    GroupBy.CASE_TYPE,
    GroupBy.EXPLOITATION_TYPE,
)


async def meeting_report(
    session: AsyncSession, audience: Audience, period: Period
) -> dict[GroupBy, StatsOut]:
    """Every grouping the coordination-meeting report shows, for ``audience``."""
    return {g: await statistics(session, audience, period, g) for g in REPORT_GROUPINGS}


def audience_label(agency_code: str | None) -> str:
    """Whose reports a page counts, in both languages."""
    if agency_code is None:
        return "Semua laporan / All reports"
    return f"Laporan yang dapat dilihat {agency_code} / Reports visible to {agency_code}"


async def meeting_page(
    session: AsyncSession, audience: Audience, period: Period, *, label: str
) -> str:
    """The self-contained HTML page for a coordination meeting (``app.services.stats_page``)."""
    tables = await meeting_report(session, audience, period)
    return render_report(tables, generated_at=utcnow(), audience=label)


def csv_filename(group_by: GroupBy, period: Period) -> str:
    """The name a CSV download of these counts is saved under."""
    return f"sinergi-stats-{group_by.value}-{period.start}-{period.end}.csv"


async def console_report(
    session: AsyncSession, audience: Audience, period: Period, group_by: GroupBy, *, label: str
) -> tuple[ReportParts, StatsOut]:
    """The meeting report's parts for the console's layout, and the counts by ``group_by``
    (the grouping the officer chose, also offered as CSV): the same figures as the API's."""
    tables = await meeting_report(session, audience, period)
    chosen = tables.get(group_by) or await statistics(session, audience, period, group_by)
    return report_parts(tables, generated_at=utcnow(), audience=label), chosen
