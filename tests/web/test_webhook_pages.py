"""An agency's webhook in the admin console (issue 19), through the browser's eyes (HTTP).

A SYSTEM_ADMIN manages every agency's webhook and an AGENCY_ADMIN their own: a refused URL
comes back beside its field with the reason in plain words; the signing secret is shown once;
a test event shows the receiver's answer and verifies with the Standard Webhooks library; the
delivery log pages with the cursor and a dead letter goes back to the queue. Anyone else gets
the console's 404, and no POST works without the session's CSRF token.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Iterator
from contextlib import AbstractAsyncContextManager
from typing import Any

import httpx
import pytest
from sqlalchemy import select, update
from standardwebhooks import Webhook

from app.config import Settings
from app.db import transaction
from app.models.agency import Agency
from app.models.delivery import Delivery, DeliveryStatus
from app.models.officer import OfficerRole
from app.services.delivery import Outgoing, enqueue_all
from tests.conftest import make_settings
from tests.factories import HTML, SeededOfficer, create_admin, create_agency, create_officer
from tests.factories import sign_in as sign_in_api
from tests.web.webhook_receiver import LOOPBACK_WEBHOOKS, Receiver

IMIGRASI = "/admin/instansi/IMIGRASI-DUMAI/webhook"
POLRES = "/admin/instansi/POLRES-DUMAI/webhook"


@pytest.fixture
def settings(database_url: str) -> Settings:
    return make_settings(database_url, **LOOPBACK_WEBHOOKS)  # type: ignore[arg-type]


@pytest.fixture
async def people(app: Any) -> dict[str, SeededOfficer]:
    """ADMIN with a system admin; IMIGRASI-DUMAI with an admin and an officer; POLRES-DUMAI."""
    await create_admin(app)
    await create_agency(app, "IMIGRASI-DUMAI")
    await create_agency(app, "POLRES-DUMAI")
    return {
        "sysadmin": await create_officer(app, "ADMIN", "sysadmin", OfficerRole.SYSTEM_ADMIN),
        "admin": await create_officer(
            app, "IMIGRASI-DUMAI", "admin.imigrasi", OfficerRole.AGENCY_ADMIN
        ),
        "officer": await create_officer(app, "IMIGRASI-DUMAI", "petugas.imigrasi"),
    }


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with Receiver() as running:
        yield running


def _secret(html: str) -> str:
    found = re.search(r'<code class="secret" id="secret"[^>]*>([^<]+)</code>', html)
    assert found, html
    return found.group(1)


async def _register(console: httpx.AsyncClient, csrf: str, url: str, base: str = IMIGRASI) -> str:
    answer = await console.post(base, data={"url": url, "csrf_token": csrf}, headers=HTML)
    assert answer.status_code == 200, answer.text
    return _secret(answer.text)


async def _deliveries(app: Any, code: str, count: int) -> list[uuid.UUID]:
    """``count`` report.routed deliveries to ``code`` (numbered 1, 2, …)."""
    async with transaction(app.state.session_factory) as session:
        agency_id = await session.scalar(select(Agency.id).where(Agency.code == code))
        assert agency_id is not None
        made = await enqueue_all(
            session,
            [
                Outgoing(agency_id, "report.routed", {"n": n}, "criminal-investigation")
                for n in range(count)
            ],
        )
        await session.flush()
        return list(made)


async def test_a_refused_url_comes_back_beside_the_field_with_the_reason_in_plain_words(
    console: httpx.AsyncClient, people: dict[str, SeededOfficer]
) -> None:
    csrf = await sign_in_api(console, people["admin"])
    page = await console.get(IMIGRASI, headers=HTML)
    assert page.status_code == 200
    assert "belum punya webhook" in page.text
    refusals = {
        "https://10.20.30.40/sinergi": "jaringan internal",
        "https://169.254.169.254/latest/meta-data": "metadata cloud",
        "https://[fe80::1]/hook": "link-local",
        "https://siak.imigrasi.go.id/web hook": "spasi",
        "ftp://siak.imigrasi.go.id/hook": "diawali https://",
        "https://petugas:rahasia@siak.imigrasi.go.id/hook": "nama pengguna atau kata sandi",
        "https://": "tidak menyebut nama server",
        "": "Isi alamat lengkap penerima",
    }
    for url, reason in refusals.items():
        refused = await console.post(IMIGRASI, data={"url": url, "csrf_token": csrf}, headers=HTML)
        assert refused.status_code == 422, url
        error = re.search(r'id="url-error">(.*?)</p>', refused.text, re.S)
        assert error is not None, url
        assert reason in error.group(1), (url, error.group(1))
        assert 'href="#url"' in refused.text  # the summary links to the field
        assert f'value="{url}"' in refused.text.replace("&amp;", "&")  # nothing typed is lost
    assert "belum punya webhook" in (await console.get(IMIGRASI, headers=HTML)).text


async def test_http_and_loopback_are_refused_where_the_settings_do_not_allow_them(
    fresh_app: Callable[[str], AbstractAsyncContextManager[Any]],
) -> None:
    async with fresh_app("strict") as app:
        await create_admin(app)
        admin = await create_officer(app, "ADMIN", "sysadmin", OfficerRole.SYSTEM_ADMIN)
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="https://sinergi.test") as c:
            csrf = await sign_in_api(c, admin)
            base = "/admin/instansi/ADMIN/webhook"
            http = await c.post(base, data={"url": "http://siak.go.id/h", "csrf_token": csrf})
            assert http.status_code == 422
            assert "http tidak diizinkan" in http.text
            local = await c.post(base, data={"url": "https://127.0.0.1/h", "csrf_token": csrf})
            assert local.status_code == 422
            assert "127.0.0.1 mengarah ke jaringan internal" in local.text
            assert "SINERGI_WEBHOOK_ALLOWED_NETWORKS" in local.text


async def test_the_secret_is_shown_once_and_signs_the_test_event(
    console: httpx.AsyncClient, people: dict[str, SeededOfficer], receiver: Receiver
) -> None:
    csrf = await sign_in_api(console, people["admin"])
    registered = await console.post(
        IMIGRASI, data={"url": receiver.url, "csrf_token": csrf}, headers=HTML
    )
    assert registered.status_code == 200
    assert "hanya ditampilkan sekali" in registered.text
    assert 'data-copy="secret"' in registered.text
    secret = _secret(registered.text)
    assert secret.startswith("whsec_")

    page = await console.get(IMIGRASI, headers=HTML)
    assert receiver.url in page.text
    assert secret not in page.text  # never again
    again = await console.post(IMIGRASI, data={"url": receiver.url, "csrf_token": csrf})
    assert again.status_code == 303  # the same URL again: saved, the secret kept and not shown
    assert secret not in (await console.get(again.headers["location"], headers=HTML)).text

    receiver.status, receiver.body = 202, b'{"diterima": true, "antrean": 7}'
    tested = await console.post(f"{IMIGRASI}/uji", data={"csrf_token": csrf}, headers=HTML)
    assert tested.status_code == 200
    assert "Penerima menjawab 202" in tested.text
    assert "webhook berfungsi" in tested.text
    assert "&#34;antrean&#34;: 7" in tested.text  # the excerpt of the answer body
    [request] = receiver.received
    event = Webhook(secret).verify(request.body, request.headers)
    assert event["type"] == "webhook.test"
    assert event["sequence"] == 0
    assert event["data"]["agency_code"] == "IMIGRASI-DUMAI"
    assert request.headers["webhook-id"] in tested.text
    assert secret not in tested.text


async def test_rotating_shows_a_new_secret_once_and_both_sign_during_the_overlap(
    console: httpx.AsyncClient, people: dict[str, SeededOfficer], receiver: Receiver
) -> None:
    csrf = await sign_in_api(console, people["sysadmin"])
    old = await _register(console, csrf, receiver.url, POLRES)
    confirm = await console.get(f"{POLRES}/rotasi", headers=HTML)
    assert confirm.status_code == 200
    assert "dua tanda tangan" in confirm.text
    rotated = await console.post(f"{POLRES}/rotasi", data={"csrf_token": csrf}, headers=HTML)
    assert rotated.status_code == 200
    new = _secret(rotated.text)
    assert new != old
    assert "Rahasia lama tetap ikut menandatangani sampai" in rotated.text
    page = await console.get(POLRES, headers=HTML)
    assert new not in page.text
    assert "Masih ikut menandatangani sampai" in page.text

    await console.post(f"{POLRES}/uji", data={"csrf_token": csrf})
    [request] = receiver.received
    for secret in (old, new):  # the receiver may switch secrets without losing a message
        Webhook(secret).verify(request.body, request.headers)


async def test_a_410_from_the_test_event_is_explained_and_disables_nothing(
    console: httpx.AsyncClient, people: dict[str, SeededOfficer], receiver: Receiver
) -> None:
    csrf = await sign_in_api(console, people["admin"])
    await _register(console, csrf, receiver.url)
    receiver.status, receiver.body = 410, b""
    tested = await console.post(f"{IMIGRASI}/uji", data={"csrf_token": csrf}, headers=HTML)
    assert "Penerima menjawab 410 (Gone)" in tested.text
    assert "menonaktifkan webhook" in tested.text
    assert "(kosong)" in tested.text
    page = await console.get(IMIGRASI, headers=HTML)
    assert '<span class="tag">Aktif</span>' in page.text


async def test_a_test_event_nobody_answers_says_so(
    console: httpx.AsyncClient, people: dict[str, SeededOfficer]
) -> None:
    csrf = await sign_in_api(console, people["admin"])
    with Receiver() as gone:
        url = gone.url
    await _register(console, csrf, url)  # the port is closed again: nobody listens
    tested = await console.post(f"{IMIGRASI}/uji", data={"csrf_token": csrf}, headers=HTML)
    assert tested.status_code == 200
    assert "Tidak ada jawaban dari penerima" in tested.text
    assert "ConnectError" in tested.text


async def test_disable_and_delete_say_what_stops_first(
    console: httpx.AsyncClient, people: dict[str, SeededOfficer], receiver: Receiver
) -> None:
    csrf = await sign_in_api(console, people["admin"])
    await _register(console, csrf, receiver.url)
    confirm = await console.get(f"{IMIGRASI}/nonaktifkan", headers=HTML)
    assert "Tidak ada kiriman yang hilang" in confirm.text
    assert "berhenti mengirim" in confirm.text
    done = await console.post(f"{IMIGRASI}/nonaktifkan", data={"csrf_token": csrf})
    assert done.status_code == 303
    page = await console.get(done.headers["location"], headers=HTML)
    assert "Webhook dinonaktifkan" in page.text
    assert "Catatan sistem: Disabled by the administrator admin.imigrasi" in page.text
    assert "Aktifkan kembali" in page.text

    enabled = await console.post(f"{IMIGRASI}/aktifkan", data={"csrf_token": csrf})
    page = await console.get(enabled.headers["location"], headers=HTML)
    assert '<span class="tag">Aktif</span>' in page.text

    confirm = await console.get(f"{IMIGRASI}/hapus", headers=HTML)
    assert "Rahasia penandatanganannya dilupakan" in confirm.text
    deleted = await console.post(f"{IMIGRASI}/hapus", data={"csrf_token": csrf})
    page = await console.get(deleted.headers["location"], headers=HTML)
    assert "belum punya webhook" in page.text
    assert (await console.get(f"{IMIGRASI}/hapus", headers=HTML)).status_code == 404


async def test_retry_moves_a_dead_letter_back_to_pending(
    app: Any, console: httpx.AsyncClient, people: dict[str, SeededOfficer]
) -> None:
    [dead, _] = await _deliveries(app, "IMIGRASI-DUMAI", 2)
    async with transaction(app.state.session_factory) as session:
        await session.execute(
            update(Delivery)
            .where(Delivery.id == dead)
            .values(status=DeliveryStatus.DEAD, attempts=8, last_error="HTTP 503")
        )
    csrf = await sign_in_api(console, people["admin"])
    page = await console.get(IMIGRASI, headers=HTML)
    assert "gagal permanen setelah semua percobaan" in page.text
    log = await console.get(f"{IMIGRASI}/pengiriman?status=DEAD", headers=HTML)
    assert log.text.count("<tr>") == 2  # the header and the one dead delivery
    assert "HTTP 503" in log.text
    detail = await console.get(f"{IMIGRASI}/pengiriman/{dead}", headers=HTML)
    assert "Gagal permanen" in detail.text
    assert f"msg_{dead.hex}" in detail.text

    retried = await console.post(
        f"{IMIGRASI}/pengiriman/{dead}/ulangi", data={"csrf_token": csrf}, headers=HTML
    )
    assert retried.status_code == 303
    after = await console.get(retried.headers["location"], headers=HTML)
    assert "kembali ke antrean" in after.text
    assert "Menunggu" in after.text
    assert "Kirim ulang" not in after.text
    pending = await console.get(f"{IMIGRASI}/pengiriman?status=PENDING", headers=HTML)
    assert f"/pengiriman/{dead}" in pending.text
    again = await console.post(
        f"{IMIGRASI}/pengiriman/{dead}/ulangi", data={"csrf_token": csrf}, headers=HTML
    )
    assert again.status_code == 409  # only a dead delivery can be retried


async def test_the_delivery_log_pages_with_the_cursor(
    app: Any, console: httpx.AsyncClient, people: dict[str, SeededOfficer]
) -> None:
    made = await _deliveries(app, "IMIGRASI-DUMAI", 53)
    await sign_in_api(console, people["admin"])
    first = await console.get(f"{IMIGRASI}/pengiriman", headers=HTML)
    shown = set(re.findall(r"/pengiriman/([0-9a-f-]{36})", first.text))
    assert len(shown) == 50
    following = re.search(r'href="([^"]*cursor=[^"]+)">Kiriman lebih lama', first.text)
    assert following is not None
    second = await console.get(following.group(1).replace("&amp;", "&"), headers=HTML)
    rest = set(re.findall(r"/pengiriman/([0-9a-f-]{36})", second.text))
    assert len(rest) == 3
    assert shown | rest == {str(i) for i in made}
    assert "Kiriman lebih lama" not in second.text
    assert "Kembali ke yang terbaru" in second.text
    bad = await console.get(f"{IMIGRASI}/pengiriman?cursor=bukan-kursor", headers=HTML)
    assert bad.status_code == 400


async def test_another_agencys_admin_and_an_officer_get_404(
    app: Any, console: httpx.AsyncClient, people: dict[str, SeededOfficer], receiver: Receiver
) -> None:
    [theirs] = await _deliveries(app, "POLRES-DUMAI", 1)
    csrf = await sign_in_api(console, people["sysadmin"])
    await _register(console, csrf, receiver.url, POLRES)
    await console.delete("/v1/session", headers={"X-CSRF-Token": csrf})

    csrf = await sign_in_api(console, people["admin"])
    for path in ("", "/rotasi", "/nonaktifkan", "/hapus", "/pengiriman", f"/pengiriman/{theirs}"):
        answer = await console.get(POLRES + path, headers=HTML)
        assert answer.status_code == 404, path
        assert receiver.url not in answer.text
    for path in ("", "/uji", "/rotasi", "/nonaktifkan", "/aktifkan", "/hapus"):
        answer = await console.post(POLRES + path, data={"csrf_token": csrf, "url": receiver.url})
        assert answer.status_code == 404, path
    # another agency's delivery under one's own agency is no delivery at all
    own = await console.get(f"{IMIGRASI}/pengiriman/{theirs}", headers=HTML)
    assert own.status_code == 404
    retry = await console.post(f"{IMIGRASI}/pengiriman/{theirs}/ulangi", data={"csrf_token": csrf})
    assert retry.status_code == 404
    assert receiver.received == []  # no test event left for the other agency's receiver
    await console.delete("/v1/session", headers={"X-CSRF-Token": csrf})

    csrf = await sign_in_api(console, people["officer"])
    for path in ("", "/pengiriman"):
        assert (await console.get(IMIGRASI + path, headers=HTML)).status_code == 404, path
    answer = await console.post(IMIGRASI, data={"csrf_token": csrf, "url": receiver.url})
    assert answer.status_code == 404


async def test_no_post_works_without_the_csrf_token(
    app: Any, console: httpx.AsyncClient, people: dict[str, SeededOfficer], receiver: Receiver
) -> None:
    [dead] = await _deliveries(app, "IMIGRASI-DUMAI", 1)
    async with transaction(app.state.session_factory) as session:
        await session.execute(
            update(Delivery).where(Delivery.id == dead).values(status=DeliveryStatus.DEAD)
        )
    csrf = await sign_in_api(console, people["admin"])
    for path in ("", "/uji", "/rotasi", "/nonaktifkan", "/aktifkan", "/hapus"):
        answer = await console.post(IMIGRASI + path, data={"url": receiver.url}, headers=HTML)
        assert answer.status_code == 403, path
    retry = await console.post(f"{IMIGRASI}/pengiriman/{dead}/ulangi", headers=HTML)
    assert retry.status_code == 403
    assert "belum punya webhook" in (await console.get(IMIGRASI, headers=HTML)).text
    assert receiver.received == []
    detail = await console.get(f"{IMIGRASI}/pengiriman/{dead}", headers=HTML)
    assert "Gagal permanen" in detail.text
    assert csrf
