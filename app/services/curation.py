"""Analysts' corrections of resolution: merge and split entities and cases, review possible matches.

Every action records the previous value of each row it changes, so that undoing it puts back
exactly what was there.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import ARRAY, String, Uuid, bindparam, text
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.orm.util import identity_key

from app.db import add_rows, dialect_name, driver_rows, table_of
from app.errors import Conflict, FieldProblem, InvalidInput, NotFound
from app.models.base import UTCDateTime, utcnow
from app.models.report import Report, ReportPerson
from app.models.resolution import Case, CaseLink, PersonEntity, PossibleMatch, ResolutionAction
from app.pagination import decode_score_cursor, decode_time_cursor, encode_cursor
from app.repositories import resolution as repo
from app.schemas.case import PossibleMatchOut, ResolutionActionOut

#: Roles whose shared person puts two reports into one case; suspects connect cases instead.
CASE_FORMING_ROLES = ("VICTIM", "POTENTIAL_VICTIM", "APPLICANT")

_MODELS: dict[str, tuple[type[Any], str]] = {
    "persons": (ReportPerson, "entity_id"),
    "reports": (Report, "case_id"),
    "links": (CaseLink, "case_id"),
    "entities": (PersonEntity, "merged_into_id"),
    "cases": (Case, "merged_into_id"),
}


class _Changes:
    """Row changes of one action, remembering each row's first previous value."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session
        self.previous: dict[str, dict[str, str | None]] = {name: {} for name in _MODELS}

    async def set(self, kind: str, row_id: uuid.UUID, value: uuid.UUID | None) -> None:
        model, attribute = _MODELS[kind]
        row = await self.session.get(model, row_id)
        if row is None:
            return
        old = getattr(row, attribute)
        self.previous[kind].setdefault(str(row_id), str(old) if old else None)
        setattr(row, attribute, value)

    def undo(self, result: uuid.UUID) -> dict[str, Any]:
        """What an undo of the action puts back, and what the action produced."""
        return {"result": str(result), **{k: v for k, v in self.previous.items() if v}}

    def record(self, kind: str, actor: str, result: uuid.UUID) -> ResolutionAction:
        action = ResolutionAction(kind=kind, actor=actor, undo=self.undo(result))
        self.session.add(action)
        return action


async def _move_case(changes: _Changes, source: uuid.UUID, target: uuid.UUID) -> None:
    for report in await repo.case_reports(changes.session, source):
        await changes.set("reports", report.id, target)
    for link in await repo.case_links(changes.session, source):
        await changes.set("links", link.id, target)
    await changes.set("cases", source, target)


async def _join_cases_sharing(changes: _Changes, entity_id: uuid.UUID) -> None:
    """After persons moved into ``entity_id``: cases now sharing it as a victim become one."""
    await changes.session.flush()
    case_ids = await repo.case_ids_naming(changes.session, entity_id, CASE_FORMING_ROLES)
    for absorbed in case_ids[1:]:
        await _move_case(changes, absorbed, case_ids[0])


async def _live_entity(session: AsyncSession, entity_id: uuid.UUID, pointer: str) -> uuid.UUID:
    entity = await session.get(PersonEntity, entity_id)
    if entity is None or entity.merged_into_id is not None:
        raise InvalidInput(
            detail="No such live person entity",
            errors=[FieldProblem(pointer, "not a live entity", "entity_not_found")],
        )
    return entity_id


async def merge_entities(
    session: AsyncSession, actor: str, source_id: uuid.UUID, target_id: uuid.UUID
) -> ResolutionAction:
    """The two entities are one person: every person of ``source`` joins ``target``."""
    if source_id == target_id:
        raise InvalidInput(
            detail="An entity cannot be merged into itself",
            errors=[FieldProblem("/target_entity_id", "same as source", "same_entity")],
        )
    await _live_entity(session, source_id, "/source_entity_id")
    await _live_entity(session, target_id, "/target_entity_id")
    changes = _Changes(session)
    for person, _report in await repo.entity_persons(session, source_id):
        await changes.set("persons", person.id, target_id)
    await changes.set("entities", source_id, target_id)
    await _join_cases_sharing(changes, target_id)
    action = changes.record("entity.merge", actor, target_id)
    await session.flush()
    return action


async def merge_entities_at_ingest(
    session: AsyncSession, actor: str, source_id: uuid.UUID, target_id: uuid.UUID
) -> None:
    """``merge_entities`` for resolution's own merges (no action object to answer with).

    On PostgreSQL the same rows change and the same action is recorded (a plain row, written
    at the next flush) in two statements sent straight through the driver, where the ORM sends
    about ten (each entity, the persons, their UPDATEs, the cases naming the entity, the
    action). The persons moved are those stored before it, as ``merge_entities`` moves them
    (the rows this ingest has not flushed yet keep the entity they were given); the cases are
    joined once those rows are written. ORM objects of the session that it changed are told
    their new values, as ``merge_entities``' own ``session.get`` would have changed them.
    """
    if dialect_name(session) != "postgresql" or source_id == target_id:
        await merge_entities(session, actor, source_id, target_id)
        return
    changes = _Changes(session)
    [(source_live, target_live, moved)] = await driver_rows(
        session,
        _MERGE_PERSONS,
        {"source": source_id, "target": target_id},
        writes=True,
    )
    if not source_live:
        await _live_entity(session, source_id, "/source_entity_id")  # raises
    if not target_live:
        await _live_entity(session, target_id, "/target_entity_id")  # raises
    for person_id in moved or ():
        changes.previous["persons"][str(person_id)] = str(source_id)
        _tell(session, ReportPerson, person_id, entity_id=target_id)
    changes.previous["entities"][str(source_id)] = None
    _tell(session, PersonEntity, source_id, merged_into_id=target_id)
    await session.flush()
    now = utcnow()
    [(into, reports, links, cases)] = await driver_rows(
        session,
        _JOIN_CASES,
        {"target": target_id, "roles": list(CASE_FORMING_ROLES), "now": now},
        writes=True,
    )
    for kind, rows in (("reports", reports), ("links", links), ("cases", cases)):
        for row_id, old in rows or ():
            changes.previous[kind].setdefault(row_id, old)
            into_id = uuid.UUID(str(into))  # rows moved: there is a case they moved into
            if kind == "reports":
                _tell(session, Report, uuid.UUID(row_id), case_id=into_id, updated_at=now)
            elif kind == "links":
                _tell(session, CaseLink, uuid.UUID(row_id), case_id=into_id)
            else:
                _tell(session, Case, uuid.UUID(row_id), merged_into_id=into_id, updated_at=now)
    add_rows(
        session,
        table_of(ResolutionAction),
        [{"kind": "entity.merge", "actor": actor, "undo": changes.undo(target_id)}],
    )


def _tell(session: AsyncSession, model: type[Any], row_id: uuid.UUID, **values: Any) -> None:
    """Give an object of the session (if it holds one) the values a statement wrote."""
    row = session.sync_session.identity_map.get(identity_key(model, row_id))
    if row is not None:
        for attribute, value in values.items():
            set_committed_value(row, attribute, value)


#: ``merge_entities_at_ingest``'s first statement: both entities live, then the source's
#: persons move to the target and the source points at it (nothing changes otherwise).
_MERGE_PERSONS = text(
    "WITH live AS (SELECT id FROM person_entities"
    " WHERE id IN (:source, :target) AND merged_into_id IS NULL),"
    " ok AS (SELECT count(*) = 2 AS ok FROM live),"
    " moved AS (UPDATE report_persons SET entity_id = :target"
    " WHERE entity_id = :source AND (SELECT ok FROM ok) RETURNING id),"
    " merged AS (UPDATE person_entities SET merged_into_id = :target"
    " WHERE id = :source AND (SELECT ok FROM ok) RETURNING id)"
    " SELECT EXISTS (SELECT 1 FROM live WHERE id = :source),"
    " EXISTS (SELECT 1 FROM live WHERE id = :target), ARRAY(SELECT id FROM moved)"
).bindparams(bindparam("source", type_=Uuid), bindparam("target", type_=Uuid))

#: Its second (``_join_cases_sharing``): the cases of live reports naming the target entity in a
#: case-forming role become the oldest one (``repo.case_ids_naming``' order), their reports,
#: links and rows moved; it answers that case and each moved row's previous value.
_JOIN_CASES = text(
    "WITH naming AS (SELECT r.case_id, min(r.created_at) AS first FROM reports AS r"
    " JOIN report_persons AS p ON p.report_id = r.id"
    " WHERE p.entity_id = :target AND p.role = ANY(:roles) AND r.status != 'RETRACTED'"
    " AND r.case_id IS NOT NULL GROUP BY r.case_id),"
    " ordered AS (SELECT case_id, row_number() OVER (ORDER BY first, case_id) AS n FROM naming),"
    " kept AS (SELECT case_id FROM ordered WHERE n = 1),"
    " absorbed AS (SELECT c.id, c.merged_into_id FROM cases AS c"
    " JOIN ordered AS o ON o.case_id = c.id WHERE o.n > 1),"
    " moved_reports AS (UPDATE reports AS r SET case_id = (SELECT case_id FROM kept),"
    " updated_at = :now FROM absorbed AS a WHERE r.case_id = a.id RETURNING r.id, a.id AS old),"
    " moved_links AS (UPDATE case_links AS l SET case_id = (SELECT case_id FROM kept)"
    " FROM absorbed AS a WHERE l.case_id = a.id RETURNING l.id, a.id AS old),"
    " moved_cases AS (UPDATE cases AS c SET merged_into_id = (SELECT case_id FROM kept),"
    " updated_at = :now FROM absorbed AS a WHERE c.id = a.id"
    " RETURNING c.id, a.merged_into_id AS old)"
    " SELECT (SELECT case_id FROM kept),"
    " (SELECT json_agg(json_build_array(id, old)) FROM moved_reports),"
    " (SELECT json_agg(json_build_array(id, old)) FROM moved_links),"
    " (SELECT json_agg(json_build_array(id, old)) FROM moved_cases)"
).bindparams(
    bindparam("target", type_=Uuid),
    bindparam("roles", type_=ARRAY(String)),
    bindparam("now", type_=UTCDateTime),
)


async def split_entity(
    session: AsyncSession,
    actor: str,
    entity_id: uuid.UUID,
    persons: Sequence[tuple[uuid.UUID, int]],
) -> ResolutionAction:
    """These persons are someone else: they move to a new entity."""
    await _live_entity(session, entity_id, "/entity_id")
    new = PersonEntity()
    session.add(new)
    await session.flush()
    changes = _Changes(session)
    for i, (report_id, index) in enumerate(persons):
        person = await repo.person_at(session, report_id, index)
        if person is None or person.entity_id != entity_id:
            raise InvalidInput(
                detail="A listed person is not part of this entity",
                errors=[
                    FieldProblem(
                        f"/persons/{i}", "not a person of this entity", "person_not_in_entity"
                    )
                ],
            )
        await changes.set("persons", person.id, new.id)
    action = changes.record("entity.split", actor, new.id)
    await session.flush()
    return action


async def _live_case(session: AsyncSession, case_id: uuid.UUID, pointer: str) -> Case:
    case = await session.get(Case, case_id)
    if case is None or case.merged_into_id is not None:
        raise InvalidInput(
            detail="No such live case",
            errors=[FieldProblem(pointer, "not a live case", "case_not_found")],
        )
    return case


async def merge_cases(
    session: AsyncSession, actor: str, source_id: uuid.UUID, target_id: uuid.UUID
) -> ResolutionAction:
    if source_id == target_id:
        raise InvalidInput(
            detail="A case cannot be merged into itself",
            errors=[FieldProblem("/target_case_id", "same as source", "same_case")],
        )
    await _live_case(session, source_id, "/source_case_id")
    await _live_case(session, target_id, "/target_case_id")
    changes = _Changes(session)
    await _move_case(changes, source_id, target_id)
    action = changes.record("case.merge", actor, target_id)
    await session.flush()
    return action


async def split_case(
    session: AsyncSession, actor: str, case_id: uuid.UUID, report_ids: Sequence[uuid.UUID]
) -> ResolutionAction:
    """These reports form a case of their own."""
    await _live_case(session, case_id, "/case_id")
    in_case = {r.id for r in await repo.case_reports(session, case_id)}
    for i, report_id in enumerate(report_ids):
        if report_id not in in_case:
            raise InvalidInput(
                detail="A listed report is not in this case",
                errors=[FieldProblem(f"/report_ids/{i}", "not in this case", "report_not_in_case")],
            )
    if set(report_ids) == in_case:
        raise InvalidInput(
            detail="Splitting every report out of a case leaves it empty",
            errors=[FieldProblem("/report_ids", "leave at least one report", "split_all")],
        )
    new = Case()
    session.add(new)
    await session.flush()
    changes = _Changes(session)
    moving = set(report_ids)
    for report_id in report_ids:
        await changes.set("reports", report_id, new.id)
    for link in await repo.case_links(session, case_id):
        if link.report_id in moving:
            await changes.set("links", link.id, new.id)
    action = changes.record("case.split", actor, new.id)
    await session.flush()
    return action


async def undo(session: AsyncSession, action_id: uuid.UUID) -> ResolutionAction:
    """Put back every value the action changed."""
    action = await session.get(ResolutionAction, action_id)
    if action is None:
        raise NotFound(detail="No such resolution action")
    if action.undone_at is not None:
        raise Conflict(detail="This action was already undone")
    for kind, values in action.undo.items():
        if kind not in _MODELS:
            continue
        model, attribute = _MODELS[kind]
        for row_id, old in values.items():
            row = await session.get(model, uuid.UUID(row_id))
            if row is not None:
                setattr(row, attribute, uuid.UUID(old) if old else None)
    reopened = action.undo.get("match")
    if isinstance(reopened, str):
        match = await session.get(PossibleMatch, uuid.UUID(reopened))
        if match is not None:
            match.status, match.decided_by, match.decided_at = "open", None, None
    action.undone_at = utcnow()
    await session.flush()
    return action


async def review(
    session: AsyncSession, actor: str, match_id: uuid.UUID, decision: str
) -> tuple[PossibleMatch, ResolutionAction | None]:
    """Accept (the person joins the candidate entity) or reject a possible match."""
    match = await session.get(PossibleMatch, match_id)
    if match is None:
        raise NotFound(detail="No such possible match")
    if match.status != "open":
        raise Conflict(detail=f"This possible match was already {match.status}")
    match.status = "accepted" if decision == "accept" else "rejected"
    match.decided_by = actor
    match.decided_at = utcnow()
    action = None
    if decision == "accept":
        target = await repo.live_entity_id(session, match.candidate_entity_id)
        if target is None:
            raise Conflict(detail="The candidate entity no longer exists")
        changes = _Changes(session)
        await changes.set("persons", match.report_person_id, target)
        await _join_cases_sharing(changes, target)
        action = changes.record("match.accept", actor, target)
        # undoing the accept reopens the possible match, so that it can be reviewed again
        action.undo = {**action.undo, "match": str(match.id)}
    await session.flush()
    return match, action


def action_result(action: ResolutionAction) -> uuid.UUID | None:
    result = action.undo.get("result")
    return uuid.UUID(result) if isinstance(result, str) else None


def action_view(action: ResolutionAction) -> ResolutionActionOut:
    """An action as admins see it: what it produced and, for a merge, what it absorbed."""
    # An entity merge may join cases too; merged_ids names what the action is about.
    rows = "entities" if action.kind.startswith("entity.") else "cases"
    absorbed = action.undo.get(rows, {})
    return ResolutionActionOut(
        id=action.id,
        kind=action.kind,
        actor=action.actor,
        created_at=action.created_at,
        undone_at=action.undone_at,
        result_id=action_result(action),
        merged_ids=(
            [uuid.UUID(row) for row, old in absorbed.items() if old is None]
            if action.kind.endswith(".merge")
            else []
        ),
    )


async def list_actions(
    session: AsyncSession,
    *,
    actor: str | None,
    kind: str | None,
    cursor: str | None,
    limit: int,
) -> tuple[list[ResolutionActionOut], str | None]:
    """Merges, splits and accepted matches, newest first, a page at a time."""
    rows = await repo.resolution_actions(
        session,
        actor=actor,
        kind=kind,
        before=decode_time_cursor(cursor) if cursor else None,
        limit=limit + 1,
    )
    page = rows[:limit]
    last = page[-1] if page else None
    next_cursor = encode_cursor(last.created_at, last.id) if last and len(rows) > limit else None
    return [action_view(a) for a in page], next_cursor


def _match_view(match: PossibleMatch, person: ReportPerson) -> PossibleMatchOut:
    return PossibleMatchOut(
        id=match.id,
        report_id=person.report_id,
        person_index=person.position,
        person_entity_id=person.entity_id,
        candidate_entity_id=match.candidate_entity_id,
        score=match.score,
        reasons=list(match.reasons or []),
        status=match.status,
        restricted=match.restricted,
        created_at=match.created_at,
    )


async def possible_match_view(session: AsyncSession, match: PossibleMatch) -> PossibleMatchOut:
    return _match_view(match, await repo.person_by_id(session, match.report_person_id))


async def list_possible_matches(
    session: AsyncSession,
    status: str | None,
    *,
    cursor: str | None,
    limit: int,
    order: str = "oldest",
) -> tuple[list[PossibleMatchOut], str | None]:
    """Possible matches a page at a time: in the order they were found (``oldest``), ``newest``
    first, or highest ``score`` first."""
    after: tuple[datetime | float, uuid.UUID] | None = None
    if cursor:
        after = decode_score_cursor(cursor) if order == "score" else decode_time_cursor(cursor)
    rows = await repo.possible_matches(session, status, after=after, limit=limit + 1, order=order)
    page = rows[:limit]
    last = page[-1][0] if page else None
    next_cursor = None
    if last is not None and len(rows) > limit:
        next_cursor = encode_cursor(last.score if order == "score" else last.created_at, last.id)
    return [_match_view(m, p) for m, p in page], next_cursor
