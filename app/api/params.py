"""Query parameter types shared by routers, so each rule is written once."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated, Any

from pydantic import AfterValidator, BeforeValidator

from app.schemas.times import in_utc_range

_ISO_8601 = re.compile(
    r"^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?)?$"
)


def _iso_8601_only(value: Any) -> Any:
    """Refuse what pydantic would otherwise read as a Unix timestamp (``to=0.5``).

    The spec says ``format: date-time``; a number is not one, and silently reading it as seconds
    since 1970 would answer a question the caller did not ask.
    """
    if isinstance(value, str) and not _ISO_8601.match(value):
        raise ValueError("not an ISO 8601 date-time (2025-05-12T09:30:00+07:00)")
    return value


#: A date-time in a query string: ISO 8601 only, and with a place in UTC if it has an offset.
QueryDateTime = Annotated[datetime, BeforeValidator(_iso_8601_only), AfterValidator(in_utc_range)]
