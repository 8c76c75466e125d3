"""The standardized v1 report (DESIGN.md §4): what an agency submits and what it reads back.

Requests forbid unknown fields, bound every string and list, and check every code against
``app/vocab``. Cross-field rules are field validators on the later field, so the error names
the field (``/persons/0/perpetrator_roles``, ``/recipients``) by JSON pointer.
"""

from __future__ import annotations

import datetime as dt
import re
import uuid
from datetime import date
from enum import StrEnum
from typing import Annotated, Any, ClassVar, Generic, TypeVar

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    StrictFloat,
    StrictInt,
    ValidationInfo,
    field_validator,
)
from pydantic_core import PydanticCustomError

from app.errors import FieldProblem
from app.matching.normalize import (
    NormalizationError,
    normalize_nik,
    normalize_passport,
    normalize_phone,
)
from app.schemas.audit import AuditObjects
from app.schemas.times import ReportInstant
from app.schemas.vocab import (
    ActionTaken,
    CaseType,
    ConveyanceType,
    CountryCode,
    DocumentStatus,
    DocumentType,
    EventType,
    ExploitationType,
    ForcedLabourSector,
    InformationAccuracy,
    MeansOfControl,
    ModusOperandi,
    PerpetratorRole,
    PersonRole,
    RecruitmentChannel,
    RecruitmentMethod,
    RegionCode,
    RelationshipToRecruiter,
    Sex,
    SourceReliability,
    Tlp,
    TraffickingStatus,
)

#: Roles that may carry victim details (trafficking_status, relationship_to_recruiter).
VICTIM_ROLES = frozenset({"VICTIM", "POTENTIAL_VICTIM"})
#: Roles that may carry perpetrator_roles.
SUSPECT_ROLES = frozenset({"SUSPECT"})

MAX_PERSONS = 100
MAX_CODES = 25
MAX_COUNTRIES = 20
MAX_ITEMS = 100


# --- strings -----------------------------------------------------------------------------------


#: What no text field may hold: control characters (tab and newlines aside), DEL, and lone
#: UTF-16 surrogates. One regular-expression scan, not a Python loop over every character.
_FORBIDDEN_CHARACTER = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff]")


def _clean_text(value: str) -> str:
    """Refuse NUL and other control characters (tab and newlines aside),
    lone surrogates and blanks."""
    found = _FORBIDDEN_CHARACTER.search(value)
    if found is not None:
        point = ord(found.group())
        if 0xD800 <= point <= 0xDFFF:
            raise PydanticCustomError(
                "lone_surrogate",
                "The text contains a lone UTF-16 surrogate (U+{point})",
                {"point": f"{point:04X}"},
            )
        raise PydanticCustomError(
            "control_character",
            "The text contains a control character (U+{point}), such as NUL",
            {"point": f"{point:04X}"},
        )
    if not value.strip():
        raise PydanticCustomError("blank", "The text is empty or only whitespace")
    return value


#: An identifier-like string (a reference, a number): up to 64 characters.
Identifier = Annotated[str, Field(min_length=1, max_length=64), AfterValidator(_clean_text)]
#: A name or a short label: up to 200 characters.
ShortText = Annotated[str, Field(min_length=1, max_length=200), AfterValidator(_clean_text)]
#: An address or a place: up to 500 characters.
MediumText = Annotated[str, Field(min_length=1, max_length=500), AfterValidator(_clean_text)]
#: The narrative: up to 20,000 characters.
LongText = Annotated[str, Field(min_length=1, max_length=20_000), AfterValidator(_clean_text)]
#: An agency's code, its OAuth client_id (``IMIGRASI-DUMAI``).
AgencyCode = Annotated[
    str,
    Field(
        min_length=2,
        max_length=64,
        pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$",
        examples=["POLRES-DUMAI"],
    ),
]


def _not_in_future(value: date) -> date:
    if value > date.today():
        raise PydanticCustomError(
            "date_in_future", "The date {value} is in the future", {"value": str(value)}
        )
    if value.year < 1900:
        raise PydanticCustomError(
            "date_too_old", "The date {value} is before 1900", {"value": str(value)}
        )
    return value


PastDate = Annotated[date, AfterValidator(_not_in_future)]


def _field_error(code: str, message: str, **context: Any) -> PydanticCustomError:
    return PydanticCustomError(code, message, context or None)


def _normalization_failure(error: NormalizationError) -> PydanticCustomError:
    return PydanticCustomError(error.code, error.detail)


class _Stored:
    """``STORED``'s type."""

    __slots__ = ()


#: The validation context of a body read back as it was stored (``services.reports.to_out``):
#: its identifiers were checked when it was submitted, and a check only refuses (the value is
#: kept as sent), so a read does not parse each phone number, NIK and passport number again.
STORED = _Stored()


def readable_phone(phone: str | None, info: ValidationInfo) -> str | None:
    """Refuse a phone number that cannot be read (kept as sent; normalized beside it)."""
    if phone is not None and info.context is not STORED:
        try:
            normalize_phone(_clean_text(phone))
        except NormalizationError as error:
            raise _normalization_failure(error) from None
    return phone


class _Request(BaseModel):
    model_config = ConfigDict(extra="forbid")


# --- parts of a report -------------------------------------------------------------------------


class LocationIn(_Request):
    """Where something happened: a Kemendagri region, a place, optional coordinates."""

    region_code: RegionCode | None = None
    place: MediumText | None = Field(
        default=None, description="Free-text place (a street, a village, a beach)."
    )
    lat: StrictFloat | None = Field(default=None, ge=-90, le=90, description="WGS 84 latitude.")
    lon: StrictFloat | None = Field(
        default=None,
        ge=-180,
        le=180,
        description="WGS 84 longitude; required with lat.",
        validate_default=True,
    )
    port_of_exit: ShortText | None = Field(
        default=None,
        description="Port, airport or border post of (intended) exit, official or not.",
    )

    @field_validator("lon")
    @classmethod
    def _coordinates_in_pairs(cls, lon: float | None, info: ValidationInfo) -> float | None:
        lat = info.data.get("lat")
        if (lat is None) != (lon is None) and "lat" in info.data:
            raise _field_error("coordinates_incomplete", "lat and lon must be given together")
        return lon


def birth_year_agrees(year: int | None, info: ValidationInfo) -> int | None:
    """A birth year is not in the future and agrees with a stated date of birth."""
    if year is None:
        return None
    if year > date.today().year:
        raise _field_error("date_in_future", "birth_year {year} is in the future", year=year)
    born = info.data.get("date_of_birth")
    if born is not None and born.year != year:
        raise _field_error(
            "birth_year_mismatch",
            "birth_year {year} contradicts date_of_birth {born}",
            year=year,
            born=str(born),
        )
    return year


# The identity fields of a person, declared once for a report person (PersonIn) and a person
# looked for (PersonQuery, in screenings and watches); each model lists them in its own order.
FullName = Annotated[ShortText | None, Field(description="As written on the identity document.")]
Aliases = Annotated[
    list[ShortText],
    Field(default_factory=list, max_length=20, description="Other names, nicknames."),
]
BIRTH_YEAR_DESCRIPTION = "When only the year of birth is known."
BirthYear = Annotated[StrictInt | None, Field(ge=1900, description=BIRTH_YEAR_DESCRIPTION)]
Nik = Annotated[
    Annotated[str, Field(max_length=32)] | None,
    Field(description="NIK (Nomor Induk Kependudukan): 16 digits; spaces and dots are ignored."),
]
PassportNumber = Annotated[
    Annotated[str, Field(max_length=32)] | None,
    Field(
        description="Indonesian passports: one or two letters and digits (C1234567); "
        "others as printed. Checked against nationality."
    ),
]
Phone = Annotated[
    Annotated[str, Field(max_length=32)] | None,
    Field(description="Any usual form (0812…, +62 812…, 62812…); Indonesia is assumed."),
]


class PersonIdentity(_Request):
    """The checks of a person's identity fields, wherever a person is described: the birth year
    agrees with the date of birth, and each identifier can be normalized (422 naming it if not)."""

    @field_validator("birth_year", check_fields=False)
    @classmethod
    def _birth_year_agrees(cls, year: int | None, info: ValidationInfo) -> int | None:
        return birth_year_agrees(year, info)

    @field_validator("nik", "passport_number", check_fields=False)
    @classmethod
    def _identifier_is_readable(cls, value: str | None, info: ValidationInfo) -> str | None:
        if value is None or info.context is STORED:
            return value
        try:
            text = _clean_text(value)
            if info.field_name == "nik":
                normalize_nik(text)
            else:
                normalize_passport(text, info.data.get("nationality"))
        except NormalizationError as error:
            raise _normalization_failure(error) from None
        return value

    _phone_is_readable = field_validator("phone", check_fields=False)(readable_phone)


class PersonIn(PersonIdentity):
    """A person in the report; victim details only for victims,
    perpetrator roles only for suspects."""

    role: PersonRole
    full_name: FullName = None
    aliases: Aliases
    sex: Sex | None = None
    date_of_birth: PastDate | None = None
    birth_year: BirthYear = None
    nationality: CountryCode | None = None
    nik: Nik = None
    passport_number: PassportNumber = None
    phone: Phone = None
    address: MediumText | None = None
    region_code: RegionCode | None = Field(
        default=None, description="Kemendagri code of the registered address (KTP), if known."
    )
    trafficking_status: TraffickingStatus | None = Field(
        default=None, description="Victims and potential victims only."
    )
    relationship_to_recruiter: RelationshipToRecruiter | None = Field(
        default=None, description="Victims and potential victims only."
    )
    perpetrator_roles: list[PerpetratorRole] = Field(
        default_factory=list, max_length=MAX_CODES, description="Suspects only."
    )

    @field_validator("trafficking_status", "relationship_to_recruiter")
    @classmethod
    def _victims_only(cls, value: str | None, info: ValidationInfo) -> str | None:
        role = info.data.get("role")
        if value is not None and role is not None and role not in VICTIM_ROLES:
            raise _field_error(
                "field_not_allowed_for_role",
                "{field} applies to VICTIM and POTENTIAL_VICTIM only, not to {role}",
                field=info.field_name,
                role=str(role),
            )
        return value

    @field_validator("perpetrator_roles")
    @classmethod
    def _suspects_only(cls, roles: list[str], info: ValidationInfo) -> list[str]:
        role = info.data.get("role")
        if roles and role is not None and role not in SUSPECT_ROLES:
            raise _field_error(
                "field_not_allowed_for_role",
                "perpetrator_roles applies to SUSPECT only, not to {role}",
                role=str(role),
            )
        return roles


class RecruitmentIn(_Request):
    """How and where the victims were recruited."""

    methods: list[RecruitmentMethod] = Field(default_factory=list, max_length=MAX_CODES)
    channels: list[RecruitmentChannel] = Field(default_factory=list, max_length=MAX_CODES)
    location: LocationIn | None = None


class EventIn(_Request):
    """One step of the journey (recruitment, departure, transit, exploitation, interception,
    return)."""

    type: EventType
    date: dt.date | None = Field(default=None, description="The day it happened, if known.")
    country: CountryCode | None = None
    region_code: RegionCode | None = Field(
        default=None, description="In Indonesia: the Kemendagri region."
    )
    place: MediumText | None = None


class AssessmentIn(_Request):
    """The 4x4 evaluation of police information exchange:
    source reliability by information accuracy."""

    source_reliability: SourceReliability
    information_accuracy: InformationAccuracy


class DocumentIn(_Request):
    """An identity, travel or work document involved in the case."""

    type: DocumentType
    number: Identifier | None = None
    status: DocumentStatus | None = None
    issuer: ShortText | None = Field(
        default=None, description="The issuing office (Kantor Imigrasi Dumai)."
    )
    issuing_country: CountryCode | None = None


class ConveyanceIn(_Request):
    """A vessel or vehicle used to move people."""

    type: ConveyanceType
    name: ShortText | None = Field(default=None, description="A vessel's name (KM Sinar Laut).")
    registration: Identifier | None = Field(
        default=None, description="Registration, hull or plate number."
    )
    flag_country: CountryCode | None = None


# --- the report --------------------------------------------------------------------------------


_DEFERRED_PASSPORT_EXAMPLE: dict[str, Any] = {
    "external_ref": "IMI-DUMAI/2025/PSP-0113",
    "case_type": "TPPO",
    "tlp": "AMBER",
    "reported_at": "2025-03-04T10:15:00+07:00",
    "occurred_from": "2025-03-03",
    "location": {"region_code": "14.72", "place": "Kantor Imigrasi Kelas II TPI Dumai"},
    "modus_operandi": ["TOURIST_DISGUISE", "NONPROCEDURAL_MIGRANT_WORKER", "HIGH_SALARY_JOB_OFFER"],
    "destination_countries": ["MYS"],
    "persons": [
        {
            "role": "POTENTIAL_VICTIM",
            "full_name": "Siti Rahmawati binti Ahmad",
            "sex": "FEMALE",
            "date_of_birth": "1998-03-17",
            "nationality": "IDN",
            "nik": "1472055703980002",
            "phone": "0812-6612-3456",
            "address": "Jl. Sudirman No. 12, Dumai Timur",
            "region_code": "14.72",
            "trafficking_status": "POSSIBLE",
            "relationship_to_recruiter": "NEIGHBOUR",
        }
    ],
    "recruitment": {"methods": ["JOB_OFFER"], "channels": ["FACEBOOK", "WHATSAPP"]},
    "documents": [
        {
            "type": "PASSPORT_APPLICATION",
            "number": "PERMOHONAN-2025-0113",
            "status": "DEFERRED",
            "issuer": "Kantor Imigrasi Dumai",
        }
    ],
    "actions_taken": ["PASSPORT_DEFERRED", "REFERRAL"],
    "assessment": {"source_reliability": "B", "information_accuracy": "2"},
    "narrative": "Pemohon mengaku akan berwisata ke Malaysia, tetapi tidak dapat menjelaskan "
    "rencana perjalanan; ditemukan pesan tawaran kerja sebagai pelayan restoran di Johor Bahru.",
}

_PORT_INTERCEPTION_EXAMPLE: dict[str, Any] = {
    "external_ref": "LANAL-DUMAI/LP-A/27/V/2025",
    "case_type": "TPPO_TPPM",
    "tlp": "RED",
    "reported_at": "2025-05-21T23:40:00+07:00",
    "occurred_from": "2025-05-21",
    "occurred_to": "2025-05-21",
    "location": {
        "region_code": "14.72",
        "place": "Pantai Purnama, pelabuhan tidak resmi",
        "lat": 1.6745,
        "lon": 101.4478,
        "port_of_exit": "Pelabuhan rakyat Purnama",
    },
    "modus_operandi": ["UNOFFICIAL_PORT", "NONPROCEDURAL_MIGRANT_WORKER"],
    "exploitation_types": ["FORCED_LABOUR"],
    "forced_labour_sector": "A",
    "means_of_control": ["DEBT_BONDAGE", "WITHHELD_DOCUMENTS"],
    "destination_countries": ["MYS"],
    "persons": [
        {
            "role": "SUSPECT",
            "full_name": "Hendra Saputra",
            "aliases": ["Bang Hen"],
            "sex": "MALE",
            "birth_year": 1985,
            "nationality": "IDN",
            "phone": "+62 813-7100-2211",
            "perpetrator_roles": ["RECRUITER_OR_INTERMEDIARY", "TRANSPORTER"],
        },
        {
            "role": "VICTIM",
            "full_name": "Yohanes Bria",
            "sex": "MALE",
            "date_of_birth": "2001-11-02",
            "nationality": "IDN",
            "passport_number": "C 1234567",
            "trafficking_status": "POSSIBLE",
            "relationship_to_recruiter": "STRANGER",
        },
    ],
    "events": [
        {"type": "RECRUITMENT", "date": "2025-04-30", "region_code": "53.71", "place": "Kupang"},
        {"type": "TRANSIT", "date": "2025-05-19", "region_code": "21.71", "place": "Batam"},
        {"type": "INTERCEPTION", "date": "2025-05-21", "region_code": "14.72"},
    ],
    "conveyances": [
        {"type": "SPEEDBOAT", "name": "Tanpa nama", "registration": "GT 5 No. 112/PPa"}
    ],
    "actions_taken": ["DEPARTURE_PREVENTED", "ARREST", "SHELTER"],
    "assessment": {"source_reliability": "A", "information_accuracy": "1"},
    "narrative": (
        "Patroli menghentikan speedboat berisi 14 calon PMI nonprosedural menuju Malaysia."
    ),
    "recipients": ["POLRES-DUMAI", "BP3MI-RIAU"],
}


class _ReportFields(BaseModel):
    """Every field of the standardized report, as the source agency submits it."""

    external_ref: Identifier = Field(description="The agency's own reference, unique per agency.")
    case_type: CaseType
    tlp: Tlp = Field(description="TLP 2.0 label. RED needs explicit recipients.")
    reported_at: ReportInstant = Field(
        description=(
            "When the agency made the report; must carry an offset, may not lie before 1900 "
            "nor in the future beyond the allowed clock skew (24 hours by default)."
        )
    )
    occurred_from: PastDate | None = None
    occurred_to: date | None = Field(
        default=None, description="Not before occurred_from, not in the future."
    )
    location: LocationIn | None = None
    modus_operandi: list[ModusOperandi] = Field(default_factory=list, max_length=MAX_CODES)
    exploitation_types: list[ExploitationType] = Field(default_factory=list, max_length=MAX_CODES)
    forced_labour_sector: ForcedLabourSector | None = Field(
        default=None, description="ISIC Rev.4 section of the forced labour; needs FORCED_LABOUR."
    )
    means_of_control: list[MeansOfControl] = Field(default_factory=list, max_length=MAX_CODES)
    destination_countries: list[CountryCode] = Field(default_factory=list, max_length=MAX_COUNTRIES)
    transit_countries: list[CountryCode] = Field(default_factory=list, max_length=MAX_COUNTRIES)
    persons: list[PersonIn] = Field(default_factory=list, max_length=MAX_PERSONS)
    recruitment: RecruitmentIn | None = None
    events: list[EventIn] = Field(default_factory=list, max_length=MAX_ITEMS)
    assessment: AssessmentIn | None = None
    documents: list[DocumentIn] = Field(default_factory=list, max_length=MAX_ITEMS)
    conveyances: list[ConveyanceIn] = Field(default_factory=list, max_length=MAX_COUNTRIES)
    actions_taken: list[ActionTaken] = Field(default_factory=list, max_length=MAX_CODES)
    narrative: LongText | None = Field(default=None, description="Free text, any language.")
    recipients: list[AgencyCode] = Field(
        default_factory=list,
        max_length=50,
        validate_default=True,
        description=(
            "Agency codes the sender addresses explicitly (required for TLP RED); each must be "
            "an active agency other than the sender."
        ),
    )
    linked_report_ids: list[uuid.UUID] = Field(
        default_factory=list,
        max_length=50,
        description="Reports the sender links explicitly (they join one case).",
    )

    @field_validator("occurred_to")
    @classmethod
    def _not_before_start(cls, end: date | None, info: ValidationInfo) -> date | None:
        start = info.data.get("occurred_from")
        if end is not None and start is not None and end < start:
            raise _field_error(
                "date_order",
                "occurred_to {end} is before occurred_from {start}",
                end=str(end),
                start=str(start),
            )
        return end

    @field_validator("forced_labour_sector")
    @classmethod
    def _needs_forced_labour(cls, sector: str | None, info: ValidationInfo) -> str | None:
        types = info.data.get("exploitation_types")
        if sector is not None and types is not None and "FORCED_LABOUR" not in types:
            raise _field_error(
                "field_needs_forced_labour",
                "forced_labour_sector needs FORCED_LABOUR in exploitation_types",
            )
        return sector

    @field_validator("recipients")
    @classmethod
    def _red_names_recipients(cls, recipients: list[str], info: ValidationInfo) -> list[str]:
        if info.data.get("tlp") == "RED" and not recipients:
            raise _field_error(
                "recipients_required",
                "TLP RED reports go only to named recipients: list at least one",
            )
        if len(set(recipients)) != len(recipients):
            raise _field_error("duplicate", "An agency is named twice in recipients")
        return recipients


class ReportIn(_ReportFields):
    """A report of a suspected TPPO/TPPM case, as an agency submits or corrects it."""

    audit_objects: ClassVar[AuditObjects] = (("report", "linked_report_ids"),)

    def future_time_problems(self, latest: dt.datetime) -> list[FieldProblem]:
        """Fields that lie after ``latest`` (now plus the allowed clock skew), one problem each.

        Kept out of the validators because the skew is a setting and ``now`` moves; dates are
        compared with the calendar day of ``latest`` in its own offset.
        """
        problems: list[FieldProblem] = []
        if self.reported_at > latest:
            problems.append(
                FieldProblem(
                    "/reported_at", f"reported_at {self.reported_at} is in the future", "in_future"
                )
            )
        dated = [("/occurred_to", self.occurred_to)]
        dated += [(f"/events/{i}/date", e.date) for i, e in enumerate(self.events)]
        for pointer, day in dated:
            if day is not None and day > latest.date():
                problems.append(
                    FieldProblem(pointer, f"The date {day} is in the future", "in_future")
                )
        return problems

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [_DEFERRED_PASSPORT_EXAMPLE, _PORT_INTERCEPTION_EXAMPLE]},
    )


# --- responses ---------------------------------------------------------------------------------


class ReportStatus(StrEnum):
    """A stored report's state: ACTIVE, RETRACTED by its source, or CLOSED with its case."""

    ACTIVE = "ACTIVE"
    RETRACTED = "RETRACTED"
    CLOSED = "CLOSED"


class PersonOut(PersonIn):
    """A person of a stored report, with the person it was resolved to across reports."""

    entity_id: uuid.UUID | None = Field(
        default=None,
        description="The resolved person across reports, as it is now (after any merge or split"
        " since submission); null where the person was not resolved or the entity not looked up"
        " (lists). The same id in two reports means one person; GET"
        " /v1/persons/{entity_id}/network shows what the caller may see around them.",
    )


class ReportOut(_ReportFields):
    """A stored report as its source, its recipients and admins see it."""

    audit_objects: ClassVar[AuditObjects] = (("report", "id"),)

    persons: list[PersonOut] = Field(default_factory=list, max_length=MAX_PERSONS)  # type: ignore[assignment]
    id: uuid.UUID
    version: int = Field(ge=1, description="Increases with every correction; send it in If-Match.")
    status: ReportStatus
    source_agency: str = Field(description="Code of the agency that submitted the report.")
    created_at: AwareDatetime
    updated_at: AwareDatetime
    retraction_reason: str | None = Field(
        default=None, description="Set once the source retracts the report."
    )


class NormalizedPerson(BaseModel):
    """The comparable form of a person's identifiers, stored beside what the agency sent."""

    full_name: str | None = Field(default=None, description="The name as normalized for matching.")
    nik: str | None = Field(default=None, description="16 digits.")
    nik_birth_date: date | None = Field(default=None, description="Birth date encoded in the NIK.")
    nik_sex: str | None = Field(default=None, description="Sex encoded in the NIK.")
    nik_region_code: str | None = Field(
        default=None, description="Regency/city the NIK was issued in."
    )
    passport_number: str | None = None
    phone: str | None = Field(default=None, description="E.164.")
    date_of_birth: date | None = None
    birth_year: int | None = None


class PersonResult(BaseModel):
    """What the service made of one submitted person."""

    audit_objects: ClassVar[AuditObjects] = (("person", "entity_id"),)

    index: int = Field(description="Position in the submitted persons[].")
    role: str
    entity_id: uuid.UUID | None = Field(
        default=None, description="The resolved person, across reports."
    )
    score: float | None = Field(
        default=None, description="Match score of the link to entity_id, if any."
    )
    reasons: list[str] = Field(
        default_factory=list, description="Why the person was linked, in words."
    )
    normalized: NormalizedPerson


class RoutedTo(BaseModel):
    """A recipient of the report and the routing rule (or explicit address) that chose it."""

    agency: str
    rule: str


class ReportWarning(BaseModel):
    """A value accepted but worth a second look (say,
    a NIK that contradicts the stated birth date)."""

    pointer: str = Field(description="JSON pointer to the field in the submitted report.")
    code: str
    detail: str


class ReportCreated(BaseModel):
    """The answer to a submission."""

    audit_objects: ClassVar[AuditObjects] = (("report", "id"), ("case", "case_id"))

    id: uuid.UUID
    version: int
    case_id: uuid.UUID | None = None
    persons: list[PersonResult] = Field(default_factory=list)
    routed_to: list[RoutedTo] = Field(default_factory=list)
    warnings: list[ReportWarning] = Field(default_factory=list)


class ReportVersionOut(BaseModel):
    """One version of a report, as submitted."""

    model_config = ConfigDict(from_attributes=True)

    version: int
    change: str = Field(description="created, updated, retracted or closed.")
    created_at: AwareDatetime
    body: dict[str, object] = Field(description="The report as submitted in this version.")


class ReportRetractIn(_Request):
    """Why the source withdraws its report."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [{"reason": "Pemohon ternyata berangkat sebagai PMI prosedural."}]
        },
    )

    reason: Annotated[str, Field(min_length=1, max_length=2000), AfterValidator(_clean_text)]


class ReportCloseIn(_Request):
    """The source closes its report: the case is done; the retention clock starts (UU PDP)."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"reason": "Korban telah dipulangkan dan berkas P21."}]},
    )

    reason: (
        Annotated[str, Field(min_length=1, max_length=2000), AfterValidator(_clean_text)] | None
    ) = None


T = TypeVar("T")


class Page(BaseModel, Generic[T]):
    """One page of a list; pass next_cursor as ?cursor= for the next (null on the last page)."""

    items: list[T]
    next_cursor: str | None = None
