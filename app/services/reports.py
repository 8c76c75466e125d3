"""Report use cases: submit, correct, retract, read and list, with need-to-know on every read.

Ingest is one transaction: validate ▸ normalize ▸ idempotency ▸ store ▸ resolve persons ▸ route ▸
outbox ▸ audit. Nothing here goes over the network.
"""

from __future__ import annotations

import functools
import hashlib
import uuid
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import orjson
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.attributes import instance_dict, set_committed_value

from app.config import Settings
from app.db import add_rows, table_of
from app.errors import (
    Conflict,
    FieldProblem,
    Forbidden,
    InvalidInput,
    NotFound,
    PreconditionFailed,
    PreconditionRequired,
)
from app.matching.features_json import features_to_json
from app.matching.scoring import PersonFeatures, blocking_keys, without_values
from app.models.base import utcnow
from app.models.report import (
    IdempotencyRecord,
    Report,
    ReportFacet,
    ReportModus,
    ReportPerson,
    ReportStatus,
    ReportVersion,
)
from app.pagination import decode_time_cursor, encode_cursor
from app.repositories import report_reads
from app.repositories import reports as repo
from app.repositories.report_reads import StoredReport
from app.schemas.report import (
    STORED,
    NormalizedPerson,
    PersonIn,
    PersonResult,
    ReportCreated,
    ReportIn,
    ReportOut,
    ReportVersionOut,
    ReportWarning,
    RoutedTo,
)
from app.services import watches
from app.services.caller import Caller
from app.services.delivery import Outgoing, enqueue_at_commit
from app.services.facets import facets_of
from app.services.ingest_batch import add_at_end, keys_locked, note_keys_locked
from app.services.match_weights import current_weights
from app.services.persons import identify
from app.services.resolution import (
    CaseResolution,
    PersonResolution,
    Thresholds,
    assign_case,
    candidates_of,
    lock_for_resolution,
    resolve_person,
)
from app.services.routing import RoutingFacts, check_explicit_recipients, route_report_to

IDEMPOTENCY_TTL = timedelta(hours=24)


def canonical_body(body: dict[str, Any]) -> bytes:
    """The submitted body in one canonical form (sorted keys, no nulls) for hashing."""
    return orjson.dumps(_drop_nulls(body), option=orjson.OPT_SORT_KEYS)


def _drop_nulls(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _drop_nulls(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_drop_nulls(v) for v in value]
    return value


def body_hash(body: dict[str, Any]) -> str:
    return hashlib.sha256(canonical_body(body)).hexdigest()


# -- cursors -------------------------------------------------------------------------------


# -- need-to-know ----------------------------------------------------------------------------


async def get_visible(session: AsyncSession, caller: Caller, report_id: uuid.UUID) -> Report:
    """The report if the caller may see it; 404 otherwise, exactly as for a missing report."""
    report = await repo.get(session, report_id)
    if report is None:
        raise NotFound(detail="No such report")
    if caller.is_admin or report.source_agency_id == caller.agency_id:
        return report
    if await repo.is_visible(session, report_id, caller.agency_id):
        return report
    raise NotFound(detail="No such report")


async def _read(
    session: AsyncSession, caller: Caller, report_id: uuid.UUID
) -> tuple[Report, ReportOut]:
    found = await repo.get_with_source(
        session, report_id, None if caller.is_admin else caller.agency_id
    )
    if found is None or not found[2]:
        raise NotFound(detail="No such report")
    report, source_code, _, entities = found
    return report, to_out(report, source_code, entities)


async def read_visible(session: AsyncSession, caller: Caller, report_id: uuid.UUID) -> ReportOut:
    """``GET /v1/reports/{id}``: the report as the caller may see it, in one query of columns
    (404 otherwise)."""
    found = await report_reads.stored_report(
        session, report_id, None if caller.is_admin else caller.agency_id
    )
    return visible_out(caller, found)


#: ``GET /v1/reports/{id}`` with a bearer token: the token's holder and the report in one
#: statement (``report_reads.holder_and_report``); ``visible_out`` then answers.
holder_and_report = report_reads.holder_and_report


def visible_out(caller: Caller, found: StoredReport | None) -> ReportOut:
    """The report ``report_reads`` found, as ``read_visible`` answers it (404 if the caller may
    not see it: ``found.visible`` is its agency's need-to-know; an admin sees every report)."""
    if found is None or not (found.visible or caller.is_admin):
        raise NotFound(detail="No such report")
    return to_out(found, found.source_code, found.entities)


@dataclass(frozen=True)
class ReportDetail:
    """A visible report with what its page shows beside the body: the case, the routing, and
    whether the caller may retract or close it."""

    report: ReportOut
    case_id: uuid.UUID | None
    routed_to: list[RoutedTo]
    may_change: bool


async def read_detail(session: AsyncSession, caller: Caller, report_id: uuid.UUID) -> ReportDetail:
    """The report as ``read_visible`` gives it, plus its case and where it was routed: the
    source and admins see every recipient, a recipient only its own line (404 if invisible)."""
    report, out = await _read(session, caller, report_id)
    routed = [
        RoutedTo(agency=code, rule=rule) for code, rule in await repo.recipients(session, report.id)
    ]
    if not (caller.is_admin or may_change(caller, report)):
        routed = [r for r in routed if r.agency == caller.agency_code]
    return ReportDetail(
        report=out, case_id=report.case_id, routed_to=routed, may_change=may_change(caller, report)
    )


async def list_visible(
    session: AsyncSession,
    caller: Caller,
    *,
    case_type: str | None = None,
    region_code: str | None = None,
    modus: str | None = None,
    updated_after: datetime | None = None,
    cursor: str | None = None,
    limit: int = 50,
) -> tuple[list[ReportOut], str | None]:
    """A page of the reports the caller may see, oldest update first, and the next cursor."""
    after = decode_time_cursor(cursor) if cursor else None
    rows = await repo.list_visible(
        session,
        agency_id=None if caller.is_admin else caller.agency_id,
        case_type=case_type,
        region_code=region_code,
        modus=modus,
        updated_after=updated_after,
        after=after,
        limit=limit + 1,
    )
    page = list(rows[:limit])
    next_cursor = encode_cursor(page[-1].updated_at, page[-1].id) if len(rows) > limit else None
    codes = await repo.agency_codes(session, [r.source_agency_id for r in page])
    entities = await repo.entities_by_position(session, [r.id for r in page])
    return [to_out(r, codes[r.source_agency_id], entities.get(r.id, {})) for r in page], next_cursor


# -- writes ----------------------------------------------------------------------------------


def may_change(caller: Caller, report: Report) -> bool:
    """Only the agency that submitted a report corrects, retracts or closes it."""
    return report.source_agency_id == caller.agency_id


def _ensure_source(caller: Caller, report: Report) -> None:
    if not may_change(caller, report):
        raise Forbidden(detail="Only the agency that submitted a report may change it")


# -- rendering -------------------------------------------------------------------------------


def to_out(
    report: Report | StoredReport,
    source_code: str,
    entities: Mapping[int, uuid.UUID | None] | None = None,
) -> ReportOut:
    """The report as its source and recipients see it; ``entities``: each person's current
    entity by position (persons show none without it)."""
    persons = report.body.get("persons") or []
    if entities is not None:
        persons = [{**p, "entity_id": entities.get(i)} for i, p in enumerate(persons)]
    return ReportOut.model_validate(
        {
            **report.body,
            "persons": persons,
            "id": report.id,
            "version": report.version,
            "status": report.status,
            "source_agency": source_code,
            "created_at": report.created_at,
            "updated_at": report.updated_at,
            "retraction_reason": report.status_reason
            if report.status == ReportStatus.RETRACTED
            else None,
        },
        context=STORED,
    )


async def render(session: AsyncSession, report: Report) -> ReportOut:
    codes = await repo.agency_codes(session, [report.source_agency_id])
    return to_out(report, codes[report.source_agency_id])


def _person_result(row: ReportPerson) -> PersonResult:
    """A stored person as its sender sees it resolved."""
    return PersonResult(
        index=row.position,
        role=row.role,
        entity_id=row.entity_id,
        score=row.match_score,
        # the other side of each comparison is a stored person the sender may not see
        reasons=without_values(row.match_reasons or []),
        normalized=NormalizedPerson(
            full_name=row.name_normalized,
            nik=row.nik,
            passport_number=row.passport_number,
            phone=row.phone_e164,
            date_of_birth=row.date_of_birth,
            birth_year=row.birth_year,
        ),
    )


# -- outbox ----------------------------------------------------------------------------------


@dataclass
class _Outbox:
    """Deliveries of one use case, written together at its end.

    Written in agency-id order (stable, so each agency's events keep their order): every
    transaction then locks the recipients' sequence counters in the same order, and two ingests
    reaching the same agencies cannot deadlock on PostgreSQL.
    """

    items: list[tuple[uuid.UUID, str, str | None, dict[str, Any], uuid.UUID | None]]

    def add(
        self,
        agency_id: uuid.UUID,
        event: str,
        payload: dict[str, Any],
        *,
        rule: str | None = None,
        report_id: uuid.UUID | None = None,
    ) -> None:
        self.items.append((agency_id, event, rule, payload, report_id))

    async def flush(self, session: AsyncSession) -> None:
        # Numbered first, then written with the use case's other rows (persons, keys, links,
        # recipients) at one flush: on PostgreSQL one statement (its counter bump flushes
        # nothing), so the recipients' counters (hot rows) stay locked for that statement, the
        # audit event and the commit. In a group-commit batch they are numbered before its
        # COMMIT, for all its requests.
        await enqueue_at_commit(
            session,
            [
                Outgoing(agency_id, event, payload, rule, report_id)
                for agency_id, event, rule, payload, report_id in sorted(
                    self.items, key=lambda i: i[0]
                )
            ],
        )
        await session.flush()
        self.items.clear()


# -- ingest ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class IngestSettings:
    """The knobs ingest reads (``of`` takes them from Settings)."""

    thresholds: Thresholds
    #: How far in the future a report's times may lie (the sender's clock may run ahead).
    clock_skew: timedelta = timedelta(hours=24)

    @classmethod
    def of(cls, settings: Settings) -> IngestSettings:
        return cls(Thresholds.of(settings), timedelta(hours=settings.report_clock_skew_hours))


async def _check_against_now_and_agencies(
    session: AsyncSession, caller: Caller, body: ReportIn, now: datetime, settings: IngestSettings
) -> None:
    """The rules a schema cannot check alone: times against the clock, recipients against the
    agencies; 422 naming each field, before anything is written."""
    problems = body.future_time_problems(now + settings.clock_skew)
    if problems:
        raise InvalidInput(detail="A report cannot describe the future", errors=problems)
    await check_explicit_recipients(session, body.recipients, caller.agency_code)


@dataclass
class _Person:
    submitted: PersonIn
    normalized: NormalizedPerson
    features: PersonFeatures

    @functools.cached_property
    def keys(self) -> list[str]:
        """The person's blocking keys, computed once (a batch's locks, the claim's, and the
        check that they are held all ask)."""
        return blocking_keys(self.features)


def _normalize_persons(body: ReportIn) -> tuple[list[_Person], list[ReportWarning]]:
    persons: list[_Person] = []
    warnings: list[ReportWarning] = []
    for index, person in enumerate(body.persons):
        identified = identify(person, f"/persons/{index}")
        warnings.extend(identified.warnings)
        persons.append(_Person(person, identified.normalized, identified.features))
    return persons, warnings


@dataclass(frozen=True)
class Submission:
    """A report's persons normalized before its transaction, and the blocking keys resolving
    them will lock (a group-commit batch takes all its requests' keys at once, in one order)."""

    persons: list[_Person]
    warnings: list[ReportWarning]

    @property
    def lock_keys(self) -> Iterator[str]:
        """Computed only when iterated (a batch's start), never for a request running alone."""
        return (key for p in self.persons for key in p.keys)


def prepare(body: ReportIn) -> Submission:
    """Normalize a report's persons (pure: no database) for ``submit`` and the batch's locks."""
    return Submission(*_normalize_persons(body))


def _viewer(caller: Caller) -> uuid.UUID | None:
    """Whose need-to-know bounds what resolution tells the caller (None: an admin's, none)."""
    return None if caller.is_admin else caller.agency_id


async def _store_persons(
    session: AsyncSession,
    report: Report,
    persons: Sequence[_Person],
    settings: IngestSettings,
    *,
    viewer: uuid.UUID | None,
) -> list[tuple[ReportPerson, PersonResolution]]:
    thresholds = settings.thresholds
    weights = await current_weights(session)
    if not keys_locked(session, (k for p in persons for k in p.keys)):
        await lock_for_resolution(session, [p.features for p in persons])
    # Every person's candidates in one lookup. A person's resolution changes no other person's
    # candidates (those of this report are never candidates, its keys are not written yet),
    # except by merging stored entities: the later persons' candidates are then looked up again.
    found = await candidates_of(
        session,
        [p.features for p in persons],
        exclude_report_id=report.id,
        viewer=viewer,
        keys=[p.keys for p in persons],
    )
    resolved: list[tuple[ReportPerson, PersonResolution]] = []
    for index, person in enumerate(persons):
        # Its columns put in its instance dict at once, without an attribute event each: the
        # object is never added to the session (``resolution.add_person`` writes it as a row).
        row = ReportPerson()
        instance_dict(row).update(
            id=uuid.uuid4(),
            report_id=report.id,
            position=index,
            role=str(person.submitted.role),
            name_normalized=person.normalized.full_name,
            nik=person.normalized.nik,
            passport_number=person.normalized.passport_number,
            phone_e164=person.normalized.phone,
            date_of_birth=person.normalized.date_of_birth,
            birth_year=person.normalized.birth_year,
            sex=str(person.submitted.sex) if person.submitted.sex else None,
            nationality=person.submitted.nationality,
            features=features_to_json(person.features),
            match_reasons=[],
            report_status=report.status,
            report_tlp=report.tlp,
            report_source_agency_id=report.source_agency_id,
        )
        # Written as a plain row once resolved (``resolve_person``): its INSERT (with the next
        # flush) carries the entity and score, with no UPDATE after it. Candidates never include
        # persons of the report being resolved, so nothing needs to see this row earlier.
        resolution = await resolve_person(
            session,
            row,
            person.features,
            thresholds=thresholds,
            viewer=viewer,
            weights=weights,
            keys_locked=True,
            found=found[index],
            keys=person.keys,
        )
        resolved.append((row, resolution))
        if resolution.merged and index + 1 < len(persons):
            found[index + 1 :] = await candidates_of(
                session,
                [p.features for p in persons[index + 1 :]],
                exclude_report_id=report.id,
                viewer=viewer,
                keys=[p.keys for p in persons[index + 1 :]],
            )
    # The report's persons as stored, without reading them back.
    set_committed_value(report, "persons", [row for row, _ in resolved])
    return resolved


async def _linked_reports(
    session: AsyncSession, caller: Caller, ids: Sequence[uuid.UUID]
) -> list[Report]:
    """The reports the sender links explicitly; each must be one it may see (422 otherwise)."""
    found: list[Report] = []
    for i, report_id in enumerate(ids):
        try:
            found.append(await get_visible(session, caller, report_id))
        except NotFound:
            raise InvalidInput(
                detail="A linked report does not exist or is not visible to you",
                errors=[
                    FieldProblem(f"/linked_report_ids/{i}", "no such report", "report_not_found")
                ],
            ) from None
    return found


def routing_facts(source_code: str, body: ReportIn | ReportOut) -> RoutingFacts:
    """What routing needs to know of a report (as submitted, or as stored)."""
    return RoutingFacts(
        source_agency_code=source_code,
        case_type=str(body.case_type),
        tlp=str(body.tlp),
        modus_codes=frozenset(str(m) for m in body.modus_operandi),
        exploitation_types=frozenset(str(e) for e in body.exploitation_types),
        region_code=body.location.region_code if body.location else None,
        has_foreign_nationals=any(
            p.nationality is not None and p.nationality != "IDN" for p in body.persons
        ),
        document_types=frozenset(str(d.type) for d in body.documents),
        document_statuses=frozenset(str(d.status) for d in body.documents if d.status),
        destination_countries=frozenset(body.destination_countries),
        explicit_recipients=tuple(body.recipients),
    )


async def _route(
    session: AsyncSession,
    outbox: _Outbox,
    report: Report,
    body: ReportIn,
    source_code: str,
    out: ReportOut,
    *,
    already: set[uuid.UUID],
    stamp: str | None = None,
) -> list[RoutedTo]:
    """Route to the agencies not yet told: record them (need-to-know), queue ``report.routed``.
    ``stamp``: the routing rows' fingerprint from the report's claim (``route_report_to``)."""
    routed = await route_report_to(session, routing_facts(source_code, body), stamp=stamp)
    payload = {"report": out.model_dump(mode="json")}
    told: list[RoutedTo] = []
    recipients: list[tuple[uuid.UUID, str]] = []
    for target, agency_id in routed:
        if agency_id in already:
            continue
        already.add(agency_id)
        recipients.append((agency_id, target.rule))
        outbox.add(agency_id, "report.routed", payload, rule=target.rule, report_id=report.id)
        told.append(RoutedTo(agency=target.agency_code, rule=target.rule))
    repo.add_recipients(session, report.id, recipients)
    return told


async def _notify_case_holders(
    session: AsyncSession,
    outbox: _Outbox,
    report: Report,
    case: CaseResolution,
    *,
    source_agency_id: uuid.UUID,
    source_code: str,
    already_told: set[uuid.UUID],
) -> None:
    """Tell the agencies holding the linked reports that their case grew (``case.linked``).

    A RED or AMBER_STRICT report is not revealed this way: its existence is need-to-know too.
    """
    if report.tlp in {"RED", "AMBER_STRICT"} or not case.linked_reports:
        return
    holders: dict[uuid.UUID, list[uuid.UUID]] = {}
    for report_id, agency_id in case.linked_reports.items():
        holders.setdefault(agency_id, []).append(report_id)
    for agency_id, their_reports in holders.items():
        if agency_id == source_agency_id:
            continue
        outbox.add(
            agency_id,
            "case.linked",
            {
                "case_id": str(case.case_id),
                "your_reports": [str(r) for r in their_reports],
                "linked_by_agency": source_code,
                "report_id": str(report.id) if agency_id in already_told else None,
            },
            report_id=report.id if agency_id in already_told else None,
        )


def to_created(
    report: Report, routed_to: list[RoutedTo], warnings: list[ReportWarning]
) -> ReportCreated:
    """What the sender is told of its report: ids, case, resolved persons, recipients, warnings."""
    return ReportCreated(
        id=report.id,
        version=report.version,
        case_id=report.case_id,
        persons=[_person_result(p) for p in sorted(report.persons, key=lambda p: p.position)],
        routed_to=routed_to,
        warnings=warnings,
    )


async def _replay(
    session: AsyncSession, existing: Report, request_hash: str, body: ReportIn
) -> ReportCreated:
    """Same reference again: the stored report if the body is the same, 409 otherwise."""
    # the current body's hash too: a report stored earlier in the same batch has its version
    # row written only at the batch's end
    hashes = {existing.body_hash} | {v.body_hash for v in await repo.versions(session, existing.id)}
    if request_hash not in hashes:
        raise Conflict(
            detail=(
                f"external_ref {existing.external_ref!r} is already used by report {existing.id} "
                "with a different body; correct it with PUT /v1/reports/{id}"
            ),
            errors=[
                FieldProblem("/external_ref", "already used with a different body", "duplicate_ref")
            ],
        )
    _, warnings = _normalize_persons(body)
    recipients = await repo.recipients(session, existing.id)
    routed = [RoutedTo(agency=code, rule=rule) for code, rule in recipients]
    return to_created(existing, routed, warnings)


def _watched(resolutions: Iterable[PersonResolution]) -> bool | None:
    """Whether a watch holds a blocking key of the report's persons, as their candidates'
    lookup found (None: one of them was not asked)."""
    asked = [r.watched for r in resolutions]
    return None if None in asked else any(asked)


async def _add_watch_hits(
    session: AsyncSession,
    outbox: _Outbox,
    report: Report,
    resolved: Sequence[tuple[ReportPerson, PersonResolution]],
    persons: Sequence[_Person],
    *,
    recipients: set[uuid.UUID],
    settings: IngestSettings,
) -> None:
    """Queue ``watch.hit`` for the agencies watching a person of this report."""
    # Imported here: watches builds on cases and screening, which import this module.
    hits = await watches.collect_hits(
        session,
        report,
        [
            (p.features, row.entity_id, resolution.name_counts)
            for (row, resolution), p in zip(resolved, persons, strict=True)
        ],
        recipients=recipients,
        link_threshold=settings.thresholds.link,
        review_threshold=settings.thresholds.review,
        watched=_watched(resolution for _, resolution in resolved),
        keys=[p.keys for p in persons],
    )
    for hit in hits:
        outbox.add(hit.agency_id, "watch.hit", hit.payload, report_id=hit.report_id)


async def submit(
    session: AsyncSession,
    caller: Caller,
    body: ReportIn,
    *,
    idempotency_key: str | None,
    settings: IngestSettings,
    prepared: Submission | None = None,
) -> tuple[int, ReportCreated]:
    """Ingest one report; the HTTP status (201 new, 200 replay) and what the sender is told.

    ``prepared``: the body's ``prepare`` when the caller made it already."""
    now = utcnow()
    stored_body = body.model_dump(mode="json", exclude_none=True)
    request_hash = body_hash(stored_body)
    if idempotency_key is not None:
        status, answer = await _idempotent_answer(
            session, caller, idempotency_key, request_hash, now
        )
        if answer is not None:
            return status, answer

    try:
        await _check_against_now_and_agencies(session, caller, body, now, settings)
    except InvalidInput:
        # A replay is answered from what is stored, whatever changed since (a recipient
        # deactivated, the clock moved on): the reference is looked up only when a check fails,
        # so a new report costs no extra query.
        existing = await repo.get_by_external_ref(session, caller.agency_id, body.external_ref)
        if existing is None:
            raise
        return 200, await _replay(session, existing, request_hash, body)
    submission = prepared or prepare(body)
    persons, warnings = submission.persons, submission.warnings
    keys = frozenset(submission.lock_keys)
    # Resolution's blocking-key locks are taken by the claim's own statement (one round trip
    # fewer), unless this transaction (a batch's) holds them already.
    locked = keys_locked(session, keys)
    claimed = await repo.insert_new(
        session,
        {
            "id": uuid.uuid4(),
            "source_agency_id": caller.agency_id,
            "external_ref": body.external_ref,
            "version": 1,
            "status": ReportStatus.ACTIVE,
            "case_id": None,
            "status_reason": None,
            "status_changed_at": None,
            "personal_data_purged_at": None,
            "created_at": now,
            **_body_columns(body, stored_body, request_hash, now),
        },
        lock_keys=() if locked else keys,
    )
    if claimed is None:
        # The reference is taken: by an earlier report (a replay or a conflict), or by a
        # concurrent request that committed while this one waited on the unique index.
        existing = await repo.get_by_external_ref(session, caller.agency_id, body.external_ref)
        if existing is None:
            raise Conflict(detail="A concurrent request with the same external_ref failed; retry")
        return 200, await _replay(session, existing, request_hash, body)
    report = claimed.report
    if not locked:
        note_keys_locked(session, keys)

    linked = await _linked_reports(session, caller, body.linked_report_ids)
    ingested = await _ingest(
        session,
        caller,
        report,
        body,
        persons,
        linked=linked,
        settings=settings,
        change="created",
        routing_stamp=claimed.routing_stamp,
    )
    answer = to_created(report, ingested.routed, warnings)
    if idempotency_key is not None:
        session.add(
            IdempotencyRecord(
                agency_id=caller.agency_id,
                key=idempotency_key,
                request_hash=request_hash,
                response_status=201,
                response_body=answer.model_dump(mode="json"),
                created_at=now,
                expires_at=now + IDEMPOTENCY_TTL,
            )
        )
        try:
            async with session.begin_nested():
                await session.flush()
        except IntegrityError:
            raise Conflict(
                detail=(
                    "Another request with the same Idempotency-Key is being processed; retry later"
                )
            ) from None
    return 201, answer


def _body_columns(
    body: ReportIn, stored_body: dict[str, Any], request_hash: str, now: datetime
) -> dict[str, Any]:
    """The columns a report takes from its current body (new report or correction)."""
    return {
        "body": stored_body,
        "body_hash": request_hash,
        "case_type": str(body.case_type),
        "tlp": str(body.tlp),
        "region_code": body.location.region_code if body.location else None,
        "reported_at": body.reported_at,
        "updated_at": now,
    }


def _apply_body(
    report: Report, body: ReportIn, stored_body: dict[str, Any], request_hash: str, now: datetime
) -> None:
    """Set the columns a report takes from its current body on a stored report (correction)."""
    for key, value in _body_columns(body, stored_body, request_hash, now).items():
        setattr(report, key, value)


@dataclass
class _Ingested:
    out: ReportOut
    routed: list[RoutedTo]


async def _ingest(
    session: AsyncSession,
    caller: Caller,
    report: Report,
    body: ReportIn,
    persons: Sequence[_Person],
    *,
    linked: Sequence[Report],
    settings: IngestSettings,
    change: str,
    routing_stamp: str | None = None,
) -> _Ingested:
    """What a new report and a correction both run once the report row holds the new body:
    version row, modus, facets, persons, case, routing, case holders, watch hits, outbox.

    A correction (``change="updated"``) first drops what the previous version derived and tells
    the agencies it was routed to (``report.updated``); routing then reaches only new ones.
    """
    correction = change != "created"
    # A new report's version, modus and facets: nothing reads them before the COMMIT (a replay
    # in the same batch checks the report's own body hash), so a batch writes all its
    # requests' at its end, one INSERT per table. A correction replaces the derived rows now.
    add = add_rows if correction else add_at_end
    add(session, table_of(ReportVersion), repo.version_rows(report, change))
    if correction:
        await repo.delete_derived(session, report.id)
        await session.flush()
        session.expire(report, ["persons"])
    add(
        session,
        table_of(ReportModus),
        repo.modus_rows(report.id, [str(m) for m in body.modus_operandi]),
    )
    add(session, table_of(ReportFacet), repo.facet_rows(report.id, facets_of(body)))
    viewer = _viewer(caller)
    resolved = await _store_persons(session, report, persons, settings, viewer=viewer)
    case = await assign_case(
        session,
        report,
        resolved,
        viewer=viewer,
        explicit_links=linked,
        current_case_id=report.case_id if correction else None,
    )
    # The report's case is stored; its persons, keys and case links are written with the
    # recipients at the outbox's flush, in one statement: nothing below reads them.

    out = to_out(report, caller.agency_code, {p.position: p.entity_id for p, _ in resolved})
    outbox = _Outbox([])
    told: set[uuid.UUID] = set()
    if correction:
        told = await _tell_recipients(
            session, outbox, report, "report.updated", {"report": out.model_dump(mode="json")}
        )
    routed = await _route(
        session, outbox, report, body, caller.agency_code, out, already=told, stamp=routing_stamp
    )
    await _notify_case_holders(
        session,
        outbox,
        report,
        case,
        source_agency_id=caller.agency_id,
        source_code=caller.agency_code,
        already_told=told,
    )
    await _add_watch_hits(
        session, outbox, report, resolved, persons, recipients=told, settings=settings
    )
    await outbox.flush(session)
    return _Ingested(out, routed)


async def _idempotent_answer(
    session: AsyncSession, caller: Caller, key: str, request_hash: str, now: datetime
) -> tuple[int, ReportCreated | None]:
    await repo.delete_expired_idempotency(session, caller.agency_id, key, now)
    record = await repo.get_idempotency(session, caller.agency_id, key, now)
    if record is None:
        return 0, None
    if record.request_hash != request_hash:
        raise InvalidInput(
            detail="This Idempotency-Key was already used with a different request body",
            errors=[
                FieldProblem(
                    "/Idempotency-Key",
                    "reused with a different body",
                    "idempotency_key_reused",
                    "header",
                )
            ],
        )
    return record.response_status, ReportCreated.model_validate(record.response_body)


# -- corrections and retraction --------------------------------------------------------------


def parse_if_match(value: str | None, current: int) -> None:
    """Check ``If-Match: "<version>"`` against the current version (428 absent, 412 stale)."""
    if value is None:
        raise PreconditionRequired(
            detail='Send If-Match: "<version>" with the version you corrected'
        )
    tags = [t.strip().removeprefix("W/").strip('"') for t in value.split(",")]
    if "*" in tags:
        return
    if str(current) not in tags:
        raise PreconditionFailed(
            detail=f"The report is at version {current}; re-read it and apply your correction again"
        )


async def _tell_recipients(
    session: AsyncSession, outbox: _Outbox, report: Report, event: str, payload: dict[str, Any]
) -> set[uuid.UUID]:
    """Queue ``event`` for every agency the report was routed to; their ids."""
    recipients = set(await repo.recipient_ids(session, report.id))
    for agency_id in recipients:
        outbox.add(agency_id, event, payload, report_id=report.id)
    return recipients


async def correct(
    session: AsyncSession,
    caller: Caller,
    report_id: uuid.UUID,
    body: ReportIn,
    *,
    if_match: str | None,
    settings: IngestSettings,
) -> tuple[ReportOut, list[ReportWarning]]:
    """A new version from the source agency; history kept, persons re-resolved, recipients told."""
    report = await _own_for_update(session, caller, report_id)
    parse_if_match(if_match, report.version)
    if report.status == ReportStatus.RETRACTED:
        raise Conflict(detail="A retracted report cannot be corrected")
    if body.external_ref != report.external_ref:
        raise InvalidInput(
            detail="external_ref cannot change in a correction",
            errors=[
                FieldProblem("/external_ref", f"must stay {report.external_ref!r}", "immutable")
            ],
        )
    await _check_against_now_and_agencies(session, caller, body, utcnow(), settings)
    stored_body = body.model_dump(mode="json", exclude_none=True)
    request_hash = body_hash(stored_body)
    persons, warnings = _normalize_persons(body)
    if request_hash == report.body_hash:
        return await render(session, report), warnings
    linked = await _linked_reports(session, caller, body.linked_report_ids)

    report.version += 1
    _apply_body(report, body, stored_body, request_hash, utcnow())
    ingested = await _ingest(
        session, caller, report, body, persons, linked=linked, settings=settings, change="updated"
    )
    return ingested.out, warnings


async def _own_for_update(session: AsyncSession, caller: Caller, report_id: uuid.UUID) -> Report:
    """The caller's own report, locked for a change (404 if invisible, 403 if not the source)."""
    report = await get_visible(session, caller, report_id)
    _ensure_source(caller, report)
    return await repo.get(session, report_id, for_update=True) or report


async def _set_status(
    session: AsyncSession, report: Report, status: ReportStatus, reason: str | None
) -> None:
    """A status change is a new version too, so If-Match holders notice it; the persons' copy
    of the status (``ReportPerson.report_status``) follows."""
    now = utcnow()
    report.status = status
    report.status_reason = reason
    report.status_changed_at = now
    report.version += 1
    report.updated_at = now
    session.add(
        ReportVersion(
            report_id=report.id,
            version=report.version,
            body=report.body,
            body_hash=report.body_hash,
            change=status.value.lower(),
        )
    )
    await repo.set_persons_status(session, report.id, status)


async def retract(
    session: AsyncSession, caller: Caller, report_id: uuid.UUID, reason: str
) -> ReportOut:
    """Withdraw a report: it stays readable as retracted, stops linking, recipients are told."""
    report = await _own_for_update(session, caller, report_id)
    if report.status != ReportStatus.RETRACTED:
        await _set_status(session, report, ReportStatus.RETRACTED, reason)
        await session.flush()
        outbox = _Outbox([])
        await _tell_recipients(
            session,
            outbox,
            report,
            "report.retracted",
            {"report_id": str(report.id), "version": report.version, "reason": reason},
        )
        await outbox.flush(session)
    return await render(session, report)


async def close(
    session: AsyncSession, caller: Caller, report_id: uuid.UUID, reason: str | None
) -> ReportOut:
    """The source marks its report closed; personal data is purged once retention runs out."""
    report = await _own_for_update(session, caller, report_id)
    if report.status == ReportStatus.RETRACTED:
        raise Conflict(detail="A retracted report cannot be closed")
    if report.status != ReportStatus.CLOSED:
        await _set_status(session, report, ReportStatus.CLOSED, reason)
        await session.flush()
    return await render(session, report)


async def history(
    session: AsyncSession, caller: Caller, report_id: uuid.UUID
) -> list[ReportVersionOut]:
    """Every version of a report the caller may see, oldest first (404 otherwise)."""
    report = await get_visible(session, caller, report_id)
    return [ReportVersionOut.model_validate(v) for v in await repo.versions(session, report.id)]
