"""Match reasons in words (app/web/match_reasons.py): every phrase resolution writes today has
its words in both languages, compared values are kept as stored, and an unknown phrase is shown
as stored rather than lost."""

from __future__ import annotations

from itertools import combinations
from typing import Any

import pytest

from app.matching.scoring import PersonFeatures, compare, without_values
from app.web.i18n import Language, catalogue
from app.web.match_reasons import reason_in_words, reasons_in_words

INDONESIAN = catalogue(Language.ID)
ENGLISH = catalogue(Language.EN)

SITI: dict[str, Any] = {
    "full_name": "Siti Nurhaliza binti Ahmad",
    "date_of_birth": "1999-03-04",
    "sex": "F",
    "nationality": "IDN",
    "nik": "1472034403990002",
    "passport_number": "C1234567",
    "phone": "+6281266123344",
    "address": "Jl. Sultan Syarif Kasim No. 12, Kelurahan Rimba Sekampung, Dumai",
}

#: Variants of one person and others, so that the pairs among them give every kind of agreement
#: and disagreement the scoring module words.
PEOPLE: list[dict[str, Any]] = [
    SITI,
    {**SITI, "full_name": "Siti Nur Haliza", "date_of_birth": "1999-04-03"},
    {
        **SITI,
        "full_name": "Nurhaliza Siti",
        "date_of_birth": "1999-03-05",
        "nik": "1472034403990003",
    },
    {**SITI, "full_name": "Sitti Nurhalisa", "passport_number": "C1234568", "phone": None},
    {**SITI, "full_name": "Siti Nurhaliza", "date_of_birth": None, "birth_year": 1999},
    {**SITI, "full_name": "Siti Rahmawati", "date_of_birth": "1999-08-20", "nik": None},
    {**SITI, "full_name": "Siti Rahmawati", "date_of_birth": None, "birth_year": 1998, "nik": None},
    {**SITI, "full_name": "Siti", "date_of_birth": "1999-03-04", "sex": "M", "nik": None},
    {
        **SITI,
        "full_name": "Rina Nurhaliza",
        "nik": None,
        "passport_number": "X9999999",
        "nationality": "MYS",
        "phone": "+6281299999999",
        "address": "Kampung Baru, Johor Bahru",
    },
    {**SITI, "full_name": "Ahmad Siti Nurhaliza", "date_of_birth": "2001-07-01", "nik": None},
    {**SITI, "full_name": "Siti Nur Haliza binti Ahmad", "address": "Rimba Sekampung Dumai"},
    {**SITI, "full_name": "Sitinurhaliza", "nik": "9999999999999999"},
]


def _all_reasons() -> set[str]:
    people = [PersonFeatures.from_raw(**p) for p in PEOPLE]
    reasons: set[str] = set()
    for a, b in combinations(people, 2):
        for score in (compare(a, b), compare(a, b, name_counts={}), compare(b, a)):
            reasons.update(score.reasons)
    return reasons


def test_every_phrase_scoring_writes_today_has_words_in_both_languages() -> None:
    reasons = _all_reasons()
    assert len(reasons) > 10  # the pairs above give many kinds of reasons
    unworded = [r for r in reasons if reason_in_words(r, INDONESIAN) == r]
    assert unworded == []
    # (the English catalogue has the same keys: tests/web/test_i18n.py)


@pytest.mark.parametrize(
    ("reason", "indonesian", "english"),
    [
        (
            "name sounds alike 0.93 (Rina ~ Rini)",
            "Nama terdengar sama (kemiripan 93%) (Rina ~ Rini)",
            "Name sounds alike (93% alike) (Rina ~ Rini)",
        ),
        (
            "name similar 0.88, a common name (Siti ~ Sitti)",
            "Nama mirip (kemiripan 88%), nama yang sangat umum (Siti ~ Sitti)",
            "Name similar (88% alike), a very common name (Siti ~ Sitti)",
        ),
        ("NIK equal", "NIK sama", "NIK equal"),
        (
            "passport differs by one character (C1234567 ~ C1234568)",
            "Nomor paspor beda satu karakter (C1234567 ~ C1234568)",
            "Passport number differs by one character (C1234567 ~ C1234568)",
        ),
        ("birth year equal, day differs", "Tahun lahir sama, tanggal berbeda", None),
        ("address similar 0.75", "Alamat mirip (kemiripan 75%)", "Address similar (75% alike)"),
        (
            "matched 3 stored entities: merged them into one person",
            "Cocok dengan 3 entitas tersimpan: semuanya digabung menjadi satu orang",
            None,
        ),
        ("veto: two different NIKs", "Dua NIK berbeda: tidak boleh digabung", None),
    ],
)
def test_reasons_read_in_the_officers_language(
    reason: str, indonesian: str, english: str | None
) -> None:
    assert reason_in_words(reason, INDONESIAN) == indonesian
    if english is not None:
        assert reason_in_words(reason, ENGLISH) == english


def test_reasons_without_values_stay_without_them() -> None:
    stripped = without_values(["birth date one digit apart (2001-12-03 ~ 2001-12-30)"])
    assert reasons_in_words(stripped, INDONESIAN) == ["Tanggal lahir beda satu angka"]


def test_an_unknown_phrase_is_shown_as_stored() -> None:
    assert reason_in_words("a reason from a newer matcher", INDONESIAN) == (
        "a reason from a newer matcher"
    )
