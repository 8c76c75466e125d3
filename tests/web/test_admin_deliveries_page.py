"""Every agency's deliveries in one list (/admin/pengiriman), for the system admin.

When pushes fail across the exchange, the system admin sees which agencies have dead or pending
deliveries without opening each agency, narrows by status and agency (an unknown agency is an
error beside its field), and opens a delivery on its agency's log. Agency admins and officers
get the console's 404.
"""

from __future__ import annotations

import re
from typing import Any

import httpx
from sqlalchemy import update

from app.db import transaction
from app.models.delivery import Delivery, DeliveryStatus
from tests.factories import HTML, SeededOfficer
from tests.factories import sign_in as sign_in_api
from tests.web.test_webhook_pages import _deliveries, people, settings

__all__ = ["people", "settings"]  # fixtures shared with the agency's own delivery log


def _shown(html: str) -> list[tuple[str, str]]:
    """(agency, delivery id) of each row, in order."""
    return re.findall(r"/admin/instansi/([A-Z0-9-]+)/webhook/pengiriman/([0-9a-f-]{36})", html)


async def test_the_system_admin_sees_every_agencys_deliveries_and_narrows_them(
    app: Any, console: httpx.AsyncClient, people: dict[str, SeededOfficer]
) -> None:
    imigrasi = await _deliveries(app, "IMIGRASI-DUMAI", 2)
    [polres] = await _deliveries(app, "POLRES-DUMAI", 1)
    async with transaction(app.state.session_factory) as session:
        await session.execute(
            update(Delivery)
            .where(Delivery.id == polres)
            .values(status=DeliveryStatus.DEAD, attempts=8, last_error="HTTP 503")
        )
    await sign_in_api(console, people["sysadmin"])

    agencies_page = await console.get("/admin/instansi", headers=HTML)
    assert 'href="/admin/pengiriman"' in agencies_page.text  # a section of the system admin

    everything = await console.get("/admin/pengiriman", headers=HTML)
    assert everything.status_code == 200
    assert set(_shown(everything.text)) == {
        *(("IMIGRASI-DUMAI", str(i)) for i in imigrasi),
        ("POLRES-DUMAI", str(polres)),
    }

    dead = await console.get("/admin/pengiriman?status=DEAD", headers=HTML)
    assert _shown(dead.text) == [("POLRES-DUMAI", str(polres))]
    assert "HTTP 503" in dead.text
    opened = await console.get(f"/admin/instansi/POLRES-DUMAI/webhook/pengiriman/{polres}")
    assert opened.status_code == 200
    assert "Kirim ulang" in opened.text  # retried from the agency's own log

    one_agency = await console.get("/admin/pengiriman?instansi=imigrasi-dumai", headers=HTML)
    assert {code for code, _ in _shown(one_agency.text)} == {"IMIGRASI-DUMAI"}
    assert '<option value="IMIGRASI-DUMAI" selected>' in one_agency.text

    unknown = await console.get("/admin/pengiriman?instansi=TIDAK-ADA", headers=HTML)
    assert unknown.status_code == 422
    error = re.search(r'id="instansi-error">(.*?)</p>', unknown.text, re.S)
    assert error is not None
    assert "Tidak ada instansi dengan kode ini" in error.group(1)
    assert _shown(unknown.text) == []


async def test_the_list_pages_with_the_cursor_keeping_the_filters(
    app: Any, console: httpx.AsyncClient, people: dict[str, SeededOfficer]
) -> None:
    made = await _deliveries(app, "IMIGRASI-DUMAI", 52)
    await _deliveries(app, "POLRES-DUMAI", 3)
    await sign_in_api(console, people["sysadmin"])
    first = await console.get("/admin/pengiriman?instansi=IMIGRASI-DUMAI", headers=HTML)
    following = re.search(r'href="([^"]*cursor=[^"]+)">Kiriman lebih lama', first.text)
    assert following is not None
    second = await console.get(following.group(1).replace("&amp;", "&"), headers=HTML)
    ids = {i for _, i in _shown(first.text)} | {i for _, i in _shown(second.text)}
    assert ids == {str(i) for i in made}  # all of them, none of POLRES's


async def test_an_agency_admin_and_an_officer_get_the_consoles_404(
    app: Any, console: httpx.AsyncClient, people: dict[str, SeededOfficer]
) -> None:
    await _deliveries(app, "POLRES-DUMAI", 1)
    for who in ("admin", "officer"):
        csrf = await sign_in_api(console, people[who])
        answer = await console.get("/admin/pengiriman", headers=HTML)
        assert answer.status_code == 404, who
        assert "POLRES-DUMAI" not in answer.text
        await console.delete("/v1/session", headers={"X-CSRF-Token": csrf})
