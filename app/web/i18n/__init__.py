"""The console's words: one JSON message catalogue per language, Bahasa Indonesia first.

``id.json`` and ``en.json`` hold the same keys (a unit test checks it). A key is dotted by page
or component (``about.title``, ``nav.about``); values may name ``{placeholders}`` filled by
:meth:`Catalogue.text`. Dates and times are shown in WIB (Asia/Jakarta) whatever the server's
time zone.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, date, datetime
from enum import StrEnum
from functools import cache
from importlib import resources
from zoneinfo import ZoneInfo

#: Western Indonesia Time, the zone of Jakarta, Riau and Kepulauan Riau (UTC+7, no DST).
WIB = ZoneInfo("Asia/Jakarta")

#: The cookie that remembers the language chosen with the switch.
LANGUAGE_COOKIE = "lang"


class Language(StrEnum):
    """The console's languages, the default first."""

    ID = "id"
    EN = "en"


DEFAULT_LANGUAGE = Language.ID


@dataclass(frozen=True)
class Catalogue:
    """The messages of one language."""

    language: Language
    messages: dict[str, str]

    def text(self, key: str, /, **params: object) -> str:
        """The message ``key`` with its ``{placeholders}`` filled; a missing key is a bug."""
        message = self.messages[key]
        return message.format(**params) if params else message

    def has(self, key: str) -> bool:
        return key in self.messages

    def date(self, value: date | datetime) -> str:
        """``6 Desember 2026``: the day in WIB for a time, the date itself for a date."""
        if isinstance(value, datetime):
            value = to_wib(value).date()
        month = self.text(f"month.{value.month}")
        return f"{value.day} {month} {value.year}"

    def datetime(self, value: datetime) -> str:
        """``6 Desember 2026 21.06 WIB``: Indonesian writes hours with a dot, English a colon."""
        local = to_wib(value)
        separator = "." if self.language is Language.ID else ":"
        return f"{self.date(local)} {local:%H}{separator}{local:%M} WIB"


def to_wib(value: datetime) -> datetime:
    """``value`` in WIB; a naive value is taken as UTC (how the database returns SQLite times)."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(WIB)


@cache
def catalogue(language: Language) -> Catalogue:
    """The catalogue of ``language``, read once from the package."""
    raw = resources.files(__package__).joinpath(f"{language.value}.json").read_text("utf-8")
    messages = json.loads(raw)
    if not isinstance(messages, dict):
        raise ValueError(f"catalogue {language.value}.json is not an object")
    return Catalogue(language=language, messages={str(k): str(v) for k, v in messages.items()})


def language_from(value: str | None) -> Language:
    """The language a cookie or form value names; the default for anything else."""
    try:
        return Language(value or DEFAULT_LANGUAGE)
    except ValueError:
        return DEFAULT_LANGUAGE
