"""A routing rule in words: "Laporan TPPO dengan modus PMI nonprosedural dikirim ke BP3MI-RIAU".

Pure: a rule, a message catalogue and (optionally) the inactive agencies in, one sentence out.
Codes become the code lists' labels (``app/vocab``) in the catalogue's language; the sentence's
joints come from the catalogue (``admin.routing.words.*``), so Indonesian and English read
naturally. A rule that leaves a field empty matches anything there, so the field is not said.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable

from app.services.routing import CASE_TYPES, RuleSpec
from app.vocab import COUNTRIES, REGIONS, code_list
from app.web.i18n import Catalogue, Language

#: The coded conditions in the order the sentence says them: (rule field, code list, whether
#: its labels are common nouns that start lower-case inside a sentence).
_CONDITIONS: tuple[tuple[str, str, bool], ...] = (
    ("modus_operandi", "modus_operandi", True),
    ("exploitation_types", "exploitation_types", True),
    ("region_prefixes", REGIONS, False),
    ("document_types", "document_types", True),
    ("document_statuses", "document_statuses", True),
    ("destination_countries", COUNTRIES, False),
)


def label(list_name: str, code: str, words: Catalogue, *, in_sentence: bool = False) -> str:
    """The label of ``code`` in the catalogue's language (the code itself when unknown)."""
    found = code_list(list_name).get(code)
    if found is None:
        return code
    text = found.label_id if words.language is Language.ID else found.label_en
    if in_sentence and len(text) > 1 and text[0].isupper() and text[1].islower():
        return text[0].lower() + text[1:]  # "Berkedok wisata" → "berkedok wisata"; "PMI …" stays
    return text


def tlp_name(code: str) -> str:
    """TLP 2.0's own name of a level: ``AMBER_STRICT`` → ``TLP:AMBER+STRICT``."""
    return "TLP:" + code.replace("_", "+")


def either(items: Iterable[str], words: Catalogue) -> str:
    """``A``, ``A atau B``, ``A, B atau C`` (any one of them)."""
    return _joined(list(items), words.text("admin.routing.words.or"))


def _joined(items: list[str], last: str) -> str:
    if len(items) <= 1:
        return "".join(items)
    return f"{', '.join(items[:-1])} {last} {items[-1]}"


def _subject(rule: RuleSpec, words: Catalogue) -> str:
    if not rule.case_types or rule.case_types >= set(CASE_TYPES):
        return words.text("admin.routing.words.every")
    kinds = [
        words.text(f"admin.routing.words.case.{c}") for c in CASE_TYPES if c in rule.case_types
    ]
    return words.text("admin.routing.words.reports_of", types=either(kinds, words))


def conditions(rule: RuleSpec, words: Catalogue) -> list[str]:
    """Each non-empty condition of ``rule`` but the case type, as a phrase."""
    phrases: list[str] = []
    for field, list_name, lower in _CONDITIONS:
        codes = getattr(rule, field)
        if not codes:
            continue
        ordered = codes if isinstance(codes, tuple) else _in_list_order(list_name, codes)
        labels = [label(list_name, c, words, in_sentence=lower) for c in ordered]
        phrases.append(words.text(f"admin.routing.words.{field}", values=either(labels, words)))
    if rule.foreign_nationals is not None:
        key = "foreign_yes" if rule.foreign_nationals else "foreign_no"
        phrases.append(words.text(f"admin.routing.words.{key}"))
    if rule.tlps:
        levels = [tlp_name(t) for t in code_list("tlp").values if t in rule.tlps]
        phrases.append(words.text("admin.routing.words.tlps", values=either(levels, words)))
    return phrases


def _in_list_order(list_name: str, codes: Collection[str]) -> list[str]:
    """``codes`` in the order of their code list (unknown ones last, as given)."""
    known = code_list(list_name).values
    return [c for c in known if c in codes] + sorted(c for c in codes if c not in known)


def rule_in_words(rule: RuleSpec, words: Catalogue, inactive_agencies: Collection[str] = ()) -> str:
    """The whole rule as one sentence; a recipient in ``inactive_agencies`` is marked so,
    since routing skips it."""
    who = " ".join([_subject(rule, words), *_with_and(conditions(rule, words), words)])
    recipients = ", ".join(
        words.text("admin.routing.words.inactive_agency", code=code)
        if code in inactive_agencies
        else code
        for code in rule.recipients
    )
    return words.text("admin.routing.words.sentence", who=who, recipients=recipients)


def _with_and(phrases: list[str], words: Catalogue) -> list[str]:
    """The conditions as one phrase joined by ``dan``/``and`` (every one must hold)."""
    if not phrases:
        return []
    return [_joined(phrases, words.text("admin.routing.words.and"))]
