"""Why a screened person is a hit, in words: the counter screening page says the reasons in
Indonesian (English with the switch), never in matching's own English phrases."""

from __future__ import annotations

import re

import httpx
from fastapi import FastAPI

from tests.factories import HTML, Agencies, submit_report
from tests.report_samples import deferral
from tests.web.test_screening_page import NIK, polres_officer


def reasons(page: str) -> list[str]:
    """The reasons listed under the hit."""
    found = re.search(r'<ul class="hit__reasons">(.*?)</ul>', page, re.S)
    assert found is not None, "the hit lists no reasons"
    return re.findall(r"<li>(.*?)</li>", found.group(1))


async def screen(console: httpx.AsyncClient, csrf: str) -> str:
    response = await console.post(
        "/pemeriksaan",
        data={
            "full_name": "Siti Nurhaliza",
            "date_of_birth": "14/03/1999",
            "nik": NIK,
            "csrf_token": csrf,
        },
        headers=HTML,
    )
    assert response.status_code == 200, response.text
    return response.text


async def test_the_reasons_of_a_hit_are_in_indonesian(
    app: FastAPI, console: httpx.AsyncClient, client: httpx.AsyncClient, agencies: Agencies
) -> None:
    await submit_report(client, agencies["IMIGRASI-DUMAI"], deferral())
    csrf = await polres_officer(app, console)

    listed = reasons(await screen(console, csrf))

    assert "NIK sama" in listed
    assert "Tanggal lahir sama" in listed
    assert any(r.startswith("Nama ") for r in listed), listed
    assert not [r for r in listed if "equal" in r or "name" in r]


async def test_the_reasons_follow_the_language_switch(
    app: FastAPI, console: httpx.AsyncClient, client: httpx.AsyncClient, agencies: Agencies
) -> None:
    await submit_report(client, agencies["IMIGRASI-DUMAI"], deferral())
    csrf = await polres_officer(app, console)
    console.cookies.set("lang", "en")

    listed = reasons(await screen(console, csrf))

    assert "NIK is the same" in listed
    assert "Same date of birth" in listed
    assert "NIK equal" not in listed
