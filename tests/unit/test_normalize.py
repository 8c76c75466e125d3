"""Normalizers for matching, with Indonesian examples."""

from __future__ import annotations

from datetime import date

import pytest

from app.matching.normalize import (
    NikInfo,
    NormalizationError,
    PartialDate,
    check_nik_against,
    normalize_date,
    normalize_nik,
    normalize_passport,
    normalize_person,
    normalize_phone,
)
from app.schemas.report import PersonIn

TODAY = date(2026, 11, 28)

# --- NIK ---------------------------------------------------------------------------------------


def test_nik_of_a_man_from_kabupaten_bogor() -> None:
    info = normalize_nik("3201011508950001", today=TODAY)
    assert info.province_code == "32"
    assert info.regency_code == "32.01"
    assert info.district_code == "32.01.01"
    assert info.birth_date == date(1995, 8, 15)
    assert info.sex == "MALE"
    assert info.serial == "0001"
    assert info.region_known


def test_nik_of_a_woman_carries_day_plus_40() -> None:
    info = normalize_nik("1472055703980002", today=TODAY)
    assert info.regency_code == "14.72"  # Kota Dumai
    assert info.sex == "FEMALE"
    assert info.birth_date == date(1998, 3, 17)


def test_nik_spaces_and_dots_are_ignored() -> None:
    assert normalize_nik("3201.0115.0895.0001", today=TODAY).nik == "3201011508950001"
    assert normalize_nik(" 3201 0115 0895 0001 ", today=TODAY).nik == "3201011508950001"


def test_nik_century_is_the_latest_that_is_not_in_the_future() -> None:
    assert normalize_nik("2171011002050003", today=TODAY).birth_date == date(2005, 2, 10)
    assert normalize_nik("2171011002270003", today=TODAY).birth_date == date(1927, 2, 10)
    # Born on a later day of this year's two-digit year: a century ago.
    assert normalize_nik("2171013112260003", today=TODAY).birth_date == date(1926, 12, 31)


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        ("320101150895000", "nik_format"),  # 15 digits
        ("32010115089500011", "nik_format"),  # 17 digits
        ("32010115O8950001", "nik_format"),  # letter O for zero
        ("3201011513950001", "nik_birth_date"),  # month 13
        ("3201013202950001", "nik_birth_date"),  # 32 February
        ("3201017202950001", "nik_birth_date"),  # woman's day 72 → 32
        ("3201013002950001", "nik_birth_date"),  # 30 February
        ("3201011508950000", "nik_serial"),
        ("0001011508950001", "nik_region"),
    ],
)
def test_malformed_nik_is_an_error(raw: str, code: str) -> None:
    with pytest.raises(NormalizationError) as caught:
        normalize_nik(raw, today=TODAY)
    assert caught.value.code == code


def test_nik_with_a_retired_region_code_is_read_but_flagged() -> None:
    info = normalize_nik("1499011508950001", today=TODAY)
    assert not info.region_known
    warnings = check_nik_against(info, pointer="/persons/0/nik")
    assert [w.code for w in warnings] == ["nik_region_unknown"]


def _dumai_woman() -> NikInfo:
    return normalize_nik("1472055703980002", today=TODAY)


def test_nik_agreeing_with_stated_facts_gives_no_warning() -> None:
    warnings = check_nik_against(
        _dumai_woman(),
        pointer="/persons/0/nik",
        date_of_birth=date(1998, 3, 17),
        sex="FEMALE",
        region_code="14",
    )
    assert warnings == []


def test_nik_contradicting_birth_date_sex_and_region_warns_on_each() -> None:
    warnings = check_nik_against(
        _dumai_woman(),
        pointer="/persons/1/nik",
        date_of_birth=date(1998, 3, 18),
        sex="MALE",
        region_code="21.71",
    )
    assert [w.code for w in warnings] == [
        "nik_birth_date_mismatch",
        "nik_sex_mismatch",
        "nik_region_mismatch",
    ]
    assert all(w.pointer == "/persons/1/nik" for w in warnings)
    assert "1998-03-17" in warnings[0].detail


def test_nik_against_birth_year_only() -> None:
    assert check_nik_against(_dumai_woman(), pointer="/p", birth_year=1998) == []
    (warning,) = check_nik_against(_dumai_woman(), pointer="/p", birth_year=1989)
    assert warning.code == "nik_birth_year_mismatch"


def test_unknown_sex_does_not_contradict_the_nik() -> None:
    assert check_nik_against(_dumai_woman(), pointer="/p", sex="UNKNOWN") == []


# --- passports ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("C1234567", "C1234567"),
        ("c 1234567", "C1234567"),
        ("X-123456", "X123456"),
        ("ab 123456", "AB123456"),
        ("E1234567", "E1234567"),
    ],
)
def test_indonesian_passport_numbers(raw: str, expected: str) -> None:
    assert normalize_passport(raw, "IDN") == expected


@pytest.mark.parametrize("raw", ["1234567", "ABC1234567", "C12", "C12345A7", "C1234567890"])
def test_malformed_indonesian_passport_is_an_error(raw: str) -> None:
    with pytest.raises(NormalizationError) as caught:
        normalize_passport(raw, "IDN")
    assert caught.value.code == "passport_format"


def test_foreign_passports_are_kept_alphanumeric_uppercase() -> None:
    assert normalize_passport("a12 345 678", "MYS") == "A12345678"
    assert normalize_passport("EK0123456", "KHM") == "EK0123456"
    assert normalize_passport("123456789", None) == "123456789"
    with pytest.raises(NormalizationError):
        normalize_passport("AB#12345", "MYS")


# --- phones ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "raw",
    ["081234567890", "0812-3456-7890", "+62 812 3456 7890", "6281234567890", "0062 812 3456 7890"],
)
def test_indonesian_mobile_in_every_usual_form(raw: str) -> None:
    assert normalize_phone(raw) == "+6281234567890"


def test_jakarta_landline_and_malaysian_mobile() -> None:
    assert normalize_phone("(021) 3456-7890") == "+622134567890"
    assert normalize_phone("+60 12-345 6789") == "+60123456789"
    assert normalize_phone("012-345 6789", default_region="MY") == "+60123456789"


@pytest.mark.parametrize("raw", ["12", "0812", "not a phone", "+62 000 0000"])
def test_impossible_phone_is_an_error(raw: str) -> None:
    with pytest.raises(NormalizationError):
        normalize_phone(raw)


def test_a_number_read_again_reads_alike_in_its_own_region() -> None:
    """A body's phone is read when it is checked and again when its person is normalized:
    the second reading answers as the first, a refusal refuses again, and the region read in
    is part of the answer."""
    for _ in range(2):
        assert normalize_phone(" 0812-3456-7890 ") == "+6281234567890"
        assert normalize_phone("012-345 6789", default_region="MY") == "+60123456789"
        with pytest.raises(NormalizationError):
            normalize_phone("012-345 6789")  # not an Indonesian number
        with pytest.raises(NormalizationError):
            normalize_phone("0812")


# --- dates -------------------------------------------------------------------------------------


def test_dates_full_indonesian_order_or_year_only() -> None:
    assert normalize_date("1998-03-17", today=TODAY) == PartialDate(1998, 3, 17)
    assert normalize_date("17-03-1998", today=TODAY) == PartialDate(1998, 3, 17)
    assert normalize_date("17/3/1998", today=TODAY).as_date() == date(1998, 3, 17)
    year_only = normalize_date("1985", today=TODAY)
    assert year_only == PartialDate(1985)
    assert year_only.as_date() is None
    assert year_only.isoformat() == "1985"


@pytest.mark.parametrize("raw", ["31-02-1998", "1998-13-01", "2027", "1850", "17 Maret 1998", ""])
def test_impossible_or_unreadable_dates_are_errors(raw: str) -> None:
    with pytest.raises(NormalizationError):
        normalize_date(raw, today=TODAY)


# --- a person ----------------------------------------------------------------------------------


def test_normalize_person_gives_comparable_identifiers_and_warnings() -> None:
    person = PersonIn(
        role="POTENTIAL_VICTIM",
        full_name="Siti Rahmawati",
        sex="MALE",
        date_of_birth=date(1998, 3, 17),
        nationality="IDN",
        nik="1472.0557.0398.0002",
        passport_number="c 1234567",
        phone="0812-6612-3456",
    )
    normalized, warnings = normalize_person(person, pointer="/persons/2", today=TODAY)
    assert normalized.nik == "1472055703980002"
    assert normalized.nik_birth_date == date(1998, 3, 17)
    assert normalized.nik_region_code == "14.72"
    assert normalized.passport_number == "C1234567"
    assert normalized.phone == "+6281266123456"
    assert normalized.birth_year == 1998
    assert [(w.pointer, w.code) for w in warnings] == [("/persons/2/nik", "nik_sex_mismatch")]
    # What the agency sent is untouched.
    assert person.nik == "1472.0557.0398.0002"
