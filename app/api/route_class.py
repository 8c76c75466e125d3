"""Route class and operation ids shared by every router.

Operation ids are built as ``<tag>_<function name>`` (``reports_create``), so each is set by
construction; JSON bodies must be sent as JSON (415 otherwise). A request to an authenticated
route refused before its dependencies run (415, malformed JSON) is still audited.
"""

from __future__ import annotations

import dataclasses
import functools
import inspect
from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import Request, routing
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute
from starlette.responses import Response

from app.api.audit_hook import (
    handling,
    name_objects_of_call,
    record_unreached,
    reset_handling,
)
from app.api.deps import DOCUMENTED_SCHEMES
from app.errors import SinergiError


class UnsupportedMediaType(SinergiError):
    status = 415
    slug = "unsupported-media-type"
    title = "Unsupported media type"


def operation_id(route: APIRoute) -> str:
    tag = str(route.tags[0]) if route.tags else "default"
    return f"{tag.replace('-', '_')}_{route.name}"


def _is_json(content_type: str) -> bool:
    media = content_type.split(";", 1)[0].strip().lower()
    return media == "application/json" or (
        media.startswith("application/") and media.endswith("+json")
    )


def _naming_objects(endpoint: Callable[..., Any]) -> Callable[..., Any]:
    """The endpoint, naming in its audit event the objects of its body and answer."""
    if not inspect.iscoroutinefunction(endpoint):
        return endpoint

    @functools.wraps(endpoint)
    async def named(*args: Any, **kwargs: Any) -> Any:
        answer = await endpoint(*args, **kwargs)
        name_objects_of_call(kwargs, answer)
        return answer

    return named


def _documents_only(parent: Dependant, sub: Dependant) -> bool:
    """Whether ``sub`` is one of ``DOCUMENTED_SCHEMES`` that ``parent`` can be called without."""
    if (
        parent.call is None
        or sub.name is None
        or not any(sub.call is s for s in DOCUMENTED_SCHEMES)
    ):
        return False
    parameter = inspect.signature(parent.call).parameters.get(sub.name)
    return parameter is not None and parameter.default is not inspect.Parameter.empty


def solved_per_request(dependant: Dependant) -> Dependant:
    """``dependant`` without the security schemes that only document it (``DOCUMENTED_SCHEMES``).

    They read the same header and cookie the dependencies read themselves and never refuse
    (``auto_error=False``), yet FastAPI solves each as a dependency on every request: three
    of the seven an authenticated read had. The route's own ``dependant``, which OpenAPI is
    built from, keeps them; only the handler solves this copy. Every other dependency, with
    its identity (``app.dependency_overrides``), is kept.
    """
    kept: list[Dependant] = []
    changed = False
    for sub in dependant.dependencies:
        if _documents_only(dependant, sub):
            changed = True
            continue
        solved = solved_per_request(sub)
        changed = changed or solved is not sub
        kept.append(solved)
    return dataclasses.replace(dependant, dependencies=kept) if changed else dependant


class SinergiRoute(APIRoute):
    """An APIRoute that refuses non-JSON bodies on JSON operations with 415, and names the
    objects of each request's body and answer in its audit event (``app.api.audit_hook``)."""

    def __init__(self, path: str, endpoint: Callable[..., Any], **kwargs: Any) -> None:
        super().__init__(path, _naming_objects(endpoint), **kwargs)

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        # FastAPI builds the handler of a route included in the app from its inclusion's
        # context (the app's dependencies added), which it names in this variable meanwhile.
        context = getattr(routing, "_effective_route_context_var", None)
        effective = context.get() if context is not None else None
        target: Any = effective if getattr(effective, "original_route", None) is self else self
        documented = target.dependant
        try:
            target.dependant = solved_per_request(documented)
        except (TypeError, ValueError):
            # A FastAPI whose ``Dependant`` is no longer a dataclass, or a dependency without a
            # signature: the schemes are solved per request, as FastAPI does by itself.
            target.dependant = documented
        try:
            handler = super().get_route_handler()
        finally:
            target.dependant = documented  # what OpenAPI and the audit hook read
        body_field = self.body_field
        expects_json = body_field is not None and not _is_form(self)

        async def checked(request: Request) -> Response:
            token = handling(request)
            try:
                if expects_json and request.method in {"POST", "PUT", "PATCH"}:
                    content_type = request.headers.get("content-type", "")
                    if not _is_json(content_type):
                        raise UnsupportedMediaType(
                            detail="Send the body as application/json "
                            f"(got {content_type or 'no content type'!r})"
                        )
                return await handler(request)
            except Exception as exc:
                # Refused before the audit hook (a dependency) could run: audit it here.
                await record_unreached(request, self, exc)
                raise
            finally:
                reset_handling(token)

        return checked


def _is_form(route: APIRoute) -> bool:
    field = route.body_field
    if field is None:
        return False
    info = getattr(field, "field_info", None)
    media = getattr(info, "media_type", "")
    return isinstance(media, str) and ("form" in media)
