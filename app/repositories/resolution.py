"""Queries of person resolution: candidates by blocking key, entities, cases and their links."""

from __future__ import annotations

import functools
import hashlib
import uuid
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any, NamedTuple, TypeVar

from sqlalchemy import (
    ARRAY,
    Boolean,
    ColumnElement,
    Integer,
    Select,
    String,
    Uuid,
    and_,
    any_,
    bindparam,
    case,
    cast,
    exists,
    false,
    func,
    literal,
    literal_column,
    null,
    or_,
    select,
    text,
    union_all,
    update,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import BindParameter

from app.db import add_rows, dialect_name, driver_rows, table_of
from app.matching.scoring import (
    IDENTIFIER_KEY_PREFIXES,
    MAX_CANDIDATES,
    NAME_FREQUENCY_CAP,
    WEAK_KEY_LIMIT,
    is_weak_key,
)
from app.models.base import UTCDateTime, utcnow
from app.models.report import (
    RESTRICTED_TLP,
    Report,
    ReportPerson,
    ReportRecipient,
    ReportStatus,
)
from app.models.resolution import (
    Case,
    CaseLink,
    PersonEntity,
    PersonKey,
    PossibleMatch,
    ReclusterPass,
    ResolutionAction,
)
from app.models.watch import WatchKey

T = TypeVar("T")
#: Values per ``IN (…)`` list: well under the 32,767 bind parameters of one PostgreSQL statement.
_IN_CHUNK = 5_000


def _chunks(items: Sequence[T], size: int = _IN_CHUNK) -> Iterable[Sequence[T]]:
    return (items[i : i + size] for i in range(0, len(items), size))


def _lock_id(key: str) -> int:
    return int.from_bytes(hashlib.sha256(key.encode()).digest()[:8], "big", signed=True)


def lock_ids(keys: Iterable[str]) -> list[int]:
    """The advisory lock ids of blocking keys, each once, in the one global order every
    transaction takes them in (sorted): ``lock_keys``, or a report's claim
    (``reports.insert_new``)."""
    return sorted({_lock_id(k) for k in keys})


#: Takes the advisory locks of an array of ids (``lock_ids``) in one statement: ``unnest()``
#: yields the array in its (sorted) order, so every transaction takes its locks in the same
#: global order and none waits on another in a cycle. Built once per process.
LOCK_IDS_SQL = "SELECT count(pg_advisory_xact_lock(k)) FROM unnest(CAST(:ids AS bigint[])) AS k"
_LOCK_IDS = text(LOCK_IDS_SQL)


async def lock_keys(session: AsyncSession, keys: Iterable[str]) -> None:
    """Serialize resolution of persons that share a blocking key (PostgreSQL advisory locks).

    Two reports about the same new person arriving at once then resolve one after the other and
    end in one entity. SQLite needs nothing: its transactions already take the write lock.
    """
    if dialect_name(session) != "postgresql":
        return
    locks = lock_ids(keys)
    if not locks:
        return
    # One round trip for all keys, in their global order.
    await session.execute(_LOCK_IDS, {"ids": locks})


_PG_KEY_COUNTS = text(
    "SELECT k.key, (SELECT count(*) FROM (SELECT 1 FROM person_keys AS p WHERE p.key = k.key"
    " LIMIT k.cap) AS held) FROM unnest(CAST(:keys AS varchar[]), CAST(:caps AS integer[]))"
    " AS k(key, cap)"
)


async def key_counts(session: AsyncSession, caps: Mapping[str, int]) -> dict[str, int]:
    """How many stored persons hold each key, each counted up to its cap, in one statement.

    Each count reads at most its cap of index entries, so the cost stays bounded however many
    persons a common name gathers.
    """
    if not caps:
        return {}
    if dialect_name(session) == "postgresql":
        # One statement text whatever the number of keys: prepared once per connection, and no
        # per-call SQL compilation of a UNION of subqueries.
        rows = await driver_rows(
            session, _PG_KEY_COUNTS, {"keys": list(caps), "caps": list(caps.values())}
        )
        return {key: int(held) for key, held in rows}
    counts = [
        select(
            literal(key, String).label("key"),
            select(func.count())
            .select_from(
                select(PersonKey.report_person_id).where(PersonKey.key == key).limit(cap).subquery()
            )
            .scalar_subquery()
            .label("held"),
        )
        for key, cap in caps.items()
    ]
    found: dict[str, int] = {}
    # SQLite joins at most 500 SELECTs in one compound statement (a recluster batch asks more).
    for chunk in _chunks(counts, 400):
        query = chunk[0] if len(chunk) == 1 else union_all(*chunk)
        found.update((key, int(held)) for key, held in (await session.execute(query)).all())
    return found


def usable_keys(keys: Sequence[str], counts: Mapping[str, int]) -> list[str]:
    """The keys worth a lookup: every strong key, and weak (name-only) keys still selective.

    A weak key shared by more than ``WEAK_KEY_LIMIT`` stored persons (a common name with a
    birth year) is skipped, so one lookup stays bounded however large the store grows.
    """
    return [k for k in keys if not is_weak_key(k) or counts.get(k, 0) <= WEAK_KEY_LIMIT]


class Found(NamedTuple):
    """Candidates of one person, and how many stored persons bear each of its names."""

    rows: Sequence[tuple[uuid.UUID, uuid.UUID, dict[str, Any], bool]]
    """(report person id, entity id, features, hidden) of each candidate; ``hidden``: its
    report is RED or AMBER_STRICT and the viewer is neither its source nor a recipient."""
    name_counts: dict[str, int]
    """Stored persons bearing each name, by ``name_frequency_key`` (see ``compare``)."""
    watched: bool | None = None
    """Whether a watch holds a blocking key of any person looked up with this one (the
    statement's own probe, PostgreSQL); None: not asked (``watches.collect_hits`` asks)."""


def hidden_from(
    agency_id: uuid.UUID | BindParameter[uuid.UUID] | None, *, of_person: bool = False
) -> ColumnElement[bool]:
    """True for a report the agency may neither read nor be told of (RED, AMBER_STRICT).

    ``None`` (an admin) is hidden nothing. The agency may be a parameter of a held statement.
    ``of_person``: the report of a ``ReportPerson`` row, from the person's copy of its TLP and
    source, without reading the report's row.
    """
    if agency_id is None:
        return false()
    report_id, tlp, source = (
        (ReportPerson.report_id, ReportPerson.report_tlp, ReportPerson.report_source_agency_id)
        if of_person
        else (Report.id, Report.tlp, Report.source_agency_id)
    )
    routed = exists().where(
        ReportRecipient.report_id == report_id, ReportRecipient.agency_id == agency_id
    )
    return and_(tlp.in_(sorted(RESTRICTED_TLP)), source != agency_id, ~routed)


async def candidates(
    session: AsyncSession,
    keys: Sequence[str],
    name_keys: Sequence[str],
    *,
    exclude_report_id: uuid.UUID | None,
    viewer: uuid.UUID | None,
) -> Found:
    """``candidates_of_persons`` for one person (screening asks person by person)."""
    [found] = await candidates_of_persons(
        session, [(keys, name_keys)], exclude_report_id=exclude_report_id, viewer=viewer
    )
    return found


async def candidates_of_persons(
    session: AsyncSession,
    persons: Sequence[tuple[Sequence[str], Sequence[str]]],
    *,
    exclude_report_id: uuid.UUID | None,
    viewer: uuid.UUID | None,
) -> list[Found]:
    """For each person: stored persons sharing a usable blocking key (bounded), and how many
    bear each of its name keys.

    ``persons`` gives each person's blocking keys and name-frequency keys (both from
    ``app.matching``: the caller computes them, the store only looks them up).

    Two statements for all the persons of a report: the counts of the crowd-prone keys, then
    every person's candidates. Holders of an identifier key come first, so a common name can
    never crowd a NIK match out of the ``MAX_CANDIDATES`` bound (per person). Persons of
    retracted reports are never candidates; ``exclude_report_id`` leaves out the report being
    resolved (None when screening); ``viewer`` is the agency the answer is for (None: an
    admin), each row says if it is hidden from it.
    """
    wanted_caps = [_caps_of(keys, name_keys) for keys, name_keys in persons]
    if dialect_name(session) == "postgresql":
        return await _candidates_in_one_statement(
            session, persons, wanted_caps, exclude_report_id, viewer
        )
    return await _candidates_in_two_statements(
        session, persons, wanted_caps, exclude_report_id, viewer
    )


def _caps_of(keys: Sequence[str], name_keys: Sequence[str]) -> dict[str, int]:
    """Up to how many holders each of a person's keys is counted: its weak keys (to tell if
    they are usable, ``usable_keys``) and its names (``Found.name_counts``)."""
    caps = {k: WEAK_KEY_LIMIT + 1 for k in keys if is_weak_key(k)}
    caps.update((k, NAME_FREQUENCY_CAP) for k in name_keys)
    return caps


def _name_counts(
    name_keys: Sequence[str], caps: Mapping[str, int], counted: Mapping[str, int]
) -> dict[str, int]:
    # each key counted up to this person's own cap, as if counted for it alone
    return {k: min(counted.get(k, 0), caps[k]) for k in name_keys}


async def _candidates_in_two_statements(
    session: AsyncSession,
    persons: Sequence[tuple[Sequence[str], Sequence[str]]],
    wanted_caps: Sequence[dict[str, int]],
    exclude_report_id: uuid.UUID | None,
    viewer: uuid.UUID | None,
) -> list[Found]:
    """The key counts, ``usable_keys`` applied in Python, then the candidates of the keys kept."""
    caps: dict[str, int] = {}
    for mine in wanted_caps:
        for key, cap in mine.items():
            caps[key] = max(caps.get(key, 0), cap)
    counted = await key_counts(session, caps)
    wanted: list[tuple[int, str, bool]] = []
    name_counts: list[dict[str, int]] = []
    for index, ((keys, name_keys), mine) in enumerate(zip(persons, wanted_caps, strict=True)):
        counts = {k: min(counted.get(k, 0), cap) for k, cap in mine.items()}
        name_counts.append(_name_counts(name_keys, mine, counted))
        wanted += [
            (index, k, k.startswith(IDENTIFIER_KEY_PREFIXES)) for k in usable_keys(keys, counts)
        ]
    rows: list[list[tuple[uuid.UUID, uuid.UUID, dict[str, Any], bool]]] = [[] for _ in persons]
    if wanted:
        query, params = _ranked_candidates(session, wanted, exclude_report_id, viewer)
        for index, pid, eid, feats, hidden in await driver_rows(session, query, params):
            if eid is not None and feats:
                rows[index].append((pid, eid, feats, bool(hidden)))
    return [Found(r, n) for r, n in zip(rows, name_counts, strict=True)]


async def _candidates_in_one_statement(
    session: AsyncSession,
    persons: Sequence[tuple[Sequence[str], Sequence[str]]],
    wanted_caps: Sequence[dict[str, int]],
    exclude_report_id: uuid.UUID | None,
    viewer: uuid.UUID | None,
) -> list[Found]:
    """``_candidates_in_two_statements`` in one round trip (PostgreSQL): the statement counts
    the keys, keeps the usable ones by ``usable_keys``' rule (a weak key held by at most
    ``WEAK_KEY_LIMIT`` persons, as counted for this person) and ranks their holders; the
    counts come back as rows of their own (``person`` NULL) beside the candidates."""
    person: list[int] = []
    key: list[str] = []
    cap: list[int] = []
    weak: list[bool] = []
    identifier: list[bool] = []
    blocking: list[bool] = []
    for index, ((keys, name_keys), mine) in enumerate(zip(persons, wanted_caps, strict=True)):
        # every blocking key as ``usable_keys`` sees it, then the names counted only
        for k, is_blocking in [*((k, True) for k in keys), *((k, False) for k in name_keys)]:
            person.append(index)
            key.append(k)
            cap.append(mine.get(k, 0))
            weak.append(is_weak_key(k))
            identifier.append(k.startswith(IDENTIFIER_KEY_PREFIXES))
            blocking.append(is_blocking)
    params: dict[str, Any] = {
        "viewer": viewer,
        "exclude_report_id": exclude_report_id,
        "w_person": person,
        "w_key": key,
        "w_cap": cap,
        "w_weak": weak,
        "w_identifier": identifier,
        "w_blocking": blocking,
        "weak_limit": WEAK_KEY_LIMIT,
    }
    query = _held_counted_query(viewer is not None, exclude_report_id is not None)
    counted: dict[str, int] = {}
    watched = False
    rows: list[list[tuple[uuid.UUID, uuid.UUID, dict[str, Any], bool]]] = [[] for _ in persons]
    for index, pid, eid, feats, hidden, counted_key, held in await driver_rows(
        session, query, params
    ):
        if index is None:
            if counted_key is None:
                watched = bool(held)
            else:
                counted[counted_key] = int(held)
        elif eid is not None and feats:
            rows[index].append((pid, eid, feats, bool(hidden)))
    return [
        Found(r, _name_counts(name_keys, mine, counted), watched)
        for r, (_keys, name_keys), mine in zip(rows, persons, wanted_caps, strict=True)
    ]


@functools.cache
def _held_counted_query(by_viewer: bool, excluding: bool) -> Any:
    """``_candidates_in_one_statement``'s statement for one shape, built once per process."""
    wanted = select(
        func.unnest(
            bindparam("w_person", type_=ARRAY(Integer)),
            bindparam("w_key", type_=ARRAY(String)),
            bindparam("w_cap", type_=ARRAY(Integer)),
            bindparam("w_weak", type_=ARRAY(Boolean)),
            bindparam("w_identifier", type_=ARRAY(Boolean)),
            bindparam("w_blocking", type_=ARRAY(Boolean)),
        )
        .table_valued("person", "key", "cap", "weak", "identifier", "blocking")
        .render_derived(name="w")
    ).cte("wanted")
    caps = (
        select(wanted.c.key, func.max(wanted.c.cap).label("cap"))
        .where(wanted.c.cap > 0)
        .group_by(wanted.c.key)
        .subquery("caps")
    )
    # each key's holders read from the index up to its largest cap, as ``key_counts`` does
    held = (
        select(func.count())
        .select_from(
            select(literal_column("1"))
            .where(PersonKey.key == caps.c.key)
            .limit(caps.c.cap)
            .correlate(caps)
            .subquery("held")
        )
        .scalar_subquery()
    )
    counted = select(caps.c.key, held.label("held")).cte("counted")
    weak_limit = bindparam("weak_limit", type_=Integer)
    usable = (
        select(wanted.c.person, wanted.c.key, wanted.c.identifier)
        .join_from(wanted, counted, counted.c.key == wanted.c.key, isouter=True)
        .where(
            wanted.c.blocking,
            or_(
                ~wanted.c.weak,
                func.least(func.coalesce(counted.c.held, 0), wanted.c.cap) <= weak_limit,
            ),
        )
        .subquery("usable")
    )
    candidates = _ranked_query(usable, by_viewer, excluding, with_counts=True)
    counts = select(
        cast(null(), Integer).label("person"),
        cast(null(), Uuid).label("id"),
        cast(null(), Uuid).label("entity_id"),
        cast(null(), ReportPerson.features.type).label("features"),
        cast(null(), Boolean).label("hidden"),
        counted.c.key,
        counted.c.held,
        cast(null(), Integer).label("rank"),
    )
    # whether a watch holds any blocking key (``watches.any_sharing_keys``' probe, in this
    # round trip): a row with no key, its count 0 or 1
    watch_probe = select(
        *counts.selected_columns[:5],
        cast(null(), String).label("key"),
        select(func.count())
        .select_from(
            select(WatchKey.watch_id)
            .where(WatchKey.key.in_(select(wanted.c.key).where(wanted.c.blocking)))
            .limit(1)
            .subquery("watching")
        )
        .scalar_subquery()
        .label("held"),
        cast(null(), Integer).label("rank"),
    )
    both = union_all(candidates, counts, watch_probe).subquery("found")
    return select(*[c for c in both.c if c.key != "rank"]).order_by(both.c.person, both.c.rank)


def _ranked_candidates(
    session: AsyncSession,
    wanted: Sequence[tuple[int, str, bool]],
    exclude_report_id: uuid.UUID | None,
    viewer: uuid.UUID | None,
) -> tuple[Select[Any], dict[str, Any]]:
    """Each person's best ``MAX_CANDIDATES`` holders of its ``wanted`` keys (person index,
    key, identifier key?), ranked as ``matching.rank_candidates`` ranks them: holders of an
    identifier key first, then those sharing the most keys; the index is read once.

    The statement and its parameters. On PostgreSQL the wanted keys are three arrays, so the
    statement is the same for every report: it is built once per shape and held (building it
    costs more than running it), and each connection prepares it once.
    """
    params: dict[str, Any] = {"viewer": viewer, "exclude_report_id": exclude_report_id}
    if dialect_name(session) == "postgresql":
        params.update(
            wanted_person=[w[0] for w in wanted],
            wanted_key=[w[1] for w in wanted],
            wanted_identifier=[w[2] for w in wanted],
        )
        return _held_ranked_query(viewer is not None, exclude_report_id is not None), params
    # SQLite names no columns of a VALUES list: one SELECT per wanted key
    rows = [
        select(
            literal(person, Integer).label("person"),
            literal(key, String).label("key"),
            literal(identifier, Boolean).label("identifier"),
        )
        for person, key, identifier in wanted
    ]
    wanted_keys = (rows[0] if len(rows) == 1 else union_all(*rows)).subquery("wanted")
    return _ranked_query(wanted_keys, viewer is not None, exclude_report_id is not None), params


@functools.cache
def _held_ranked_query(by_viewer: bool, excluding: bool) -> Select[Any]:
    """PostgreSQL's candidate statement for one shape (a viewer or not, a report left out or
    not), built once per process."""
    wanted_keys = (
        func.unnest(
            bindparam("wanted_person", type_=ARRAY(Integer)),
            bindparam("wanted_key", type_=ARRAY(String)),
            bindparam("wanted_identifier", type_=ARRAY(Boolean)),
        )
        .table_valued("person", "key", "identifier")
        .render_derived(name="wanted")
    )
    return _ranked_query(wanted_keys, by_viewer, excluding)


def _ranked_query(
    wanted_keys: Any, by_viewer: bool, excluding: bool, *, with_counts: bool = False
) -> Select[Any]:
    """Each wanted person's best holders of its keys, in rank order; ``with_counts``: each row
    also carries an empty key and count and its rank, unordered (``_held_counted_query`` adds
    the count rows and orders the whole)."""
    by_identifier = func.max(case((wanted_keys.c.identifier, 1), else_=0))
    ranked = (
        select(
            wanted_keys.c.person,
            PersonKey.report_person_id,
            func.row_number()
            .over(
                partition_by=wanted_keys.c.person,
                order_by=(by_identifier.desc(), func.count().desc(), PersonKey.report_person_id),
            )
            .label("rank"),
        )
        .join_from(wanted_keys, PersonKey, PersonKey.key == wanted_keys.c.key)
        .group_by(wanted_keys.c.person, PersonKey.report_person_id)
        .subquery("ranked")
    )
    viewer = bindparam("viewer", type_=Uuid) if by_viewer else None
    query = (
        select(
            ranked.c.person,
            ReportPerson.id,
            ReportPerson.entity_id,
            ReportPerson.features,
            hidden_from(viewer, of_person=True).label("hidden"),
            *(
                (
                    cast(null(), String).label("key"),
                    cast(null(), Integer).label("held"),
                    ranked.c.rank,
                )
                if with_counts
                else ()
            ),
        )
        # the report's status, TLP and source from the person's copy: no report row is read
        .join_from(ranked, ReportPerson, ReportPerson.id == ranked.c.report_person_id)
        .where(
            ranked.c.rank <= MAX_CANDIDATES,
            ReportPerson.report_status != ReportStatus.RETRACTED,
            ReportPerson.entity_id.is_not(None),
        )
    )
    if not with_counts:
        query = query.order_by(ranked.c.person, ranked.c.rank)
    if excluding:
        query = query.where(ReportPerson.report_id != bindparam("exclude_report_id", type_=Uuid))
    return query


async def entity_niks(
    session: AsyncSession, entity_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, list[str]]:
    """The NIK of every person of these entities that carries one, by entity."""
    if not entity_ids:
        return {}
    query = select(ReportPerson.entity_id, ReportPerson.nik).where(
        ReportPerson.entity_id.in_(entity_ids), ReportPerson.nik.is_not(None)
    )
    held: dict[uuid.UUID, list[str]] = {e: [] for e in entity_ids}
    for entity_id, nik in (await session.execute(query)).all():
        if entity_id is not None and nik is not None:
            held.setdefault(entity_id, []).append(nik)
    return held


def add_keys(session: AsyncSession, report_person_id: uuid.UUID, keys: Iterable[str]) -> None:
    """A person's blocking keys, written at the next flush (one multi-row INSERT, no objects)."""
    add_rows(
        session,
        table_of(PersonKey),
        [{"key": k, "report_person_id": report_person_id} for k in dict.fromkeys(keys)],
    )


def add_entity(session: AsyncSession, entity_id: uuid.UUID) -> None:
    """A new person entity, written at the next flush as a plain row."""
    add_rows(
        session,
        table_of(PersonEntity),
        [{"id": entity_id, "created_at": utcnow(), "merged_into_id": None}],
    )


def add_person(session: AsyncSession, person: ReportPerson) -> None:
    """A report person (an object never added to the session, every column set), written at
    the next flush as a plain row: ingest answers from the object, nothing reads it back."""
    table = table_of(ReportPerson)
    add_rows(session, table, [{c.key: getattr(person, c.key) for c in table.columns}])


def add_possible_match(
    session: AsyncSession,
    report_person_id: uuid.UUID,
    candidate_entity_id: uuid.UUID,
    score: float,
    reasons: list[str],
    *,
    restricted: bool,
) -> None:
    """A pair for analysts to decide, written at the next flush as a plain row."""
    add_rows(
        session,
        table_of(PossibleMatch),
        [
            {
                "id": uuid.uuid4(),
                "report_person_id": report_person_id,
                "candidate_entity_id": candidate_entity_id,
                "score": score,
                "reasons": reasons,
                "status": "open",
                "restricted": restricted,
                "decided_by": None,
                "decided_at": None,
                "created_at": utcnow(),
            }
        ],
    )


def add_case_link(
    session: AsyncSession,
    case_id: uuid.UUID,
    report_id: uuid.UUID,
    *,
    kind: str,
    reasons: list[str],
    linked_report_id: uuid.UUID | None = None,
    via_entity_id: uuid.UUID | None = None,
    score: float | None = None,
) -> None:
    """Why a report is in its case, written at the next flush as a plain row."""
    add_rows(
        session,
        table_of(CaseLink),
        [
            {
                "id": uuid.uuid4(),
                "case_id": case_id,
                "report_id": report_id,
                "linked_report_id": linked_report_id,
                "via_entity_id": via_entity_id,
                "kind": kind,
                "score": score,
                "reasons": reasons,
                "created_at": utcnow(),
            }
        ],
    )


async def put_in_case(
    session: AsyncSession,
    report_id: uuid.UUID,
    case_id: uuid.UUID,
    *,
    new_case: bool,
    absorbed: Sequence[uuid.UUID] = (),
    dropped: uuid.UUID | None = None,
) -> None:
    """The report joins ``case_id``: a case opened for it (``new_case``), or a stored one that
    grew (its ``updated_at`` moves it up in /v1/cases); ``absorbed`` cases point at it from now;
    ``dropped``: the case the report was stored with, deleted (nothing else is in it).

    On PostgreSQL the case's row and the report's ``case_id`` are one statement (the case
    written in a CTE), sent straight through the driver; no ORM object is loaded or tracked.
    """
    now = utcnow()
    if absorbed:
        await session.execute(
            update(Case)
            .where(Case.id.in_(absorbed))
            .values(merged_into_id=case_id, updated_at=now)
            .execution_options(synchronize_session=False)
        )
    if dialect_name(session) == "postgresql":
        params = {"case_id": case_id, "report_id": report_id, "now": now}
        if dropped is not None:
            params["dropped"] = dropped
        await driver_rows(
            session,
            _case_and_report(new_case=new_case, dropped=dropped is not None),
            params,
            writes=True,
        )
        return
    cases = table_of(Case)
    if new_case:
        await session.execute(cases.insert().values(id=case_id, created_at=now, updated_at=now))
    else:
        await session.execute(cases.update().where(cases.c.id == case_id).values(updated_at=now))
    reports = table_of(Report)
    # its updated_at as it was (not the column's onupdate): what the answer and the deliveries
    # show, as on PostgreSQL
    await session.execute(
        reports.update()
        .where(reports.c.id == report_id)
        .values(case_id=case_id, updated_at=reports.c.updated_at)
    )
    if dropped is not None:
        await session.execute(cases.delete().where(cases.c.id == dropped))


@functools.cache
def _case_and_report(*, new_case: bool, dropped: bool) -> Any:
    """``put_in_case``'s one statement on PostgreSQL (built once per process)."""
    case_row = (
        "INSERT INTO cases (id, created_at, updated_at, merged_into_id) "
        "VALUES (:case_id, :now, :now, NULL)"
        if new_case
        else "UPDATE cases SET updated_at = :now WHERE id = :case_id"
    )
    # the report's foreign key is checked at the statement's end, once it left the case
    drop = ", d AS (DELETE FROM cases WHERE id = :dropped)" if dropped else ""
    binds = [
        bindparam("case_id", type_=Uuid),
        bindparam("report_id", type_=Uuid),
        bindparam("now", type_=UTCDateTime),
    ]
    if dropped:
        binds.append(bindparam("dropped", type_=Uuid))
    return text(
        f"WITH c AS ({case_row}){drop} "  # noqa: S608 - fixed text, values are parameters
        "UPDATE reports SET case_id = :case_id WHERE id = :report_id"
    ).bindparams(*binds)


async def cases_of_entities(
    session: AsyncSession,
    entity_ids: Sequence[uuid.UUID],
    roles: Sequence[str],
    *,
    exclude_report_id: uuid.UUID,
    viewer: uuid.UUID | None,
) -> Sequence[tuple[uuid.UUID, uuid.UUID, uuid.UUID, uuid.UUID]]:
    """(case id, report id, entity id, the report's source agency) of other live reports naming
    these entities in ``roles``, leaving out the reports hidden from ``viewer`` (see
    ``hidden_from``). The agency comes along so that telling the case's holders needs no query
    of its own."""
    if not entity_ids:
        return []
    params: dict[str, Any] = {"exclude_report_id": exclude_report_id, "viewer": viewer}
    if dialect_name(session) == "postgresql":
        # One statement text per number of entities (one, nearly always): each connection
        # prepares it once, and PostgreSQL then runs its generic plan instead of planning
        # every call (see ``_held_cases_query``).
        query = _held_cases_query(tuple(roles), viewer is not None, len(entity_ids))
        params.update((f"entity_{i}", e) for i, e in enumerate(entity_ids))
    else:
        query = _cases_query(ReportPerson.entity_id.in_(entity_ids), roles, viewer is not None)
    rows = await driver_rows(session, query, params)
    return [(c, r, e, a) for c, r, e, a in rows if c is not None and e is not None]


_CasesQuery = Select[uuid.UUID | None, uuid.UUID, uuid.UUID | None, uuid.UUID]


@functools.lru_cache(maxsize=32)
def _held_cases_query(roles: tuple[str, ...], by_viewer: bool, entities: int) -> _CasesQuery:
    """PostgreSQL's ``cases_of_entities`` statement for one shape and number of entities,
    built once per process.

    Each entity is a parameter of its own and the roles and status are written into the text:
    PostgreSQL then estimates its generic plan as it does a planned one and keeps it. With an
    array of entities (estimated at ten) and the constants as parameters it planned every call
    anew: 0.2-0.4 ms of planning for 0.02-0.04 ms of execution, 100,000 stored persons.
    """
    return _cases_query(
        ReportPerson.entity_id.in_([bindparam(f"entity_{i}", type_=Uuid) for i in range(entities)]),
        roles,
        by_viewer,
        constants_in_text=True,
    )


def _cases_query(
    among: ColumnElement[bool],
    roles: Sequence[str],
    by_viewer: bool,
    *,
    constants_in_text: bool = False,
) -> _CasesQuery:
    viewer = bindparam("viewer", type_=Uuid) if by_viewer else None
    return (
        select(Report.case_id, Report.id, ReportPerson.entity_id, Report.source_agency_id)
        .join(ReportPerson, ReportPerson.report_id == Report.id)
        .where(
            among,
            ReportPerson.role.in_(
                bindparam("roles", list(roles), expanding=True, literal_execute=constants_in_text)
            ),
            Report.status
            != bindparam(
                "retracted", ReportStatus.RETRACTED.value, literal_execute=constants_in_text
            ),
            Report.id != bindparam("exclude_report_id", type_=Uuid),
            Report.case_id.is_not(None),
            ~hidden_from(viewer),
        )
        .order_by(Report.created_at)
    )


async def move_case(
    session: AsyncSession, from_case: uuid.UUID, to_case: uuid.UUID
) -> tuple[list[uuid.UUID], list[uuid.UUID]]:
    """Move every report and link of one case into another; the moved report and link ids."""
    reports = await session.execute(
        update(Report)
        .where(Report.case_id == from_case)
        .values(case_id=to_case)
        .returning(Report.id)
        .execution_options(synchronize_session="fetch")
    )
    moved = list(reports.scalars().all())
    links = await session.execute(
        update(CaseLink)
        .where(CaseLink.case_id == from_case)
        .values(case_id=to_case)
        .returning(CaseLink.id)
        .execution_options(synchronize_session="fetch")
    )
    return moved, list(links.scalars().all())


async def _follow_merges(
    session: AsyncSession, model: type[Case] | type[PersonEntity], row_id: uuid.UUID
) -> uuid.UUID | None:
    """The row itself, or the one it was merged into (following the chain); None if absent."""
    current = row_id
    for _ in range(32):
        row = (
            await session.execute(select(model.id, model.merged_into_id).where(model.id == current))
        ).first()
        if row is None:
            return None
        if row.merged_into_id is None:
            return current
        current = row.merged_into_id
    return current


async def live_case_id(session: AsyncSession, case_id: uuid.UUID) -> uuid.UUID | None:
    return await _follow_merges(session, Case, case_id)


async def live_entity_id(session: AsyncSession, entity_id: uuid.UUID) -> uuid.UUID | None:
    return await _follow_merges(session, PersonEntity, entity_id)


async def case_reports(session: AsyncSession, case_id: uuid.UUID) -> Sequence[Report]:
    query = select(Report).where(Report.case_id == case_id).order_by(Report.created_at, Report.id)
    return (await session.execute(query)).scalars().all()


async def case_links(session: AsyncSession, case_id: uuid.UUID) -> Sequence[CaseLink]:
    query = select(CaseLink).where(CaseLink.case_id == case_id).order_by(CaseLink.created_at)
    return (await session.execute(query)).scalars().all()


async def visible_report_ids(
    session: AsyncSession, agency_id: uuid.UUID, report_ids: Sequence[uuid.UUID]
) -> set[uuid.UUID]:
    """Which of these reports the agency submitted or was routed."""
    if not report_ids:
        return set()
    own = select(Report.id).where(Report.id.in_(report_ids), Report.source_agency_id == agency_id)
    routed = select(ReportRecipient.report_id).where(
        ReportRecipient.report_id.in_(report_ids), ReportRecipient.agency_id == agency_id
    )
    rows = await session.execute(own.union(routed))
    return set(rows.scalars().all())


async def visible_cases_page(
    session: AsyncSession,
    agency_id: uuid.UUID | None,
    *,
    after: tuple[datetime, uuid.UUID] | None,
    limit: int,
) -> Sequence[tuple[Case, int]]:
    """Live cases with at least one report the agency may see (all for admins), with that count."""
    visible = select(Report.id, Report.case_id)
    if agency_id is not None:
        routed = exists().where(
            ReportRecipient.report_id == Report.id, ReportRecipient.agency_id == agency_id
        )
        visible = visible.where(or_(Report.source_agency_id == agency_id, routed))
    sub = visible.subquery()
    query = (
        select(Case, func.count(sub.c.id))
        .join(sub, sub.c.case_id == Case.id)
        .where(Case.merged_into_id.is_(None))
        .group_by(Case.id)
    )
    if after:
        at, last = after
        query = query.where(or_(Case.updated_at > at, and_(Case.updated_at == at, Case.id > last)))
    query = query.order_by(Case.updated_at, Case.id).limit(limit)
    return [(case, count) for case, count in (await session.execute(query)).all()]


async def entity_persons(
    session: AsyncSession, entity_id: uuid.UUID
) -> Sequence[tuple[ReportPerson, Report]]:
    query = (
        select(ReportPerson, Report)
        .join(Report, Report.id == ReportPerson.report_id)
        .where(ReportPerson.entity_id == entity_id)
        .order_by(Report.created_at, ReportPerson.position)
    )
    return [(p, r) for p, r in (await session.execute(query)).all()]


async def persons_of_reports(
    session: AsyncSession, report_ids: Sequence[uuid.UUID]
) -> Sequence[ReportPerson]:
    if not report_ids:
        return []
    query = select(ReportPerson).where(ReportPerson.report_id.in_(report_ids))
    return (await session.execute(query)).scalars().all()


async def persons_with_phones(
    session: AsyncSession, phones: Sequence[str], *, limit: int = 200
) -> Sequence[ReportPerson]:
    if not phones:
        return []
    query = select(ReportPerson).where(ReportPerson.phone_e164.in_(phones)).limit(limit)
    return (await session.execute(query)).scalars().all()


async def person_at(
    session: AsyncSession, report_id: uuid.UUID, position: int
) -> ReportPerson | None:
    query = select(ReportPerson).where(
        ReportPerson.report_id == report_id, ReportPerson.position == position
    )
    return (await session.execute(query)).scalar_one_or_none()


async def possible_matches(
    session: AsyncSession,
    status: str | None,
    *,
    after: tuple[datetime | float, uuid.UUID] | None,
    limit: int,
    order: str = "oldest",
) -> Sequence[tuple[PossibleMatch, ReportPerson]]:
    """A page of possible matches (with their persons) after the keyset ``after``: in the order
    found (``oldest``), ``newest`` first, or highest ``score`` first."""
    query = select(PossibleMatch, ReportPerson).join(
        ReportPerson, ReportPerson.id == PossibleMatch.report_person_id
    )
    if status:
        query = query.where(PossibleMatch.status == status)
    key: Any = PossibleMatch.score if order == "score" else PossibleMatch.created_at
    descending = order in {"newest", "score"}
    if after:
        at, last = after
        if descending:
            query = query.where(or_(key < at, and_(key == at, PossibleMatch.id < last)))
        else:
            query = query.where(or_(key > at, and_(key == at, PossibleMatch.id > last)))
    if descending:
        query = query.order_by(key.desc(), PossibleMatch.id.desc())
    else:
        query = query.order_by(key, PossibleMatch.id)
    return [(m, p) for m, p in (await session.execute(query.limit(limit))).all()]


async def persons_with_reports(
    session: AsyncSession, person_ids: Sequence[uuid.UUID]
) -> Sequence[tuple[ReportPerson, Report]]:
    """These report persons, each with its report."""
    if not person_ids:
        return []
    query = (
        select(ReportPerson, Report)
        .join(Report, Report.id == ReportPerson.report_id)
        .where(ReportPerson.id.in_(person_ids))
    )
    return [(p, r) for p, r in (await session.execute(query)).all()]


async def persons_of_entities(
    session: AsyncSession, entity_ids: Sequence[uuid.UUID]
) -> Sequence[tuple[ReportPerson, Report]]:
    """The persons of these entities with their reports, oldest report first."""
    if not entity_ids:
        return []
    query = (
        select(ReportPerson, Report)
        .join(Report, Report.id == ReportPerson.report_id)
        .where(ReportPerson.entity_id.in_(entity_ids))
        .order_by(Report.created_at, ReportPerson.position)
    )
    return [(p, r) for p, r in (await session.execute(query)).all()]


async def resolution_actions(
    session: AsyncSession,
    *,
    actor: str | None,
    kind: str | None,
    before: tuple[datetime, uuid.UUID] | None,
    limit: int,
) -> Sequence[ResolutionAction]:
    """Merges and splits, newest first, optionally by one actor or of one kind."""
    query = select(ResolutionAction)
    if actor:
        query = query.where(ResolutionAction.actor == actor)
    if kind:
        query = query.where(ResolutionAction.kind == kind)
    if before:
        at, last = before
        query = query.where(
            or_(
                ResolutionAction.created_at < at,
                and_(ResolutionAction.created_at == at, ResolutionAction.id < last),
            )
        )
    query = query.order_by(ResolutionAction.created_at.desc(), ResolutionAction.id.desc())
    return (await session.execute(query.limit(limit))).scalars().all()


async def case_ids_naming(
    session: AsyncSession, entity_id: uuid.UUID, roles: Sequence[str]
) -> list[uuid.UUID]:
    """Live reports' cases that name this entity in a case-forming role, oldest case first."""
    query = (
        select(Report.case_id, func.min(Report.created_at))
        .join(ReportPerson, ReportPerson.report_id == Report.id)
        .where(
            ReportPerson.entity_id == entity_id,
            ReportPerson.role.in_(roles),
            Report.status != ReportStatus.RETRACTED,
            Report.case_id.is_not(None),
        )
        .group_by(Report.case_id)
        .order_by(func.min(Report.created_at))
    )
    return [c for c, _ in (await session.execute(query)).all() if c is not None]


async def case_rows(session: AsyncSession, ids: Sequence[uuid.UUID]) -> Sequence[Case]:
    return (await session.execute(select(Case).where(Case.id.in_(ids)))).scalars().all()


async def person_by_id(session: AsyncSession, person_id: uuid.UUID) -> ReportPerson:
    person = await session.get(ReportPerson, person_id)
    assert person is not None
    return person


class RestrictedMatch(NamedTuple):
    """An open restricted possible match and the report of the person it concerns."""

    match: PossibleMatch
    report_id: uuid.UUID
    source_agency_id: uuid.UUID
    tlp: str


async def open_restricted_matches(
    session: AsyncSession, entity_ids: Sequence[uuid.UUID]
) -> Sequence[RestrictedMatch]:
    """Open restricted possible matches whose candidate is one of these entities, live reports."""
    if not entity_ids:
        return []
    query = (
        select(PossibleMatch, Report.id, Report.source_agency_id, Report.tlp)
        .join(ReportPerson, ReportPerson.id == PossibleMatch.report_person_id)
        .join(Report, Report.id == ReportPerson.report_id)
        .where(
            PossibleMatch.candidate_entity_id.in_(entity_ids),
            PossibleMatch.restricted.is_(True),
            PossibleMatch.status == "open",
            Report.status != ReportStatus.RETRACTED,
        )
        .order_by(PossibleMatch.created_at, PossibleMatch.id)
    )
    return [RestrictedMatch(*row) for row in (await session.execute(query)).all()]


# ------------------------------------------------------------------------- reclustering


async def person_ids_after(
    session: AsyncSession, after: uuid.UUID | None, limit: int
) -> list[uuid.UUID]:
    """The next ``limit`` resolved report persons by id, after ``after`` (a recluster batch)."""
    query = select(ReportPerson.id).where(ReportPerson.entity_id.is_not(None))
    if after is not None:
        query = query.where(ReportPerson.id > after)
    return list((await session.scalars(query.order_by(ReportPerson.id).limit(limit))).all())


async def pairs_sharing_keys(
    session: AsyncSession,
    person_ids: Sequence[uuid.UUID],
    prefixes: Sequence[str],
    *,
    key_limit: int,
    later_only: bool,
) -> list[tuple[uuid.UUID, uuid.UUID]]:
    """Pairs (one of ``person_ids``, another resolved person of another entity) sharing a key of
    these kinds held by at most ``key_limit`` persons; with ``later_only``, only pairs whose
    second person has the higher id (a pass over every person then meets each pair once).

    One statement; only the pairs come back. Each key's holders are counted up to the limit
    (an index read bounded however many hold it), and a key over it pairs nobody.
    """
    pairs: list[tuple[uuid.UUID, uuid.UUID]] = []
    for chunk in _chunks(person_ids):
        if dialect_name(session) == "postgresql":
            # One statement text per shape, the ids an array: each connection prepares it once.
            query = _held_pairs_query(tuple(prefixes), later_only)
            params: dict[str, Any] = {"ids": list(chunk), "cap": key_limit + 1}
        else:
            query = _pairs_query(ReportPerson.id.in_(chunk), prefixes, later_only)
            params = {"cap": key_limit + 1}
        found = await (await session.connection()).execute(query, {**params, "limit": key_limit})
        pairs.extend((a, b) for a, b in found.all())
    return pairs


@functools.cache
def _held_pairs_query(prefixes: tuple[str, ...], later_only: bool) -> Select[Any]:
    return _pairs_query(
        ReportPerson.id == any_(bindparam("ids", type_=ARRAY(Uuid))), prefixes, later_only
    )


def _pairs_query(
    among: ColumnElement[bool], prefixes: Sequence[str], later_only: bool
) -> Select[Any]:
    mine, theirs, other = (PersonKey.__table__.alias(n) for n in ("mine", "theirs", "other"))
    first, second = ReportPerson.__table__, ReportPerson.__table__.alias("second")
    held = (
        select(func.count())
        .select_from(
            select(other.c.key)
            .where(other.c.key == mine.c.key)
            .correlate(mine)
            .limit(bindparam("cap", type_=Integer))
            .subquery()
        )
        .scalar_subquery()
    )
    query = (
        select(mine.c.report_person_id, theirs.c.report_person_id)
        .distinct()
        .select_from(first)
        .join(mine, mine.c.report_person_id == first.c.id)
        .join(theirs, theirs.c.key == mine.c.key)
        .join(second, second.c.id == theirs.c.report_person_id)
        .where(
            among,
            or_(*(mine.c.key.startswith(prefix, autoescape=True) for prefix in prefixes)),
            second.c.entity_id != first.c.entity_id,
            held <= bindparam("limit", type_=Integer),
        )
    )
    if later_only:
        query = query.where(theirs.c.report_person_id > mine.c.report_person_id)
    return query


async def last_pass_started(session: AsyncSession) -> datetime | None:
    """When the latest recorded recluster pass started (the next pass's watermark), if any."""
    started: datetime | None = await session.scalar(select(func.max(ReclusterPass.started_at)))
    return started


async def touched_person_ids(session: AsyncSession, since: datetime) -> list[uuid.UUID]:
    """Resolved persons touched since ``since``, by id: their report was stored or changed
    (amended, retracted, moved to another case), or a merge, split or decision (or its undo)
    moved them or another person into or out of their entity."""
    touched = set(
        (
            await session.scalars(
                select(ReportPerson.id)
                .join(Report, Report.id == ReportPerson.report_id)
                .where(Report.updated_at >= since, ReportPerson.entity_id.is_not(None))
            )
        ).all()
    )
    actions = await session.scalars(
        select(ResolutionAction.undo).where(
            or_(ResolutionAction.created_at >= since, ResolutionAction.undone_at >= since)
        )
    )
    entities: set[uuid.UUID] = set()
    for undo in actions.all():
        moved = undo.get("persons") or {}
        touched.update(uuid.UUID(p) for p in moved)
        entities.update(uuid.UUID(e) for e in moved.values() if e)
        if undo.get("result"):
            entities.add(uuid.UUID(undo["result"]))
    touched |= await _persons_of(session, entities)
    return sorted(touched)


def record_pass(
    session: AsyncSession,
    *,
    started_at: datetime,
    full: bool,
    persons: int,
    pairs: int,
    merges: int,
) -> None:
    session.add(
        ReclusterPass(started_at=started_at, full=full, persons=persons, pairs=pairs, merges=merges)
    )


async def persons_to_rescore(
    session: AsyncSession, person_ids: Iterable[uuid.UUID]
) -> dict[uuid.UUID, tuple[uuid.UUID, dict[str, Any]]]:
    """Entity and stored features of each person, leaving out retracted reports' persons."""
    ids = list(set(person_ids))
    return await _rescored(session, ReportPerson.id.in_(ids)) if ids else {}


async def entities_to_rescore(
    session: AsyncSession, entity_ids: Iterable[uuid.UUID]
) -> dict[uuid.UUID, tuple[uuid.UUID, dict[str, Any]]]:
    """``persons_to_rescore`` of every person of these entities."""
    ids = list(set(entity_ids))
    return await _rescored(session, ReportPerson.entity_id.in_(ids)) if ids else {}


async def _rescored(
    session: AsyncSession, which: ColumnElement[bool]
) -> dict[uuid.UUID, tuple[uuid.UUID, dict[str, Any]]]:
    query = (
        select(ReportPerson.id, ReportPerson.entity_id, ReportPerson.features)
        .join(Report, Report.id == ReportPerson.report_id)
        .where(which, Report.status != ReportStatus.RETRACTED)
    )
    return {
        pid: (entity_id, features)
        for pid, entity_id, features in (await session.execute(query)).all()
        if entity_id is not None and features
    }


async def kept_apart(session: AsyncSession) -> list[tuple[set[uuid.UUID], set[uuid.UUID]]]:
    """Groups of persons an analyst said are not one person, as (these persons, those persons).

    A live (not undone) split: the persons it moved, and the persons still in the entity they
    left. An undone merge: the persons it had moved, and the persons of the entity it had
    merged them into. A rejected possible match: its person, and the persons of the candidate
    entity.
    """
    groups: list[tuple[set[uuid.UUID], set[uuid.UUID]]] = []
    splits = await session.scalars(
        select(ResolutionAction).where(
            or_(
                and_(ResolutionAction.kind == "entity.split", ResolutionAction.undone_at.is_(None)),
                and_(
                    ResolutionAction.kind == "entity.merge", ResolutionAction.undone_at.is_not(None)
                ),
            )
        )
    )
    for action in splits.all():
        moved = {uuid.UUID(p) for p in (action.undo.get("persons") or {})}
        if action.kind == "entity.merge":
            other = {uuid.UUID(action.undo["result"])}
        else:
            other = {uuid.UUID(e) for e in (action.undo.get("persons") or {}).values() if e}
        groups.append((moved, await _persons_of(session, other) - moved))
    rejected = await session.execute(
        select(PossibleMatch.report_person_id, PossibleMatch.candidate_entity_id).where(
            PossibleMatch.status == "rejected"
        )
    )
    for person_id, entity_id in rejected.all():
        groups.append(({person_id}, await _persons_of(session, {entity_id})))
    return groups


async def _persons_of(session: AsyncSession, entity_ids: set[uuid.UUID]) -> set[uuid.UUID]:
    if not entity_ids:
        return set()
    rows = await session.scalars(
        select(ReportPerson.id).where(ReportPerson.entity_id.in_(entity_ids))
    )
    return set(rows.all())


async def entity_persons_ids(
    session: AsyncSession, entity_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, set[uuid.UUID]]:
    """The report persons of each entity."""
    held: dict[uuid.UUID, set[uuid.UUID]] = {e: set() for e in entity_ids}
    if not entity_ids:
        return held
    rows = await session.execute(
        select(ReportPerson.entity_id, ReportPerson.id).where(
            ReportPerson.entity_id.in_(entity_ids)
        )
    )
    for entity_id, person_id in rows.all():
        if entity_id is not None:
            held.setdefault(entity_id, set()).add(person_id)
    return held


async def report_holders(
    session: AsyncSession, report_ids: Sequence[uuid.UUID]
) -> list[tuple[uuid.UUID, uuid.UUID, str]]:
    """(report id, source agency id, TLP) of each report."""
    if not report_ids:
        return []
    rows = await session.execute(
        select(Report.id, Report.source_agency_id, Report.tlp).where(Report.id.in_(report_ids))
    )
    return [(r, a, str(t)) for r, a, t in rows.all()]


async def entity_report_sources(
    session: AsyncSession, entity_ids: Sequence[uuid.UUID]
) -> list[tuple[uuid.UUID, uuid.UUID, str]]:
    """(entity id, source agency id, TLP) of every report naming a person of these entities."""
    if not entity_ids:
        return []
    rows = await session.execute(
        select(ReportPerson.entity_id, Report.source_agency_id, Report.tlp)
        .join(Report, Report.id == ReportPerson.report_id)
        .where(ReportPerson.entity_id.in_(entity_ids))
        .distinct()
    )
    return [(entity, agency, str(tlp)) for entity, agency, tlp in rows.all() if entity]
