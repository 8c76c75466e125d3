"""Indonesian name normalization and phonetic keys."""

from __future__ import annotations

import pytest

from app.matching.names import (
    modernize_spelling,
    name_tokens,
    normalize_name,
    parse_name,
    phonetic_keys,
    phonetic_name_key,
    phonetic_token,
)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("  SITI   nurhaliza ", "siti nurhaliza"),
        ("Hj. Siti Nurhaliza", "siti nurhaliza"),
        ("H. Ahmad Fauzi", "ahmad fauzi"),
        ("Drs. H. Bambang Sudarsono", "bambang sudarsono"),
        ("Prof. Dr. Ir. Budi Santoso", "budi santoso"),
        ("Budi Santoso, S.H., M.M.", "budi santoso"),
        ("Rina Wulandari, S.Pd.", "rina wulandari"),
        ("Dewi Lestari S.E.", "dewi lestari"),
        ("Ibu Sulastri", "sulastri"),
        ("Bapak Slamet", "slamet"),
        ("Budi Santoso SH", "budi santoso"),
        ("Ma'ruf Amin", "maruf amin"),
        ("Jum\u2019at Hidayat", "jumat hidayat"),
        ("Sité Rahmâ", "site rahma"),
    ],
)
def test_normalize_name_strips_case_spacing_punctuation_titles_and_degrees(
    raw: str, expected: str
) -> None:
    assert normalize_name(raw) == expected


def test_a_single_name_is_kept_even_if_it_looks_like_a_degree() -> None:
    assert normalize_name("Se") == "se"


def test_bin_and_binti_separate_the_fathers_name() -> None:
    parts = parse_name("HJ. SITI NURHALIZA BINTI ABDULLAH")
    assert parts.own == "siti nurhaliza"
    assert parts.father == "abdulah"
    assert parts.full == "siti nurhaliza abdulah"
    assert parse_name("Ahmad bin Yusuf").father == "yusuf"
    assert parse_name("Ahmad bin Yusuf").own == "ahmad"


def test_bin_as_a_first_word_is_not_a_patronym_marker() -> None:
    assert parse_name("Bin Laden").own == "bin laden"


@pytest.mark.parametrize(
    ("old", "modern"),
    [
        ("djoko", "joko"),
        ("tjahjono", "cahjono"),
        ("soekarno", "sukarno"),
        ("njoman", "nyoman"),
        ("sjahrir", "syahrir"),
        ("chairul", "khairul"),
        ("muhammad", "muhamad"),
        ("ellyana", "elyana"),
    ],
)
def test_old_spellings_and_doubled_letters_are_modernized(old: str, modern: str) -> None:
    assert modernize_spelling(old) == modern


def test_old_and_new_spellings_normalize_alike() -> None:
    assert normalize_name("Djoko Soetrisno") == normalize_name("Joko Sutrisno")
    assert normalize_name("Tjipto") == normalize_name("Cipto")


@pytest.mark.parametrize(
    "written",
    ["Muhammad Rizky", "Muhamad Rizky", "Mochammad Rizky", "Mohamad Rizky", "Moch. Rizky",
     "M. Rizky", "Muh. Rizky", "MOHAMMAD RIZKY"],
)  # fmt: skip
def test_muhammad_variants_share_one_form(written: str) -> None:
    assert normalize_name(written) == "muhamad rizky"


@pytest.mark.parametrize("written", ["Nur Aini", "Noor Aini", "Nurul Aini", "NOOR AINI"])
def test_nur_variants_share_one_form(written: str) -> None:
    assert normalize_name(written) == "nur aini"


def test_balinese_birth_order_marker_is_optional() -> None:
    assert normalize_name("I Made Suarta") == normalize_name("Made Suarta")
    assert normalize_name("Ni Luh Sukerti") == "luh sukerti"
    # Family name written first pushes the marker to the end.
    assert normalize_name("Komang Astawa I") == normalize_name("I Komang Astawa")
    assert normalize_name("Sukerti Luh Ni") == "sukerti luh"
    assert normalize_name("Ni") == "ni"


def test_name_tokens_are_the_words_in_written_order() -> None:
    assert name_tokens("siti nur haliza") == ("siti", "nur", "haliza")
    assert name_tokens("") == ()


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("fatimah", "fatima"),  # silent final h
        ("rahmat", "ramat"),
        ("syamsul", "samsul"),  # Arabic digraphs
        ("ramadhan", "ramadan"),
        ("fathur", "fatur"),
        ("khairul", "hairul"),
        ("fitri", "pitri"),  # Sundanese f/p
        ("faizal", "faisal"),
        ("rizky", "rizki"),  # final y is written for i
        ("yusuf", "jusuf"),  # old j is today's y
        ("slamet", "slamat"),  # vowels vary
        ("umar", "omar"),  # initial vowel
    ],
)
def test_phonetic_token_agrees_across_common_confusions(a: str, b: str) -> None:
    assert phonetic_token(a) == phonetic_token(b)


@pytest.mark.parametrize(("a", "b"), [("siti", "santi"), ("budi", "bayu"), ("rina", "dina")])
def test_phonetic_token_keeps_different_names_apart(a: str, b: str) -> None:
    assert phonetic_token(a) != phonetic_token(b)


def test_phonetic_keys_ignore_name_order() -> None:
    assert phonetic_keys(normalize_name("Rudolf Simanjuntak")) == phonetic_keys(
        normalize_name("Simanjuntak Rudolf")
    )
    assert phonetic_name_key(normalize_name("Tan Siu Lan")) == phonetic_name_key(
        normalize_name("Siu Lan Tan")
    )


def test_phonetic_keys_of_a_single_name_are_one_key() -> None:
    assert phonetic_keys(normalize_name("Sutrisno")) == ("strsn",)
    assert phonetic_keys(normalize_name("Soetrisno")) == ("strsn",)


def test_phonetic_name_key_joins_the_variants_of_one_person() -> None:
    variants = ["Mochammad Djoko Chairul", "Muhamad Joko Khairul", "M. Joko Hairul"]
    assert len({phonetic_name_key(normalize_name(v)) for v in variants}) == 1
