"""Need-to-know on every console page that takes an object id, tested like the API's: an
officer of an agency outside the object's need-to-know gets, byte for byte, the page a random id
that does not exist gets (the same status, the same 404 page), whatever the method.

The pages are found from the application's routes, so a page added later (a correction form, a
version page) is walked too; a route whose id this test does not know fails until it is added.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute, iter_route_contexts

from tests.factories import HTML, Agencies, create_officer, sign_in, submit_report
from tests.report_samples import deferral

#: The console's admin pages take agency codes, usernames and key ids: an admin's own agency,
#: not need-to-know over reports; they are outside this test.
ADMIN_PREFIX = "/admin"
#: The match review pages are the ADMIN agency's analysts' alone: every other officer gets the
#: console's 404 on each of them (tests/web/test_review_pages.py, test_review_more.py).
CURATION_PREFIX = "/tinjauan"
_PARAM = re.compile(r"\{([a-z_]+)(?::[a-z]+)?\}")
#: One request id for every request, so that the error page (which names it) is comparable.
REQUEST_ID = {"x-request-id": "need-to-know-test"}


def console_id_routes(app: FastAPI) -> list[tuple[str, str]]:
    """Every (method, path template) of a console page whose path holds an object id."""
    found = []
    for context in iter_route_contexts(app.routes):
        route, path = context.original_route, context.path or ""
        if not isinstance(route, APIRoute) or route.include_in_schema:
            continue
        if "{" not in path or path.startswith((ADMIN_PREFIX, CURATION_PREFIX)):
            continue
        found += [(method, path) for method in sorted(route.methods or ())]
    return found


def fill(template: str, ids: dict[str, str]) -> str:
    def value(match: re.Match[str]) -> str:
        name = match.group(1)
        assert name in ids, f"{template}: which object is {{{name}}}? add it to this test"
        return ids[name]

    return _PARAM.sub(value, template)


@pytest.fixture
async def outsider(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """A second browser, for the officer of the agency outside the need-to-know."""
    transport = httpx.ASGITransport(app=app, client=("203.0.113.8", 51001))
    async with httpx.AsyncClient(transport=transport, base_url="https://sinergi.test") as c:
        yield c


async def test_every_object_page_answers_an_outsider_as_if_the_object_did_not_exist(
    app: FastAPI,
    console: httpx.AsyncClient,
    outsider: httpx.AsyncClient,
    client: httpx.AsyncClient,
    agencies: Agencies,
) -> None:
    imi = agencies["IMIGRASI-DUMAI"]
    report = await submit_report(client, imi, deferral(recipients=["POLRES-DUMAI"]))
    watch = await client.post(
        "/v1/watches", json={"person": {"nik": "1472035403990002"}}, headers=imi
    )
    assert watch.status_code == 201, watch.text
    theirs = {
        "report_id": report["id"],
        "case_id": report["case_id"],
        "watch_id": watch.json()["id"],
    }
    missing = {name: str(uuid.uuid4()) for name in theirs}
    # The Navy was not routed the report and did not make the watch: the API agrees.
    for path in (f"/v1/reports/{report['id']}", f"/v1/cases/{report['case_id']}"):
        assert (await client.get(path, headers=agencies["LANAL-DUMAI"])).status_code == 404
    await sign_in(console, await create_officer(app, "IMIGRASI-DUMAI", "petugas.imigrasi"))
    csrf = await sign_in(outsider, await create_officer(app, "LANAL-DUMAI", "petugas.lanal"))

    routes = console_id_routes(app)
    walked = {template for _, template in routes}
    assert {"/laporan/{report_id:uuid}", "/kasus/{case_id}", "/pantauan/{watch_id}"} <= walked
    for method, template in routes:
        own_path, missing_path = fill(template, theirs), fill(template, missing)
        headers = {**HTML, **REQUEST_ID}
        form = {"csrf_token": csrf} if method == "POST" else None
        seen = await outsider.request(method, own_path, data=form, headers=headers)
        absent = await outsider.request(method, missing_path, data=form, headers=headers)

        assert seen.status_code == absent.status_code == 404, (method, template, seen.text)
        assert seen.headers["content-type"] == absent.headers["content-type"]
        body = seen.content
        for name, value in theirs.items():
            body = body.replace(value.encode(), missing[name].encode())
        assert body == absent.content, (method, template)
        if method == "GET":  # and the object is there: its own agency opens the page
            assert (await console.get(own_path, headers=HTML)).status_code == 200, template
