"""Match reasons in the officer's words: the one place that turns resolution's reasons
("name sounds alike 0.93 (Rina ~ Rini)", "NIK equal") into Bahasa Indonesia or English.

Resolution (``app.matching.scoring``) explains every score in short English phrases, stored with
each link and possible match. A page shows them through :func:`reasons_in_words`; a phrase this
module does not know is shown as it was stored, so nothing is ever lost. Compared values (the
part in parentheses) are shown as stored: whoever may not see them already received the reasons
without them (``without_values``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from app.web.i18n import Catalogue

_VALUES = r"(?: (?P<values>\(.*\)))?"

#: Each known phrase and the catalogue key of its words (``{kind}`` filled from the phrase).
_PHRASES: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(pattern + "$"), key)
    for pattern, key in (
        (r"veto: two different NIKs", "match_reason.veto_nik"),
        (r"veto: two different passports", "match_reason.veto_passport"),
        (r"names different and no identifier agrees: review only", "match_reason.review_names"),
        (
            r"born the same day, given names differ, no identifier agrees: review only",
            "match_reason.review_twins",
        ),
        (r"(?P<field>NIK|passport) equal", "match_reason.{field}.equal"),
        (
            r"(?P<field>NIK|passport) differs by one character" + _VALUES,
            "match_reason.{field}.typo",
        ),
        (r"(?P<field>NIK|passport) different", "match_reason.{field}.different"),
        (
            r"name (?P<kind>equal ignoring spaces|equal, order swapped|equal|sounds alike|similar"
            r"|part of the other|different)(?: (?P<similarity>\d\.\d+))?"
            r"(?:, (?P<frequency>a common name|a frequent name))?" + _VALUES,
            "match_reason.name.{kind}",
        ),
        (r"birth date equal", "match_reason.birth.equal"),
        (r"birth date day/month swapped", "match_reason.birth.swapped"),
        (r"birth date one digit apart" + _VALUES, "match_reason.birth.typo"),
        (r"birth year equal, day differs", "match_reason.birth.same_year"),
        (r"birth date different" + _VALUES, "match_reason.birth.different"),
        (r"birth year equal", "match_reason.birth.year_equal"),
        (r"birth year different" + _VALUES, "match_reason.birth.year_different"),
        (r"(?P<field>sex|nationality|phone) (?:equal|same)", "match_reason.{field}.equal"),
        (r"(?P<field>sex|nationality|phone) different", "match_reason.{field}.different"),
        (r"address similar (?P<similarity>\d\.\d+)", "match_reason.address.similar"),
        (r"address partly shared (?P<similarity>\d\.\d+)", "match_reason.address.partial"),
        (r"address different", "match_reason.address.different"),
        (r"no stored person matched", "match_reason.no_match"),
        (r"linked by the submitting agency", "match_reason.linked_by_sender"),
        (r"no shared victim", "match_reason.no_shared_victim"),
        (r"removed by retention", "match_reason.retention"),
        (
            r"matched (?P<count>\d+) stored entities: merged them into one person",
            "match_reason.bridged",
        ),
    )
)

#: The phrase's kind of name agreement as a catalogue key part.
_NAME_KINDS = {
    "equal": "equal",
    "equal ignoring spaces": "equal_spacing",
    "equal, order swapped": "equal_order",
    "sounds alike": "sounds_alike",
    "similar": "similar",
    "part of the other": "part",
    "different": "different",
}
_FREQUENCIES = {"a common name": "common", "a frequent name": "frequent"}


def reason_in_words(reason: str, words: Catalogue) -> str:
    """One reason in the catalogue's language (as stored when the phrase is not known)."""
    for pattern, key_template in _PHRASES:
        found = pattern.match(reason)
        if found is None:
            continue
        parts = found.groupdict()
        key = key_template.format(
            field=(parts.get("field") or "").lower(),
            kind=_NAME_KINDS.get(parts.get("kind") or "", ""),
        )
        if not words.has(key):
            return reason
        text = words.text(key, count=parts["count"]) if parts.get("count") else words.text(key)
        if parts.get("similarity"):
            percent = round(float(parts["similarity"]) * 100)
            text += " " + words.text("match_reason.similarity", percent=percent)
        if parts.get("frequency"):
            text += ", " + words.text(f"match_reason.frequency.{_FREQUENCIES[parts['frequency']]}")
        if parts.get("values"):
            text += f" {parts['values']}"
        return text
    return reason


def reasons_in_words(reasons: Iterable[str], words: Catalogue) -> list[str]:
    """Every reason in the catalogue's language, in the stored order."""
    return [reason_in_words(reason, words) for reason in reasons]
