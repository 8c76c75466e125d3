"""The vocabularies in the public contract: field types built from the code lists, and the
bodies of ``GET /v1/vocab`` and ``GET /v1/vocab/{name}``.

Short code lists become string enums (a named schema each, so generated clients get enums, and
a wrong code is answered with the allowed values). Countries and Kemendagri regions are too long
to list in every error: they are patterned strings checked against ``app/vocab``, and the error
points to the endpoint that lists them.
"""

from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING, Annotated, Any, ClassVar, cast

from pydantic import AfterValidator, BaseModel, Field, GetJsonSchemaHandler, WithJsonSchema
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import CoreSchema, PydanticCustomError

from app.vocab import COUNTRIES, REGIONS, code_list


class CodeEnum(StrEnum):
    """A code list as an enum; its JSON schema carries each code's labels for generated clients."""

    @classmethod
    def __get_pydantic_json_schema__(
        cls, core_schema: CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        schema = handler.resolve_ref_schema(handler(core_schema))
        codes = code_list(cls.__code_list__)
        schema["x-enum-descriptions"] = [
            f"{code.label_en} / {code.label_id}" for code in codes.codes
        ]
        return schema

    __code_list__: ClassVar[str]


def code_enum(type_name: str, list_name: str) -> type[CodeEnum]:
    """A string enum whose members are the codes of the code list ``list_name``."""
    codes = code_list(list_name)
    members = {value: value for value in codes.values}
    # The functional Enum API: a new enum class, not a member lookup.
    enum = cast("type[CodeEnum]", CodeEnum(type_name, members))  # type: ignore[call-arg]
    enum.__doc__ = (
        f"{codes.label_en} ({codes.label_id}). {codes.description} "
        f"Labels in Indonesian and English: GET /v1/vocab/{list_name}."
    )
    enum.__code_list__ = list_name
    return enum


if TYPE_CHECKING:
    # For the type checker these are plain strings (a StrEnum member is one).
    CaseType = str
    Tlp = str
    ModusOperandi = str
    ExploitationType = str
    ForcedLabourSector = str
    MeansOfControl = str
    PersonRole = str
    Sex = str
    TraffickingStatus = str
    RelationshipToRecruiter = str
    PerpetratorRole = str
    RecruitmentMethod = str
    RecruitmentChannel = str
    EventType = str
    DocumentType = str
    DocumentStatus = str
    ConveyanceType = str
    ActionTaken = str
    SourceReliability = str
    InformationAccuracy = str
else:
    CaseType = code_enum("CaseType", "case_types")
    Tlp = code_enum("Tlp", "tlp")
    ModusOperandi = code_enum("ModusOperandi", "modus_operandi")
    ExploitationType = code_enum("ExploitationType", "exploitation_types")
    ForcedLabourSector = code_enum("ForcedLabourSector", "forced_labour_sectors")
    MeansOfControl = code_enum("MeansOfControl", "means_of_control")
    PersonRole = code_enum("PersonRole", "person_roles")
    Sex = code_enum("Sex", "sexes")
    TraffickingStatus = code_enum("TraffickingStatus", "trafficking_statuses")
    RelationshipToRecruiter = code_enum("RelationshipToRecruiter", "relationships_to_recruiter")
    PerpetratorRole = code_enum("PerpetratorRole", "perpetrator_roles")
    RecruitmentMethod = code_enum("RecruitmentMethod", "recruitment_methods")
    RecruitmentChannel = code_enum("RecruitmentChannel", "recruitment_channels")
    EventType = code_enum("EventType", "event_types")
    DocumentType = code_enum("DocumentType", "document_types")
    DocumentStatus = code_enum("DocumentStatus", "document_statuses")
    ConveyanceType = code_enum("ConveyanceType", "conveyance_types")
    ActionTaken = code_enum("ActionTaken", "actions_taken")
    SourceReliability = code_enum("SourceReliability", "source_reliability")
    InformationAccuracy = code_enum("InformationAccuracy", "information_accuracy")


def _known_country(value: str) -> str:
    if value not in code_list(COUNTRIES):
        raise PydanticCustomError(
            "unknown_country",
            "{value} is not an ISO 3166-1 alpha-3 country code; "
            "the allowed values are listed at GET /v1/vocab/countries",
            {"value": value},
        )
    return value


def _known_region(value: str) -> str:
    if value not in code_list(REGIONS):
        raise PydanticCustomError(
            "unknown_region",
            "{value} is not a Kemendagri province or regency/city code; "
            "the allowed values are listed at GET /v1/vocab/regions",
            {"value": value},
        )
    return value


CountryCode = Annotated[
    str,
    Field(min_length=3, max_length=3, pattern=r"^[A-Z]{3}$"),
    AfterValidator(_known_country),
    WithJsonSchema(
        {
            "type": "string",
            "pattern": "^[A-Z]{3}$",
            "description": "ISO 3166-1 alpha-3 country code (IDN, MYS, KHM, …); "
            "the list is at GET /v1/vocab/countries.",
            "examples": ["MYS"],
        }
    ),
]

RegionCode = Annotated[
    str,
    Field(min_length=2, max_length=5, pattern=r"^[0-9]{2}(\.[0-9]{2})?$"),
    AfterValidator(_known_region),
    WithJsonSchema(
        {
            "type": "string",
            "pattern": r"^[0-9]{2}(\.[0-9]{2})?$",
            "description": "Kemendagri region code (kode wilayah) of a province (`14` Riau) "
            "or regency/city (`14.72` Kota Dumai); the list is at GET /v1/vocab/regions.",
            "examples": ["14.72"],
        }
    ),
]


# --- the vocab endpoints -----------------------------------------------------------------------


class CodeOut(BaseModel):
    """One code with its labels."""

    code: str = Field(description="The value to send in a report.", examples=["TPPO"])
    label_id: str = Field(description="Label in Bahasa Indonesia.")
    label_en: str = Field(description="Label in English.")
    description: str | None = Field(
        default=None, description="What the code means, when the label does not say."
    )
    kind: str | None = Field(
        default=None, description="Regions only: PROVINCE, REGENCY (kabupaten) or CITY (kota)."
    )
    parent: str | None = Field(
        default=None, description="Regions only: the province of a regency or city."
    )


class CodeListSummary(BaseModel):
    """A code list without its codes, as listed by ``GET /v1/vocab``."""

    name: str = Field(
        description="The list's name in `GET /v1/vocab/{name}`.", examples=["case_types"]
    )
    label_id: str
    label_en: str
    description: str
    count: int = Field(description="How many codes the list has.")


class CodeListOut(CodeListSummary):
    """A code list with its codes, in the order a form should show them."""

    codes: list[CodeOut]


class CodeListIndex(BaseModel):
    """Every code list the service knows."""

    items: list[CodeListSummary]


def code_list_summary(name: str) -> dict[str, Any]:
    """The summary of code list ``name`` as a plain dict (for :class:`CodeListSummary`)."""
    codes = code_list(name)
    return {
        "name": codes.name,
        "label_id": codes.label_id,
        "label_en": codes.label_en,
        "description": codes.description,
        "count": len(codes.codes),
    }
