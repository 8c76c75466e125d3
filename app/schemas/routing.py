"""Routing rules and dry runs: the public contract of ``/v1/admin/routing-rules``."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, ClassVar, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    JsonValue,
    StrictBool,
    StrictInt,
    StringConstraints,
    field_validator,
)

from app.schemas.audit import AuditObjects

Code = Annotated[str, StringConstraints(pattern=r"^[A-Z][A-Z0-9_]*$", max_length=60)]
AgencyCode = Annotated[str, StringConstraints(min_length=1, max_length=64)]
CountryCode = Annotated[str, StringConstraints(pattern=r"^[A-Z]{3}$")]
RegionPrefix = Annotated[str, StringConstraints(max_length=13)]
CaseType = Literal["TPPO", "TPPM", "TPPO_TPPM", "UNDETERMINED"]
Tlp = Literal["CLEAR", "GREEN", "AMBER", "AMBER_STRICT", "RED"]


def _known_countries(values: list[str]) -> list[str]:
    import pycountry

    unknown = [v for v in values if pycountry.countries.get(alpha_3=v) is None]
    if unknown:
        raise ValueError(f"not ISO 3166-1 alpha-3 country codes: {', '.join(unknown)}")
    return values


RULE_EXAMPLE: dict[str, JsonValue] = {
    "name": "foreign-nationals",
    "description": "A foreign national is named: Immigration supervises foreigners.",
    "foreign_nationals": True,
    "tlps": ["CLEAR", "GREEN", "AMBER", "AMBER_STRICT"],
    "recipients": ["IMIGRASI-DUMAI"],
}


class RoutingRuleIn(BaseModel):
    """A routing rule. Each non-empty field must match (any of its values); empty = any.

    `tlps` left empty covers CLEAR, GREEN and AMBER; list `AMBER_STRICT` to route strict
    reports by this rule. RED reports never go by rule, only to the sender's `recipients`.
    """

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [RULE_EXAMPLE]})

    name: str = Field(min_length=1, max_length=80, pattern=r"^[a-z0-9][a-z0-9_.-]*$")
    description: str | None = Field(default=None, max_length=2000)
    active: StrictBool = True
    case_types: list[CaseType] = Field(default_factory=list, max_length=10)
    modus_operandi: list[Code] = Field(default_factory=list, max_length=50)
    exploitation_types: list[Code] = Field(default_factory=list, max_length=50)
    region_prefixes: list[RegionPrefix] = Field(
        default_factory=list,
        max_length=100,
        description=(
            "Kemendagri region-code prefixes (*kode wilayah*): `14` Riau covers `14.72` Kota Dumai."
        ),
    )
    foreign_nationals: StrictBool | None = Field(
        default=None,
        description=(
            "`true`: only reports naming a foreign national; `false`: only reports naming none."
        ),
    )
    document_types: list[Code] = Field(default_factory=list, max_length=50)
    document_statuses: list[Code] = Field(default_factory=list, max_length=50)
    destination_countries: list[CountryCode] = Field(default_factory=list, max_length=250)
    tlps: list[Tlp] = Field(default_factory=list, max_length=5)
    recipients: list[AgencyCode] = Field(
        min_length=1, max_length=100, description="Codes of the agencies that receive matches."
    )

    _countries = field_validator("destination_countries")(_known_countries)


class RoutingRuleCreate(RoutingRuleIn):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [RULE_EXAMPLE]})

    position: StrictInt | None = Field(
        default=None, ge=0, description="Evaluation order (ascending); last when omitted."
    )


class RoutingRuleOut(BaseModel):
    audit_objects: ClassVar[AuditObjects] = (("routing_rule", "id"),)
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    position: int
    name: str
    description: str | None
    active: bool
    case_types: list[str]
    modus_operandi: list[str]
    exploitation_types: list[str]
    region_prefixes: list[str]
    foreign_nationals: bool | None
    document_types: list[str]
    document_statuses: list[str]
    destination_countries: list[str]
    tlps: list[str]
    recipients: list[str]
    created_at: datetime
    updated_at: datetime


class RoutingRuleList(BaseModel):
    items: list[RoutingRuleOut]


class RoutingRuleOrder(BaseModel):
    """The new evaluation order: every rule's id, exactly once."""

    audit_objects: ClassVar[AuditObjects] = (("routing_rule", "rule_ids"),)

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "rule_ids": [
                        "6f1c2f0e-7f57-4a8e-9d0e-2b1f4c1d9a01",
                        "0b8e8a59-2f9c-4d7b-a1b3-5b0c9e7d2f02",
                    ]
                }
            ]
        },
    )

    rule_ids: list[uuid.UUID] = Field(max_length=1000)


SAMPLE_EXAMPLE: dict[str, JsonValue] = {
    "source_agency_code": "IMIGRASI-DUMAI",
    "case_type": "TPPO",
    "tlp": "AMBER",
    "modus_operandi": ["NONPROCEDURAL_MIGRANT_WORKER", "TOURIST_DISGUISE"],
    "exploitation_types": ["FORCED_LABOUR"],
    "region_code": "14.72",
    "has_foreign_nationals": False,
    "document_types": ["PASSPORT_APPLICATION"],
    "document_statuses": ["DEFERRED"],
    "destination_countries": ["MYS"],
    "recipients": [],
}


class RoutingSample(BaseModel):
    """The routing-relevant facts of a (sample) report."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [SAMPLE_EXAMPLE]})

    source_agency_code: AgencyCode
    case_type: CaseType
    tlp: Tlp
    modus_operandi: list[Code] = Field(default_factory=list, max_length=50)
    exploitation_types: list[Code] = Field(default_factory=list, max_length=50)
    region_code: RegionPrefix | None = None
    has_foreign_nationals: StrictBool = False
    document_types: list[Code] = Field(default_factory=list, max_length=50)
    document_statuses: list[Code] = Field(default_factory=list, max_length=50)
    destination_countries: list[CountryCode] = Field(default_factory=list, max_length=250)
    recipients: list[AgencyCode] = Field(
        default_factory=list, max_length=100, description="Agencies the sender names explicitly."
    )


class DryRunRequest(BaseModel):
    """Route `sample` with `rules` (unsaved, in this order) or, when omitted, the stored rules."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"sample": SAMPLE_EXAMPLE, "rules": [RULE_EXAMPLE]}]},
    )

    sample: RoutingSample
    rules: list[RoutingRuleIn] | None = Field(default=None, max_length=500)


class RoutedToOut(BaseModel):
    agency_code: str
    rule: str = Field(
        description="The rule's name, or `explicit` for a recipient the sender named."
    )


class DryRunResult(BaseModel):
    routed_to: list[RoutedToOut]


class DefaultRulesLoad(BaseModel):
    """Load the seeded city-TIMPORA rule set, its recipient kinds resolved to your agencies."""

    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"region_code": "14.72", "dry_run": True}]}
    )

    region_code: str | None = Field(
        default=None,
        pattern=r"^\d{2}(\.\d{2}(\.\d{2}(\.\d{4})?)?)?$",
        description=(
            "The team's Kemendagri region (*kode wilayah*), e.g. `14.72` Kota Dumai: only "
            "agencies of that region, inside it or above it (a province office) receive, and "
            "local rules (local government) match reports from that region only."
        ),
    )
    dry_run: StrictBool = Field(
        default=False, description="Say what would be created; create nothing."
    )


class DefaultRuleOutcome(BaseModel):
    name: str
    description: str | None
    recipients: list[str] = Field(description="The agencies the rule routes to.")
    outcome: Literal["created", "would_create", "exists", "no_recipient"] = Field(
        description=(
            "`created` (`would_create` in a dry run); `exists`: a rule of that name is stored "
            "and left as it is; `no_recipient`: no active agency of the rule's kinds serves the "
            "region, so the rule is skipped."
        )
    )


class DefaultRulesLoaded(BaseModel):
    dry_run: bool
    created: int = Field(description="Rules created (0 in a dry run).")
    rules: list[DefaultRuleOutcome]
