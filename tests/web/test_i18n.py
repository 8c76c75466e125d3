"""The message catalogues: same keys in both languages, every key a template uses exists, WIB."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from app.models.agency import AgencyKind
from app.web.i18n import Language, catalogue, language_from
from app.web.templating import NAVIGATION

TEMPLATES = Path(__file__).resolve().parents[2] / "app" / "web" / "templates"
#: ``t("key")`` or ``t('key', …)`` with a literal key in a template.
_LITERAL_KEY = re.compile(r"""\bt\(\s*["']([a-z0-9_.]+)["']""")


def test_both_catalogues_have_the_same_keys_and_no_empty_message() -> None:
    indonesian = catalogue(Language.ID).messages
    english = catalogue(Language.EN).messages
    assert set(indonesian) == set(english)
    for language in Language:
        empty = [k for k, v in catalogue(language).messages.items() if not v.strip()]
        assert empty == [], language


def test_placeholders_agree_between_languages() -> None:
    for key, message in catalogue(Language.ID).messages.items():
        placeholders = set(re.findall(r"{(\w+)}", message))
        assert placeholders == set(re.findall(r"{(\w+)}", catalogue(Language.EN).text(key))), key


def test_every_key_the_templates_and_navigation_name_exists() -> None:
    used = {item.label_key for item in NAVIGATION}
    for template in TEMPLATES.rglob("*.html"):
        keys = _LITERAL_KEY.findall(template.read_text("utf-8"))
        used |= {k for k in keys if not k.endswith(".")}  # a prefix completed with ~
    used |= {f"agency_kind.{kind.value}" for kind in AgencyKind}
    used |= {f"month.{m}" for m in range(1, 13)}
    used |= {f"language.{language.value}" for language in Language}
    used |= {f"flash.language_changed.{language.value}" for language in Language}
    missing = sorted(k for k in used if not catalogue(Language.ID).has(k))
    assert missing == []


@pytest.mark.parametrize(
    ("language", "expected"),
    [(Language.ID, "6 Desember 2026 21.06 WIB"), (Language.EN, "6 December 2026 21:06 WIB")],
)
def test_times_are_shown_in_wib(language: Language, expected: str) -> None:
    assert catalogue(language).datetime(datetime(2026, 12, 6, 14, 6, tzinfo=UTC)) == expected


def test_a_utc_evening_is_the_next_day_in_wib() -> None:
    new_year = datetime(2026, 12, 31, 18, 30)  # naive, as SQLite returns it: UTC
    assert catalogue(Language.ID).date(new_year) == "1 Januari 2027"
    assert catalogue(Language.EN).date(date(2026, 8, 17)) == "17 August 2026"


def test_language_defaults_to_indonesian() -> None:
    assert language_from(None) is Language.ID
    assert language_from("fr") is Language.ID
    assert language_from("en") is Language.EN
