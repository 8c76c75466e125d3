"""Screening: is this person in any report? Read-only, on the same resolution code as ingest.

Each screened person is normalized like a report person, looked up through the same blocking
keys and candidates, scored with the same ``compare`` and decided with the same thresholds.
Nothing about the screened person is stored; the route audits counts only.

Need-to-know: a hit names the agency holding the report and, for CLEAR/GREEN/AMBER reports,
the person entity, score, reasons and case; the report id only when the caller may already read
the report. A RED or AMBER_STRICT report the caller may not read is left out, or (when
``SINERGI_SCREENING_REVEAL_RED`` is set) answered as "contact agency X" and nothing more. Its
persons never count in a hit's decision, score or reasons: a person known only from them is
answered as if unknown (docs/need-to-know.md).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from app.config import Settings
from app.errors import FieldProblem, InvalidInput
from app.matching.features_json import features_from_json
from app.matching.scoring import (
    MatchScore,
    Outcome,
    PersonFeatures,
    blocking_keys,
    compare,
    decide,
    name_frequency_keys,
    without_values,
)
from app.models.report import RESTRICTED_TLP
from app.repositories import reports as report_repo
from app.repositories import resolution as resolution_repo
from app.repositories import screening as repo
from app.schemas.report import PersonIn
from app.schemas.screening import (
    PersonQuery,
    ScreeningHit,
    ScreeningIn,
    ScreeningOut,
    ScreeningResult,
)
from app.services.caller import Caller
from app.services.match_weights import current_weights
from app.services.persons import Identified, identify
from app.services.resolution import Thresholds
from app.services.visibility import ACKNOWLEDGEABLE_TLP

#: The role a screened or watched person is normalized as (it only matters for warnings).
_QUERY_ROLE = "APPLICANT"


@dataclass(frozen=True)
class ScreeningSettings:
    """The knobs screening reads (``of`` takes them from Settings)."""

    thresholds: Thresholds
    max_hits: int
    reveal_restricted: bool

    @classmethod
    def of(cls, settings: Settings) -> ScreeningSettings:
        return cls(
            Thresholds.of(settings), settings.screening_max_hits, settings.screening_reveal_red
        )


def identification_problems(person: PersonQuery, pointer: str) -> list[FieldProblem]:
    """Why a person is too vaguely described to look up (empty when enough).

    Enough is an identifier (NIK, passport number, phone), or a name with a birth date or year.
    A name alone, or a birth date alone, would match too many people to mean anything.
    """
    if person.nik or person.passport_number or person.phone:
        return []
    has_name = bool(person.full_name or person.aliases)
    has_birth = person.date_of_birth is not None or person.birth_year is not None
    if has_name and has_birth:
        return []
    if has_name:
        return [
            FieldProblem(
                f"{pointer}/date_of_birth",
                "a name alone is not enough: add date_of_birth or birth_year, "
                "or an identifier (nik, passport_number, phone)",
                "name_needs_birth_date",
            )
        ]
    return [
        FieldProblem(
            pointer,
            "no identifying field: give nik, passport_number or phone, "
            "or full_name with date_of_birth or birth_year",
            "no_identifying_field",
        )
    ]


def require_identification(persons: Sequence[tuple[str, PersonQuery]]) -> None:
    """422 naming every person (by JSON pointer) that is too vaguely described."""
    problems = [p for pointer, person in persons for p in identification_problems(person, pointer)]
    if problems:
        raise InvalidInput(
            detail="Describe each person well enough to tell them apart: "
            + ", ".join(p.pointer for p in problems),
            errors=problems,
        )


def query_person(person: PersonQuery, pointer: str) -> Identified:
    """Normalize and feature a person the way ingest does a report person."""
    as_report_person = PersonIn.model_validate(
        {**person.model_dump(exclude_none=True), "role": _QUERY_ROLE}
    )
    return identify(as_report_person, pointer)


def _decided(
    scored: Sequence[tuple[uuid.UUID, MatchScore]], thresholds: Thresholds
) -> dict[uuid.UUID, tuple[Outcome, MatchScore]]:
    """Entities the person resolves to (LINK) or may be (REVIEW), as ingest would decide."""
    decision = decide(scored, thresholds.link, thresholds.review)
    matched: dict[uuid.UUID, tuple[Outcome, MatchScore]] = {}
    if (
        decision.candidate is not None
        and decision.score is not None
        and decision.outcome in {Outcome.LINK, Outcome.REVIEW}
    ):
        matched[decision.candidate] = (decision.outcome, decision.score)
    for entity_id, score in decision.alternatives:
        outcome = (
            Outcome.LINK
            if score.probability >= thresholds.link and not score.review_only
            else Outcome.REVIEW
        )
        matched.setdefault(entity_id, (outcome, score))
    return matched


@dataclass(frozen=True)
class _Matched:
    """What a screened person matched: as the caller may be told,
    and only through hidden reports."""

    told: dict[uuid.UUID, tuple[Outcome, MatchScore]]
    """Decided on the stored persons the caller may know of (as ingest decides for a sender)."""
    hidden_only: dict[uuid.UUID, tuple[Outcome, MatchScore]]
    """Entities matched only once RED/AMBER_STRICT persons hidden from the caller count too."""


async def _matched_entities(
    session: AsyncSession, caller: Caller, features: PersonFeatures, thresholds: Thresholds
) -> _Matched:
    found = await resolution_repo.candidates(
        session,
        blocking_keys(features),
        name_frequency_keys(features),
        exclude_report_id=None,
        viewer=None if caller.is_admin else caller.agency_id,
    )
    weights = await current_weights(session)  # the same weights ingest resolves with
    scored = [
        (
            entity_id,
            compare(features, features_from_json(stored), weights, found.name_counts),
            hidden,
        )
        for _pid, entity_id, stored, hidden in found.rows
    ]
    told = _decided([(e, score) for e, score, hidden in scored if not hidden], thresholds)
    if not any(hidden for _, _, hidden in scored):
        return _Matched(told, {})
    everything = _decided([(e, score) for e, score, _ in scored], thresholds)
    return _Matched(told, {e: m for e, m in everything.items() if e not in told})


async def _hits(
    session: AsyncSession, caller: Caller, matched: _Matched, settings: ScreeningSettings
) -> list[ScreeningHit]:
    hidden_only = matched.hidden_only if settings.reveal_restricted else {}
    holdings = await repo.reports_naming(
        session, [*matched.told, *hidden_only], limit=settings.max_hits * 5
    )
    if not holdings:
        return []
    report_ids = [h.report_id for h in holdings]
    readable = (
        set(report_ids)
        if caller.is_admin
        else await resolution_repo.visible_report_ids(session, caller.agency_id, report_ids)
    )
    codes = await report_repo.agency_codes(session, [h.source_agency_id for h in holdings])
    hits: list[tuple[float, ScreeningHit]] = []
    restricted_seen: set[tuple[uuid.UUID, str]] = set()
    for holding in holdings:
        told = matched.told.get(holding.entity_id)
        outcome, score = told or hidden_only[holding.entity_id]
        probability = round(score.probability, 4)
        agency = codes[holding.source_agency_id]
        may_read = holding.report_id in readable
        if told is not None and (may_read or holding.tlp in ACKNOWLEDGEABLE_TLP):
            hit = ScreeningHit(
                match="LINK" if outcome is Outcome.LINK else "REVIEW",
                contact_agency=agency,
                entity_id=holding.entity_id,
                score=probability,
                reasons=list(score.reasons) if may_read else without_values(score.reasons),
                case_id=holding.case_id,
                report_id=holding.report_id if may_read else None,
            )
        elif (
            settings.reveal_restricted
            and not may_read
            and holding.tlp in RESTRICTED_TLP
            and (holding.entity_id, agency) not in restricted_seen
        ):
            # "Contact agency X", once per agency and person, and nothing else.
            restricted_seen.add((holding.entity_id, agency))
            hit = ScreeningHit(
                match="LINK" if outcome is Outcome.LINK else "REVIEW",
                contact_agency=agency,
                restricted=True,
            )
        else:
            # Known to the caller only through a report it may not be told of.
            continue
        hits.append((probability, hit))
    hits.sort(key=lambda item: item[0], reverse=True)  # stable: newest first within a score
    return [hit for _, hit in hits[: settings.max_hits]]


async def screen(
    session: AsyncSession, caller: Caller, body: ScreeningIn, *, settings: ScreeningSettings
) -> ScreeningOut:
    """Screen each person against every stored report; stores nothing about them."""
    require_identification([(f"/persons/{i}", p) for i, p in enumerate(body.persons)])
    results: list[ScreeningResult] = []
    for index, person in enumerate(body.persons):
        queried = query_person(person, f"/persons/{index}")
        matched = await _matched_entities(session, caller, queried.features, settings.thresholds)
        hits = await _hits(session, caller, matched, settings)
        results.append(
            ScreeningResult(
                index=index,
                hit=any(h.match == "LINK" for h in hits),
                hits=hits,
                warnings=queried.warnings,
            )
        )
    return ScreeningOut(results=results)
