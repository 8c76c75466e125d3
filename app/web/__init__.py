"""The officer console: server-rendered pages (Jinja2 + htmx) on the same services as the API.

``install_console`` mounts it on the application: the pages router, the static assets, the
security headers and the HTML error pages. See ``app/web/README.md`` for how to add a page.
"""

from __future__ import annotations

from fastapi import FastAPI
from starlette.staticfiles import StaticFiles

from app.web import (
    admin_audit_pages,
    admin_delivery_pages,
    admin_key_pages,
    admin_pages,
    admin_routing_pages,
    admin_webhook_pages,
    officer_pages,
    pages,
    report_pages,
    review_pages,
    session,
    stats_pages,
    watch_pages,
    work_pages,
)
from app.web.errors import CrashPageMiddleware, install_error_pages
from app.web.paths import STATIC_PREFIX
from app.web.security import ConsoleHeadersMiddleware


def install_console(app: FastAPI) -> None:
    """Mount the console on ``app``: after the API's error handlers, before its middleware."""
    app.include_router(pages.router)
    app.include_router(session.router)
    app.include_router(officer_pages.router)
    app.include_router(work_pages.router)
    app.include_router(watch_pages.router)
    app.include_router(stats_pages.router)
    app.include_router(report_pages.router)
    app.include_router(admin_pages.router)
    app.include_router(admin_webhook_pages.router)
    app.include_router(admin_audit_pages.router)
    app.include_router(admin_delivery_pages.router)
    app.include_router(admin_key_pages.router)
    app.include_router(admin_routing_pages.router)
    app.include_router(review_pages.router)
    app.add_exception_handler(session.SignInNeeded, session.redirect_to_sign_in)
    app.mount(STATIC_PREFIX, StaticFiles(packages=[("app.web", "static")]), name="static")
    install_error_pages(app)
    # Innermost first: the crash page gets the console's headers, and the request id from
    # RequestContextMiddleware (added after this, so outside it) is already set.
    app.add_middleware(CrashPageMiddleware)
    app.add_middleware(ConsoleHeadersMiddleware)
