"""Reading cases and person networks, within the caller's need-to-know.

A report the caller may not read appears at most as "another report, held by agency X", and
only when its TLP is CLEAR, GREEN or AMBER; RED and AMBER_STRICT reports do not appear at all.
A person known to a sender only through such hidden reports was resolved as new for it
(``resolution.resolve_person``): the match is shown to the hidden reports' holders here.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from app.errors import NotFound
from app.matching.scoring import without_values
from app.models.report import RESTRICTED_TLP, Report
from app.pagination import decode_time_cursor, encode_cursor
from app.repositories import reports as report_repo
from app.repositories import resolution as repo
from app.schemas.case import (
    CaseLinkOut,
    CaseOut,
    CaseReport,
    CaseRestrictedMatch,
    CaseSummary,
    NetworkAppearance,
    NetworkAssociate,
    NetworkOut,
)
from app.services.caller import Caller
from app.services.visibility import ACKNOWLEDGEABLE_TLP


async def _visible(
    session: AsyncSession, caller: Caller, reports: Sequence[Report]
) -> set[uuid.UUID]:
    ids = [r.id for r in reports]
    if caller.is_admin:
        return set(ids)
    return await repo.visible_report_ids(session, caller.agency_id, ids)


async def read_case(session: AsyncSession, caller: Caller, case_id: uuid.UUID) -> CaseOut:
    """The case, if the caller may read at least one of its reports (404 otherwise)."""
    live = await repo.live_case_id(session, case_id)
    if live is None:
        raise NotFound(detail="No such case")
    reports = await repo.case_reports(session, live)
    visible = await _visible(session, caller, reports)
    if not visible:
        raise NotFound(detail="No such case")
    codes = await report_repo.agency_codes(session, [r.source_agency_id for r in reports])
    items: list[CaseReport] = []
    for r in reports:
        holder = codes[r.source_agency_id]
        if r.id in visible:
            items.append(
                CaseReport(
                    visible=True,
                    held_by=holder,
                    report_id=r.id,
                    case_type=r.case_type,
                    tlp=r.tlp,
                    status=r.status,
                    region_code=r.region_code,
                    reported_at=r.reported_at,
                )
            )
        elif r.tlp in ACKNOWLEDGEABLE_TLP:
            items.append(CaseReport(visible=False, held_by=holder))
    links = [
        CaseLinkOut(
            report_id=link.report_id,
            linked_report_id=link.linked_report_id,
            kind=link.kind,
            via_entity_id=link.via_entity_id,
            score=link.score,
            reasons=list(link.reasons or []),
        )
        for link in await repo.case_links(session, live)
        if link.report_id in visible
        and (link.linked_report_id is None or link.linked_report_id in visible)
    ]
    case = next(iter(await repo.case_rows(session, [live])))
    held_restricted = [r.id for r in reports if r.id in visible and r.tlp in RESTRICTED_TLP]
    return CaseOut(
        id=live,
        created_at=case.created_at,
        updated_at=case.updated_at,
        reports=items,
        links=links,
        restricted_matches=await _restricted_matches(session, caller, held_restricted),
    )


@dataclass(frozen=True)
class CasePerson:
    """A person of a case as the caller may know them: from the case's reports it may read."""

    entity_id: uuid.UUID | None
    roles: tuple[str, ...]
    names: tuple[str, ...]
    report_ids: tuple[uuid.UUID, ...]


async def case_persons(session: AsyncSession, case: CaseOut) -> list[CasePerson]:
    """The persons named in the reports of ``case`` (as ``read_case`` answered it to the
    caller, so only its readable reports), one entry per resolved person."""
    readable = [r.report_id for r in case.reports if r.visible and r.report_id is not None]
    grouped: dict[object, list[tuple[str, str | None, uuid.UUID]]] = {}
    for person in await repo.persons_of_reports(session, readable):
        key: object = person.entity_id or (person.report_id, person.position)
        grouped.setdefault(key, []).append(
            (person.role, person.features.get("display_name"), person.report_id)
        )
    people = [
        CasePerson(
            entity_id=key if isinstance(key, uuid.UUID) else None,
            roles=tuple(dict.fromkeys(role for role, _, _ in rows)),
            names=tuple(dict.fromkeys(name for _, name, _ in rows if name)),
            report_ids=tuple(dict.fromkeys(report for _, _, report in rows)),
        )
        for key, rows in grouped.items()
    ]
    return sorted(people, key=lambda p: (-len(p.report_ids), p.names[:1]))


async def _restricted_matches(
    session: AsyncSession, caller: Caller, held: Sequence[uuid.UUID]
) -> list[CaseRestrictedMatch]:
    """Reports outside the case probably naming a person of the caller's restricted reports.

    Their senders were answered as if the person were new (they may not see these reports); the
    holders of the restricted reports and analysts see the match, as far as they may see the
    other report: readable, or acknowledgeable (CLEAR, GREEN, AMBER) without its id or values.
    """
    persons = await repo.persons_of_reports(session, held)
    entities = sorted({p.entity_id for p in persons if p.entity_id is not None})
    rows = await repo.open_restricted_matches(session, entities)
    if not rows:
        return []
    ids = [row.report_id for row in rows]
    readable = (
        set(ids)
        if caller.is_admin
        else await repo.visible_report_ids(session, caller.agency_id, ids)
    )
    codes = await report_repo.agency_codes(session, [row.source_agency_id for row in rows])
    shown: list[CaseRestrictedMatch] = []
    for row in rows:
        may_read = row.report_id in readable
        if not may_read and row.tlp not in ACKNOWLEDGEABLE_TLP:
            continue
        reasons = list(row.match.reasons or [])
        shown.append(
            CaseRestrictedMatch(
                held_by=codes[row.source_agency_id],
                report_id=row.report_id if may_read else None,
                via_entity_id=row.match.candidate_entity_id,
                possible_match_id=row.match.id if caller.is_admin else None,
                score=row.match.score,
                reasons=reasons if may_read else without_values(reasons),
            )
        )
    return shown


async def list_cases(
    session: AsyncSession, caller: Caller, *, cursor: str | None, limit: int
) -> tuple[list[CaseSummary], str | None]:
    after = decode_time_cursor(cursor) if cursor else None
    rows = await repo.visible_cases_page(
        session, None if caller.is_admin else caller.agency_id, after=after, limit=limit + 1
    )
    page = list(rows[:limit])
    items = [
        CaseSummary(id=c.id, created_at=c.created_at, updated_at=c.updated_at, visible_reports=n)
        for c, n in page
    ]
    next_cursor = (
        encode_cursor(page[-1][0].updated_at, page[-1][0].id) if len(rows) > limit else None
    )
    return items, next_cursor


async def person_network(session: AsyncSession, caller: Caller, entity_id: uuid.UUID) -> NetworkOut:
    """Reports and co-appearing persons around one person, within what the caller may read."""
    live = await repo.live_entity_id(session, entity_id)
    if live is None:
        raise NotFound(detail="No such person")
    appearances_rows = await repo.entity_persons(session, live)
    reports = {r.id: r for _, r in appearances_rows}
    visible = await _visible(session, caller, list(reports.values()))
    if not visible:
        raise NotFound(detail="No such person")
    codes = await report_repo.agency_codes(session, [r.source_agency_id for r in reports.values()])
    appearances = [
        NetworkAppearance(
            report_id=r.id,
            role=p.role,
            case_id=r.case_id,
            held_by=codes[r.source_agency_id],
            names=[n for n in [p.features.get("display_name")] if n],
        )
        for p, r in appearances_rows
        if r.id in visible
    ]
    associates: dict[uuid.UUID, NetworkAssociate] = {}

    def note(
        person_entity: uuid.UUID, role: str, name: str | None, report_id: uuid.UUID, why: str
    ) -> None:
        entry = associates.get(person_entity)
        if entry is None:
            entry = NetworkAssociate(
                entity_id=person_entity, roles=[], names=[], via_reports=[], shared=[]
            )
            associates[person_entity] = entry
        if role not in entry.roles:
            entry.roles.append(role)
        if name and name not in entry.names:
            entry.names.append(name)
        if report_id not in entry.via_reports:
            entry.via_reports.append(report_id)
        if why not in entry.shared:
            entry.shared.append(why)

    for other in await repo.persons_of_reports(session, sorted(visible)):
        if other.entity_id is None or other.entity_id == live:
            continue
        note(
            other.entity_id,
            other.role,
            other.features.get("display_name"),
            other.report_id,
            "same report",
        )

    phones = sorted({p.phone_e164 for p, r in appearances_rows if p.phone_e164 and r.id in visible})
    sharing = [
        p
        for p in await repo.persons_with_phones(session, phones)
        if p.entity_id not in (None, live)
    ]
    sharing_visible = await repo.visible_report_ids(
        session, caller.agency_id, [p.report_id for p in sharing]
    )
    for other in sharing:
        if caller.is_admin or other.report_id in sharing_visible:
            assert other.entity_id is not None
            note(
                other.entity_id,
                other.role,
                other.features.get("display_name"),
                other.report_id,
                "same phone",
            )
    return NetworkOut(entity_id=live, appearances=appearances, associates=list(associates.values()))
