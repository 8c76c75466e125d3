"""The worker counts a young store's term frequencies by itself (`term_recount_growth`)."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest
from typer.testing import CliRunner

from app.config import Settings
from app.matching.scoring import DEFAULT_WEIGHTS, Weights
from app.services import match_weights
from app.services.match_weights import forget_cached_weights
from app.worker import Worker
from tests.conftest import invoke_cli
from tests.factories import stored_weights, submit_report, three_workers_due_at_once, woman_victim
from tests.report_samples import interception

#: The store counts its terms from this many persons on (1,000 in the service).
THRESHOLD = 8


@pytest.fixture(autouse=True)
def small_threshold(monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.setattr(match_weights, "MIN_TERM_PERSONS", THRESHOLD)
    forget_cached_weights()
    yield
    forget_cached_weights()


async def submit(
    client: httpx.AsyncClient, headers: dict[str, str], ref: str, p: dict[str, Any]
) -> dict[str, Any]:
    return await submit_report(client, headers, interception(external_ref=ref, persons=[p]))


async def women_named(
    client: httpx.AsyncClient, sender: dict[str, str], *names: str, batch: str = "S"
) -> None:
    """Three women bearing each of these given names, strangers to each other."""
    for g, given in enumerate(names):
        for f, family in enumerate(("Hakim", "Lubis", "Pardede")):
            await submit(
                client,
                sender,
                f"{batch}-{g}{f}",
                woman_victim(
                    f"{given} {family}", f"19{80 + g}-0{f + 1}-1{g}", f"Dusun {batch}{g}{f} Bogor"
                ),
            )


async def twins(
    client: httpx.AsyncClient, sender: dict[str, str], family: str, house: str
) -> tuple[str, str]:
    """Lia and Lisa, twins born the same day in one house; their entities."""
    household = {"date_of_birth": "2001-05-14", "address": house, "phone": "+6281234567890"}
    lia = await submit(client, sender, f"{family}-1", woman_victim(f"Lia {family}", **household))
    lisa = await submit(client, sender, f"{family}-2", woman_victim(f"Lisa {family}", **household))
    return lia["persons"][0]["entity_id"], lisa["persons"][0]["entity_id"]


async def test_a_young_store_gets_its_terms_counted_once_it_reaches_the_threshold(
    app: Any,
    client: httpx.AsyncClient,
    settings: Settings,
    agencies: dict[str, dict[str, str]],
) -> None:
    sender = agencies["POLRES-DUMAI"]
    worker = Worker(settings, app.state.session_factory, name="w-terms")
    try:
        await women_named(client, sender, "Lia", "Lisa")  # 6 persons
        below = await worker.recount_terms_if_due()
        assert below is not None
        assert not below.due
        assert await stored_weights(app) == []

        # Nothing counted: twins a letter apart are taken for one woman misspelt.
        first, second = await twins(client, sender, "Saragih", "Jl. Melati No. 5, Bogor")
        assert first == second  # 8 persons now

        counted = await worker.recount_terms_if_due()
        assert counted is not None
        assert counted.stored
        assert counted.term_persons == THRESHOLD
        [row] = await stored_weights(app)
        terms = Weights.from_json(row.weights).term_frequencies
        assert terms is not None
        assert terms.persons == THRESHOLD
        assert terms.bearers("given", "lisa") == 4

        # Counted: Lia and Lisa are two names people bear, and the next twins stay apart.
        first, second = await twins(client, sender, "Tambunan", "Jl. Mawar No. 9, Depok")
        assert first != second

        again = await worker.recount_terms_if_due()
        assert again is not None
        assert not again.due
        assert again.counted_on == THRESHOLD
        assert len(await stored_weights(app)) == 1
    finally:
        await worker.aclose()


async def test_the_worker_counts_on_its_schedule_once_and_logs_it(
    app: Any,
    client: httpx.AsyncClient,
    settings: Settings,
    agencies: dict[str, dict[str, str]],
    caplog: pytest.LogCaptureFixture,
) -> None:
    sender = agencies["POLRES-DUMAI"]
    await women_named(client, sender, "Lia", "Lisa", "Ayu")  # 9 persons
    often = settings.model_copy(
        update={"term_check_interval_minutes": 0.05 / 60, "worker_poll_seconds": 0.02}
    )
    worker = Worker(often, app.state.session_factory, name="w-terms")
    stop = asyncio.Event()
    caplog.set_level("INFO", logger="sinergi.worker")
    running = asyncio.create_task(worker.run(stop))
    try:
        for _ in range(100):
            await asyncio.sleep(0.05)
            if await stored_weights(app):
                break
        await asyncio.sleep(0.3)  # several checks more, the store unchanged
    finally:
        stop.set()
        await running
        await worker.aclose()
    [row] = await stored_weights(app)
    terms = Weights.from_json(row.weights).term_frequencies
    assert terms is not None
    assert terms.persons == 9
    assert "term frequencies counted over 9 persons and stored (before: none counted)" in (
        caplog.text
    )


async def test_growth_zero_turns_the_count_off(
    app: Any,
    client: httpx.AsyncClient,
    settings: Settings,
    agencies: dict[str, dict[str, str]],
) -> None:
    await women_named(client, agencies["POLRES-DUMAI"], "Lia", "Lisa", "Ayu")
    off = settings.model_copy(update={"term_recount_growth": 0})
    worker = Worker(off, app.state.session_factory, name="w-terms")
    try:
        result = await worker.recount_terms_if_due()
    finally:
        await worker.aclose()
    assert result is not None
    assert not result.due
    assert await stored_weights(app) == []


async def test_several_workers_due_at_once_store_one_count(
    app: Any,
    client: httpx.AsyncClient,
    settings: Settings,
    agencies: dict[str, dict[str, str]],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    await women_named(client, agencies["POLRES-DUMAI"], "Lia", "Lisa", "Ayu")
    # All three find the count due before any of them stores one.
    results = await three_workers_due_at_once(
        app, settings, monkeypatch, "_count_pages", lambda w: w.recount_terms_if_due()
    )
    assert all(r is not None and r.due for r in results)
    assert sum(r.stored for r in results if r is not None) == 1
    assert len(await stored_weights(app)) == 1


async def test_an_operators_calibration_is_kept_and_recounted_when_the_store_doubles(
    app: Any,
    client: httpx.AsyncClient,
    settings: Settings,
    agencies: dict[str, dict[str, str]],
    cli_runner: CliRunner,
) -> None:
    sender = agencies["POLRES-DUMAI"]
    await women_named(client, sender, "Lia", "Lisa", "Ayu")  # 9 persons
    calibrated = await invoke_cli(
        cli_runner, "dedup", "calibrate", "--min-pairs", "1", "--min-random-pairs", "1"
    )
    assert calibrated.exit_code == 0, calibrated.output
    [operators] = await stored_weights(app)
    chosen = Weights.from_json(operators.weights)
    assert chosen.fields != DEFAULT_WEIGHTS.fields
    worker = Worker(settings, app.state.session_factory, name="w-terms")
    try:
        not_grown = await worker.recount_terms_if_due()
        assert not_grown is not None
        assert not not_grown.due
        assert not_grown.counted_on == 9
        assert len(await stored_weights(app)) == 1

        await women_named(
            client, sender, "Fitri", "Fitria", "Rahma", batch="T"
        )  # 18 persons: doubled
        grown = await worker.recount_terms_if_due()
        assert grown is not None
        assert grown.stored
        assert grown.term_persons == 18
    finally:
        await worker.aclose()
    newest = (await stored_weights(app))[-1]
    weights = Weights.from_json(newest.weights)
    assert weights.fields == chosen.fields  # the operator's m and u, still in use
    assert weights.term_frequencies is not None
    assert weights.term_frequencies.persons == 18
    assert weights.term_frequencies.bearers("given", "fitria") == 3
