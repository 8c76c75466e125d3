"""Match reasons in the officer's words (app/web/reasons.py): every phrase matching and
resolution write is worded in both languages, compared values kept, unknown phrases shown as
they are."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from app.matching.scoring import PersonFeatures, compare, name_frequency_keys, without_values
from app.web.i18n import Language, catalogue
from app.web.reasons import is_worded, reason_in_words, reasons_in_words

ID = catalogue(Language.ID)
EN = catalogue(Language.EN)

SITI: dict[str, Any] = {
    "full_name": "Siti Nurhaliza",
    "date_of_birth": "1995-03-07",
    "sex": "P",
    "nationality": "IDN",
    "nik": "3201014703950001",
    "passport_number": "C1234567",
    "phone": "+6281234567890",
    "address": "Jl. Melati No. 5 RT 02 RW 03, Desa Sukamaju, Kec. Cibinong, Bogor",
}

#: Pairs that between them make matching say every kind of reason it has.
VARIANTS: list[dict[str, Any]] = [
    {},
    {"nik": "3201014703950002", "passport_number": "C1234568"},
    {"nik": "3201014703950099", "passport_number": "X9999999", "sex": "L", "nationality": "MYS"},
    {"full_name": "Nurhaliza Siti", "phone": "+6281299999999"},
    {"full_name": "SitiNurhaliza"},
    {"full_name": "Sity Nurhalisa", "date_of_birth": "1995-07-03"},
    {"full_name": "Siti Nurhaliz", "date_of_birth": "1995-03-08"},
    {"full_name": "Siti", "date_of_birth": "1995-05-20", "address": "Jl. Melati, Bogor"},
    {"full_name": "Budi Santoso", "date_of_birth": "1980-01-01", "address": "Medan"},
    {"full_name": "Budi Santoso", "nik": None, "passport_number": None},
    {"full_name": "Sari Nurhaliza", "nik": None, "passport_number": None},
    {"date_of_birth": None, "birth_year": 1995},
    {"date_of_birth": None, "birth_year": 1990},
]


def all_reasons() -> set[str]:
    reasons: set[str] = set()
    siti = PersonFeatures.from_raw(**SITI)
    common = dict.fromkeys(name_frequency_keys(siti), 100)  # a name 100 stored persons bear
    frequent = dict.fromkeys(name_frequency_keys(siti), 10)
    for changes in VARIANTS:
        other = PersonFeatures.from_raw(**{**SITI, **changes})
        for counts in (None, common, frequent):
            score = compare(siti, other, name_counts=counts)
            reasons |= set(score.reasons) | set(without_values(score.reasons))
        birth_only = PersonFeatures.from_raw(full_name=SITI["full_name"], birth_year=1995)
        reasons |= set(compare(birth_only, other).reasons)
    daughter = PersonFeatures.from_raw(**{**SITI, "full_name": "Siti Nurhaliza binti Ahmad"})
    for father in ("Ahmad", "Umar"):
        other = PersonFeatures.from_raw(**{**SITI, "full_name": f"Siti Nurhaliza binti {father}"})
        reasons |= set(compare(daughter, other).reasons)
    return reasons


def test_every_reason_matching_gives_is_worded() -> None:
    reasons = all_reasons()
    assert len(reasons) > 25  # the pairs do reach the many kinds
    assert sorted(r for r in reasons if not is_worded(r)) == []


def test_every_reason_written_in_the_code_is_worded() -> None:
    """The fixed phrases (vetoes, review-only, resolution's own) as written in app/."""
    root = Path(__file__).resolve().parents[2] / "app"
    written = set()
    for path in (root / "matching" / "scoring.py", root / "services" / "resolution.py"):
        written |= set(
            re.findall(
                r'"((?:veto|names different|born |birth |no |linked by|the same NIK)[^"{]*)"',
                path.read_text(),
            )
        )
    written |= {"removed by retention"}
    assert len(written) >= 7
    assert sorted(r for r in written if not is_worded(r)) == []


@pytest.mark.parametrize(
    ("reason", "indonesian", "english"),
    [
        ("NIK equal", "NIK sama", "NIK is the same"),
        ("passport differs by one character (C1234567 ~ C1234568)",
         "Nomor paspor berbeda satu karakter (C1234567 ~ C1234568)",
         "Passport number differs by one character (C1234567 ~ C1234568)"),
        ("passport differs by one character", "Nomor paspor berbeda satu karakter",
         "Passport number differs by one character"),
        ("name sounds alike 0.93, a common name (Siti ~ Sity)",
         "Nama terdengar mirip, kemiripan 93%, nama ini umum (Siti ~ Sity)",
         "Names sound alike, 93% alike, a common name (Siti ~ Sity)"),
        ("name equal, order swapped", "Nama sama, urutan katanya tertukar",
         "Same name, words in another order"),
        ("birth date day/month swapped", "Tanggal lahir sama, tetapi hari dan bulannya tertukar",
         "Same date of birth with day and month swapped"),
        ("address partly shared 0.40", "Alamat sebagian sama (kemiripan 40%)",
         "Addresses partly the same (40% alike)"),
        ("veto: two different NIKs", "Bukan orang yang sama: NIK-nya berbeda",
         "Not the same person: the NIKs differ"),
        ("the same NIK or passport under another identity: review",
         "NIK atau nomor paspor yang sama tercatat atas identitas lain: perlu diperiksa petugas, "
         "tidak pernah dihubungkan hanya karena nomor itu",
         "The same NIK or passport number is on record under another identity: for an officer "
         "to review, never linked on the number alone"),
        ("matched 3 stored entities: merged them into one person",
         "Cocok dengan 3 catatan orang yang tersimpan: semuanya digabung menjadi satu orang",
         "Matched 3 stored person records: they were merged into one person"),
    ],
)  # fmt: skip
def test_reasons_read_as_sentences_in_both_languages(
    reason: str, indonesian: str, english: str
) -> None:
    assert reason_in_words(ID, reason) == indonesian
    assert reason_in_words(EN, reason) == english


def test_an_unknown_reason_is_shown_as_written() -> None:
    assert reasons_in_words(ID, ["confirmed by an analyst", "NIK equal"]) == [
        "confirmed by an analyst",
        "NIK sama",
    ]
    assert reasons_in_words(ID, None) == []
