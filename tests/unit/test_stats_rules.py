"""Pure rules of statistics: facets of a report, suppression, periods in local time."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime

import pytest

from app.errors import InvalidInput
from app.schemas.report import ReportIn
from app.schemas.stats import GroupBy, StatsCell, StatsCount, StatsOut, StatsPeriod, StatsTotals
from app.services.facets import facets_of
from app.services.stats import parse_period, suppressed_cells, to_csv
from tests.report_samples import deferral, interception


def test_facets_of_a_deferral_name_modus_destination_action_and_the_deferred_application() -> None:
    body = ReportIn.model_validate(deferral())
    assert facets_of(body) == [
        ("modus", "TOURIST_DISGUISE"),
        ("modus", "NONPROCEDURAL_MIGRANT_WORKER"),
        ("destination_country", "MYS"),
        ("action", "PASSPORT_DEFERRED"),
        ("document_type", "PASSPORT_APPLICATION"),
        ("document_status", "PASSPORT_APPLICATION:DEFERRED"),
    ]


def test_facets_of_lists_each_pair_once_and_documents_without_status_by_type_only() -> None:
    body = ReportIn.model_validate(
        interception(
            exploitation_types=["FORCED_LABOUR", "SEXUAL_EXPLOITATION"],
            destination_countries=["MYS", "SGP"],
            documents=[
                {"type": "PASSPORT", "number": "C1234567"},
                {"type": "PASSPORT", "number": "C7654321"},
            ],
        )
    )
    facets = facets_of(body)
    assert len(facets) == len(set(facets))
    assert ("exploitation_type", "SEXUAL_EXPLOITATION") in facets
    assert ("destination_country", "SGP") in facets
    assert ("document_type", "PASSPORT") in facets
    assert not any(f == "document_status" for f, _ in facets)
    assert ("action", "DEPARTURE_PREVENTED") in facets


def test_small_counts_are_hidden_and_zero_is_not() -> None:
    assert suppressed_cells([0, 1, 4, 5, 30], 5, partition=False) == [
        False,
        True,
        True,
        False,
        False,
    ]


def test_a_lone_hidden_cell_of_a_partition_takes_the_next_smallest_with_it() -> None:
    # Shown 40 and 9 with a total of 52 would give the 3 away: 9 is hidden too.
    assert suppressed_cells([40, 3, 9, 0], 5, partition=True) == [False, True, True, False]
    # Two hidden cells already protect each other.
    assert suppressed_cells([40, 3, 2], 5, partition=True) == [False, True, True]
    # Overlapping cells (a report under several modus) do not add up to the total.
    assert suppressed_cells([40, 3, 9], 5, partition=False) == [False, True, False]


def test_admins_see_every_count() -> None:
    assert suppressed_cells([1, 2, 3], None, partition=True) == [False, False, False]


def test_a_period_runs_from_local_midnight_to_the_local_midnight_after_its_last_day() -> None:
    period = parse_period(date(2025, 5, 1), date(2025, 6, 30), utc_offset="+07:00", max_days=1827)
    start, end = period.bounds()
    assert start == datetime(2025, 4, 30, 17, 0, tzinfo=UTC)
    assert end == datetime(2025, 6, 30, 17, 0, tzinfo=UTC)
    assert period.months() == ["2025-05", "2025-06"]
    assert period.offset_minutes == 420


def test_months_of_a_period_cross_the_year() -> None:
    period = parse_period(date(2024, 11, 15), date(2025, 2, 1), utc_offset="+09:00", max_days=400)
    assert period.months() == ["2024-11", "2024-12", "2025-01", "2025-02"]


@pytest.mark.parametrize(
    ("start", "end", "code"),
    [
        (date(2025, 6, 1), date(2025, 5, 31), "period_inverted"),
        (date(2020, 1, 1), date(2025, 12, 31), "period_too_long"),
    ],
)
def test_unusable_periods_name_the_field(start: date, end: date, code: str) -> None:
    with pytest.raises(InvalidInput) as raised:
        parse_period(start, end, utc_offset="+07:00", max_days=1827)
    problem = raised.value.errors[0]
    assert (problem.pointer, problem.location, problem.code) == ("/to", "query", code)


def test_csv_labels_cannot_run_as_spreadsheet_formulas() -> None:
    hidden = StatsCount(count=None, suppressed=True)
    stats = StatsOut(
        period=StatsPeriod(from_=date(2025, 5, 1), to=date(2025, 5, 31), utc_offset="+07:00"),
        group_by=GroupBy.SOURCE_AGENCY,
        scope="visible",
        suppression_threshold=5,
        totals=StatsTotals(
            reports=StatsCount(count=7),
            deferred_passport_applications=hidden,
            prevented_departures=StatsCount(count=0),
        ),
        cells=[
            StatsCell(code="X", label_id='=HYPERLINK("http://x")', label_en="@SUM(A1)", count=7)
        ],
    )
    rows = list(csv.reader(io.StringIO(to_csv(stats))))
    assert rows[1] == ["source_agency", "X", '\'=HYPERLINK("http://x")', "'@SUM(A1)", "7", "false"]
    assert rows[3][4:] == ["", "true"]
