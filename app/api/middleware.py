"""Every ASGI middleware of the API: request ids, body-size limit and a last-resort problem+json
for crashes (``RequestContextMiddleware``), one log line per request (``RequestLogMiddleware``),
request metrics (``MetricsMiddleware``)."""

from __future__ import annotations

import logging
import re
import time
import uuid

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app import metrics
from app.api.problems import problem_response

logger = logging.getLogger("sinergi.errors")

_VALID_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:\-]{1,128}$")


class RequestContextMiddleware:
    """Gives every response an ``X-Request-ID`` and turns oversize bodies and crashes into problems.

    The incoming ``X-Request-ID`` is echoed when it is a safe token (letters, digits, ``._:-``,
    at most 128 characters); otherwise a new UUID is generated.
    """

    def __init__(self, app: ASGIApp, max_body_bytes: int) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or [])
        incoming = headers.get(b"x-request-id", b"").decode("latin-1")
        request_id = incoming if _VALID_REQUEST_ID.match(incoming) else str(uuid.uuid4())
        scope.setdefault("state", {})["request_id"] = request_id
        id_header = (b"x-request-id", request_id.encode())
        started = False

        async def send_with_id(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                message["headers"] = [
                    *[
                        (k, v)
                        for k, v in message.get("headers", [])
                        if k.lower() != b"x-request-id"
                    ],
                    id_header,
                ]
            await send(message)

        async def reply(status: int, detail: str, slug: str | None = None) -> None:
            response = problem_response(status, detail=detail, slug=slug)
            response.headers["x-request-id"] = request_id
            await response(scope, receive, send_with_id)

        declared = headers.get(b"content-length")
        if declared is not None:
            try:
                too_large = int(declared) > self.max_body_bytes
            except ValueError:
                await reply(400, "Content-Length is not a number")
                return
            if too_large:
                await reply(413, f"The request body exceeds {self.max_body_bytes} bytes")
                return

        received = 0
        too_large = False

        async def counting_receive() -> Message:
            nonlocal received, too_large
            if too_large:
                return {"type": "http.request", "body": b"", "more_body": False}
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_body_bytes:
                    # Stop reading; whatever the app answers is replaced by a 413 below.
                    too_large = True
                    return {"type": "http.request", "body": b"", "more_body": False}
            return message

        async def guarded_send(message: Message) -> None:
            if too_large:
                if message["type"] == "http.response.start" and not started:
                    await reply(413, f"The request body exceeds {self.max_body_bytes} bytes")
                return
            await send_with_id(message)

        try:
            await self.app(scope, counting_receive, guarded_send)
        except Exception:
            logger.exception("unhandled error", extra={"request_id": request_id})
            if not started:
                await reply(500, "An unexpected error occurred; it has been logged.")


class RequestObserver:
    """Base of middleware that looks at each finished HTTP request (status, duration, route).

    Subclasses implement :meth:`observe`; it runs even when the app raised (status 500).
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def send_and_note(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, send_and_note)
        finally:
            self.observe(scope, status, time.perf_counter() - started)

    def observe(self, scope: Scope, status: int, seconds: float) -> None:
        raise NotImplementedError


def route_template(scope: Scope) -> str | None:
    """The matched route's path template (``/v1/reports/{report_id}``), never the raw path."""
    path = getattr(scope.get("route"), "path", None)
    return path if isinstance(path, str) else None


request_logger = logging.getLogger("sinergi.request")


class RequestLogMiddleware(RequestObserver):
    """One log line per request: request id, route template, status, duration, agency code."""

    def observe(self, scope: Scope, status: int, seconds: float) -> None:
        state = scope.get("state") or {}
        request_logger.info(
            "request",
            extra={
                "request_id": state.get("request_id"),
                "method": scope.get("method"),
                "route": route_template(scope) or "(no route)",
                "status": status,
                "duration_ms": round(seconds * 1000, 2),
                "agency": getattr(state.get("principal"), "agency_code", None),
            },
        )


#: The route whose answers are ingest outcomes.
_INGEST_ROUTE = ("POST", "/v1/reports")
#: Methods counted by name; anything else a client sends is counted as OTHER.
_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


class MetricsMiddleware(RequestObserver):
    """Counts and times every HTTP request by method, route template and status."""

    def observe(self, scope: Scope, status: int, seconds: float) -> None:
        route = route_template(scope) or metrics.UNMATCHED_ROUTE
        method = str(scope.get("method", ""))
        method = method if method in _METHODS else "OTHER"
        labels = (method, route, str(status))
        metrics.HTTP_REQUESTS.labels(*labels).inc()
        metrics.HTTP_DURATION.labels(*labels).observe(seconds)
        outcome = metrics.ingest_outcome(status) if (method, route) == _INGEST_ROUTE else None
        if outcome is not None:
            metrics.INGEST.labels(outcome).inc()
