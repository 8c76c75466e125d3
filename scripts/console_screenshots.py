"""Screenshots of every console page at 1366x768 (office laptop) and 375x812 (phone),
for docs/console/.

    .venv/bin/python scripts/console_screenshots.py [docs/console]

Serves the app on a throw-away SQLite database with the demo's Kota Dumai agencies (the same
harness as the browser tests, tests/web/live.py) and drives Debian's Chromium with Playwright.
Look at every PNG it writes before committing them: spacing, wrapping, contrast, overflow.
"""

from __future__ import annotations

import json
import sqlite3
import sys
import tempfile
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from playwright.sync_api import Browser, Page, sync_playwright

from app.vocab.enums import OfficerRole
from app.worker import RETRY_SCHEDULE
from tests.factories import SeededOfficer
from tests.report_samples import deferral, interception, victim
from tests.web.browser_session import sign_in_page, sign_in_seeded, submit_as_officer
from tests.web.live import launch_chromium, live_server, seeded_database, seeded_officer
from tests.web.webhook_receiver import LOOPBACK_WEBHOOKS, Receiver

VIEWPORTS = {"desktop": (1366, 768), "phone": (375, 812)}


@dataclass(frozen=True)
class Shot:
    """One page to photograph: its file name, path, language, and whether to take the whole page."""

    name: str
    path: str
    language: str = "id"
    full_page: bool = True
    #: A selector that is visible once the page has finished drawing itself.
    ready: str = "main"
    #: The demo officer signed in for the shot (None: signed out).
    officer: str | None = None
    #: What the officer does on the page before the shot (fill a form, submit it).
    act: Callable[[Page], None] | None = None


def _screen_by_nik(page: Page) -> None:
    page.get_by_label("NIK").fill("1472035403990002")
    page.get_by_role("button", name="Periksa").click()


def _screen_name_only(page: Page) -> None:
    page.get_by_label("Nama lengkap").fill("Siti Nurhaliza")
    page.get_by_role("button", name="Periksa").click()


def _report_bad_nik(page: Page) -> None:
    page.get_by_label("Nama lengkap").fill("Siti Nurhaliza")
    page.get_by_label("NIK", exact=True).fill("14720354")
    page.get_by_role("button", name="Kirim laporan").click()


def _report_sent(page: Page) -> None:
    page.get_by_label("Tanggal kejadian").fill("02/06/2025")
    page.get_by_label("Kode wilayah", exact=True).fill("14.72")
    page.get_by_label("Berkedok wisata").check()
    page.get_by_label("Nama lengkap").fill("Siti Nurhaliza binti Ahmad")
    page.get_by_label("Tanggal lahir").fill("14/03/1999")
    page.get_by_label("NIK", exact=True).fill("1472035403990002")
    page.get_by_role("button", name="Kirim laporan").click()


#: The statistics shots' period: the year of the sample reports, by modus.
STATS_QUERY = "dari=01/01/2025&sampai=31/12/2025&kelompok=modus"


def _report_more_details(page: Page) -> None:
    """The rarer parts of the form opened: a journey event, a vessel, recruitment, assessment."""
    page.locator("details#events > summary").click()
    page.get_by_role("button", name="Tambah peristiwa").click()
    page.locator("#events-0-type").select_option("TRANSIT")
    page.locator("details#conveyances > summary").click()
    page.get_by_role("button", name="Tambah kapal atau kendaraan").click()
    for section in ("recruitment", "assessment", "persons-0-more"):
        page.locator(f"details#{section} > summary").click()


SHOTS = (
    Shot("tentang", "/tentang"),
    Shot("tentang-en", "/tentang", language="en"),
    Shot("404", "/halaman-yang-tidak-ada"),
    Shot("docs", "/docs", full_page=False, ready=".opblock"),
    Shot("redoc", "/redoc", full_page=False, ready="redoc h2"),
    # console2: signing in, home, inbox (the reports seeded below are routed to the police)
    Shot("masuk", "/"),
    Shot("masuk-kode-penyiapan", "/masuk/kode-penyiapan"),
    Shot("beranda", "/", officer="petugas.polres-dumai"),
    Shot("beranda-en", "/", language="en", officer="petugas.polres-dumai"),
    Shot("kotak-masuk", "/kotak-masuk", officer="petugas.polres-dumai"),
    # console3: counter screening, new report, watches, case
    Shot("pemeriksaan", "/pemeriksaan", officer="petugas.polres-dumai"),
    Shot(
        "pemeriksaan-hasil",
        "/pemeriksaan",
        officer="petugas.polres-dumai",
        act=_screen_by_nik,
        ready=".screening-result",
    ),
    Shot(
        "pemeriksaan-galat",
        "/pemeriksaan",
        officer="petugas.polres-dumai",
        act=_screen_name_only,
        ready="#error-summary",
    ),
    Shot("laporan-baru", "/laporan-baru", officer="petugas.polres-dumai"),
    Shot(
        "laporan-baru-galat",
        "/laporan-baru",
        officer="petugas.polres-dumai",
        act=_report_bad_nik,
        ready="#error-summary",
    ),
    Shot(
        "laporan-baru-terkirim",
        "/laporan-baru",
        officer="petugas.polres-dumai",
        act=_report_sent,
        ready=".panel-success",
    ),
    Shot("pantauan", "/pantauan", officer="petugas.imigrasi-dumai"),
    Shot("kasus", "/kasus/{case_id}", officer="petugas.imigrasi-dumai", ready="[data-ready]"),
    # console5: the report page ({report} is the Navy's report seed_report_page submits)
    Shot("laporan", "/laporan/{report}", officer="petugas.lanal-dumai"),
    Shot("laporan-penerima", "/laporan/{report}", officer="petugas.polres-dumai"),
    Shot("laporan-en", "/laporan/{report}", language="en", officer="petugas.polres-dumai"),
    Shot("laporan-tarik", "/laporan/{report}/tarik", officer="petugas.lanal-dumai"),
    Shot("laporan-tutup", "/laporan/{report}/tutup", officer="petugas.lanal-dumai"),
    # watchstats: one watch's hits, the statistics page
    Shot("pantauan-temuan", "/pantauan/{watch}", officer="petugas.imigrasi-dumai"),
    Shot("statistik", "/statistik?" + STATS_QUERY, officer="petugas.imigrasi-dumai"),
    Shot(
        "statistik-en", "/statistik?" + STATS_QUERY, language="en", officer="petugas.imigrasi-dumai"
    ),
    Shot(
        "statistik-galat",
        "/statistik?dari=31/02/2025&sampai=01/01/2020",
        officer="petugas.imigrasi-dumai",
        ready="#error-summary",
    ),
    # issue 18: correcting a report, the rarer report fields
    Shot("laporan-koreksi", "/laporan/{report}/koreksi", officer="petugas.lanal-dumai"),
    Shot(
        "laporan-baru-rincian",
        "/laporan-baru",
        officer="petugas.polres-dumai",
        act=_report_more_details,
        ready="details#conveyances[open]",
    ),
)


NAVY_REPORT: dict[str, object] = {
    "external_ref": "LANAL-DUMAI/LP-A/27/XI/2026",
    "case_type": "TPPO_TPPM",
    "tlp": "AMBER",
    "reported_at": "2026-11-21T23:40:00+07:00",
    "occurred_from": "2026-11-21",
    "location": {"region_code": "14.72", "place": "Pantai Purnama, pelabuhan tidak resmi"},
    "modus_operandi": ["UNOFFICIAL_PORT", "NONPROCEDURAL_MIGRANT_WORKER"],
    "exploitation_types": ["FORCED_LABOUR"],
    "forced_labour_sector": "A",
    "means_of_control": ["DEBT_BONDAGE", "WITHHELD_DOCUMENTS"],
    "destination_countries": ["MYS"],
    "persons": [
        {
            "role": "SUSPECT",
            "full_name": "Hendra Saputra",
            "aliases": ["Bang Hen"],
            "sex": "MALE",
            "birth_year": 1985,
            "nationality": "IDN",
            "phone": "+62 813-7100-2211",
            "perpetrator_roles": ["RECRUITER_OR_INTERMEDIARY", "TRANSPORTER"],
        },
        {
            "role": "VICTIM",
            "full_name": "Yohanes Bria",
            "sex": "MALE",
            "date_of_birth": "2001-11-02",
            "nationality": "IDN",
            "passport_number": "C 1234567",
            "trafficking_status": "POSSIBLE",
        },
    ],
    "events": [
        {"type": "RECRUITMENT", "date": "2026-10-30", "region_code": "53.71", "place": "Kupang"},
        {"type": "INTERCEPTION", "date": "2026-11-21", "region_code": "14.72"},
    ],
    "conveyances": [{"type": "SPEEDBOAT", "registration": "GT 5 No. 112/PPa"}],
    "actions_taken": ["DEPARTURE_PREVENTED", "ARREST", "SHELTER"],
    "assessment": {"source_reliability": "A", "information_accuracy": "1"},
    "narrative": (
        "Patroli menghentikan speedboat berisi 14 calon PMI nonprosedural menuju Malaysia."
    ),
    "recipients": ["POLRES-DUMAI"],
}


def seed_report_page(page: Page) -> str:
    """The Navy's report to the police, corrected once (so it has versions to compare); its id."""
    csrf = sign_in_page(page, "petugas.lanal-dumai")
    created = page.request.post("/v1/reports", headers={"X-CSRF-Token": csrf}, data=NAVY_REPORT)
    assert created.ok, created.text()
    report_id: str = created.json()["id"]
    corrected = {**NAVY_REPORT, "transit_countries": ["SGP"], "tlp": "AMBER_STRICT"}
    corrected["persons"] = [dict(p) for p in NAVY_REPORT["persons"]]  # type: ignore[attr-defined]
    corrected["persons"][1]["passport_number"] = "C 7654321"  # type: ignore[index]
    response = page.request.put(
        f"/v1/reports/{report_id}",
        headers={"X-CSRF-Token": csrf, "If-Match": '"1"'},
        data=corrected,
    )
    assert response.ok, response.text()
    page.context.clear_cookies()
    return report_id


def seed_reports(page: Page) -> dict[str, str]:
    """Sample reports about the same victim, so working pages have something to show; the
    ids shot paths may name (``{case_id}``)."""
    csrf = sign_in_page(page, "petugas.imigrasi-dumai")
    created = submit_as_officer(page, csrf, deferral())
    csrf = sign_in_page(page, "petugas.lanal-dumai")
    submit_as_officer(page, csrf, interception(tlp="GREEN"))
    submit_as_officer(
        page, csrf, interception(external_ref="LANAL-DUMAI/2025/0031", tlp="AMBER_STRICT")
    )
    csrf = sign_in_page(page, "petugas.imigrasi-dumai")
    watches = []
    for watched in (
        {
            "person": {"full_name": "Siti Nurhaliza", "date_of_birth": "1999-03-14"},
            "note": "PERM-0001",
        },
        {"person": {"nik": "1472035403990002"}, "note": "Berkas 2025/117"},
    ):
        answer = page.request.post("/v1/watches", data=watched, headers={"X-CSRF-Token": csrf})
        assert answer.status == 201, answer.text()
        watches.append(answer.json()["id"])
    # Later reports naming the watched woman: hits, one on a report Immigration may read.
    csrf = sign_in_page(page, "petugas.lanal-dumai")
    submit_as_officer(page, csrf, interception(external_ref="LANAL-DUMAI/2025/0045"))
    csrf = sign_in_page(page, "petugas.polres-dumai")
    police = interception(external_ref="POLRES-DUMAI/LP/112/2025", recipients=["IMIGRASI-DUMAI"])
    submit_as_officer(page, csrf, police)
    page.context.clear_cookies()
    return {
        "case_id": str(created["case_id"]),
        "entity": str(created["persons"][0]["entity_id"]),
        "report": seed_report_page(page),
        "watch": watches[0],
    }


def take(page: Page, base_url: str, shot: Shot, png: Path, ids: dict[str, str]) -> None:
    page.context.clear_cookies()
    page.context.add_cookies([{"name": "lang", "value": shot.language, "url": base_url}])
    if shot.officer is not None:
        sign_in_page(page, shot.officer)
    page.goto(shot.path.format(**ids))
    if shot.act is not None:
        shot.act(page)
    page.wait_for_selector(shot.ready, timeout=30_000)
    page.screenshot(path=str(png), full_page=shot.full_page)


def main(out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as directory:
        database = seeded_database(Path(directory))
        # before Playwright starts: its sync API keeps an event loop running in this thread
        admins = {
            label: seeded_officer(database, "ADMIN", f"sysadmin.{label}", OfficerRole.SYSTEM_ADMIN)
            for label in VIEWPORTS
        }
        # the webhook pages' own admins (a TOTP code is accepted once: admin_shots used theirs)
        webhookers = {
            label: seeded_officer(
                database, "ADMIN", f"sysadmin.webhook.{label}", OfficerRole.SYSTEM_ADMIN
            )
            for label in VIEWPORTS
        }
        # one sign-in each for the audit and key pages (a TOTP code is accepted once)
        auditors = {
            label: seeded_officer(database, "ADMIN", f"auditor.{label}", OfficerRole.SYSTEM_ADMIN)
            for label in VIEWPORTS
        }
        # the routing pages' own admins: a TOTP code is accepted once, and admin_shots has used it
        routers = {
            label: seeded_officer(
                database, "ADMIN", f"sysadmin.rute.{label}", OfficerRole.SYSTEM_ADMIN
            )
            for label in VIEWPORTS
        }
        with (
            live_server(database, **LOOPBACK_WEBHOOKS) as base_url,
            Receiver(body=b'{"diterima": true}') as receiver,
            sync_playwright() as playwright,
        ):
            browser = launch_chromium(playwright)
            seeding = browser.new_context(base_url=base_url)
            ids = seed_reports(seeding.new_page())
            seeding.close()
            ids["dead"] = dead_letter(database)
            for label, (width, height) in VIEWPORTS.items():
                context = browser.new_context(
                    base_url=base_url,
                    viewport={"width": width, "height": height},
                    # the error page quotes the request id: a fixed one keeps the PNGs stable
                    extra_http_headers={"X-Request-ID": "contoh-0001"},
                )
                page = context.new_page()
                for shot in SHOTS:
                    png = out / f"{shot.name}-{label}.png"
                    take(page, base_url, shot, png, ids)
                    print(png)
                context.close()
                admin_shots(browser, base_url, admins[label], label, (width, height), out)
                webhook_shots(
                    browser,
                    base_url,
                    webhookers[label],
                    label,
                    (width, height),
                    out,
                    receiver,
                    ids["dead"],
                )
                audit_and_key_shots(browser, base_url, auditors[label], label, (width, height), out)
                routing_shots(browser, base_url, routers[label], label, (width, height), out, ids)
            # after every other page: the review's reports must not change their pictures
            seeding = browser.new_context(base_url=base_url)
            ids.update(seed_review(seeding.new_page()))
            seeding.close()
            for label, (width, height) in VIEWPORTS.items():
                review_shots(browser, base_url, label, (width, height), out, ids)
            browser.close()


#: The match review (``/tinjauan``) as the demo analyst, after ``seed_review``.
REVIEW_SHOTS = (
    Shot("tinjauan", "/tinjauan", officer="analis.admin"),
    Shot("tinjauan-pasangan", "/tinjauan/{match}", officer="analis.admin"),
    Shot("tinjauan-pasangan-en", "/tinjauan/{match}", language="en", officer="analis.admin"),
    Shot("tinjauan-gabungkan", "/tinjauan/{match}/gabungkan", officer="analis.admin"),
    Shot("tinjauan-terbatas", "/tinjauan/{restricted}", officer="analis.admin"),
    Shot("tinjauan-pisah", "/tinjauan/entitas/{entity}/pisah", officer="analis.admin"),
    Shot("tinjauan-tindakan", "/tinjauan/tindakan", officer="analis.admin"),
)


def seed_review(page: Page) -> dict[str, str]:
    """Two possible matches for the analysts' queue: Siti Rahmawati named by Immigration with her
    birth date and by the Navy by name alone; and a restricted one (the Navy's RED report for the
    police names Rina Marlina, Immigration's GREEN report names her again). Their ids."""
    csrf = sign_in_page(page, "petugas.imigrasi-dumai")
    dated = victim("Siti Rahmawati", "1995-06-10", phone="0812-7700-1234", aliases=["Siti R."])
    submit_as_officer(page, csrf, deferral(external_ref="IMI-DUMAI/2025/0042", persons=[dated]))
    csrf = sign_in_page(page, "petugas.lanal-dumai")
    undated = {
        "role": "VICTIM",
        "full_name": "Siti Rahmawati",
        "aliases": ["Rahma"],
        "sex": "FEMALE",
        "nationality": "IDN",
        "address": "Jl. Sultan Syarif Kasim, Dumai",
    }
    submit_as_officer(
        page, csrf, interception(external_ref="LANAL-DUMAI/2025/0040", persons=[undated])
    )
    hidden = victim("Rina Marlina", "2001-12-30", "3201017012010002", phone="0812-1111-2222")
    submit_as_officer(
        page,
        csrf,
        interception(
            external_ref="LANAL-DUMAI/2025/0041",
            tlp="RED",
            recipients=["POLRES-DUMAI"],
            persons=[hidden],
        ),
    )
    csrf = sign_in_page(page, "petugas.imigrasi-dumai")
    sent = victim("Rina Marlina", "2001-12-03", "3201017012010002", phone="0813-9999-8888")
    submit_as_officer(
        page, csrf, deferral(external_ref="IMI-DUMAI/2025/0043", tlp="GREEN", persons=[sent])
    )
    # a third pair, which the analyst merges at once: the resolution actions list it
    submit_as_officer(
        page,
        csrf,
        deferral(
            external_ref="IMI-DUMAI/2025/0044", persons=[victim("Dewi Lestari", "1998-02-17")]
        ),
    )
    csrf = sign_in_page(page, "petugas.lanal-dumai")
    by_name = {"role": "VICTIM", "full_name": "Dewi Lestari", "sex": "FEMALE", "nationality": "IDN"}
    submit_as_officer(
        page, csrf, interception(external_ref="LANAL-DUMAI/2025/0046", persons=[by_name])
    )
    csrf = sign_in_page(page, "analis.admin")
    listed = page.request.get("/v1/admin/possible-matches")
    assert listed.ok, listed.text()
    matches = listed.json()["items"]
    merged = page.request.post(
        f"/v1/admin/possible-matches/{matches[-1]['id']}/decision",
        data={"decision": "accept"},
        headers={"X-CSRF-Token": csrf},
    )
    assert merged.ok, merged.text()
    page.context.clear_cookies()
    return {
        "match": next(m["id"] for m in matches if not m["restricted"]),
        "restricted": next(m["id"] for m in matches if m["restricted"]),
    }


def review_shots(
    browser: Browser,
    base_url: str,
    label: str,
    size: tuple[int, int],
    out: Path,
    ids: dict[str, str],
) -> None:
    context = browser.new_context(base_url=base_url, viewport={"width": size[0], "height": size[1]})
    page = context.new_page()
    for shot in REVIEW_SHOTS:
        png = out / f"{shot.name}-{label}.png"
        take(page, base_url, shot, png, ids)
        print(png)
    context.close()


def admin_shots(
    browser: Browser,
    base_url: str,
    admin: SeededOfficer,
    label: str,
    size: tuple[int, int],
    out: Path,
) -> None:
    """The admin console (issue 19) as a system admin: agencies, officers, API keys."""
    context = browser.new_context(base_url=base_url, viewport={"width": size[0], "height": size[1]})
    page = context.new_page()
    sign_in_seeded(page, admin)

    def shot(name: str) -> None:
        png = out / f"admin-{name}-{label}.png"
        page.wait_for_selector("main")
        page.screenshot(path=str(png), full_page=True)
        print(png)

    code = "POLRES-DUMAI" if label == "desktop" else "LANAL-DUMAI"  # two keys each at most
    page.goto("/admin/instansi")
    shot("instansi")
    page.goto("/admin/instansi/baru")
    shot("instansi-baru")
    page.get_by_label("Kode instansi").fill("kode salah")
    page.get_by_label("Nama instansi").fill("Dinas Sosial Kota Dumai")
    page.get_by_role("button", name="Daftarkan").click()
    shot("instansi-baru-salah")
    page.goto(f"/admin/instansi/{code}")
    shot("instansi-detail")
    page.goto(f"/admin/instansi/{code}/ubah")
    shot("instansi-ubah")
    page.goto("/tinjauan/lainnya")  # a system admin curates too: merging and splitting by id
    shot("tinjauan-lainnya")
    page.goto(f"/admin/instansi/{code}/nonaktifkan")
    shot("instansi-nonaktifkan")
    page.goto(f"/admin/instansi/{code}/petugas/baru")
    shot("petugas-baru")
    page.get_by_label("Nama pengguna").fill(f"siti.{label}")
    page.get_by_label("Nama lengkap").fill("Siti Rahmawati")
    page.get_by_role("button", name="Buat akun").click()
    shot("petugas-kode-penyiapan")
    page.goto(f"/admin/instansi/{code}/petugas")
    shot("petugas")
    page.goto(f"/admin/instansi/{code}/kunci")
    page.get_by_label("Masa berlaku (hari, tidak wajib)").fill("5")
    page.get_by_role("button", name="Terbitkan kunci").click()
    shot("kunci-terbit")
    page.goto(f"/admin/instansi/{code}/kunci")
    shot("kunci")
    page.get_by_role("link", name="Rotasi").first.click()
    shot("kunci-rotasi")
    page.goto(f"/admin/instansi/{code}/kunci")
    page.get_by_role("link", name="Cabut").first.click()
    shot("kunci-cabut")
    context.close()


#: The agency whose webhook pages are photographed (it receives the seeded reports).
WEBHOOK_AGENCY = "POLRES-DUMAI"


def dead_letter(database: str) -> str:
    """Make the webhook agency's first delivery a dead letter with its eight failed attempts
    (on the worker's schedule), so the log and the delivery page show one; its id."""
    path = database.removeprefix("sqlite+aiosqlite:///")
    with sqlite3.connect(path) as db:
        found = db.execute(
            "SELECT d.id, d.created_at FROM deliveries d JOIN agencies a ON a.id = d.agency_id "
            "WHERE a.code = ? ORDER BY d.sequence LIMIT 1",
            (WEBHOOK_AGENCY,),
        ).fetchone()
        assert found is not None, "the seeded reports reach the webhook agency"
        delivery_id, created = found
        started = datetime.fromisoformat(created)
        for number, delay in enumerate(RETRY_SCHEDULE):
            started += timedelta(seconds=delay)
            timed_out = number % 3 == 2
            db.execute(
                "INSERT INTO delivery_attempts (id, delivery_id, started_at, duration_ms, "
                "status_code, error, url, worker) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    uuid.uuid4().hex,
                    delivery_id,
                    started.isoformat(sep=" "),
                    10_000 if timed_out else 87,
                    None if timed_out else 503,
                    "no answer within 10 s" if timed_out else "HTTP 503",
                    "https://siak.polres-dumai.go.id/sinergi/webhook",
                    "sinergi-worker-1",
                ),
            )
        db.execute(
            "UPDATE deliveries SET status = 'DEAD', attempts = ?, "
            "last_error = 'HTTP 503' WHERE id = ?",
            (len(RETRY_SCHEDULE), delivery_id),
        )
    return str(delivery_id)


def webhook_shots(
    browser: Browser,
    base_url: str,
    admin: SeededOfficer,
    label: str,
    size: tuple[int, int],
    out: Path,
    receiver: Receiver,
    dead: str,
) -> None:
    """An agency's webhook pages (issue 19): register (refused, then the secret shown once),
    the test event's answer, the confirmations, the delivery log and a dead letter. The webhook
    is deleted at the end, so each size starts from an agency that pulls."""
    context = browser.new_context(base_url=base_url, viewport={"width": size[0], "height": size[1]})
    page = context.new_page()
    sign_in_seeded(page, admin)

    def shot(name: str) -> None:
        png = out / f"admin-{name}-{label}.png"
        page.wait_for_selector("main")
        page.screenshot(path=str(png), full_page=True)
        print(png)

    base = f"/admin/instansi/{WEBHOOK_AGENCY}/webhook"
    page.goto(base)
    shot("webhook-kosong")
    page.get_by_label("Alamat webhook (URL)").fill("https://10.20.30.40/sinergi/webhook")
    page.get_by_role("button", name="Daftarkan webhook").click()
    shot("webhook-ditolak")
    page.get_by_label("Alamat webhook (URL)").fill(receiver.url)
    page.get_by_role("button", name="Daftarkan webhook").click()
    shot("webhook-rahasia")
    page.get_by_role("link", name="kembali ke halaman webhook").click()
    shot("webhook")
    page.get_by_role("button", name="Kirim peristiwa uji").click()
    page.wait_for_selector(".trial")
    shot("webhook-uji")
    page.goto(f"{base}/rotasi")
    shot("webhook-rotasi")
    page.goto(f"{base}/nonaktifkan")
    shot("webhook-nonaktifkan")
    page.get_by_role("button", name="Ya, nonaktifkan webhook").click()
    shot("webhook-nonaktif")
    page.get_by_role("button", name="Aktifkan kembali").click()
    page.goto(f"{base}/pengiriman")
    shot("webhook-pengiriman")
    page.goto(f"{base}/pengiriman/{uuid.UUID(dead)}")
    shot("webhook-kiriman")
    page.goto(f"{base}/hapus")
    shot("webhook-hapus")
    page.get_by_role("button", name="Ya, hapus webhook").click()
    context.close()


#: A public JWK an agency might send (P-256; its private half was thrown away).
SAMPLE_JWK = (
    '{"kty": "EC", "crv": "P-256", "kid": "imigrasi-dumai-2026",\n'
    ' "x": "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU",\n'
    ' "y": "x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"}'
)


def audit_and_key_shots(
    browser: Browser,
    base_url: str,
    admin: SeededOfficer,
    label: str,
    size: tuple[int, int],
    out: Path,
) -> None:
    """Every agency's deliveries, the audit pages, an agency's public keys and the signing keys,
    as a system admin."""
    context = browser.new_context(
        base_url=base_url,
        viewport={"width": size[0], "height": size[1]},
        extra_http_headers={"X-Request-ID": "contoh-0001"},
    )
    page = context.new_page()
    sign_in_seeded(page, admin)

    def shot(name: str) -> None:
        png = out / f"admin-{name}-{label}.png"
        page.wait_for_selector("main")
        page.screenshot(path=str(png), full_page=True)
        print(png)

    page.goto("/admin/pengiriman")
    shot("pengiriman")
    page.goto("/admin/pengiriman?status=DEAD")
    shot("pengiriman-gagal")
    page.goto("/admin/audit?tindakan=report.read")
    shot("audit")
    page.locator("tbody tr a").first.click()
    shot("audit-catatan")
    page.goto("/admin/audit?petugas=petugas.polres-dumai&dari=2026-12-07&sampai=2026-12-01")
    shot("audit-salah")
    page.goto("/admin/audit/verifikasi")
    page.get_by_role("button", name="Periksa rantai").click()
    shot("audit-verifikasi")
    code = "IMIGRASI-DUMAI" if label == "desktop" else "POLRES-DUMAI"
    page.goto(f"/admin/instansi/{code}/kunci-publik")
    page.get_by_label("Kunci publik (JWK)").fill('{"kty": "EC", "d": "rahasia"}')
    page.get_by_role("button", name="Periksa kunci").click()
    shot("kunci-publik-salah")
    page.get_by_label("Kunci publik (JWK)").fill(SAMPLE_JWK)
    page.get_by_role("button", name="Periksa kunci").click()
    shot("kunci-publik-periksa")
    page.get_by_role("button", name="Sidik jari cocok, daftarkan kunci").click()
    shot("kunci-publik")
    page.get_by_role("link", name="Cabut").first.click()
    shot("kunci-publik-cabut")
    page.goto("/admin/kunci-penandatangan")
    shot("kunci-penandatangan")
    page.get_by_role("link", name="Rotasi kunci penandatangan…").click()
    shot("kunci-penandatangan-rotasi")
    context.close()


def routing_shots(
    browser: Browser,
    base_url: str,
    admin: SeededOfficer,
    label: str,
    size: tuple[int, int],
    out: Path,
    ids: dict[str, str],
) -> None:
    """The routing rules pages (issue 19) as a system admin: the demo's default rule set."""
    context = browser.new_context(base_url=base_url, viewport={"width": size[0], "height": size[1]})
    page = context.new_page()
    sign_in_seeded(page, admin)

    def shot(name: str, ready: str = "main") -> None:
        png = out / f"admin-aturan-rute{name}-{label}.png"
        page.wait_for_selector(ready)
        page.screenshot(path=str(png), full_page=True)
        print(png)

    page.goto("/admin/aturan-rute")
    shot("")
    page.context.add_cookies([{"name": "lang", "value": "en", "url": base_url}])
    page.goto("/admin/aturan-rute")
    shot("-en")
    page.context.add_cookies([{"name": "lang", "value": "id", "url": base_url}])
    page.goto("/admin/aturan-rute/baru")
    page.get_by_label("Nama aturan").fill("pmi-kota-dumai")
    page.get_by_label("PMI nonprosedural").check()
    page.get_by_label("Wilayah kejadian (kode Kemendagri)").fill("14.72, 99.99")
    page.get_by_label("BP3MI-RIAU").check()
    page.get_by_role("button", name="Simpan aturan").click()
    shot("-baru-salah", "#error-summary")
    page.goto("/admin/aturan-rute")
    page.get_by_role("link", name="Ubah migrant-worker-recruitment").click()
    shot("-ubah")
    page.get_by_label("DP3A-DUMAI").check()
    page.get_by_label("Tempel laporan (JSON)").fill(json.dumps(deferral()))
    page.get_by_label("Instansi pengirim laporan yang ditempel").select_option("IMIGRASI-DUMAI")
    page.get_by_role("button", name="Coba aturan ini").click()
    shot("-ubah-coba", "#dry-run-result")
    page.goto("/admin/aturan-rute/uji")
    page.get_by_label("Nomor laporan tersimpan").fill(ids["report"])
    page.get_by_role("button", name="Uji", exact=True).click()
    shot("-uji", "#dry-run-result")
    page.goto("/admin/aturan-rute")
    page.get_by_role("link", name="Hapus seafarers").click()
    shot("-hapus")
    page.get_by_role("button", name="Ya, hapus aturan seafarers").click()
    page.goto("/admin/aturan-rute/bawaan")
    page.get_by_label("Wilayah tim TIMPORA").fill("14.72")
    page.get_by_role("button", name="Lihat yang akan ditambahkan").click()
    shot("-bawaan")
    page.get_by_role("button", name="Tambahkan 1 aturan").click()  # seafarers again, last
    context.close()


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else Path("docs/console"))
