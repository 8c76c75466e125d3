"""The one page-cursor codec of every list (``?cursor=&limit=`` answered with ``next_cursor``).

A cursor is the keyset of the last row of a page, its parts joined by ``|`` and base64url-encoded
without padding. Clients treat it as opaque; anything this service did not issue is
:class:`~app.errors.InvalidCursor` (400), the same answer for every list.
"""

from __future__ import annotations

import base64
import binascii
import uuid
from datetime import datetime

from app.errors import InvalidCursor

_SEPARATOR = "|"


def encode_cursor(*parts: str | float | datetime | uuid.UUID) -> str:
    """The cursor naming a row by its keyset parts (timestamps as ISO 8601)."""
    text = _SEPARATOR.join(p.isoformat() if isinstance(p, datetime) else str(p) for p in parts)
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def decode_cursor(cursor: str, count: int) -> list[str]:
    """The ``count`` non-empty parts of a cursor; InvalidCursor for anything else."""
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        text = base64.b64decode(padded, altchars=b"-_", validate=True).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise InvalidCursor() from None
    parts = text.split(_SEPARATOR)
    if len(parts) != count or not all(parts):
        raise InvalidCursor()
    return parts


def decode_time_cursor(cursor: str) -> tuple[datetime, uuid.UUID]:
    """A (timestamp, id) keyset cursor, the shape of most lists."""
    at, last_id = decode_cursor(cursor, 2)
    try:
        return datetime.fromisoformat(at), uuid.UUID(last_id)
    except ValueError:
        raise InvalidCursor() from None


def decode_score_cursor(cursor: str) -> tuple[float, uuid.UUID]:
    """A (score, id) keyset cursor: lists ordered by a score, highest first."""
    score, last_id = decode_cursor(cursor, 2)
    try:
        return float(score), uuid.UUID(last_id)
    except ValueError:
        raise InvalidCursor() from None


def decode_int_cursor(cursor: str) -> int:
    """A cursor holding one non-negative sequence number."""
    (number,) = decode_cursor(cursor, 1)
    if not number.isascii() or not number.isdigit():
        raise InvalidCursor()
    return int(number)


def decode_text_cursor(cursor: str) -> str:
    """A cursor holding one text key (say, an agency code)."""
    (text,) = decode_cursor(cursor, 1)
    return text
