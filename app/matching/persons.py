"""A described person made comparable: normalized identifiers plus matching features.

Ingest, screening and watches all go through :func:`identify_person`, so a screened person is
compared exactly like a report person.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Protocol

from app.matching.normalize import (
    FieldWarning,
    NormalizedIdentity,
    PersonIdentity,
    normalize_person,
)
from app.matching.scoring import PersonFeatures


class DescribedPerson(PersonIdentity, Protocol):
    """A person's identifying fields plus the free-text ones matching also reads."""

    @property
    def aliases(self) -> Sequence[str]: ...
    @property
    def address(self) -> str | None: ...


@dataclass(frozen=True)
class IdentifiedPerson:
    """What matching knows of a described person."""

    normalized: NormalizedIdentity
    features: PersonFeatures
    warnings: list[FieldWarning]


def identify_person(
    person: DescribedPerson, *, pointer: str, today: date | None = None
) -> IdentifiedPerson:
    """Normalize and feature one person; ``pointer`` is its JSON pointer (``/persons/0``)."""
    normalized, warnings = normalize_person(person, pointer=pointer, today=today)
    born, sex = birth_and_sex(
        person.date_of_birth,
        person.birth_year,
        person.sex,
        normalized.nik_birth_date,
        normalized.nik_sex,
    )
    features = PersonFeatures.from_raw(
        full_name=person.full_name or "",
        aliases=list(person.aliases),
        date_of_birth=born,
        birth_year=person.birth_year,
        sex=sex,
        nationality=person.nationality,
        nik=normalized.nik,
        passport_number=normalized.passport_number,
        phone=normalized.phone,
        address=person.address,
    )
    return IdentifiedPerson(normalized, features, warnings)


def birth_and_sex(
    date_of_birth: date | None,
    birth_year: int | None,
    sex: str | None,
    nik_birth_date: date | None,
    nik_sex: str | None,
) -> tuple[date | None, str | None]:
    """The birth date and sex to match a person on: as reported, else as the NIK encodes them.

    A NIK's digits 7-12 are its holder's birth date (women's day plus 40), so a report that gives
    the NIK but no birth date still has one to compare with a report of the same person that
    gives the date but not the NIK. A reported birth year that contradicts the NIK's keeps the
    NIK's date out (one of the two is mistyped; the reported fields stand).
    """
    born = date_of_birth
    if born is None and nik_birth_date is not None and birth_year in {None, nik_birth_date.year}:
        born = nik_birth_date
    return born, sex or nik_sex
