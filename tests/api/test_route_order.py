"""The API's routes are tried before the console's pages, and no path could reach the other side.

FastAPI tries routes in order, a few microseconds each, so the API's come first; the order can
only change which route answers if an API path and a console path could match the same request.
"""

from __future__ import annotations

import re

import httpx
from fastapi import FastAPI
from fastapi.routing import RouteContext, iter_route_contexts


def _routes(app: FastAPI) -> list[RouteContext]:
    """Every route in the order requests try them, with its full path (prefixes included)."""
    routes = [r for r in iter_route_contexts(app.routes) if r.endpoint is not None and r.path]
    assert len(routes) > 100
    return routes


def _is_console(route: RouteContext) -> bool:
    return str(route.endpoint.__module__).startswith("app.web")


def _example(path: str) -> str:
    """A request path the route answers: every parameter filled with a plain word."""
    return re.sub(r"\{[^}]+\}", "x1", path)


async def test_api_routes_come_before_the_consoles_pages(app: FastAPI) -> None:
    routes = _routes(app)
    first_console = next(i for i, r in enumerate(routes) if _is_console(r))
    api = [i for i, r in enumerate(routes) if not _is_console(r) and r.path.startswith("/v1/")]
    assert api
    assert max(api) < first_console


async def test_no_request_path_could_match_both_an_api_route_and_a_console_page(
    app: FastAPI,
) -> None:
    routes = _routes(app)
    console = [r for r in routes if _is_console(r)]
    api = [r for r in routes if not _is_console(r)]
    for one, other in ((api, console), (console, api)):
        for route in one:
            example = _example(route.path)
            clashes = [r.path for r in other if r.path_regex.match(example)]
            assert not clashes, f"{route.path} also matches {clashes}"


async def test_a_console_page_and_an_api_call_still_reach_their_routes(
    client: httpx.AsyncClient,
) -> None:
    assert (await client.get("/healthz")).status_code == 200
    page = await client.get("/tentang")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert (await client.get("/v1/inbox")).status_code == 401
