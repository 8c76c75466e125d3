"""Every error as ``application/problem+json`` (RFC 9457), never a stack trace."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from http import HTTPStatus
from typing import Any

import orjson
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from sqlalchemy.exc import SQLAlchemyError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response
from starlette.routing import BaseRoute, Match

from app.db import is_database_unavailable
from app.errors import (
    PROBLEM_BASE,
    DatabaseUnavailable,
    FieldProblem,
    SinergiError,
    field_problems_from_validation,
)

logger = logging.getLogger("sinergi.errors")

PROBLEM_MEDIA_TYPE = "application/problem+json"
#: What a 503 for an unreachable database asks the client to wait before retrying.
DATABASE_RETRY_AFTER_SECONDS = 5

_SLUG_BY_STATUS = {
    400: "bad-request",
    401: "unauthenticated",
    403: "forbidden",
    404: "not-found",
    405: "method-not-allowed",
    406: "not-acceptable",
    409: "conflict",
    413: "payload-too-large",
    415: "unsupported-media-type",
    422: "validation-error",
    429: "rate-limited",
    500: "internal-error",
    503: "unavailable",
}


def problem_response(
    status: int,
    *,
    title: str | None = None,
    detail: str | None = None,
    slug: str | None = None,
    errors: Sequence[FieldProblem] = (),
    headers: dict[str, str] | None = None,
    extra: dict[str, Any] | None = None,
    instance: str | None = None,
) -> Response:
    """A problem+json response whose ``status`` member equals the HTTP status."""
    phrase = HTTPStatus(status).phrase
    body: dict[str, Any] = {
        "type": PROBLEM_BASE + (slug or _SLUG_BY_STATUS.get(status, "error")),
        "title": title or phrase,
        "status": status,
        "detail": detail or title or phrase,
    }
    if instance:
        body["instance"] = instance
    if errors:
        body["errors"] = [e.as_dict() for e in errors]
    if extra:
        body.update(extra)
    return Response(
        content=orjson.dumps(body),
        status_code=status,
        media_type=PROBLEM_MEDIA_TYPE,
        headers=headers,
    )


async def _on_sinergi_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, SinergiError)
    return problem_response(
        exc.status,
        title=exc.title,
        detail=exc.detail or exc.title,
        slug=exc.slug,
        errors=exc.errors,
        headers=exc.headers or None,
        extra=exc.extra or None,
        instance=request.url.path,
    )


async def _on_validation_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    raw = list(exc.errors())
    if any(e.get("type") == "json_invalid" for e in raw):
        detail = next(
            str(e.get("ctx", {}).get("error", "")) for e in raw if e.get("type") == "json_invalid"
        )
        return problem_response(
            400,
            title="Malformed JSON",
            detail=f"The request body is not valid JSON: {detail}".rstrip(": "),
            slug="malformed-json",
            instance=request.url.path,
        )
    problems = field_problems_from_validation(raw)
    names = ", ".join(sorted({p.pointer or p.location for p in problems})[:10])
    return problem_response(
        422,
        title="The request is not valid",
        detail=f"Invalid fields: {names}",
        errors=problems,
        instance=request.url.path,
    )


async def _on_http_exception(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    detail = exc.detail if isinstance(exc.detail, str) else None
    if exc.status_code == 404 and detail == "Not Found":
        detail = f"No resource at {request.url.path}"
    headers = dict(exc.headers or {})
    if exc.status_code == 405:
        detail = f"Method {request.method} is not allowed on {request.url.path}"
        allowed = _allowed_methods(request)
        if allowed:
            headers["Allow"] = ", ".join(allowed)
    return problem_response(
        exc.status_code, detail=detail, headers=headers or None, instance=request.url.path
    )


def _allowed_methods(request: Request) -> list[str]:
    """Every method some route serves at this path.

    Starlette's own ``Allow`` names only the first route whose path matched, so on a path served
    by two routes (``GET`` and ``PUT /v1/reports/{id}``) it would leave one out.
    """
    methods: set[str] = set()
    for route in _leaf_routes(request.app.router.routes):
        match, _ = route.matches(request.scope)
        if match != Match.NONE:
            methods.update(getattr(route, "methods", None) or ())
    return sorted(methods)


def _leaf_routes(routes: Sequence[BaseRoute]) -> list[BaseRoute]:
    """The routes themselves: FastAPI keeps an included router as one entry that wraps its routes.

    Our routers carry their own prefix and are included without one, so each leaf route's path
    is the full path.
    """
    leaves: list[BaseRoute] = []
    for route in routes:
        included = getattr(route, "original_router", None)
        if included is not None:
            leaves += _leaf_routes(included.routes)
        else:
            leaves.append(route)
    return leaves


async def _on_unexpected(request: Request, exc: Exception) -> Response:
    logger.exception("unhandled error", extra={"request_id": request.headers.get("x-request-id")})
    return problem_response(
        500, detail="An unexpected error occurred; it has been logged.", instance=request.url.path
    )


async def _on_driver_error(request: Request, exc: Exception) -> Response:
    """503 with Retry-After when the database cannot be reached; anything else stays a 500."""
    if not is_database_unavailable(exc):
        raise exc
    logger.warning(
        "database unavailable: %s",
        type(exc).__name__,
        extra={"request_id": request.headers.get("x-request-id")},
    )
    unavailable = DatabaseUnavailable(
        detail="The database cannot be reached; nothing was done. Retry later.",
        headers={"Retry-After": str(DATABASE_RETRY_AFTER_SECONDS)},
    )
    return await _on_sinergi_error(request, unavailable)


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(SinergiError, _on_sinergi_error)
    app.add_exception_handler(RequestValidationError, _on_validation_error)
    app.add_exception_handler(StarletteHTTPException, _on_http_exception)
    # A driver error or a refused connection (OSError) may mean the database is down: 503.
    app.add_exception_handler(SQLAlchemyError, _on_driver_error)
    app.add_exception_handler(OSError, _on_driver_error)
    app.add_exception_handler(Exception, _on_unexpected)


_RESPONSE_DESCRIPTIONS = {
    400: "Malformed request: a body that is not JSON, or a page cursor this service did not issue",
    401: "Missing, expired or invalid credentials",
    403: "The token's scope does not allow this operation",
    404: "Not found, or not visible to the caller",
    409: "Conflicts with the stored state",
    412: "If-Match names a version that is no longer current",
    413: "The request body is too large",
    415: "The body is not JSON",
    422: "A field is invalid; `errors[]` names each one",
    428: "If-Match is required",
    429: "Rate limit exceeded; see Retry-After",
    503: "The database cannot be reached (or the service is not ready); see Retry-After",
}


def problem_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """The ``responses=`` entry documenting each problem a route can answer."""
    return {
        status: {
            "description": _RESPONSE_DESCRIPTIONS.get(status, HTTPStatus(status).phrase),
            "content": {PROBLEM_MEDIA_TYPE: {"schema": {"$ref": "#/components/schemas/Problem"}}},
        }
        for status in statuses
    }
