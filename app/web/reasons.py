"""Why a person matched, in the officer's words: the one place the console words match reasons.

Matching (``app.matching.scoring``) and resolution (``app.services.resolution``) explain each
link, possible match and screening hit with short English phrases, stored as they were made and
answered as such by the API (``"NIK equal"``, ``"name sounds alike 0.93 (… ~ …)"``,
``"birth date day/month swapped"``, ``"veto: two different NIKs"``). Every console page that
shows reasons (counter screening, the success page after filing, the case page, watches, the
analysts' review queue) words them with :func:`reasons_in_words`, or in a template with the
``match_reasons`` function every page gets (``{% for r in match_reasons(hit.reasons) %}``).

The phrases are read, never changed: each known shape is a pattern here and a sentence under
``reason.`` in both catalogues; compared values in parentheses (``(Siti ~ Sity)``) are kept as
they are; a similarity (``0.93``) becomes a percentage. A phrase no pattern knows is shown as
it is, so a new reason is never hidden (``tests/unit/test_reasons.py`` fails until it is worded).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from app.web.i18n import Catalogue

#: Identifier-like fields compared for equality (the label matching uses → catalogue field key).
_FIELDS = {
    "NIK": "nik",
    "passport": "passport",
    "sex": "sex",
    "nationality": "nationality",
    "phone": "phone",
}
#: How two names agree, as matching says it → catalogue key.
_NAME_KINDS = {
    "equal ignoring spaces": "equal_ignoring_spaces",
    "equal, order swapped": "order_swapped",
    "equal": "equal",
    "sounds alike": "sounds_alike",
    "similar": "similar",
    "part of the other": "part_of_other",
    "different": "different",
}
_FREQUENCY = {"a common name": "common", "a frequent name": "frequent"}
#: The fathers' names after bin/binti, as matching notes them on the name → catalogue key.
_FATHER = {"father's name the same": "same", "father's name different": "different"}
_NUMBER = r"(?P<similarity>[01]\.\d+)"
_VALUES = r"(?: \((?P<values>.*)\))?"
_KINDS = "|".join(re.escape(kind) for kind in _NAME_KINDS)


@dataclass(frozen=True)
class _Shape:
    """One kind of reason: its pattern and the catalogue key of its sentence."""

    pattern: re.Pattern[str]
    key: str


def _shape(pattern: str, key: str) -> _Shape:
    return _Shape(re.compile(f"^{pattern}$"), key)


_SHAPES = (
    _shape(
        rf"(?P<field>{'|'.join(_FIELDS)}) (?P<kind>equal|different|differs by one character)"
        + _VALUES,
        "",
    ),
    _shape(
        rf"name (?P<name>{_KINDS})(?: {_NUMBER})?(?:, (?P<frequency>{'|'.join(_FREQUENCY)}))?"
        + rf"(?:, (?P<father>{'|'.join(_FATHER)}))?"
        + _VALUES,
        "",
    ),
    _shape(r"birth date equal", "reason.birth.equal"),
    _shape(r"birth date day/month swapped", "reason.birth.day_month_swapped"),
    _shape(r"birth date one digit apart" + _VALUES, "reason.birth.one_digit"),
    _shape(r"birth year equal, day differs", "reason.birth.same_year"),
    _shape(r"birth date different" + _VALUES, "reason.birth.different"),
    _shape(r"birth year equal", "reason.birth.year_equal"),
    _shape(r"birth year different" + _VALUES, "reason.birth.year_different"),
    _shape(rf"address similar {_NUMBER}", "reason.address.similar"),
    _shape(rf"address partly shared {_NUMBER}", "reason.address.partial"),
    _shape(r"address different", "reason.address.different"),
    _shape(r"veto: two different NIKs", "reason.veto.nik"),
    _shape(r"veto: two different passports", "reason.veto.passport"),
    _shape(r"names different and no identifier agrees: review only", "reason.review.names"),
    _shape(
        r"born the same day, given names differ, no identifier agrees: review only",
        "reason.review.twins",
    ),
    _shape(
        r"born in different years, given names differ, no identifier agrees: review only",
        "reason.review.siblings",
    ),
    _shape(
        r"birth date unknown, given names differ, no identifier agrees: review only",
        "reason.review.given_names",
    ),
    _shape(
        r"the same NIK or passport under another identity: review",
        "reason.review.shared_identifier",
    ),
    _shape(r"matched (?P<count>\d+) stored entities: merged them into one person", "reason.merged"),
    _shape(r"no stored person matched", "reason.no_match"),
    _shape(r"linked by the submitting agency", "reason.explicit_link"),
    _shape(r"no shared victim", "reason.no_shared_victim"),
    _shape(r"removed by retention", "reason.removed_by_retention"),
)

_IDENTIFIER_KINDS = {
    "equal": "equal",
    "different": "different",
    "differs by one character": "one_character",
}


def _percent(similarity: str) -> int:
    return round(float(similarity) * 100)


def reason_in_words(words: Catalogue, reason: str) -> str:
    """One match reason as a sentence in ``words``' language (unknown phrases as they are)."""
    for shape in _SHAPES:
        found = shape.pattern.match(reason)
        if found is None:
            continue
        parts = found.groupdict()
        if "field" in parts and parts["field"] is not None:
            field = words.text(f"reason.field.{_FIELDS[parts['field']]}")
            text = words.text(f"reason.identifier.{_IDENTIFIER_KINDS[parts['kind']]}", field=field)
        elif "name" in parts and parts["name"] is not None:
            text = words.text(f"reason.name.{_NAME_KINDS[parts['name']]}")
            notes = []
            if parts["similarity"]:
                notes.append(words.text("reason.similarity", percent=_percent(parts["similarity"])))
            if parts["frequency"]:
                notes.append(words.text(f"reason.frequency.{_FREQUENCY[parts['frequency']]}"))
            if parts["father"]:
                notes.append(words.text(f"reason.father.{_FATHER[parts['father']]}"))
            if notes:
                text = f"{text}, {', '.join(notes)}"
        elif parts.get("similarity"):
            text = words.text(shape.key, percent=_percent(parts["similarity"]))
        elif parts.get("count"):
            text = words.text(shape.key, count=int(parts["count"]))
        else:
            text = words.text(shape.key)
        values = parts.get("values")
        return f"{text} ({values})" if values else text
    return reason


def is_worded(reason: str) -> bool:
    """Whether a pattern here knows ``reason`` (else it is shown as matching wrote it)."""
    return any(shape.pattern.match(reason) for shape in _SHAPES)


def reasons_in_words(words: Catalogue, reasons: Iterable[str] | None) -> list[str]:
    """Every reason of a link, hit or possible match in ``words``' language, in order."""
    return [reason_in_words(words, reason) for reason in reasons or ()]
