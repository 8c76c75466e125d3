"""Why a person of a new report was taken for one already known, in words: on the success page
after filing (only beside reports the officer may see) and on the case page's links."""

from __future__ import annotations

import re

import httpx
from fastapi import FastAPI

from tests.factories import HTML, Agencies, submit_report
from tests.report_samples import deferral
from tests.web.test_new_report_page import filled_form, officer_of

IMI = "IMIGRASI-DUMAI"


async def test_the_success_page_says_why_in_indonesian_and_the_case_page_too(
    app: FastAPI, console: httpx.AsyncClient, client: httpx.AsyncClient, agencies: Agencies
) -> None:
    await submit_report(client, agencies[IMI], deferral())  # Siti, filed before by Immigration
    csrf = await officer_of(app, console, IMI)

    response = await console.post("/laporan-baru", data=filled_form(csrf), headers=HTML)

    page = response.text
    assert "muncul di 1 laporan lain yang boleh Anda lihat" in page
    assert "Dikenali sebagai orang yang sama karena:" in page
    assert "<li>NIK sama</li>" in page
    assert "<li>Tanggal lahir sama</li>" in page
    assert "equal" not in page

    case_id = re.search(r'href="/kasus/([0-9a-f-]{36})"', page)
    assert case_id is not None
    case_page = (await console.get(f"/kasus/{case_id.group(1)}", headers=HTML)).text
    assert "NIK sama" in case_page
    assert "NIK equal" not in case_page


async def test_no_reasons_about_a_person_known_only_from_reports_the_officer_may_not_see(
    app: FastAPI, console: httpx.AsyncClient, client: httpx.AsyncClient, agencies: Agencies
) -> None:
    # the Navy's report about Siti (AMBER, not routed to Immigration)
    await submit_report(client, agencies["LANAL-DUMAI"], deferral(external_ref="LANAL/2025/9"))
    csrf = await officer_of(app, console, IMI)

    page = (await console.post("/laporan-baru", data=filled_form(csrf), headers=HTML)).text

    assert "belum muncul di laporan lain yang boleh Anda lihat" in page
    assert "Dikenali sebagai orang yang sama karena:" not in page
    assert "NIK sama" not in page
