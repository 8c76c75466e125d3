"""Normalizers for matching: NIK, passport numbers, phones, dates (pure functions).

The stored report keeps what the agency sent; these give the comparable form stored beside it.
Each raises :class:`NormalizationError` (a ``ValueError``) on a value that cannot be what it
claims to be, so a Pydantic validator can call it and the API names the field. A contradiction
between identifiers and stated facts is not an error but a :class:`FieldWarning`.

Names are normalized by ``app.matching.names.normalize_name`` (a separate module).
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from datetime import date
from typing import Protocol

import phonenumbers

from app.matching.names import normalize_name
from app.vocab import REGIONS, code_list


class NormalizationError(ValueError):
    """The raw value cannot be read as the identifier it claims to be."""

    def __init__(self, code: str, detail: str) -> None:
        super().__init__(detail)
        self.code = code
        self.detail = detail


@dataclass(frozen=True)
class FieldWarning:
    """A value that is accepted but contradicts another (reported in the response's
    ``warnings``)."""

    pointer: str
    code: str
    detail: str


# --- NIK -------------------------------------------------------------------------------------

_NIK_SEPARATORS = re.compile(r"[\s.\-]")
#: Women's NIKs carry the birth day plus 40.
_FEMALE_DAY_OFFSET = 40


@dataclass(frozen=True)
class NikInfo:
    """What a NIK encodes: the region where it was issued, birth date and sex."""

    nik: str
    province_code: str
    #: Kemendagri regency/city code, dotted (``14.72``).
    regency_code: str
    #: Kemendagri district (kecamatan) code, dotted (``14.72.01``).
    district_code: str
    birth_date: date
    sex: str
    serial: str
    #: Whether the regency/city is in the current Kemendagri list (old codes may not be).
    region_known: bool


def normalize_nik(raw: str, *, today: date | None = None) -> NikInfo:
    """Read a NIK (16 digits, spaces, dots and dashes ignored) and decode what it encodes."""
    nik = _NIK_SEPARATORS.sub("", raw)
    if not re.fullmatch(r"[0-9]{16}", nik):
        raise NormalizationError("nik_format", "NIK must be 16 digits")
    province, regency, district = nik[0:2], nik[2:4], nik[4:6]
    day, month, year2 = int(nik[6:8]), int(nik[8:10]), int(nik[10:12])
    serial = nik[12:16]
    if province == "00" or regency == "00" or district == "00":
        raise NormalizationError("nik_region", "NIK's region digits (1-6) cannot contain 00")
    sex = "MALE"
    if day > _FEMALE_DAY_OFFSET:
        sex, day = "FEMALE", day - _FEMALE_DAY_OFFSET
    if not 1 <= month <= 12:
        raise NormalizationError(
            "nik_birth_date", f"NIK's birth month (digits 9-10) is {month:02d}"
        )
    today = today or date.today()
    century = 2000 if 2000 + year2 <= today.year else 1900
    try:
        birth_date = date(century + year2, month, day)
    except ValueError:
        raise NormalizationError(
            "nik_birth_date", f"NIK's birth date (digits 7-12) is not a date: {nik[6:12]}"
        ) from None
    if birth_date > today:
        century -= 100
        birth_date = birth_date.replace(year=century + year2)
    if serial == "0000":
        raise NormalizationError("nik_serial", "NIK's serial (digits 13-16) cannot be 0000")
    regency_code = f"{province}.{regency}"
    return NikInfo(
        nik=nik,
        province_code=province,
        regency_code=regency_code,
        district_code=f"{regency_code}.{district}",
        birth_date=birth_date,
        sex=sex,
        serial=serial,
        region_known=regency_code in code_list(REGIONS),
    )


def check_nik_against(
    info: NikInfo,
    *,
    pointer: str,
    date_of_birth: date | None = None,
    birth_year: int | None = None,
    sex: str | None = None,
    region_code: str | None = None,
) -> list[FieldWarning]:
    """Warnings where the NIK contradicts the stated birth date,
    sex or region (``pointer`` is the NIK's)."""
    warnings: list[FieldWarning] = []
    if not info.region_known:
        warnings.append(
            FieldWarning(
                pointer,
                "nik_region_unknown",
                f"NIK's region {info.regency_code} is not in the current Kemendagri list",
            )
        )
    if date_of_birth is not None and date_of_birth != info.birth_date:
        warnings.append(
            FieldWarning(
                pointer,
                "nik_birth_date_mismatch",
                f"NIK encodes birth date {info.birth_date.isoformat()}, "
                f"date_of_birth says {date_of_birth.isoformat()}",
            )
        )
    elif date_of_birth is None and birth_year is not None and birth_year != info.birth_date.year:
        warnings.append(
            FieldWarning(
                pointer,
                "nik_birth_year_mismatch",
                f"NIK encodes birth year {info.birth_date.year}, birth_year says {birth_year}",
            )
        )
    if sex in {"MALE", "FEMALE"} and sex != info.sex:
        warnings.append(
            FieldWarning(pointer, "nik_sex_mismatch", f"NIK encodes sex {info.sex}, sex says {sex}")
        )
    if region_code and not _same_region(region_code, info.regency_code):
        warnings.append(
            FieldWarning(
                pointer,
                "nik_region_mismatch",
                f"NIK was issued in region {info.regency_code}, region_code says {region_code}",
            )
        )
    return warnings


def _same_region(stated: str, nik_regency: str) -> bool:
    """A province code matches its regencies; a regency code must match exactly."""
    return nik_regency.startswith(stated + ".") or stated == nik_regency


# --- passports ---------------------------------------------------------------------------------

_PASSPORT_SEPARATORS = re.compile(r"[\s.\-/]")
#: Indonesian passports: one or two letters then digits (A1234567, X123456, AB123456, E1234567).
_INDONESIAN_PASSPORT = re.compile(r"[A-Z]{1,2}[0-9]{6,8}")
_FOREIGN_PASSPORT = re.compile(r"[A-Z0-9]{5,20}")


def normalize_passport(raw: str, country: str | None = None) -> str:
    """Uppercase without spaces or dashes; ``IDN`` passports must be letter(s) and digits.

    ``country`` is the issuing state (ISO 3166-1 alpha-3); when unknown, any plausible number
    is kept.
    """
    number = _PASSPORT_SEPARATORS.sub("", raw).upper()
    if country == "IDN":
        if not _INDONESIAN_PASSPORT.fullmatch(number):
            raise NormalizationError(
                "passport_format",
                "An Indonesian passport number is one or two letters followed by 6-8 digits",
            )
        return number
    if not _FOREIGN_PASSPORT.fullmatch(number):
        raise NormalizationError("passport_format", "A passport number is 5-20 letters and digits")
    return number


# --- phones ------------------------------------------------------------------------------------


def normalize_phone(raw: str, default_region: str = "ID") -> str:
    """E.164 (``+6281234567890``) from 0812…, +62 812…, 62812… or 0062812…."""
    return _normalized_phone(raw.strip(), default_region)


@functools.lru_cache(maxsize=128)
def _normalized_phone(text: str, default_region: str) -> str:
    # Held for the few numbers of the requests in flight: a report's body is checked (each
    # phone read) before its persons are normalized (each phone read again), and parsing a
    # number is most of what normalizing a person costs. A refusal raises again each time.
    compact = re.sub(r"[\s().\-]", "", text)
    if compact.startswith("00"):
        # The international call prefix written out (0062 812…): read it as '+'.
        compact = "+" + compact[2:]
    try:
        number = phonenumbers.parse(compact, default_region)
    except phonenumbers.NumberParseException:
        raise NormalizationError("phone_format", "Not a phone number") from None
    if not phonenumbers.is_valid_number(number):
        raise NormalizationError(
            "phone_invalid", "Not a valid phone number for its country (Indonesia by default)"
        )
    formatted: str = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    return formatted


# --- dates -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PartialDate:
    """A date known to the day or only to the year."""

    year: int
    month: int | None = None
    day: int | None = None

    def as_date(self) -> date | None:
        if self.month is None or self.day is None:
            return None
        return date(self.year, self.month, self.day)

    def isoformat(self) -> str:
        full = self.as_date()
        return full.isoformat() if full else f"{self.year:04d}"


_ISO_DATE = re.compile(r"([0-9]{4})-([0-9]{2})-([0-9]{2})")
_INDONESIAN_DATE = re.compile(r"([0-9]{1,2})[-/.]([0-9]{1,2})[-/.]([0-9]{4})")
_YEAR = re.compile(r"[0-9]{4}")


def normalize_date(raw: str, *, today: date | None = None) -> PartialDate:
    """A full date (``1998-03-17`` or Indonesian ``17-03-1998``/``17/03/1998``)
    or a year (``1998``)."""
    text = raw.strip()
    today = today or date.today()
    if _YEAR.fullmatch(text):
        year = int(text)
        if not 1900 <= year <= today.year:
            raise NormalizationError("date_out_of_range", f"Year {year} is out of range")
        return PartialDate(year)
    if match := _ISO_DATE.fullmatch(text):
        year, month, day = (int(g) for g in match.groups())
    elif match := _INDONESIAN_DATE.fullmatch(text):
        day, month, year = (int(g) for g in match.groups())
    else:
        raise NormalizationError(
            "date_format", "Expected YYYY-MM-DD, DD-MM-YYYY, DD/MM/YYYY or a year YYYY"
        )
    try:
        value = date(year, month, day)
    except ValueError:
        raise NormalizationError("date_invalid", f"{text} is not a calendar date") from None
    if not date(1900, 1, 1) <= value <= today:
        raise NormalizationError("date_out_of_range", f"{value.isoformat()} is out of range")
    return PartialDate(year, month, day)


# --- a whole person ----------------------------------------------------------------------------


class PersonIdentity(Protocol):
    """The identifying fields of a person as an agency describes them (a report or query person)."""

    @property
    def full_name(self) -> str | None: ...
    @property
    def date_of_birth(self) -> date | None: ...
    @property
    def birth_year(self) -> int | None: ...
    @property
    def sex(self) -> str | None: ...
    @property
    def nationality(self) -> str | None: ...
    @property
    def nik(self) -> str | None: ...
    @property
    def passport_number(self) -> str | None: ...
    @property
    def phone(self) -> str | None: ...
    @property
    def region_code(self) -> str | None: ...


@dataclass(frozen=True)
class NormalizedIdentity:
    """The comparable form of a person's identifiers, stored beside what the agency sent."""

    full_name: str | None = None
    nik: str | None = None
    nik_birth_date: date | None = None
    nik_sex: str | None = None
    nik_region_code: str | None = None
    passport_number: str | None = None
    phone: str | None = None
    date_of_birth: date | None = None
    birth_year: int | None = None


def normalize_person(
    person: PersonIdentity, *, pointer: str, today: date | None = None
) -> tuple[NormalizedIdentity, list[FieldWarning]]:
    """The normalized identifiers of a validated person and the warnings they raise.

    ``pointer`` is the person's JSON pointer in the report (``/persons/0``).
    """
    warnings: list[FieldWarning] = []
    nik_info = None
    if person.nik is not None:
        nik_info = normalize_nik(person.nik, today=today)
        warnings.extend(
            check_nik_against(
                nik_info,
                pointer=f"{pointer}/nik",
                date_of_birth=person.date_of_birth,
                birth_year=person.birth_year,
                sex=person.sex,
                region_code=person.region_code,
            )
        )
    born = person.date_of_birth
    normalized = NormalizedIdentity(
        full_name=(normalize_name(person.full_name) or None) if person.full_name else None,
        nik=nik_info.nik if nik_info else None,
        nik_birth_date=nik_info.birth_date if nik_info else None,
        nik_sex=nik_info.sex if nik_info else None,
        nik_region_code=nik_info.regency_code if nik_info else None,
        passport_number=(
            normalize_passport(person.passport_number, person.nationality)
            if person.passport_number
            else None
        ),
        phone=normalize_phone(person.phone) if person.phone else None,
        date_of_birth=born,
        birth_year=born.year if born else person.birth_year,
    )
    return normalized, warnings
