"""A described person normalized and featured in the API's terms: the one way ingest, screening
and watches identify a person (``app.matching`` does the work, below every layer)."""

from __future__ import annotations

from dataclasses import dataclass

from app.matching.persons import DescribedPerson, identify_person
from app.matching.scoring import PersonFeatures
from app.schemas.report import NormalizedPerson, ReportWarning


@dataclass(frozen=True)
class Identified:
    """A person normalized and featured exactly as ingest does a report person."""

    normalized: NormalizedPerson
    features: PersonFeatures
    warnings: list[ReportWarning]


def identify(person: DescribedPerson, pointer: str) -> Identified:
    """Normalize and feature ``person`` (found at JSON pointer ``pointer``), warnings included."""
    identified = identify_person(person, pointer=pointer)
    return Identified(
        NormalizedPerson.model_validate(identified.normalized, from_attributes=True),
        identified.features,
        [
            ReportWarning(pointer=w.pointer, code=w.code, detail=w.detail)
            for w in identified.warnings
        ],
    )
