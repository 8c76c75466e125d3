"""Error pages in the console's style for browsers; the API keeps problem+json.

A request gets an HTML page when its path belongs to the console and its ``Accept`` header asks
for ``text/html`` (every browser navigation does); anyone else (API clients, ``curl``, tests
with ``Accept: */*``) gets the problem+json the API's handlers write. The handlers wrap the ones
``app.api.problems`` installed, so there is one place that decides the status of an error.
"""

from __future__ import annotations

import inspect
import logging
from collections.abc import Awaitable, Callable
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.errors import SinergiError
from app.web.paths import is_console_path
from app.web.templating import render

logger = logging.getLogger("sinergi.errors")

Handler = Callable[[Request, Exception], Awaitable[Response]]
#: What Starlette keeps in ``app.exception_handlers`` (a handler may also be a plain function).
InstalledHandler = Callable[[Request, Any], Response | Awaitable[Response]]

#: Statuses with their own words in the catalogues (``error.404.title`` …);
#: others use ``error.other``.
_WORDED = {400, 403, 404, 405, 500, 503}


def wants_html(request: Request) -> bool:
    """A browser asking for a console page (not an API client, not a path of the API)."""
    return is_console_path(request.url.path) and "text/html" in request.headers.get("accept", "")


def _may_accept_html(scope: Scope) -> bool:
    """Whether any ``Accept`` header of the request names text/html: without one,
    ``wants_html`` is false, known without building the request's URL and headers (an API
    call passes here on every request)."""
    return any(
        name == b"accept" and b"text/html" in value.lower()
        for name, value in scope.get("headers") or ()
    )


def error_page(request: Request, status: int, headers: dict[str, str] | None = None) -> Response:
    """The console's page for ``status``: what happened in plain words and where to go next."""
    key = f"error.{status}" if status in _WORDED else "error.other"
    return render(
        request,
        "pages/error.html",
        {
            "status": status,
            "title_key": f"{key}.title",
            "body_key": f"{key}.body",
            "request_id": getattr(request.state, "request_id", None),
        },
        status_code=status,
        headers=headers,
    )


def _status_of(exc: Exception) -> tuple[int, dict[str, str] | None]:
    if isinstance(exc, StarletteHTTPException):
        return exc.status_code, dict(exc.headers or {}) or None
    if isinstance(exc, SinergiError):
        return exc.status, exc.headers or None
    return HTTPStatus.INTERNAL_SERVER_ERROR, None


def _html_or(api_handler: InstalledHandler) -> Handler:
    async def handle(request: Request, exc: Exception) -> Response:
        if not wants_html(request):
            answer = api_handler(request, exc)
            return await answer if inspect.isawaitable(answer) else answer
        status, headers = _status_of(exc)
        if status == HTTPStatus.UNAUTHORIZED:
            # A console page asked for a signed-in officer: the browser goes to sign in at "/".
            if request.headers.get("hx-request"):
                return Response(status_code=204, headers={"HX-Redirect": "/"})
            return RedirectResponse("/", status_code=303)
        if not isinstance(exc, (StarletteHTTPException, SinergiError)):
            logger.exception(
                "unhandled error", extra={"request_id": getattr(request.state, "request_id", None)}
            )
        return error_page(request, status, headers)

    return handle


class CrashPageMiddleware:
    """A crash on a console page answers the console's 500 page to a browser.

    Without it the crash reaches ``RequestContextMiddleware``, which answers problem+json (right
    for API clients, a wall of JSON for an officer). It logs the crash as that middleware would.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not _may_accept_html(scope) or not wants_html(Request(scope)):
            await self.app(scope, receive, send)
            return
        started = False

        async def note_start(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, note_start)
        except Exception:
            if started:
                raise
            request = Request(scope)
            logger.exception(
                "unhandled error", extra={"request_id": getattr(request.state, "request_id", None)}
            )
            await error_page(request, HTTPStatus.INTERNAL_SERVER_ERROR)(scope, receive, send)


def install_error_pages(app: FastAPI) -> None:
    """Wrap the API's handlers (installed before) so browsers on console paths get HTML pages."""
    for exc_class in (StarletteHTTPException, SinergiError, Exception):
        api_handler = app.exception_handlers.get(exc_class)
        if api_handler is None:
            raise RuntimeError(f"install the API's error handlers first ({exc_class.__name__})")
        app.add_exception_handler(exc_class, _html_or(api_handler))
