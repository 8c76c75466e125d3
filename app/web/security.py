"""Security headers for the console's responses: a strict CSP, no referrer, no caching of pages.

The console serves personal data, so every page is ``Cache-Control: no-store`` unless the route
says otherwise; only the static assets (no personal data) are cacheable. A route may set its own
``Content-Security-Policy`` (the API documentation pages do); the middleware never overrides it.
"""

from __future__ import annotations

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.web.paths import is_console_path, is_static_path

#: The console's policy: nothing but this origin, no inline script or style, no eval, no framing.
CONSOLE_CSP = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)

#: Swagger UI and ReDoc set styles at run time (ReDoc through styled-components, which injects
#: <style> elements) and ReDoc's search runs in a worker built from a blob. Scripts still come
#: from this origin only, with no eval and no inline script; nothing is fetched from elsewhere.
API_DOCS_CSP = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self' 'unsafe-inline'",
        "img-src 'self' data:",
        "font-src 'self' data:",
        "connect-src 'self'",
        "worker-src 'self' blob:",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)

#: Static assets carry the release in their URL (``?v=``), so a day of caching is safe.
STATIC_CACHE_CONTROL = "public, max-age=86400"

_COMMON = {
    "referrer-policy": "no-referrer",
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "cross-origin-opener-policy": "same-origin",
}


class ConsoleHeadersMiddleware:
    """Adds the console's security and caching headers to every response on a console path."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not is_console_path(scope["path"]):
            await self.app(scope, receive, send)
            return
        static = is_static_path(scope["path"])

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in _COMMON.items():
                    headers.setdefault(name, value)
                if static:
                    headers["cache-control"] = STATIC_CACHE_CONTROL
                else:
                    headers.setdefault("content-security-policy", CONSOLE_CSP)
                    headers.setdefault("cache-control", "no-store")
            await send(message)

        await self.app(scope, receive, send_with_headers)
