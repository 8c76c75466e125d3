"""The FastAPI application: routers, middleware, exception handlers, OpenAPI."""

from __future__ import annotations

import gc
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from pydantic.json_schema import models_json_schema
from starlette.routing import BaseRoute

from app import __version__
from app.api import (
    admin_agencies,
    admin_audit,
    admin_deliveries,
    admin_officers,
    admin_resolution,
    admin_routing,
    admin_webhooks,
    auth,
    cases,
    health,
    inbox,
    prometheus,
    reports,
    screening,
    session,
    stats,
    vocab,
    watches,
    wellknown,
)
from app.api.audit_hook import AUDIT_DEPENDENCY
from app.api.deps import RATE_LIMITED_SCOPES
from app.api.middleware import MetricsMiddleware, RequestContextMiddleware, RequestLogMiddleware
from app.api.openapi import finish as finish_openapi
from app.api.problems import install_error_handlers, problem_responses
from app.config import Settings, get_settings
from app.db import create_engine, create_session_factory
from app.logging import configure_logging
from app.schemas.problem import Problem
from app.services.rate_limits import RateLimits
from app.web import install_console

DESCRIPTION = """\
**Sinergi** is the exchange where Indonesian agencies in TIMPORA teams share reports of
suspected **TPPO** (*tindak pidana perdagangan orang*, trafficking in persons, UU 21/2007) and
**TPPM** (*tindak pidana penyelundupan manusia*, people smuggling, UU 6/2011 art. 120).

- **TIMPORA** (*Tim Pengawasan Orang Asing*): the local coordination team of Immigration,
  Police, BP2MI/BP3MI, the manpower office, prosecutors, the Navy, port authorities and local
  government.
- **NIK** (*Nomor Induk Kependudukan*): the 16-digit national identity number.
- **PMI nonprosedural**: a migrant worker (*Pekerja Migran Indonesia*) sent abroad outside the
  legal procedure (UU 18/2017).

Every error is `application/problem+json` (RFC 9457). Every response carries `X-Request-ID`.
"""


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the application for ``settings`` (read from the environment when omitted)."""
    settings = settings or get_settings()
    configure_logging(settings)
    engine = create_engine(settings)

    @asynccontextmanager
    async def lifespan(started: FastAPI) -> AsyncIterator[None]:
        if getattr(started.state, FREEZE_STARTUP_HEAP, False):
            freeze_startup_heap()
        yield
        await engine.dispose()

    app = FastAPI(
        title="Sinergi",
        version=__version__,
        summary="Inter-agency exchange of TPPO/TPPM reports",
        description=DESCRIPTION,
        lifespan=lifespan,
        # Every route, present and future, goes through the audit hook (app/api/audit_hook.py).
        dependencies=[AUDIT_DEPENDENCY],
        # The console serves /docs and /redoc itself, from local assets (app/web/pages.py).
        docs_url=None,
        redoc_url=None,
    )
    app.state.settings = settings
    app.state.engine = engine
    app.state.session_factory = create_session_factory(engine)
    app.state.rate_limits = RateLimits.from_settings(settings)

    install_error_handlers(app)

    app.include_router(health.router)
    app.include_router(prometheus.router)
    app.include_router(wellknown.router)
    app.include_router(auth.router)
    app.include_router(session.router)
    app.include_router(vocab.router)
    app.include_router(reports.router)
    app.include_router(cases.router)
    app.include_router(cases.persons_router)
    app.include_router(inbox.router)
    app.include_router(screening.router)
    app.include_router(watches.router)
    app.include_router(stats.router)
    app.include_router(admin_agencies.router)
    app.include_router(admin_agencies.signing_router)
    app.include_router(admin_officers.router)
    app.include_router(admin_routing.router)
    app.include_router(admin_deliveries.router)
    app.include_router(admin_webhooks.router)
    admin_webhooks.document_webhooks(app)
    app.include_router(admin_resolution.router)
    app.include_router(admin_audit.router)
    # The console's pages after the API's routes: a request's route is found by trying routes in
    # order (FastAPI 0.165 spends ~4 µs on each it tries), and API calls are the hot path. The
    # two sets of paths are disjoint (the console's are Indonesian words, the API's /v1, /healthz,
    # /readyz, /metrics, /.well-known), so the order changes no match.
    install_console(app)  # after the API's error handlers, which its error pages wrap
    app.add_middleware(RequestLogMiddleware)
    app.add_middleware(RequestContextMiddleware, max_body_bytes=settings.max_body_bytes)
    app.add_middleware(MetricsMiddleware)  # outermost: sees 413s and crashes too

    documented = _hot_routers_first(app)
    app.openapi = lambda: _openapi(app, documented)  # type: ignore[method-assign]
    return app


#: ``app.state`` flag of an app whose lifespan freezes the heap built up to its start.
FREEZE_STARTUP_HEAP = "freeze_startup_heap"

#: The collector's thresholds in a server process (Python's defaults: 700, 10, 10).
SERVED_GC_THRESHOLDS = (10_000, 20, 100)


def create_served_app() -> FastAPI:
    """``create_app`` as ``sinergi serve`` runs it (Uvicorn's factory): once started, the
    objects made until then are left out of the garbage collector's work and the youngest
    generation is collected less often (``freeze_startup_heap``)."""
    app = create_app()
    setattr(app.state, FREEZE_STARTUP_HEAP, True)
    return app


def freeze_startup_heap() -> None:
    """Move every object alive now (modules, routes, models, schemas, compiled statements:
    some 210,000 after start-up) to the collector's permanent generation, after collecting
    what is garbage.

    They live as long as the process, yet every full (oldest generation) collection traversed
    them all: what requests leave behind (caches, objects in flight promoted at a young
    collection) starts one every 150 or so ingests under load, each ~190 ms of CPU on this
    shared machine, about 1.4 ms per served ingest at c=32 (``benchmarks/README.md``,
    loadprof). Frozen objects are still freed by reference counting; only a cycle among them
    would be kept, and the start-up heap's live objects live as long as the process anyway.

    The youngest generation is then collected every 10,000 allocations instead of 700
    (``SERVED_GC_THRESHOLDS``): at the default, 32 requests in flight are caught alive by most
    young collections and their objects promoted to the older generations, which then fill and
    are collected too (``benchmarks/README.md``, readfast6). The cost: garbage in reference
    cycles waits longer for its collection.
    """
    gc.collect()
    gc.freeze()
    gc.set_threshold(*SERVED_GC_THRESHOLDS)


#: The routers whose requests come most often (reports read and submitted, inbox pages), tried
#: first: FastAPI 0.165 tries the app's routers in order, each trying every route it holds
#: (about 20 routes before a report read in the order above), then matches the chosen router's
#: routes again. Their prefixes (``/v1/reports``, ``/v1/inbox``) are no other router's, so the
#: order changes no match; OpenAPI keeps the order above.
_TRIED_FIRST = (reports.router, inbox.router)


def _hot_routers_first(app: FastAPI) -> list[BaseRoute]:
    """Move ``_TRIED_FIRST``'s routers to the front of the app's routes; the routes in the
    order they were added, which ``openapi.json`` lists."""
    documented = list(app.router.routes)
    first = [
        route
        for router in _TRIED_FIRST
        for route in documented
        if getattr(route, "original_router", None) is router
    ]
    app.router.routes[:] = first + [route for route in documented if route not in first]
    return documented


def _documented_order(app: FastAPI, documented: list[BaseRoute]) -> list[BaseRoute]:
    """The app's routes in the order they were added (any added since at the end)."""
    current = app.routes
    return [r for r in documented if r in current] + [r for r in current if r not in documented]


def _openapi(app: FastAPI, documented: list[BaseRoute]) -> dict[str, Any]:
    if app.openapi_schema:
        return app.openapi_schema
    schema = get_openapi(
        title=app.title,
        version=app.version,
        summary=app.summary,
        description=app.description,
        routes=_documented_order(app, documented),
        webhooks=app.webhooks.routes,
        tags=app.openapi_tags,
    )
    _, defs = models_json_schema(
        [(Problem, "serialization")], ref_template="#/components/schemas/{model}"
    )
    schemas = schema.setdefault("components", {}).setdefault("schemas", {})
    for name, definition in defs.get("$defs", {}).items():
        schemas.setdefault(name, definition)
    _document_rate_limits(schema)
    _document_database_outage(schema)
    app.openapi_schema = finish_openapi(schema)
    return schema


#: The one operation that never touches the database (liveness).
_WITHOUT_DATABASE = frozenset({"/healthz"})


def _document_database_outage(schema: dict[str, Any]) -> None:
    """Every other operation answers 503 with Retry-After while the database is unreachable."""
    for path, operations in schema.get("paths", {}).items():
        if path in _WITHOUT_DATABASE:
            continue
        for operation in operations.values():
            if isinstance(operation, dict):
                operation.setdefault("responses", {}).setdefault("503", problem_responses(503)[503])


def _document_rate_limits(schema: dict[str, Any]) -> None:
    """Every operation behind a rate-limited scope may answer 429 (app/api/deps.py)."""
    limited = {scope.value for scope in RATE_LIMITED_SCOPES}
    for operations in schema.get("paths", {}).values():
        for operation in operations.values():
            if not isinstance(operation, dict):
                continue
            scopes = {s for req in operation.get("security", []) for v in req.values() for s in v}
            if scopes & limited:
                operation.setdefault("responses", {}).setdefault("429", problem_responses(429)[429])
