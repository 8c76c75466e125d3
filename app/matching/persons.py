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
    features = PersonFeatures.from_raw(
        full_name=person.full_name or "",
        aliases=list(person.aliases),
        date_of_birth=person.date_of_birth,
        birth_year=person.birth_year,
        sex=person.sex,
        nationality=person.nationality,
        nik=normalized.nik,
        passport_number=normalized.passport_number,
        phone=normalized.phone,
        address=person.address,
    )
    return IdentifiedPerson(normalized, features, warnings)
