"""Reports: submit, read, list, correct, retract, history (agency tokens, need-to-know)."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Coroutine, Iterable
from typing import Annotated, Any, TypeVar

from fastapi import APIRouter, Header, Query, Request, Response
from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.datastructures import State

from app.api.audit_hook import current_audit
from app.api.deps import (
    AgencyReader,
    AgencyWriter,
    SessionDep,
    SettingsDep,
    checks_token_with,
    reads_only,
    writes_in_group_commit,
)
from app.api.params import QueryDateTime
from app.api.problems import problem_responses
from app.api.route_class import SinergiRoute, operation_id
from app.db import holds_reads, release_reads, wrote
from app.schemas.report import (
    Page,
    ReportCloseIn,
    ReportCreated,
    ReportIn,
    ReportOut,
    ReportRetractIn,
    ReportVersionOut,
)
from app.schemas.vocab import CaseType, ModusOperandi
from app.services import reports as service
from app.services import tokens
from app.services.audit import record_events
from app.services.ingest_batch import IngestGroupCommit

router = APIRouter(
    prefix="/v1/reports",
    tags=["reports"],
    route_class=SinergiRoute,
    generate_unique_id_function=operation_id,
)

IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        min_length=1,
        max_length=255,
        pattern=r"^[\x21-\x7e]+$",
        description=(
            "Any unique string (a UUID); a retry with the same key and body gets the stored answer "
            "for 24 hours."
        ),
    ),
]
IfMatch = Annotated[
    str | None,
    Header(alias="If-Match", max_length=64, description='The version you corrected: `"3"`.'),
]


def _etag(version: int) -> str:
    return f'"{version}"'


Answer = TypeVar("Answer", bound=BaseModel)


def ingest_group_commit(state: State) -> IngestGroupCommit | None:
    """The process's (``app.state``) group commit of ingests, made on first use; None when
    switched off and on SQLite, where every transaction takes the one write lock at BEGIN."""
    group = getattr(state, "ingest_group_commit", None)
    if isinstance(group, IngestGroupCommit):
        return group
    if not state.settings.ingest_group_commit or state.settings.is_sqlite:
        return None
    group = state.ingest_group_commit = IngestGroupCommit(state.session_factory)
    return group


async def _with_concurrent(
    request: Request,
    session: AsyncSession,
    body: ReportIn,
    work: Callable[[AsyncSession], Coroutine[Any, Any, tuple[int, Answer]]],
    keys: Iterable[str] = (),
) -> tuple[int, Answer]:
    """Run ``work`` (a submission or a correction) in the transaction it shares with concurrent
    ones (``app.services.ingest_batch``), its audit event with it; in the request's own
    transaction when there is no group commit, or when that transaction already wrote."""
    group = ingest_group_commit(request.app.state)
    audit = current_audit(request)
    if holds_reads(session):
        # Its session had no transaction (``writes_in_group_commit``): what its token check
        # wrote committed by itself. Its connection goes back to the pool while it waits.
        assert group is not None
        assert audit is not None
        await release_reads(session)
    elif group is None or audit is None or wrote(session):
        return await work(session)
    if session.in_transaction():
        # The request's transaction only read (its token): end it, so that its connection
        # goes back to the pool while the request waits for its batch.
        await session.commit()

    async def job(shared: AsyncSession) -> tuple[int, Answer]:
        status, answer = await work(shared)
        # Its event lands with its work, naming what SinergiRoute names (answer, then body).
        audit.name_objects_in(answer)
        audit.name_objects_in(body)
        await record_events(shared, audit.events(status))
        return status, answer

    status, answer = await group.run(job, keys)
    audit.written = True
    return status, answer


@router.post(
    "",
    summary="Submit a report",
    description=(
        "Submit a standardized report of a suspected TPPO (trafficking in persons) or TPPM "
        "(people smuggling) case. New: `201` with the report id, version, the case it joined, "
        "the person entity each person resolved to (score and reasons) and the agencies it was "
        "routed to. The same `external_ref` with the same body again: `200` with the stored "
        "answer; with a different body: `409` (use `PUT` to correct). A NIK whose encoded birth "
        "date, sex or region contradicts the stated ones is a warning, not a rejection."
    ),
    status_code=201,
    response_model=ReportCreated,
    responses={
        200: {"model": ReportCreated, "description": "A replay: the stored report"},
        **problem_responses(400, 401, 403, 409, 413, 415, 422),
    },
)
@writes_in_group_commit
async def create(
    body: ReportIn,
    principal: AgencyWriter,
    session: SessionDep,
    settings: SettingsDep,
    request: Request,
    response: Response,
    idempotency_key: IdempotencyKey = None,
) -> ReportCreated:
    ingest = service.IngestSettings.of(settings)
    prepared = service.prepare(body)

    async def submit(in_session: AsyncSession) -> tuple[int, ReportCreated]:
        return await service.submit(
            in_session,
            principal,
            body,
            idempotency_key=idempotency_key,
            settings=ingest,
            prepared=prepared,
        )

    status, answer = await _with_concurrent(request, session, body, submit, prepared.lock_keys)
    response.status_code = status
    response.headers["Location"] = f"/v1/reports/{answer.id}"
    response.headers["ETag"] = _etag(answer.version)
    return answer


@router.get(
    "",
    summary="List the reports you may see",
    description="Your own reports and those routed to you, oldest update first.",
    response_model=Page[ReportOut],
    responses=problem_responses(401, 403, 422),
    name="list",
)
async def list_reports(
    principal: AgencyReader,
    session: SessionDep,
    settings: SettingsDep,
    case_type: CaseType | None = None,
    modus: ModusOperandi | None = Query(default=None, description="A modus operandi code."),
    region_code: str | None = Query(
        default=None,
        pattern=r"^\d{2}(\.\d{2}(\.\d{2}(\.\d{4})?)?)?$",
        description="Kemendagri region code or prefix (`14` Riau matches `14.72` Kota Dumai).",
    ),
    updated_after: QueryDateTime | None = None,
    cursor: str | None = Query(default=None, max_length=200),
    limit: int = Query(default=50, ge=1, le=200),
) -> Page[ReportOut]:
    items, next_cursor = await service.list_visible(
        session,
        principal,
        case_type=str(case_type) if case_type else None,
        region_code=region_code,
        modus=str(modus) if modus else None,
        updated_after=updated_after,
        cursor=cursor,
        limit=min(limit, settings.max_page_size),
    )
    return Page[ReportOut](items=items, next_cursor=next_cursor)


#: ``request.state`` attribute: (report id, what ``service.holder_and_report`` found).
_FETCHED = "fetched_report"


async def _holder_and_report(
    request: Request, session: AsyncSession, code: str, credential_id: uuid.UUID | None
) -> tokens.TokenHolder | None:
    """The read's token holder, and the report it asks for kept for ``read``: one statement."""
    try:
        report_id = uuid.UUID(str(request.path_params["report_id"]))
    except ValueError:  # not an id: FastAPI answers 422 once the token has been checked
        return await tokens.token_holder(session, code, credential_id)
    holder, found = await service.holder_and_report(session, code, credential_id, report_id)
    setattr(request.state, _FETCHED, (report_id, found))
    return holder


@router.get(
    "/{report_id}",
    summary="Read a report",
    description=(
        "Only the source agency, its recipients and admins see a report; anyone else gets 404."
    ),
    response_model=ReportOut,
    responses=problem_responses(401, 403, 404, 422),
)
@reads_only
@checks_token_with(_holder_and_report)
async def read(
    report_id: uuid.UUID,
    principal: AgencyReader,
    session: SessionDep,
    request: Request,
    response: Response,
) -> ReportOut:
    fetched = getattr(request.state, _FETCHED, None)
    if fetched is not None and fetched[0] == report_id:
        # read with the token's holder, in the token check's statement
        out = service.visible_out(principal, fetched[1])
    else:
        out = await service.read_visible(session, principal, report_id)
    response.headers["ETag"] = _etag(out.version)
    return out


@router.put(
    "/{report_id}",
    summary="Correct a report (new version)",
    description=(
        'Only the source agency corrects. Send `If-Match: "<version>"`: `428` without it, `412` '
        "when the report has moved on. History is kept; recipients get `report.updated`."
    ),
    response_model=ReportOut,
    responses=problem_responses(401, 403, 404, 409, 412, 415, 422, 428),
)
async def update(
    report_id: uuid.UUID,
    body: ReportIn,
    principal: AgencyWriter,
    session: SessionDep,
    settings: SettingsDep,
    request: Request,
    response: Response,
    if_match: IfMatch = None,
) -> ReportOut:
    ingest = service.IngestSettings.of(settings)

    async def correct(in_session: AsyncSession) -> tuple[int, ReportOut]:
        out, _warnings = await service.correct(
            in_session, principal, report_id, body, if_match=if_match, settings=ingest
        )
        return 200, out

    keys = service.prepare(body).lock_keys
    _, out = await _with_concurrent(request, session, body, correct, keys)
    response.headers["ETag"] = _etag(out.version)
    return out


@router.post(
    "/{report_id}/retract",
    summary="Retract a report",
    description=(
        "Withdraw a report with a reason; it stays readable as retracted and recipients get "
        "`report.retracted`."
    ),
    response_model=ReportOut,
    responses=problem_responses(401, 403, 404, 415, 422),
)
async def retract(
    report_id: uuid.UUID, body: ReportRetractIn, principal: AgencyWriter, session: SessionDep
) -> ReportOut:
    return await service.retract(session, principal, report_id, body.reason)


@router.post(
    "/{report_id}/close",
    summary="Close a report",
    description=(
        "The source agency marks its report closed (the case is done). Closed reports stay "
        "readable; their personal data is removed once `SINERGI_RETENTION_PERSON_DATA_DAYS` have "
        "passed (UU PDP), keeping statistics and the case structure."
    ),
    response_model=ReportOut,
    responses=problem_responses(401, 403, 404, 409, 415, 422),
)
async def close(
    report_id: uuid.UUID, body: ReportCloseIn, principal: AgencyWriter, session: SessionDep
) -> ReportOut:
    return await service.close(session, principal, report_id, body.reason)


@router.get(
    "/{report_id}/versions",
    summary="A report's history",
    response_model=list[ReportVersionOut],
    responses=problem_responses(401, 403, 404, 422),
)
async def versions(
    report_id: uuid.UUID, principal: AgencyReader, session: SessionDep
) -> list[ReportVersionOut]:
    """Every version of a visible report, oldest first, each as it was submitted (created, updated,
    retracted); anyone who may not see the report gets 404."""
    return await service.history(session, principal, report_id)
