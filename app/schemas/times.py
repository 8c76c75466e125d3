"""Instants a caller sends (a body field or a query parameter), checked once for every route.

Python's ``datetime`` holds years 1 to 9999 in the caller's own offset; stored and compared in UTC,
``0001-01-01T12:00+15:00`` falls in the year 0 and ``9999-12-31T23:00-05:00`` in the year 10000.
Such a value must be refused beside its field, never reach the database as an overflow (a 500).
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from pydantic import AfterValidator, AwareDatetime
from pydantic_core import PydanticCustomError


def in_utc_range(value: dt.datetime) -> dt.datetime:
    """``value`` unchanged if it has a place in UTC, else a field error naming the years."""
    if value.tzinfo is None:
        return value
    try:
        value.astimezone(dt.UTC)
    except OverflowError:
        raise PydanticCustomError(
            "datetime_out_of_range",
            "The time {value} lies outside the years 1 to 9999 in UTC",
            {"value": value.isoformat()},
        ) from None
    return value


def _not_before_1900(value: dt.datetime) -> dt.datetime:
    if value.astimezone(dt.UTC).year < 1900:
        raise PydanticCustomError(
            "date_too_old", "The time {value} is before 1900", {"value": value.isoformat()}
        )
    return value


#: An instant with its UTC offset that can be held in UTC.
Instant = Annotated[AwareDatetime, AfterValidator(in_utc_range)]

#: An instant of a report's life (when it was made): with its offset, not before 1900, the floor
#: of every date in a report.
ReportInstant = Annotated[Instant, AfterValidator(_not_before_1900)]
