"""Screenings and watches: a person described by who they are, and what the service answers."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, ClassVar, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    JsonValue,
    field_validator,
)

from app.schemas.audit import AuditObjects
from app.schemas.report import (
    BIRTH_YEAR_DESCRIPTION,
    MAX_PERSONS,
    Aliases,
    FullName,
    Nik,
    PassportNumber,
    PastDate,
    PersonIdentity,
    Phone,
    ReportWarning,
    _clean_text,
)
from app.schemas.times import Instant
from app.schemas.vocab import CountryCode, Sex

_PERSON_EXAMPLE: dict[str, JsonValue] = {
    "full_name": "Siti Nurhaliza binti Ahmad",
    "date_of_birth": "1999-03-14",
    "sex": "FEMALE",
    "nationality": "IDN",
    "nik": "1472035403990002",
}


class PersonQuery(PersonIdentity):
    """Who to look for: the identifying fields of a report person, validated the same way.

    At least an identifier (`nik`, `passport_number`, `phone`), or a name (`full_name` or an
    alias) together with `date_of_birth` or `birth_year`: a name alone matches too many people.
    """

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [_PERSON_EXAMPLE]})

    full_name: FullName = None
    aliases: Aliases
    date_of_birth: PastDate | None = None
    #: Not strict, as screenings always were (a birth year sent as "1999" is read).
    birth_year: Annotated[int | None, Field(ge=1900, description=BIRTH_YEAR_DESCRIPTION)] = None
    sex: Sex | None = None
    nationality: CountryCode | None = None
    nik: Nik = None
    passport_number: PassportNumber = None
    phone: Phone = None


class ScreeningIn(BaseModel):
    """One to a hundred persons to screen against every stored report."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "persons": [
                        _PERSON_EXAMPLE,
                        {"passport_number": "C1234567", "phone": "0812-6612-3344"},
                    ]
                }
            ]
        },
    )

    persons: list[PersonQuery] = Field(min_length=1, max_length=MAX_PERSONS)


class ScreeningHit(BaseModel):
    """A stored report naming someone who matches the screened person."""

    audit_objects: ClassVar[AuditObjects] = (
        ("person", "entity_id"),
        ("case", "case_id"),
        ("report", "report_id"),
    )

    match: Literal["LINK", "REVIEW"] = Field(
        description="LINK: the same person as far as resolution can tell (ingest would link "
        "them); REVIEW: a possible match an officer should check."
    )
    contact_agency: str = Field(description="The agency holding the report: contact it.")
    restricted: bool = Field(
        default=False,
        description="The report is RED or AMBER_STRICT: only the agency to contact is shown.",
    )
    entity_id: uuid.UUID | None = Field(
        default=None, description="The resolved person across reports (null when restricted)."
    )
    score: float | None = Field(default=None, description="Match probability, 0 to 1.")
    reasons: list[str] = Field(default_factory=list, description="Why it matched, in words.")
    case_id: uuid.UUID | None = None
    report_id: uuid.UUID | None = Field(
        default=None,
        description="Only when you may already read the report (yours, routed to you, or admin).",
    )


class ScreeningResult(BaseModel):
    """The answer for one screened person (in the order sent)."""

    index: int = Field(description="Position in the submitted persons[].")
    hit: bool = Field(description="True when at least one hit is a LINK.")
    hits: list[ScreeningHit] = Field(default_factory=list, description="Best first, bounded.")
    warnings: list[ReportWarning] = Field(
        default_factory=list,
        description="Values accepted but worth a look (a NIK contradicting the birth date).",
    )


class ScreeningOut(BaseModel):
    results: list[ScreeningResult]


class WatchIn(BaseModel):
    """A person to be told about: every later report naming them sends you `watch.hit`."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "person": _PERSON_EXAMPLE,
                    "note": "Permohonan paspor ditunda 2025-05-12 (PERM-0001)",
                    "expires_at": "2026-05-12T00:00:00+07:00",
                }
            ]
        },
    )

    person: PersonQuery
    note: Annotated[str, Field(max_length=500)] | None = Field(
        default=None,
        description="Your own reference (a file number); not shown to other agencies. "
        "Avoid personal data here.",
    )
    expires_at: Instant | None = Field(
        default=None,
        description="When the watch stops firing; default one year from now (a setting).",
    )

    @field_validator("note")
    @classmethod
    def _note_is_text(cls, note: str | None) -> str | None:
        return _clean_text(note) if note is not None else None


class WatchOut(BaseModel):
    audit_objects: ClassVar[AuditObjects] = (("watch", "id"),)
    id: uuid.UUID
    person: PersonQuery = Field(description="The watched person, as you sent it.")
    note: str | None = None
    created_at: datetime
    expires_at: datetime
    active: bool = Field(description="False once expired: an expired watch never fires.")
    new_hits: int = Field(
        default=0,
        description="How many of its `watch.hit` deliveries your agency has not acknowledged.",
    )


class WatchHitOut(BaseModel):
    """One time a watch fired: a later report named someone resolved to the watched person."""

    audit_objects: ClassVar[AuditObjects] = (("delivery", "id"), ("report", "report_id"))
    id: uuid.UUID = Field(description="The `watch.hit` delivery that told your agency.")
    created_at: datetime = Field(description="When the report fired the watch.")
    new: bool = Field(description="True until your agency acknowledges the delivery.")
    score: float | None = Field(default=None, description="Match probability, 0 to 1.")
    reasons: list[str] = Field(
        default_factory=list,
        description="Why it matched, in words; without the other agency's values unless you "
        "may read the report.",
    )
    contact_agency: str | None = Field(
        default=None, description="The agency that filed the report: whom to contact."
    )
    case_id: uuid.UUID | None = None
    report_id: uuid.UUID | None = Field(
        default=None,
        description="Only while you may read the report (yours, routed to you, or admin).",
    )
    external_ref: str | None = Field(
        default=None, description="The report's reference, with `report_id` only."
    )
