"""The analysts' review of possible matches as the console shows it: both sides' records within
need-to-know, and what a decision will change before it is made.

The decisions themselves are ``app.services.curation``'s (the API's ``/v1/admin/...``); this
module only decides what of each record a curator may see:

- a report the viewer may read through the API (its source, a recipient, an admin): the record
  and the report (``Sight.READ``);
- a CLEAR, GREEN or AMBER report it may not read: the person's identity fields only, and which
  agency holds the report (``Sight.IDENTITY``) -- comparing them is what an analyst is for, and
  these labels are not hidden from other agencies (docs/need-to-know.md);
- a RED or AMBER_STRICT report it may not read: nothing, not even which agency holds it
  (``Sight.HIDDEN``); the match reasons lose the compared values, as the case view's
  ``restricted_matches`` do for a report the caller may not read.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.errors import FieldProblem, InvalidInput, NotFound
from app.matching.scoring import without_values
from app.models.report import Report, ReportPerson
from app.models.resolution import Case, PossibleMatch, ResolutionAction
from app.repositories import reports as report_repo
from app.repositories import resolution as repo
from app.schemas.case import PossibleMatchOut, ResolutionActionOut
from app.services import curation
from app.services.caller import Caller
from app.services.visibility import ACKNOWLEDGEABLE_TLP

#: The person fields a review compares, in the order the pair page aligns them.
IDENTITY_FIELDS = (
    "full_name",
    "aliases",
    "sex",
    "date_of_birth",
    "birth_year",
    "nationality",
    "nik",
    "passport_number",
    "phone",
    "address",
)


class Sight(StrEnum):
    """How much of one record the viewer may see."""

    READ = "read"
    IDENTITY = "identity"
    HIDDEN = "hidden"


@dataclass(frozen=True)
class ReviewRecord:
    """One person of one report, as far as the viewer may see it (nothing of it when hidden)."""

    person_id: uuid.UUID
    sight: Sight
    entity_id: uuid.UUID | None
    report_id: uuid.UUID | None = None
    person_index: int | None = None
    agency_code: str | None = None
    tlp: str | None = None
    case_type: str | None = None
    report_status: str | None = None
    reported_at: datetime | None = None
    case_id: uuid.UUID | None = None
    role: str | None = None
    #: The identity fields as the agency sent them (``IDENTITY_FIELDS``), empty when hidden or
    #: removed by retention.
    fields: dict[str, Any] = field(default_factory=dict)
    purged: bool = False

    @property
    def shown(self) -> bool:
        return self.sight is not Sight.HIDDEN

    @property
    def name(self) -> str | None:
        name = self.fields.get("full_name")
        return name if isinstance(name, str) else None


def _sight(caller: Caller, report: Report, readable: set[uuid.UUID]) -> Sight:
    if caller.is_admin or report.id in readable:
        return Sight.READ
    return Sight.IDENTITY if report.tlp in ACKNOWLEDGEABLE_TLP else Sight.HIDDEN


async def _records(
    session: AsyncSession, caller: Caller, rows: Sequence[tuple[ReportPerson, Report]]
) -> list[ReviewRecord]:
    """The records of these persons as ``caller`` may see them, in the order given."""
    reports = list({report.id: report for _, report in rows}.values())
    readable = (
        set()
        if caller.is_admin
        else await repo.visible_report_ids(session, caller.agency_id, [r.id for r in reports])
    )
    codes = await report_repo.agency_codes(session, [r.source_agency_id for r in reports])
    records: list[ReviewRecord] = []
    for person, report in rows:
        sight = _sight(caller, report, readable)
        if sight is Sight.HIDDEN:
            records.append(ReviewRecord(person.id, sight, person.entity_id))
            continue
        persons = report.body.get("persons") or []
        sent = persons[person.position] if person.position < len(persons) else {}
        purged = report.personal_data_purged_at is not None
        records.append(
            ReviewRecord(
                person_id=person.id,
                sight=sight,
                entity_id=person.entity_id,
                report_id=report.id,
                person_index=person.position,
                agency_code=codes.get(report.source_agency_id),
                tlp=report.tlp,
                case_type=report.case_type,
                report_status=report.status,
                reported_at=report.reported_at,
                case_id=report.case_id if sight is Sight.READ else None,
                role=person.role,
                fields={} if purged else {k: sent[k] for k in IDENTITY_FIELDS if sent.get(k)},
                purged=purged,
            )
        )
    return records


def _shown_reasons(reasons: Sequence[str], records: Sequence[ReviewRecord]) -> list[str]:
    """The reasons with the compared values left out when any record of the pair is hidden."""
    if all(r.shown for r in records):
        return list(reasons)
    return without_values(reasons)


# --- the queue ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class QueueRow:
    """One possible match in the queue: the pair's names as far as the viewer may see them."""

    match: PossibleMatchOut
    reasons: list[str]
    subject: ReviewRecord
    #: The candidate entity's records the viewer may see, and whether others exist.
    candidates: list[ReviewRecord]
    hidden_candidates: bool


async def queue(
    session: AsyncSession,
    caller: Caller,
    status: str | None,
    *,
    order: str,
    cursor: str | None,
    limit: int,
) -> tuple[list[QueueRow], str | None]:
    """A page of the review queue (``curation.list_possible_matches``) with what each pair is."""
    matches, next_cursor = await curation.list_possible_matches(
        session, status, cursor=cursor, limit=limit, order=order
    )
    live = {m.id: await repo.live_entity_id(session, m.candidate_entity_id) for m in matches}
    people = await _match_people(session, [m.id for m in matches])
    entity_rows = await repo.persons_of_entities(session, [e for e in live.values() if e])
    records = await _records(session, caller, [*people.values(), *entity_rows])
    by_person = {r.person_id: r for r in records}
    rows: list[QueueRow] = []
    for match in matches:
        subject = by_person[people[match.id][0].id]
        entity = live[match.id]
        members = [by_person[p.id] for p, _ in entity_rows if p.entity_id == entity]
        candidates = [r for r in members if r.shown and r.person_id != subject.person_id]
        rows.append(
            QueueRow(
                match=match,
                reasons=_shown_reasons(match.reasons, [subject, *members]),
                subject=subject,
                candidates=candidates,
                hidden_candidates=any(not r.shown for r in members),
            )
        )
    return rows, next_cursor


async def _match_people(
    session: AsyncSession, match_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, tuple[ReportPerson, Report]]:
    """The person (and report) each possible match is about."""
    matches = [await _match(session, match_id) for match_id in match_ids]
    rows = await repo.persons_with_reports(session, [m.report_person_id for m in matches])
    by_person = {person.id: (person, report) for person, report in rows}
    return {m.id: by_person[m.report_person_id] for m in matches}


async def _match(session: AsyncSession, match_id: uuid.UUID) -> PossibleMatch:
    match = await session.get(PossibleMatch, match_id)
    if match is None:
        raise NotFound(detail="No such possible match")
    return match


# --- one pair ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class MatchPair:
    """A possible match side by side: the person it is about and the candidate's records."""

    match: PossibleMatchOut
    reasons: list[str]
    subject: ReviewRecord
    #: The live entity the candidate is now (None: it no longer exists).
    candidate_entity_id: uuid.UUID | None
    candidates: list[ReviewRecord]
    hidden_candidates: bool
    #: The other records of the subject's own entity the viewer may see (for a split).
    subject_entity_records: int


async def pair(session: AsyncSession, caller: Caller, match_id: uuid.UUID) -> MatchPair:
    """One possible match with both sides' records as ``caller`` may see them (404 if none)."""
    match = await _match(session, match_id)
    view = await curation.possible_match_view(session, match)
    live = await repo.live_entity_id(session, match.candidate_entity_id)
    subject_row = (await _match_people(session, [match.id]))[match.id]
    entity_rows = await repo.persons_of_entities(session, [live] if live else [])
    own_rows = (
        await repo.persons_of_entities(session, [view.person_entity_id])
        if view.person_entity_id
        else []
    )
    records = await _records(session, caller, [subject_row, *entity_rows])
    subject, members = records[0], records[1:]
    candidates = [r for r in members if r.shown and r.person_id != subject.person_id]
    return MatchPair(
        match=view,
        reasons=_shown_reasons(view.reasons, records),
        subject=subject,
        candidate_entity_id=live,
        candidates=candidates,
        hidden_candidates=any(not r.shown for r in members),
        subject_entity_records=len(own_rows),
    )


@dataclass(frozen=True)
class AcceptPreview:
    """What accepting a possible match will change, found by doing it and putting it back."""

    #: The entity the person leaves and the one it joins.
    person_entity_before: uuid.UUID | None
    target_entity: uuid.UUID
    #: Cases that will be folded into another: (absorbed case, the case it joins).
    cases_joined: list[tuple[uuid.UUID, uuid.UUID]]
    #: How many reports change case.
    reports_moved: int


async def preview_accept(session: AsyncSession, actor: str, match_id: uuid.UUID) -> AcceptPreview:
    """Accept the match inside a savepoint, read what changed, and roll it back: the confirmation
    says exactly what ``curation.review`` will do (Conflict/NotFound as it would raise them)."""
    savepoint = await session.begin_nested()
    try:
        _match_row, action = await curation.review(session, actor, match_id, "accept")
        assert action is not None
        undo = action.undo
        persons = undo.get("persons", {})
        cases_joined: list[tuple[uuid.UUID, uuid.UUID]] = []
        for absorbed in undo.get("cases", {}):
            case = await session.get(Case, uuid.UUID(absorbed))
            if case is not None and case.merged_into_id is not None:
                cases_joined.append((case.id, case.merged_into_id))
        before = next(iter(persons.values()), None)
        preview = AcceptPreview(
            person_entity_before=uuid.UUID(before) if before else None,
            target_entity=uuid.UUID(undo["result"]),
            cases_joined=cases_joined,
            reports_moved=len(undo.get("reports", {})),
        )
    finally:
        await savepoint.rollback()
    return preview


# --- one entity (split) ------------------------------------------------------------------------


@dataclass(frozen=True)
class EntityRecords:
    """A live entity's records as the viewer may see them (a split chooses among these)."""

    entity_id: uuid.UUID
    records: list[ReviewRecord]
    hidden: int


async def entity_records(
    session: AsyncSession, caller: Caller, entity_id: uuid.UUID
) -> EntityRecords:
    """The records of a live person entity (404 for an unknown or merged-away one)."""
    live = await repo.live_entity_id(session, entity_id)
    if live is None or live != entity_id:
        raise NotFound(detail="No such live person entity")
    records = await _records(session, caller, await repo.persons_of_entities(session, [live]))
    shown = [r for r in records if r.shown]
    return EntityRecords(live, shown, len(records) - len(shown))


async def split(
    session: AsyncSession,
    caller: Caller,
    actor: str,
    entity_id: uuid.UUID,
    person_ids: Sequence[uuid.UUID],
) -> ResolutionAction:
    """``curation.split_entity`` for the records chosen by their person ids: only records the
    viewer may see can be chosen, and at least one record must stay."""
    entity = await entity_records(session, caller, entity_id)
    chosen = {r.person_id: r for r in entity.records if r.person_id in set(person_ids)}
    if not person_ids or len(chosen) != len(set(person_ids)):
        raise InvalidInput(
            detail="Choose the records that are someone else",
            errors=[FieldProblem("/persons", "choose at least one record", "nothing_chosen")],
        )
    if len(chosen) == len(entity.records) and not entity.hidden:
        raise InvalidInput(
            detail="Splitting every record out of an entity leaves it empty",
            errors=[FieldProblem("/persons", "leave at least one record", "split_all")],
        )
    persons = [
        (record.report_id, record.person_index)
        for record in chosen.values()
        if record.report_id is not None and record.person_index is not None
    ]
    return await curation.split_entity(session, actor, entity.entity_id, persons)


# --- resolution actions ------------------------------------------------------------------------


@dataclass(frozen=True)
class ActionDetail:
    """A resolution action with how many rows undoing it puts back."""

    view: ResolutionActionOut
    persons: int
    reports: int
    cases: int
    entities: int


async def action_detail(session: AsyncSession, action_id: uuid.UUID) -> ActionDetail:
    action = await session.get(ResolutionAction, action_id)
    if action is None:
        raise NotFound(detail="No such resolution action")
    undo = action.undo
    return ActionDetail(
        view=curation.action_view(action),
        persons=len(undo.get("persons", {})),
        reports=len(undo.get("reports", {})),
        cases=len(undo.get("cases", {})),
        entities=len(undo.get("entities", {})),
    )
