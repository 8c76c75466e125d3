"""Admin: query the audit trail and check its hash chain."""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated

from fastapi import APIRouter, Query

from app.api.deps import Admin, SessionDep, SettingsDep
from app.api.params import QueryDateTime
from app.api.problems import problem_responses
from app.api.route_class import SinergiRoute, operation_id
from app.errors import FieldProblem, InvalidInput
from app.schemas.audit import AuditPage, ChainCheck, OutcomeName
from app.services import audit as audit_service

router = APIRouter(
    prefix="/v1/admin/audit",
    tags=["audit"],
    route_class=SinergiRoute,
    generate_unique_id_function=operation_id,
)


@router.get(
    "",
    response_model=AuditPage,
    status_code=200,
    summary="Query the audit trail (newest first)",
    responses=problem_responses(401, 403, 422),
)
async def search(
    _admin: Admin,
    session: SessionDep,
    settings: SettingsDep,
    actor: Annotated[
        str | None,
        Query(description="The actor: an agency code, or an officer's username or user id."),
    ] = None,
    action: Annotated[str | None, Query(examples=["report.read"])] = None,
    object_id: Annotated[str | None, Query(description="An id among the event's objects.")] = None,
    outcome: OutcomeName | None = None,
    from_: Annotated[
        QueryDateTime | None, Query(alias="from", description="Events at or after this time.")
    ] = None,
    to: Annotated[QueryDateTime | None, Query(description="Events before this time.")] = None,
    cursor: str | None = None,
    limit: Annotated[int, Query(ge=1)] = 50,
) -> AuditPage:
    """Audit events (who, which key and token, what, which objects, outcome, request id, time),
    newest first, filtered by agency, action, object and time."""
    for name, value in (("from", from_), ("to", to)):
        if value is not None and value.tzinfo is None:
            raise InvalidInput(
                detail="Give times with a UTC offset",
                errors=[
                    FieldProblem(pointer=f"/{name}", detail="needs a UTC offset", location="query")
                ],
            )
    query = audit_service.AuditFilter(
        actor=actor, action=action, object_id=object_id, outcome=outcome, since=from_, until=to
    )
    return await audit_service.list_events(
        session, query, cursor=cursor, limit=min(limit, settings.max_page_size)
    )


@router.get(
    "/verify",
    response_model=ChainCheck,
    status_code=200,
    summary="Check the audit hash chain and name the first broken event",
    responses=problem_responses(401, 403),
)
async def verify(_admin: Admin, session: SessionDep) -> ChainCheck:
    """Recompute the hash chain over every audit event;
    the answer names the first event whose hash does not match, if any."""
    result = await audit_service.verify_chain(session)
    return ChainCheck(**asdict(result))
