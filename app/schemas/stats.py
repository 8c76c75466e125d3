"""Statistics for coordination meetings: counts of reports by one dimension, with totals."""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class GroupBy(StrEnum):
    """What the counts are grouped by."""

    MONTH = "month"
    CASE_TYPE = "case_type"
    MODUS = "modus"
    EXPLOITATION_TYPE = "exploitation_type"
    DESTINATION_COUNTRY = "destination_country"
    #: Province: the first two digits of the Kemendagri code (``14`` Riau).
    PROVINCE = "province"
    #: Regency or city (kabupaten/kota, ``14.72`` Kota Dumai).
    REGION = "region"
    SOURCE_AGENCY = "source_agency"


class StatsFormat(StrEnum):
    JSON = "json"
    CSV = "csv"


class StatsCount(BaseModel):
    """A count, or null with ``suppressed`` when it is too small to show to the caller."""

    count: int | None = Field(description="Number of reports; null when suppressed.")
    suppressed: bool = Field(
        default=False,
        description="True when the count is hidden: below the threshold, or hidden so that a "
        "suppressed cell cannot be worked out from the total and the other cells.",
    )
    suppression: Literal["small", "complementary"] | None = Field(
        default=None,
        description="Why the count is hidden: `small` (below the threshold) or `complementary` "
        "(not small itself, hidden so that a small count cannot be worked out from the total); "
        "null when shown.",
    )


class StatsCell(StatsCount):
    """The reports with one value of the grouping."""

    code: str | None = Field(
        description="The value (a month `2025-05`, a code, a region code, an agency code); "
        "null for reports that do not state it."
    )
    label_id: str = Field(description="Label in Indonesian.")
    label_en: str = Field(description="Label in English.")


class StatsTotals(BaseModel):
    """Totals over the period, whatever the grouping."""

    reports: StatsCount = Field(description="Reports in the period (retracted ones left out).")
    deferred_passport_applications: StatsCount = Field(
        description="Reports recording a deferred passport application: the action "
        "PASSPORT_DEFERRED or a PASSPORT_APPLICATION document with status DEFERRED."
    )
    prevented_departures: StatsCount = Field(
        description="Reports recording the action DEPARTURE_PREVENTED."
    )


class StatsPeriod(BaseModel):
    """The period counted: days from and to (both included), in ``utc_offset`` local time."""

    model_config = ConfigDict(populate_by_name=True)

    from_: date = Field(alias="from")
    to: date
    utc_offset: str = Field(description="Local time of days and months: +07:00 is WIB.")


class StatsOut(BaseModel):
    """Counts of reports in a period by one grouping, with totals."""

    period: StatsPeriod
    group_by: GroupBy
    scope: str = Field(
        description="`all` (admins: every report) or `visible` (the reports your agency "
        "submitted or was routed: need-to-know)."
    )
    suppression_threshold: int | None = Field(
        description="Counts from 1 to this value minus one are suppressed; null when nothing "
        "is suppressed for you (admins)."
    )
    totals: StatsTotals
    cells: list[StatsCell] = Field(
        description="One per value. Months: every month of the period, in order. Others: the "
        "values that occur, largest first. A report with several modus (or exploitation types, "
        "destination countries) counts under each."
    )
