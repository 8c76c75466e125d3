"""Domain errors: one base class carrying the HTTP status and RFC 9457 problem type.

Services raise these without knowing about HTTP frameworks; ``app.api.problems`` turns
each into an ``application/problem+json`` response.

    SinergiError
    ├── InvalidInput          422  a field breaks a rule that the schema cannot express
    ├── BadRequest            400  the request as a whole cannot be read
    │   └── InvalidCursor     400  a page cursor this service did not issue
    ├── Unauthenticated       401  no or bad credentials
    ├── Forbidden             403  authenticated, but the scope does not allow this
    ├── NotFound              404  absent, or present and not visible to the caller
    ├── Conflict              409  clashes with stored state
    ├── PreconditionFailed    412  If-Match names a stale version
    ├── PreconditionRequired  428  If-Match missing
    ├── RateLimited           429  over the agency's budget
    └── DatabaseUnavailable   503  the database cannot be reached; retry later
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

PROBLEM_BASE = "urn:sinergi:problem:"


@dataclass(frozen=True)
class FieldProblem:
    """One field's problem: where (JSON pointer inside ``location``) and what."""

    pointer: str
    detail: str
    code: str = "invalid"
    location: str = "body"

    def as_dict(self) -> dict[str, str]:
        return {
            "location": self.location,
            "pointer": self.pointer,
            "detail": self.detail,
            "code": self.code,
        }


@dataclass
class SinergiError(Exception):
    """Base of every error the service answers on purpose."""

    detail: str = ""
    errors: list[FieldProblem] = field(default_factory=list)
    headers: dict[str, str] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)

    status: ClassVar[int] = 500
    slug: ClassVar[str] = "internal-error"
    title: ClassVar[str] = "Internal server error"

    def __post_init__(self) -> None:
        super().__init__(self.detail or self.title)

    @property
    def type(self) -> str:
        return PROBLEM_BASE + self.slug


class BadRequest(SinergiError):
    status = 400
    slug = "bad-request"
    title = "Bad request"


class InvalidCursor(BadRequest):
    """A ``cursor`` that is not a ``next_cursor`` this service gave out (one answer for every
    list)."""

    slug = "invalid-cursor"
    title = "Unknown page cursor"

    def __init__(self) -> None:
        super().__init__(
            detail=(
                "The cursor is not one this service issued; pass `next_cursor` from the previous "
                "page"
            ),
            errors=[FieldProblem("/cursor", "invalid cursor", "cursor_invalid", "query")],
        )


class InvalidInput(SinergiError):
    status = 422
    slug = "validation-error"
    title = "The request is not valid"


class Unauthenticated(SinergiError):
    status = 401
    slug = "unauthenticated"
    title = "Authentication required"


class Forbidden(SinergiError):
    status = 403
    slug = "forbidden"
    title = "Not allowed"


class NotFound(SinergiError):
    status = 404
    slug = "not-found"
    title = "Not found"


class Conflict(SinergiError):
    status = 409
    slug = "conflict"
    title = "Conflict with the stored state"


class PreconditionFailed(SinergiError):
    status = 412
    slug = "precondition-failed"
    title = "The version given in If-Match is not the current one"


class PreconditionRequired(SinergiError):
    status = 428
    slug = "precondition-required"
    title = "If-Match is required"


class RateLimited(SinergiError):
    status = 429
    slug = "rate-limited"
    title = "Too many requests"


class DatabaseUnavailable(SinergiError):
    """The database cannot be reached (down, restarting, unopenable): nothing was done."""

    status = 503
    slug = "database-unavailable"
    title = "The database is unavailable"


def _pointer(loc: Sequence[int | str]) -> str:
    """``("body", "persons", 0, "nik")`` → ``/persons/0/nik`` (RFC 6901 escaping)."""
    parts = [str(p).replace("~", "~0").replace("/", "~1") for p in loc]
    return "/" + "/".join(parts) if parts else ""


def field_problems_from_validation(errors: Sequence[Any]) -> list[FieldProblem]:
    """Pydantic errors as field problems (JSON pointers; the location taken from ``loc``)."""
    problems: list[FieldProblem] = []
    for error in errors:
        loc = list(error.get("loc", ()))
        location = (
            str(loc.pop(0))
            if loc and loc[0] in {"body", "query", "path", "header", "cookie"}
            else "body"
        )
        # Pydantic appends the tag of a function validator or union branch: not a field.
        loc = [p for p in loc if not (isinstance(p, str) and p.startswith("function-"))]
        message = str(error.get("msg", "invalid value"))
        if message.startswith("Value error, "):
            message = message[len("Value error, ") :]
        problems.append(
            FieldProblem(
                pointer=_pointer(loc),
                detail=message,
                code=str(error.get("type", "invalid")),
                location=location,
            )
        )
    return problems
