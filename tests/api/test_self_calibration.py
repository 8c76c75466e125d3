"""The worker calibrates a store's weights by itself (`calibration_growth`), then re-scores it."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from app.config import Settings
from app.db import transaction
from app.matching.scoring import NAME, Weights
from app.models.report import Report
from app.services import match_weights
from app.services.match_weights import forget_cached_weights
from app.worker import Worker
from tests.conftest import invoke_cli
from tests.factories import stored_weights, submit_report, three_workers_due_at_once, woman_victim
from tests.report_samples import interception

#: The worker calibrates from this many resolved persons on (1,000 in the service); the samples
#: the estimate needs are lowered with it.
THRESHOLD = 40

FAMILIES = [
    "Hutagalung",
    "Simanjuntak",
    "Pardede",
    "Sitompul",
    "Nainggolan",
    "Siahaan",
    "Panjaitan",
    "Silalahi",
    "Sinaga",
    "Manurung",
    "Sihombing",
    "Simatupang",
    "Tambunan",
    "Situmorang",
    "Lumbantobing",
    "Marpaung",
    "Napitupulu",
    "Purba",
    "Saragi",
    "Damanik",
    "Girsang",
    "Sembiring",
    "Ginting",
    "Tarigan",
]
GIVEN = [
    "Rina",
    "Sari",
    "Dewi",
    "Ayu",
    "Putri",
    "Lestari",
    "Wulan",
    "Indah",
    "Fitri",
    "Maya",
    "Nur",
    "Intan",
    "Ratna",
    "Yanti",
    "Mega",
    "Desi",
    "Eka",
    "Tuti",
    "Nining",
    "Yuli",
    "Rosa",
    "Vina",
    "Lina",
    "Dina",
    "Melati",
    "Kartini",
    "Ani",
    "Ida",
    "Lia",
    "Wati",
    "Susi",
    "Eva",
    "Ika",
    "Reni",
    "Nia",
    "Rika",
    "Tari",
    "Uli",
    "Rini",
    "Evi",
    "Tina",
    "Yeni",
    "Nova",
    "Umi",
    "Sinta",
]


@pytest.fixture(autouse=True)
def small_store(monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.setattr(match_weights, "MIN_CALIBRATION_PERSONS", THRESHOLD)
    monkeypatch.setattr(match_weights, "MIN_SELF_CALIBRATION_PAIRS", 10)
    monkeypatch.setattr(match_weights, "MIN_TERM_PERSONS", 10_000)  # no term recount here
    forget_cached_weights()
    yield
    forget_cached_weights()


async def submit(
    client: httpx.AsyncClient, headers: dict[str, str], ref: str, p: dict[str, Any]
) -> dict[str, Any]:
    report = await submit_report(client, headers, interception(external_ref=ref, persons=[p]))
    return report["persons"][0]


async def names_often_replaced(
    client: httpx.AsyncClient, agencies: dict[str, dict[str, str]], women: int, start: int = 0
) -> list[tuple[str, str]]:
    """Two records of each woman, from the police and from immigration, one birth date and
    house; immigration gives every third woman another given name (an alias). The entities of
    the two records of each renamed woman."""
    renamed = []
    for i in range(start, start + women):
        family = FAMILIES[i % len(FAMILIES)]
        house = {
            "date_of_birth": f"19{70 + i % 30}-0{1 + i % 9}-1{i % 10}",
            "address": f"Jl. Kenari No. {i + 3}, Kelurahan {family}",
        }
        given = GIVEN[i % len(GIVEN)]
        first = await submit(
            client, agencies["POLRES-DUMAI"], f"P-{i}", woman_victim(f"{given} {family}", **house)
        )
        other = GIVEN[(i + 17) % len(GIVEN)] if i % 3 == 0 else given
        second = await submit(
            client, agencies["IMIGRASI-DUMAI"], f"I-{i}", woman_victim(f"{other} {family}", **house)
        )
        if i % 3 == 0:
            renamed.append((first["entity_id"], second["entity_id"]))
        # A namesake born another year, in another town: candidates that are two persons.
        namesake = {
            "date_of_birth": f"19{80 + i % 20}-1{i % 3}-0{1 + i % 9}",
            "address": f"Jl. Cempaka No. {i + 40}, Kelurahan Batu {i}",
        }
        await submit(
            client, agencies["LANAL-DUMAI"], f"L-{i}", woman_victim(f"{given} {family}", **namesake)
        )
    return renamed


async def report_of(app: Any, external_ref: str) -> str:
    async with transaction(app.state.session_factory) as session:
        found = await session.execute(select(Report.id).where(Report.external_ref == external_ref))
        return str(found.scalar_one())


async def entity_of(client: httpx.AsyncClient, headers: dict[str, str], report_id: str) -> str:
    response = await client.get(f"/v1/reports/{report_id}", headers=headers)
    assert response.status_code == 200, response.text
    return str(response.json()["persons"][0]["entity_id"])


async def rina_and_sari(
    client: httpx.AsyncClient, agencies: dict[str, dict[str, str]], family: str
) -> tuple[str, str]:
    """Rina from the police, then Sari from immigration: one birth date, one house, one family
    name; their entities."""
    house = {"date_of_birth": "1990-02-03", "address": f"Jl. Nangka No. 12, Kelurahan {family}"}
    rina = await submit(
        client, agencies["POLRES-DUMAI"], f"R-{family}", woman_victim(f"Rina {family}", **house)
    )
    sari = await submit(
        client, agencies["IMIGRASI-DUMAI"], f"S-{family}", woman_victim(f"Sari {family}", **house)
    )
    return rina["entity_id"], sari["entity_id"]


async def test_a_fresh_store_calibrates_itself_once_due_and_links_a_renamed_woman(
    app: Any,
    client: httpx.AsyncClient,
    settings: Settings,
    agencies: dict[str, dict[str, str]],
) -> None:
    worker = Worker(settings, app.state.session_factory, name="w-cal")
    try:
        await names_often_replaced(client, agencies, 12)  # 36 persons
        below = await worker.calibrate_if_due()
        assert below is not None
        assert not below.due
        assert await stored_weights(app) == []
        # The shipped weights hold a woman whose records give two given names, as twins.
        rina, sari = await rina_and_sari(client, agencies, "Hutapea")
        assert rina != sari

        await names_often_replaced(client, agencies, 12, start=12)  # 74 persons
        calibrated = await worker.calibrate_if_due()
        assert calibrated is not None
        assert calibrated.stored
        [row] = await stored_weights(app)
        weights = Weights.from_json(row.weights)
        assert weights.calibrated_by_worker_on == calibrated.persons == 74
        assert row.pairs == calibrated.pairs > 0
        assert weights.fields[NAME].m["different"] > 0.05  # learnt: her records often differ
        assert weights.term_frequencies is not None
        assert weights.term_frequencies.persons == 74

        # Calibrated on its own records, the store links the next renamed woman.
        rina, sari = await rina_and_sari(client, agencies, "Sinurat")
        assert rina == sari
        # Namesakes born in other years and towns stay apart, also after the pass.
        first = await entity_of(client, agencies["POLRES-DUMAI"], await report_of(app, "P-0"))
        namesake = await entity_of(client, agencies["LANAL-DUMAI"], await report_of(app, "L-0"))
        assert first != namesake

        again = await worker.calibrate_if_due()
        assert again is not None
        assert not again.due
        assert again.calibrated_on == 74
        assert len(await stored_weights(app)) == 1
    finally:
        await worker.aclose()


async def test_growth_zero_turns_the_calibration_off(
    app: Any,
    client: httpx.AsyncClient,
    settings: Settings,
    agencies: dict[str, dict[str, str]],
) -> None:
    off = settings.model_copy(update={"calibration_growth": 0})
    worker = Worker(off, app.state.session_factory, name="w-cal")
    try:
        await names_often_replaced(client, agencies, 24)
        result = await worker.calibrate_if_due()
        assert result is not None
        assert not result.due
        await worker.check_weights()
    finally:
        await worker.aclose()
    assert await stored_weights(app) == []
    rina, sari = await rina_and_sari(client, agencies, "Sinurat")
    assert rina != sari


async def test_the_worker_calibrates_on_its_schedule_once_then_reclusters_and_logs_it(
    app: Any,
    client: httpx.AsyncClient,
    settings: Settings,
    agencies: dict[str, dict[str, str]],
    caplog: pytest.LogCaptureFixture,
) -> None:
    await names_often_replaced(client, agencies, 24)  # 72 persons
    often = settings.model_copy(
        update={"term_check_interval_minutes": 0.05 / 60, "worker_poll_seconds": 0.02}
    )
    worker = Worker(often, app.state.session_factory, name="w-cal")
    stop = asyncio.Event()
    caplog.set_level("INFO", logger="sinergi.worker")
    running = asyncio.create_task(worker.run(stop))
    try:
        for _ in range(200):
            await asyncio.sleep(0.05)
            if "recluster after calibration" in caplog.text:
                break
        await asyncio.sleep(0.3)  # several checks more, the store unchanged
    finally:
        stop.set()
        await running
        await worker.aclose()
    [row] = await stored_weights(app)
    assert Weights.from_json(row.weights).calibrated_by_worker_on == 72
    assert "weights calibrated over 72 persons" in caplog.text
    assert "(before: shipped)" in caplog.text
    assert "recluster after calibration: 72 persons" in caplog.text


async def test_an_operators_calibration_is_never_replaced(
    app: Any,
    client: httpx.AsyncClient,
    settings: Settings,
    agencies: dict[str, dict[str, str]],
    cli_runner: CliRunner,
) -> None:
    await names_often_replaced(client, agencies, 24)
    calibrated = await invoke_cli(
        cli_runner, "dedup", "calibrate", "--min-pairs", "1", "--min-random-pairs", "1"
    )
    assert calibrated.exit_code == 0, calibrated.output
    [operators] = await stored_weights(app)
    worker = Worker(settings, app.state.session_factory, name="w-cal")
    try:
        result = await worker.calibrate_if_due()
        assert result is not None
        assert result.operators
        assert not result.due
        # Nor after a term count kept the operator's m and u.
        recount = await invoke_cli(cli_runner, "dedup", "calibrate", "--terms-only")
        assert recount.exit_code == 0, recount.output
        after = await worker.calibrate_if_due()
        assert after is not None
        assert after.operators
        assert not after.due
    finally:
        await worker.aclose()
    rows = await stored_weights(app)
    assert rows[0].id == operators.id
    assert all(Weights.from_json(r.weights).calibrated_by_worker_on is None for r in rows)


async def test_several_workers_due_at_once_store_one_calibration(
    app: Any,
    client: httpx.AsyncClient,
    settings: Settings,
    agencies: dict[str, dict[str, str]],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    await names_often_replaced(client, agencies, 24)
    # All three find the calibration due and estimate before any of them stores.
    results = await three_workers_due_at_once(
        app, settings, monkeypatch, "calibrate", lambda w: w.calibrate_if_due()
    )
    assert all(r is not None and r.due for r in results)
    assert sum(r.stored for r in results if r is not None) == 1
    assert len(await stored_weights(app)) == 1


async def test_too_few_candidate_pairs_store_nothing_until_there_are_enough(
    app: Any,
    client: httpx.AsyncClient,
    settings: Settings,
    agencies: dict[str, dict[str, str]],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    await names_often_replaced(client, agencies, 24)  # 72 persons, 65 candidate pairs
    monkeypatch.setattr(match_weights, "MIN_SELF_CALIBRATION_PAIRS", 100)
    worker = Worker(settings, app.state.session_factory, name="w-cal")
    try:
        few = await worker.calibrate_if_due()
        assert few is not None
        assert few.due
        assert not few.stored
        assert 0 < few.pairs < 100
        assert await stored_weights(app) == []
        rina, sari = await rina_and_sari(client, agencies, "Sinurat")
        assert rina != sari
        monkeypatch.setattr(match_weights, "MIN_SELF_CALIBRATION_PAIRS", 10)
        enough = await worker.calibrate_if_due()
        assert enough is not None
        assert enough.stored
    finally:
        await worker.aclose()
    assert len(await stored_weights(app)) == 1
