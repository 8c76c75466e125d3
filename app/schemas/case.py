"""Cases, person networks and analysts' review of matches: the public contract."""

from __future__ import annotations

import uuid
from typing import ClassVar, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, StrictInt

from app.schemas.audit import AuditObjects


class CaseReport(BaseModel):
    """A report in the case. Reports outside your need-to-know show only who holds them."""

    audit_objects: ClassVar[AuditObjects] = (("report", "report_id"),)

    visible: bool = Field(
        description="False: another report, held by `held_by`, that you may not read."
    )
    held_by: str = Field(description="Code of the agency that submitted the report.")
    report_id: uuid.UUID | None = Field(default=None, description="Only for reports you may read.")
    case_type: str | None = None
    tlp: str | None = None
    status: str | None = None
    region_code: str | None = None
    reported_at: AwareDatetime | None = None


class CaseLinkOut(BaseModel):
    """Why a report is in the case: the person it shares with another report,
    or an explicit link."""

    report_id: uuid.UUID
    linked_report_id: uuid.UUID | None
    kind: str = Field(description="shared_person, explicit, or opened (the first report).")
    via_entity_id: uuid.UUID | None = None
    score: float | None = Field(default=None, description="Match probability of the shared person.")
    reasons: list[str] = Field(default_factory=list)


class CaseRestrictedMatch(BaseModel):
    """A report outside the case naming, probably, a person of it, kept out for need-to-know.

    Its sender may not see the RED or AMBER_STRICT reports through which the person is known
    here, so it was answered as if the person were new and its report has a case of its own.
    Shown to the holders of those reports and to analysts, who may accept the match.
    """

    audit_objects: ClassVar[AuditObjects] = (("report", "report_id"),)

    held_by: str = Field(description="Code of the agency that submitted the other report.")
    report_id: uuid.UUID | None = Field(default=None, description="Only for reports you may read.")
    via_entity_id: uuid.UUID = Field(description="The person of this case it probably names.")
    possible_match_id: uuid.UUID | None = Field(
        default=None, description="For analysts: the possible match to accept or reject."
    )
    score: float = Field(description="Match probability.")
    reasons: list[str] = Field(default_factory=list)


class CaseOut(BaseModel):
    audit_objects: ClassVar[AuditObjects] = (("case", "id"),)
    id: uuid.UUID
    created_at: AwareDatetime
    updated_at: AwareDatetime
    reports: list[CaseReport]
    links: list[CaseLinkOut]
    restricted_matches: list[CaseRestrictedMatch] = Field(
        default_factory=list,
        description=(
            "Reports outside the case that probably name one of its persons, known to their "
            "senders only as new persons (RED/AMBER_STRICT need-to-know)."
        ),
    )


class CaseSummary(BaseModel):
    audit_objects: ClassVar[AuditObjects] = (("case", "id"),)
    id: uuid.UUID
    created_at: AwareDatetime
    updated_at: AwareDatetime
    visible_reports: int = Field(description="How many of its reports you may read.")


class NetworkAppearance(BaseModel):
    """The person in one report you may read."""

    audit_objects: ClassVar[AuditObjects] = (("report", "report_id"), ("case", "case_id"))

    report_id: uuid.UUID
    role: str
    case_id: uuid.UUID | None
    held_by: str
    names: list[str] = Field(default_factory=list, description="Names as written in that report.")


class NetworkAssociate(BaseModel):
    """Another person linked to this one: in the same reports, or sharing a phone or conveyance."""

    audit_objects: ClassVar[AuditObjects] = (("person", "entity_id"),)

    entity_id: uuid.UUID
    roles: list[str]
    names: list[str]
    via_reports: list[uuid.UUID]
    shared: list[str] = Field(description="What connects them, in words.")


class NetworkOut(BaseModel):
    audit_objects: ClassVar[AuditObjects] = (("person", "entity_id"),)
    entity_id: uuid.UUID
    appearances: list[NetworkAppearance]
    associates: list[NetworkAssociate]


class PossibleMatchOut(BaseModel):
    audit_objects: ClassVar[AuditObjects] = (
        ("possible_match", "id"),
        ("report", "report_id"),
        ("person", "person_entity_id"),
        ("person", "candidate_entity_id"),
    )
    id: uuid.UUID
    report_id: uuid.UUID
    person_index: int
    person_entity_id: uuid.UUID | None
    candidate_entity_id: uuid.UUID
    score: float
    reasons: list[str]
    status: str
    restricted: bool = Field(
        default=False,
        description=(
            "The candidate is known only from RED/AMBER_STRICT reports the person's sender may "
            "not read; the sender was answered as if the person were new. Its reasons carry no "
            "compared values: they would quote the hidden report."
        ),
    )
    created_at: AwareDatetime


class EntityMergeIn(BaseModel):
    audit_objects: ClassVar[AuditObjects] = (
        ("person", "source_entity_id"),
        ("person", "target_entity_id"),
    )
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "source_entity_id": "5b0c7a59-0a51-4f3e-9d43-3f2d5e9d1e11",
                    "target_entity_id": "0e1f2a3b-4c5d-4e6f-8a9b-0c1d2e3f4a5b",
                }
            ]
        },
    )

    source_entity_id: uuid.UUID
    target_entity_id: uuid.UUID


class EntitySplitIn(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "persons": [
                        {"report_id": "5b0c7a59-0a51-4f3e-9d43-3f2d5e9d1e11", "person_index": 0}
                    ]
                }
            ]
        },
    )

    persons: list[PersonRef] = Field(min_length=1, max_length=100)


class PersonRef(BaseModel):
    audit_objects: ClassVar[AuditObjects] = (("report", "report_id"),)
    model_config = ConfigDict(extra="forbid")

    report_id: uuid.UUID
    person_index: StrictInt = Field(ge=0, le=1000)


class CaseMergeIn(BaseModel):
    audit_objects: ClassVar[AuditObjects] = (("case", "source_case_id"), ("case", "target_case_id"))
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "source_case_id": "5b0c7a59-0a51-4f3e-9d43-3f2d5e9d1e11",
                    "target_case_id": "0e1f2a3b-4c5d-4e6f-8a9b-0c1d2e3f4a5b",
                }
            ]
        },
    )

    source_case_id: uuid.UUID
    target_case_id: uuid.UUID


class CaseSplitIn(BaseModel):
    audit_objects: ClassVar[AuditObjects] = (("report", "report_ids"),)
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"report_ids": ["5b0c7a59-0a51-4f3e-9d43-3f2d5e9d1e11"]}]},
    )

    report_ids: list[uuid.UUID] = Field(min_length=1, max_length=500)


class ReviewDecisionIn(BaseModel):
    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"decision": "accept"}]}
    )

    decision: Literal["accept", "reject"]


class ResolutionActionOut(BaseModel):
    """An analyst's merge or split; undo it with POST …/resolution-actions/{id}/undo."""

    id: uuid.UUID
    kind: str
    actor: str
    created_at: AwareDatetime
    undone_at: AwareDatetime | None
    result_id: uuid.UUID | None = Field(
        default=None, description="The entity or case the action produced or kept."
    )
    merged_ids: list[uuid.UUID] = Field(
        default_factory=list,
        description="For a merge: the entities or cases merged into `result_id`.",
    )

    @property
    def audit_objects(self) -> AuditObjects:
        """The action, and the cases or person entities it produced or absorbed."""
        touched = "case" if self.kind.startswith("case.") else "person"
        return (("resolution_action", "id"), (touched, "result_id"), (touched, "merged_ids"))


EntitySplitIn.model_rebuild()
