"""The one cursor codec: what it issues it reads back, anything else is InvalidCursor."""

from __future__ import annotations

import base64
import uuid
from datetime import UTC, datetime

import pytest

from app.errors import InvalidCursor
from app.pagination import (
    decode_cursor,
    decode_int_cursor,
    decode_text_cursor,
    decode_time_cursor,
    encode_cursor,
)


def test_every_kind_of_keyset_round_trips() -> None:
    at, row = datetime(2026, 3, 1, 8, 30, tzinfo=UTC), uuid.uuid4()
    assert decode_time_cursor(encode_cursor(at, row)) == (at, row)
    assert decode_int_cursor(encode_cursor(42)) == 42
    assert decode_text_cursor(encode_cursor("IMIGRASI-DUMAI")) == "IMIGRASI-DUMAI"
    assert "=" not in encode_cursor("A")


def _raw(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


@pytest.mark.parametrize(
    ("cursor", "decode"),
    [
        ("not a cursor!", decode_text_cursor),
        (_raw("a|b"), decode_text_cursor),
        (_raw("-1"), decode_int_cursor),
        (_raw("seven"), decode_int_cursor),
        (_raw("yesterday|" + str(uuid.uuid4())), decode_time_cursor),
        (_raw("2026-03-01T08:30:00|not-a-uuid"), decode_time_cursor),
        (_raw("2026-03-01T08:30:00|"), decode_time_cursor),
        (base64.b64encode(b"\xff\xfe").decode(), decode_text_cursor),
    ],
)
def test_what_it_did_not_issue_is_an_invalid_cursor(cursor: str, decode: object) -> None:
    with pytest.raises(InvalidCursor):
        decode(cursor)  # type: ignore[operator]


def test_parts_are_counted() -> None:
    assert decode_cursor(encode_cursor("a", "b", 3), 3) == ["a", "b", "3"]
    with pytest.raises(InvalidCursor):
        decode_cursor(encode_cursor("a", "b"), 3)
