"""One audit event per request to an authenticated route, written so that no route can forget it.

``audit_request`` is an application-wide dependency (``create_app`` installs it), so it runs
before every route's own dependencies and sees every exception they or the route raise:

- success: ``get_session`` appends the event just before it commits, in the route's transaction;
- failure (any 4xx/5xx, including 401/403 from the auth dependencies): the route's transaction
  rolls back and ``audit_request`` writes the event in a transaction of its own.

A route names what it did with ``AuditDep``: ``audit.action("report.read").object("report", id)``;
without it the action is derived from the route (tag ``reports`` + function ``read`` →
``report.read``).

The objects an event names come, without a line in any route, from:

- the path: ``{report_id}``, ``{case_id}``, ``{code}`` … (``PATH_OBJECTS``), recorded before the
  route runs, so a refused read (404) still names the id it asked for;
- the request body and the answer: every schema in them that declares ``audit_objects``
  (``ReportCreated`` names its report, case and persons' entities; a page names each item).
  ``SinergiRoute`` hands both to ``name_objects_in``.

The first type named is the event's ``object_type``; ``object_ids`` holds every id once, and
``detail["object_types"]`` lists the types when there are several. A route that names objects
itself with ``audit.object`` replaces those taken from the path.
"""

from __future__ import annotations

import functools
import logging
import typing
import uuid
from collections.abc import AsyncIterator, Iterable, Iterator, Sequence
from contextlib import asynccontextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Annotated, Any

from fastapi import Depends, Request, Response
from fastapi.dependencies.models import Dependant
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.exceptions import HTTPException as StarletteHTTPException

from app.api.deps import Principal, get_principal
from app.errors import SinergiError
from app.services.audit import AuditEventIn, outcome_for_status, record_event
from app.services.group_commit import AuditGroupCommit

logger = logging.getLogger("sinergi.audit")

#: Path parameters that name an object, and its type in the audit trail.
PATH_OBJECTS = {
    "report_id": "report",
    "case_id": "case",
    "entity_id": "person",
    "watch_id": "watch",
    "delivery_id": "delivery",
    "code": "agency",
    "key_id": "key",
    "rule_id": "routing_rule",
    "match_id": "possible_match",
    "action_id": "resolution_action",
}


def declared_objects(value: object) -> Iterator[tuple[str, str]]:
    """(type, id) of every object ``value`` names through its schemas' ``audit_objects``."""
    if isinstance(value, BaseModel):
        for object_type, name in getattr(value, "audit_objects", ()):
            held = getattr(value, name, None)
            for item in held if isinstance(held, list) else [held]:
                if item is not None:
                    yield object_type, str(item)
        for name in _naming_fields(type(value)):
            yield from declared_objects(getattr(value, name))
    elif isinstance(value, list):
        for item in value:
            yield from declared_objects(item)


@functools.cache
def _naming_fields(model: type[BaseModel]) -> tuple[str, ...]:
    """The fields of ``model`` whose values may hold a schema declaring ``audit_objects``.

    Computed once per class, so an answer's narrative, persons and documents are never walked.
    """
    return tuple(
        name
        for name, info in model.model_fields.items()
        if _may_name(info.annotation, frozenset({model}))
    )


def _may_name(annotation: Any, seen: frozenset[type]) -> bool:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        if annotation in seen:
            return False
        if "audit_objects" in dir(annotation):
            return True
        return any(
            _may_name(info.annotation, seen | {annotation})
            for info in annotation.model_fields.values()
        )
    return any(_may_name(arg, seen) for arg in typing.get_args(annotation))


def _depends_on_principal(dependant: Dependant) -> bool:
    return any(
        sub.call is get_principal or _depends_on_principal(sub) for sub in dependant.dependencies
    )


def is_authenticated_route(route: APIRoute) -> bool:
    """Whether the route (through any of its dependencies) needs ``get_principal``."""
    known: bool | None = getattr(route, _AUTHENTICATED, None)
    if known is None:
        # computed once per route: its dependency tree never changes
        known = _depends_on_principal(route.dependant)
        setattr(route, _AUTHENTICATED, known)
    return known


_AUTHENTICATED = "_sinergi_authenticated"


def _singular(word: str) -> str:
    if word.endswith("ies"):
        return word[:-3] + "y"
    if word.endswith(("ches", "shes", "sses", "xes")):
        return word[:-2]
    if word.endswith("s") and not word.endswith("ss"):
        return word[:-1]
    return word


def default_action(route: APIRoute) -> str:
    """``reports`` + ``read`` → ``report.read``;
    ``admin-agencies`` + ``create`` → ``agency.create``."""
    tag = str(route.tags[0]) if route.tags else "request"
    resource = _singular(tag.replace("_", "-").split("-")[-1])
    return f"{resource}.{route.name}"


def _status_of(exc: BaseException) -> tuple[int, str]:
    if isinstance(exc, SinergiError):
        return exc.status, exc.slug
    if isinstance(exc, StarletteHTTPException):
        return exc.status_code, f"http-{exc.status_code}"
    if isinstance(exc, RequestValidationError):
        # rendered as 400 by app.api.problems when the body is not JSON at all
        if any(e.get("type") == "json_invalid" for e in exc.errors()):
            return 400, "malformed-json"
        return 422, "validation-error"
    return 500, type(exc).__name__


@dataclass
class RequestAudit:
    """What the current request did, for its audit event; routes enrich it through ``AuditDep``."""

    request: Request
    response: Response
    route: APIRoute | None
    authenticated: bool
    action_name: str
    object_type: str | None = None
    object_ids: list[str] = field(default_factory=list)
    object_types: list[str] = field(default_factory=list)
    #: ``object_ids`` as a set: a page names each of its items (an inbox page, 100 ids).
    known_ids: set[str] = field(default_factory=set)
    #: The objects so far come from the path only (``audit.object`` replaces them).
    from_path: bool = False
    detail: dict[str, str] = field(default_factory=dict)
    #: Credential events handed over by ``record_credential_event`` during this request.
    credential_events: list[AuditEventIn] = field(default_factory=list)
    written: bool = False

    def action(self, name: str) -> RequestAudit:
        """Name the action (``report.read``) when the default from the route does not fit."""
        self.action_name = name
        return self

    def object(self, object_type: str, *ids: uuid.UUID | str) -> RequestAudit:
        """Record the objects the request touched (ids only, never personal data)."""
        if self.from_path:
            self.object_type, self.object_ids, self.object_types = None, [], []
            self.known_ids = set()
            self.from_path = False
        return self._name(object_type, ids)

    def objects(self, named: Iterable[tuple[str, uuid.UUID | str]]) -> RequestAudit:
        """``object(type, id)`` for each pair in turn, in one call (a page names its items)."""
        for object_type, i in named:
            if self.from_path:
                self.object(object_type, i)
                continue
            if object_type not in self.object_types:
                self.object_types.append(object_type)
                if self.object_type is None:
                    self.object_type = object_type
            text = str(i)
            if text not in self.known_ids:
                self.known_ids.add(text)
                self.object_ids.append(text)
        return self

    def _name(self, object_type: str, ids: Sequence[uuid.UUID | str]) -> RequestAudit:
        if self.object_type is None:
            self.object_type = object_type
        if object_type not in self.object_types:
            self.object_types.append(object_type)
        for i in ids:
            text = str(i)
            if text not in self.known_ids:
                self.known_ids.add(text)
                self.object_ids.append(text)
        return self

    def name_path_objects(self) -> None:
        """The objects the path asks for, innermost first (``/{code}/keys/{key_id}``: the key)."""
        for name, value in reversed(self.request.path_params.items()):
            object_type = PATH_OBJECTS.get(name)
            if object_type is not None and value is not None:
                self._name(object_type, [str(value)])
                self.from_path = True

    def name_objects_in(self, value: Any) -> None:
        """Add the objects a request body or answer declares (``audit_objects``)."""
        for object_type, object_id in declared_objects(value):
            self._name(object_type, [object_id])

    def note(self, key: str, value: str) -> RequestAudit:
        """Add a non-personal detail (a count, a reason code)."""
        self.detail[key] = value
        return self

    def take_credential_event(self, event: AuditEventIn) -> None:
        self.credential_events.append(event)

    def _principal(self) -> Principal | None:
        principal = getattr(self.request.state, "principal", None)
        return principal if isinstance(principal, Principal) else None

    def _request_fields(self) -> dict[str, Any]:
        client = self.request.client
        return {
            "request_id": getattr(self.request.state, "request_id", None),
            "client_address": client.host if client else None,
            "user_agent": self.request.headers.get("user-agent"),
        }

    def events(self, status: int, error: str | None = None) -> list[AuditEventIn]:
        """The events this request writes: its credential events, then its own (if authenticated).

        On an authenticated route the credential events are folded into the request's event,
        so a request leaves exactly one event.
        """
        common = self._request_fields()
        if not self.authenticated:
            return [
                AuditEventIn(**{**_fields(e), **common, "http_status": status})
                for e in self.credential_events
            ]
        principal = self._principal()
        detail = dict(self.detail)
        claimed = self.credential_events[-1] if self.credential_events else None
        if claimed is not None:
            detail["credential_action"] = claimed.action
            detail["credential_outcome"] = claimed.outcome.value
            detail.update(claimed.detail)
        if error is not None:
            detail["error"] = error
        if len(self.object_types) > 1:
            detail["object_types"] = ",".join(self.object_types)
        outcome = outcome_for_status(status)
        return [
            AuditEventIn(
                action=self.action_name,
                outcome=outcome,
                actor_agency_id=principal.agency_id if principal else None,
                actor_agency_code=(
                    principal.agency_code
                    if principal
                    else (claimed.actor_agency_code if claimed else None)
                ),
                credential_id=(
                    principal.credential_id
                    if principal
                    else (claimed.credential_id if claimed else None)
                ),
                actor_user_id=principal.officer_id if principal else None,
                actor_username=principal.officer_username if principal else None,
                token_id=principal.token_id if principal else None,
                object_type=self.object_type,
                object_ids=tuple(self.object_ids),
                http_status=status,
                detail=detail,
                **common,
            )
        ]

    def success_status(self) -> int:
        if self.response.status_code is not None:
            return self.response.status_code
        if self.route is not None and self.route.status_code is not None:
            return self.route.status_code
        return 200

    async def write_success(self, session: AsyncSession) -> None:
        """Append the request's events in ``session`` (the route's own transaction)."""
        if self.written:
            return
        for event in self.events(self.success_status()):
            await record_event(session, event)
        self.written = True

    async def write_success_grouped(self, group: AuditGroupCommit) -> None:
        """Commit the request's events with those of concurrent requests (it wrote nothing)."""
        if self.written:
            return
        await group.append(self.events(self.success_status()))
        self.written = True

    async def write_failure(self, exc: BaseException) -> None:
        """Append the request's events in a transaction of their own, after the rollback."""
        if self.written:
            return
        status, error = _status_of(exc)
        events = self.events(status, error)
        self.written = True
        if not events:
            return
        async with own_transaction(self.request) as session:
            for event in events:
                await record_event(session, event)


def _fields(event: AuditEventIn) -> dict[str, Any]:
    return {name: getattr(event, name) for name in event.__dataclass_fields__}


async def audit_request(request: Request, response: Response) -> AsyncIterator[None]:
    """Application-wide dependency: opens the request's audit context and closes it."""
    route = request.scope.get("route")
    api_route = route if isinstance(route, APIRoute) else None
    authenticated = api_route is not None and is_authenticated_route(api_route)
    audit = RequestAudit(
        request=request,
        response=response,
        route=api_route,
        authenticated=authenticated,
        action_name=default_action(api_route) if api_route else "request",
    )
    request.state.audit = audit
    audit.name_path_objects()
    try:
        yield
    except Exception as exc:
        try:
            await audit.write_failure(exc)
        except Exception:
            # Never mask the request's own error; the failure to audit is logged loudly.
            logger.exception("could not write the audit event of a failed request")
        raise
    if not audit.written and (audit.authenticated or audit.credential_events):
        # A route that succeeded without opening a session: its event gets its own transaction.
        async with own_transaction(request) as session:
            await audit.write_success(session)


@asynccontextmanager
async def own_transaction(request: Request) -> AsyncIterator[AsyncSession]:
    """A transaction of the audit's own, outside ``SessionDep``: a refused or failed request's
    transaction has rolled back (its refusal must still be recorded, so it cannot ride in it),
    and a route that succeeded without ``SessionDep`` has none to join."""
    factory: async_sessionmaker[AsyncSession] = request.app.state.session_factory
    async with factory() as session, session.begin():
        yield session


def current_audit(request: Request) -> RequestAudit | None:
    audit = getattr(request.state, "audit", None)
    return audit if isinstance(audit, RequestAudit) else None


async def get_request_audit(request: Request) -> RequestAudit:
    # async: FastAPI runs a plain ``def`` dependency in a worker thread, a hop per request.
    audit = current_audit(request)
    if audit is None:
        raise RuntimeError("audit_request is not installed: build the app with create_app()")
    return audit


AuditDep = Annotated[RequestAudit, Depends(get_request_audit)]
AUDIT_DEPENDENCY = Depends(audit_request)


async def record_unreached(request: Request, route: APIRoute, exc: BaseException) -> None:
    """Audit a request to an authenticated route that failed before its dependencies ran
    (a body that is not JSON, or malformed JSON); ``SinergiRoute`` calls this."""
    if current_audit(request) is not None or not is_authenticated_route(route):
        return
    audit = RequestAudit(
        request=request,
        response=Response(),
        route=route,
        authenticated=True,
        action_name=default_action(route),
    )
    request.state.audit = audit
    audit.name_path_objects()
    try:
        await audit.write_failure(exc)
    except Exception:
        logger.exception("could not write the audit event of a refused request")


#: The request being handled, set by ``SinergiRoute`` around its handler (the same task).
_current_request: ContextVar[Request | None] = ContextVar("sinergi_request", default=None)


def handling(request: Request) -> Any:
    """Mark ``request`` as the one being handled; ``reset_handling`` with the returned token."""
    return _current_request.set(request)


def reset_handling(token: Any) -> None:
    _current_request.reset(token)


def name_objects_of_call(arguments: dict[str, Any], answer: object) -> None:
    """Name in the current request's event the objects of a route's answer and body."""
    request = _current_request.get()
    audit = current_audit(request) if request is not None else None
    if audit is None:
        return
    audit.name_objects_in(answer)
    for value in arguments.values():
        if isinstance(value, BaseModel):
            audit.name_objects_in(value)
