"""`sinergi dedup recluster`: entities online resolution left apart are merged, undoably, and
never across contradicting identifiers, an analyst's split, or need-to-know."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import httpx
import pytest
from typer.testing import CliRunner

from app.config import Settings
from app.models.agency import AgencyKind
from app.worker import Worker
from tests.conftest import invoke_cli, make_settings
from tests.factories import bearer, create_admin, create_agency, token_for
from tests.report_samples import interception, victim

NIK = "1472035403990002"
OTHER_NIK = "1472035403990117"  # a different woman's NIK, not a one-digit typo of the first
HOUSEHOLD = {"address": "Kampung Cirendeu No 4 RT 01 RW 02, Desa Pisangan, Ciputat"}


@pytest.fixture
def settings(database_url: str) -> Settings:
    # Online resolution never links here, while the recluster pass keeps its merge bar (0.99, the
    # default): a pair is left apart when it arrives and found by the pass, as a pair that
    # arrived in an unlucky order or beyond the candidate bound would be.
    return make_settings(database_url, match_link_threshold=1.0)


@pytest.fixture
async def agencies(app: Any, client: httpx.AsyncClient) -> dict[str, dict[str, str]]:
    await create_admin(app)
    await create_agency(app, "IMIGRASI-DUMAI", kind=AgencyKind.IMMIGRATION)
    await create_agency(app, "LANAL-DUMAI", kind=AgencyKind.NAVY)
    await create_agency(app, "POLRES-DUMAI", kind=AgencyKind.POLICE)
    return {
        code: bearer(await token_for(client, app, code))
        for code in ("ADMIN", "IMIGRASI-DUMAI", "LANAL-DUMAI", "POLRES-DUMAI")
    }


def her(**fields: Any) -> dict[str, Any]:
    """Rahmawati, as each agency knows her: name, birth date and the phone she gave."""
    return victim("Rahmawati Siregar", "1999-03-14", **{"phone": "+62 812 6612 3344", **fields})


async def submit(
    client: httpx.AsyncClient,
    headers: dict[str, str],
    ref: str,
    *persons: dict[str, Any],
    **extra: Any,
) -> dict[str, Any]:
    body = interception(external_ref=ref, persons=list(persons), **extra)
    response = await client.post("/v1/reports", json=body, headers=headers)
    assert response.status_code == 201, response.text
    result: dict[str, Any] = response.json()
    return result


async def entity_of(
    client: httpx.AsyncClient, headers: dict[str, str], report: dict[str, Any]
) -> str:
    read = await client.get(f"/v1/reports/{report['id']}", headers=headers)
    assert read.status_code == 200, read.text
    entity: str = read.json()["persons"][0]["entity_id"]
    return entity


async def recluster(cli_runner: CliRunner) -> str:
    result = await invoke_cli(cli_runner, "dedup", "recluster")
    assert result.exit_code == 0, result.output
    return result.stdout


async def case_linked(client: httpx.AsyncClient, headers: dict[str, str]) -> list[dict[str, Any]]:
    inbox = await client.get("/v1/inbox", headers=headers)
    assert inbox.status_code == 200, inbox.text
    return [i["payload"] for i in inbox.json()["items"] if i["event"] == "case.linked"]


async def test_recluster_merges_what_online_left_apart_and_can_be_undone(
    client: httpx.AsyncClient, agencies: dict[str, dict[str, str]], cli_runner: CliRunner
) -> None:
    imigrasi, navy, admin = agencies["IMIGRASI-DUMAI"], agencies["LANAL-DUMAI"], agencies["ADMIN"]
    one = await submit(client, imigrasi, "R-1", her())
    two = await submit(client, navy, "R-2", her(phone="0812-6612-3344"))
    assert one["persons"][0]["entity_id"] != two["persons"][0]["entity_id"]
    assert one["case_id"] != two["case_id"]
    assert await case_linked(client, imigrasi) == []

    assert "merged 1 pairs of entities (1 cases joined" in await recluster(cli_runner)
    merged = await entity_of(client, imigrasi, one)
    assert merged == await entity_of(client, navy, two)
    # Each holder hears that its case now holds another agency's report about her.
    [told] = await case_linked(client, imigrasi)
    assert told["your_reports"] == [one["id"]]
    assert [p["your_reports"] for p in await case_linked(client, navy)] == [[two["id"]]]
    assert "merged 0 pairs" in await recluster(cli_runner)  # a second pass finds nothing new

    listed = await client.get(
        "/v1/admin/resolution-actions", params={"actor": "recluster"}, headers=admin
    )
    [action] = listed.json()["items"]
    assert action["kind"] == "entity.merge"
    assert action["result_id"] == merged
    undone = await client.post(f"/v1/admin/resolution-actions/{action['id']}/undo", headers=admin)
    assert undone.status_code == 200, undone.text
    assert await entity_of(client, imigrasi, one) != await entity_of(client, navy, two)
    # The undo is an analyst's word: the next pass does not merge them again.
    output = await recluster(cli_runner)
    assert "merged 0 pairs" in output, output
    assert "1 by an analyst's decision" in output, output
    assert await entity_of(client, imigrasi, one) != await entity_of(client, navy, two)


async def test_recluster_never_merges_contradicting_niks(
    client: httpx.AsyncClient, agencies: dict[str, dict[str, str]], cli_runner: CliRunner
) -> None:
    imigrasi, navy, police = (
        agencies[c] for c in ("IMIGRASI-DUMAI", "LANAL-DUMAI", "POLRES-DUMAI")
    )
    one = await submit(client, imigrasi, "N-1", her(nik=NIK))
    two = await submit(client, navy, "N-2", her(nik=OTHER_NIK))
    # Without a NIK she matches both; the first merge takes her, the second would cross NIKs.
    three = await submit(client, police, "N-3", her())

    output = await recluster(cli_runner)
    assert "merged 1 pairs" in output, output
    assert "1 by contradicting identifiers" in output, output
    assert await entity_of(client, imigrasi, one) != await entity_of(client, navy, two)
    assert await entity_of(client, police, three) in {
        await entity_of(client, imigrasi, one),
        await entity_of(client, navy, two),
    }


async def test_recluster_merges_her_fragments_whose_niks_are_each_mistyped_once(
    client: httpx.AsyncClient, agencies: dict[str, dict[str, str]], cli_runner: CliRunner
) -> None:
    imigrasi, navy, police = (
        agencies[c] for c in ("IMIGRASI-DUMAI", "LANAL-DUMAI", "POLRES-DUMAI")
    )
    # Her one NIK, mistyped by each clerk in one digit (the regency, the serial's last digit):
    # the two written NIKs are two digits apart, yet a NIK is given once for life.
    one = await submit(client, imigrasi, "M-1", her(nik="1471035403990002"))
    two = await submit(client, navy, "M-2", her(nik="1472035403990008"))
    three = await submit(client, police, "M-3", her())

    output = await recluster(cli_runner)
    assert "merged 2 pairs" in output, output
    merged = await entity_of(client, imigrasi, one)
    assert await entity_of(client, navy, two) == merged
    assert await entity_of(client, police, three) == merged


@pytest.mark.parametrize(
    "niks",
    [
        # Region and birth date equal, two serial digits apart: twin sisters registered together.
        ("1472035403990002", "1472035403990013"),
        # The same, a brother and a sister: the woman's day of birth is written plus 40.
        ("1472031403990002", "1472035403990003"),
    ],
    ids=["twin-sisters", "brother-and-sister"],
)
async def test_recluster_keeps_twins_niks_apart(
    client: httpx.AsyncClient,
    agencies: dict[str, dict[str, str]],
    cli_runner: CliRunner,
    niks: tuple[str, str],
) -> None:
    imigrasi, navy, police = (
        agencies[c] for c in ("IMIGRASI-DUMAI", "LANAL-DUMAI", "POLRES-DUMAI")
    )
    # Two NIKs as twins' NIKs look are two persons, however alike the rest of the reports.
    one = await submit(client, imigrasi, "W-1", her(nik=niks[0]))
    two = await submit(client, navy, "W-2", her(nik=niks[1]))
    await submit(client, police, "W-3", her())

    output = await recluster(cli_runner)
    assert "merged 1 pairs" in output, output
    assert "1 by contradicting identifiers" in output, output
    assert await entity_of(client, imigrasi, one) != await entity_of(client, navy, two)


async def test_recluster_respects_an_analysts_split(
    client: httpx.AsyncClient, agencies: dict[str, dict[str, str]], cli_runner: CliRunner
) -> None:
    imigrasi, navy, admin = agencies["IMIGRASI-DUMAI"], agencies["LANAL-DUMAI"], agencies["ADMIN"]
    one = await submit(client, imigrasi, "S-1", her())
    two = await submit(client, navy, "S-2", her())
    await recluster(cli_runner)
    merged = await entity_of(client, imigrasi, one)
    assert merged == await entity_of(client, navy, two)

    split = await client.post(
        f"/v1/admin/entities/{merged}/split",
        json={"persons": [{"report_id": two["id"], "person_index": 0}]},
        headers=admin,
    )
    assert split.status_code in {200, 201}, split.text
    output = await recluster(cli_runner)
    assert "merged 0 pairs" in output, output
    assert "1 by an analyst's decision" in output, output
    assert await entity_of(client, imigrasi, one) != await entity_of(client, navy, two)


async def test_recluster_tells_nobody_about_a_red_report(
    client: httpx.AsyncClient, agencies: dict[str, dict[str, str]], cli_runner: CliRunner
) -> None:
    imigrasi, navy = agencies["IMIGRASI-DUMAI"], agencies["LANAL-DUMAI"]
    green = await submit(client, imigrasi, "T-1", her())
    red = await submit(
        client,
        navy,
        "T-2",
        her(),
        tlp="RED",
        recipients=["POLRES-DUMAI"],
    )
    before = await entity_of(client, imigrasi, green)
    assert "(1 cases joined, 1 case.linked events)" in await recluster(cli_runner)
    # The Navy learns its case joined Immigration's; Immigration learns nothing of a RED report,
    # not even through its person's entity id: Immigration's entity is the one that survives.
    assert await case_linked(client, imigrasi) == []
    assert len(await case_linked(client, navy)) == 1
    assert await entity_of(client, imigrasi, green) == before
    assert await entity_of(client, navy, red) == before


async def test_recluster_leaves_two_agencies_red_reports_to_analysts(
    client: httpx.AsyncClient, agencies: dict[str, dict[str, str]], cli_runner: CliRunner
) -> None:
    imigrasi, navy = agencies["IMIGRASI-DUMAI"], agencies["LANAL-DUMAI"]
    one = await submit(client, imigrasi, "U-1", her(), tlp="RED", recipients=["POLRES-DUMAI"])
    two = await submit(client, navy, "U-2", her(), tlp="AMBER_STRICT", recipients=["POLRES-DUMAI"])
    entities = (await entity_of(client, imigrasi, one), await entity_of(client, navy, two))

    output = await recluster(cli_runner)
    assert "merged 0 pairs" in output, output
    assert "1 left to analysts" in output, output
    assert (await entity_of(client, imigrasi, one), await entity_of(client, navy, two)) == entities
    assert await case_linked(client, imigrasi) == []
    assert await case_linked(client, navy) == []


async def test_the_worker_runs_the_pass_on_its_schedule(
    client: httpx.AsyncClient,
    app: Any,
    settings: Settings,
    agencies: dict[str, dict[str, str]],
) -> None:
    imigrasi, navy = agencies["IMIGRASI-DUMAI"], agencies["LANAL-DUMAI"]
    one = await submit(client, imigrasi, "W-1", her())
    two = await submit(client, navy, "W-2", her())
    every_second = settings.model_copy(
        update={"recluster_interval_hours": 1 / 3600, "worker_poll_seconds": 0.05}
    )
    worker = Worker(every_second, app.state.session_factory, name="w-recluster")
    stop = asyncio.Event()
    running = asyncio.create_task(worker.run(stop))
    try:
        for _ in range(100):
            await asyncio.sleep(0.1)
            if await entity_of(client, imigrasi, one) == await entity_of(client, navy, two):
                break
    finally:
        stop.set()
        await running
        await worker.aclose()
    assert await entity_of(client, imigrasi, one) == await entity_of(client, navy, two)


async def test_a_name_and_a_birth_date_alone_are_not_enough_to_merge(
    client: httpx.AsyncClient, agencies: dict[str, dict[str, str]], cli_runner: CliRunner
) -> None:
    # Two women called Nur Iskandar born the same day: in a large store, that happens.
    nur = victim("Nur Iskandar", "1983-03-27")
    one = await submit(client, agencies["IMIGRASI-DUMAI"], "A-1", nur)
    two = await submit(client, agencies["LANAL-DUMAI"], "A-2", nur)
    assert "merged 0 pairs" in await recluster(cli_runner)
    assert await entity_of(client, agencies["IMIGRASI-DUMAI"], one) != await entity_of(
        client, agencies["LANAL-DUMAI"], two
    )


async def test_recluster_respects_a_rejected_possible_match(
    client: httpx.AsyncClient, agencies: dict[str, dict[str, str]], cli_runner: CliRunner
) -> None:
    imigrasi, navy, admin = agencies["IMIGRASI-DUMAI"], agencies["LANAL-DUMAI"], agencies["ADMIN"]
    one = await submit(client, imigrasi, "P-1", her())
    two = await submit(client, navy, "P-2", her())
    listed = await client.get("/v1/admin/possible-matches", headers=admin)
    assert listed.status_code == 200, listed.text
    [match] = [m for m in listed.json()["items"] if m["report_id"] == two["id"]]
    rejected = await client.post(
        f"/v1/admin/possible-matches/{match['id']}/decision",
        json={"decision": "reject"},
        headers=admin,
    )
    assert rejected.status_code == 200, rejected.text

    output = await recluster(cli_runner)
    assert "merged 0 pairs" in output, output
    assert "1 by an analyst's decision" in output, output
    assert await entity_of(client, imigrasi, one) != await entity_of(client, navy, two)


async def test_a_scheduled_pass_walks_only_what_was_touched_since_the_last(
    client: httpx.AsyncClient,
    agencies: dict[str, dict[str, str]],
    cli_runner: CliRunner,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # No overlap: reports stored before a pass started are not looked at again.
    monkeypatch.setattr("app.services.recluster.WATERMARK_OVERLAP", timedelta(0))
    imigrasi, navy = agencies["IMIGRASI-DUMAI"], agencies["LANAL-DUMAI"]
    one = await submit(client, imigrasi, "M-1", her())
    await submit(client, imigrasi, "M-2", victim("Nur Iskandar", "1983-03-27"))
    first = await recluster(cli_runner)
    assert first.startswith("2 stored persons, 0 pairs"), first  # no pass yet: all of them

    # Nothing stored or changed since: nothing is walked, nothing scored.
    assert (await recluster(cli_runner)).startswith(
        "0 persons touched since the last pass, 0 pairs across entities scored; merged 0"
    )

    # Her second report arrives: only it is walked, and it meets her first one.
    two = await submit(client, navy, "M-3", her())
    output = await recluster(cli_runner)
    assert output.startswith("1 persons touched since the last pass, 1 pairs"), output
    assert "merged 1 pairs of entities" in output, output
    assert await entity_of(client, imigrasi, one) == await entity_of(client, navy, two)

    # On demand, the whole store again.
    full = await invoke_cli(cli_runner, "dedup", "recluster", "--full", "--dry-run")
    assert full.exit_code == 0, full.output
    assert full.stdout.startswith("3 stored persons, 0 pairs"), full.stdout


async def test_a_key_held_by_too_many_pairs_nobody_but_a_corroborated_pair_still_merges(
    client: httpx.AsyncClient, agencies: dict[str, dict[str, str]], cli_runner: CliRunner
) -> None:
    imigrasi, navy = agencies["IMIGRASI-DUMAI"], agencies["LANAL-DUMAI"]
    # Four persons gave one shelter's hotline: Dewi twice (no birth date; the phone and the
    # address are all that joins her records) and Rahmawati twice (her birth date as well).
    hotline = {"phone": "+62 811 7000 1000", **HOUSEHOLD}
    dewi = {"role": "VICTIM", "full_name": "Dewi Lestari Harahap", "sex": "FEMALE", **hotline}
    d1 = await submit(client, imigrasi, "H-1", dewi)
    d2 = await submit(client, navy, "H-2", dewi)
    r1 = await submit(client, imigrasi, "H-3", her(**hotline))
    r2 = await submit(client, navy, "H-4", her(**hotline))

    # Over the limit, the hotline pairs nobody; Rahmawati's name with her birth day still does.
    bounded = await invoke_cli(cli_runner, "dedup", "recluster", "--key-limit", "3")
    assert bounded.exit_code == 0, bounded.output
    assert "1 pairs across entities scored; merged 1 pairs" in bounded.stdout, bounded.stdout
    assert await entity_of(client, imigrasi, r1) == await entity_of(client, navy, r2)
    assert await entity_of(client, imigrasi, d1) != await entity_of(client, navy, d2)

    # Within the limit, the hotline pairs them all, and Dewi's records merge too.
    output = (await invoke_cli(cli_runner, "dedup", "recluster", "--full")).stdout
    assert "merged 1 pairs" in output, output
    assert await entity_of(client, imigrasi, d1) == await entity_of(client, navy, d2)
    assert await entity_of(client, imigrasi, d1) != await entity_of(client, imigrasi, r1)


async def test_her_record_short_of_the_pairwise_bar_joins_her_entity_of_several_records(
    client: httpx.AsyncClient, agencies: dict[str, dict[str, str]], cli_runner: CliRunner
) -> None:
    imigrasi, navy, police = (
        agencies[c] for c in ("IMIGRASI-DUMAI", "LANAL-DUMAI", "POLRES-DUMAI")
    )
    glued = {"full_name": "RAHMAWATISIREGAR", "date_of_birth": None}
    # Her name written as one word, her phone, no birth date: against any one record of hers,
    # one field agrees (the phone), not two, so the pass leaves it while she is one record.
    alone = await submit(client, police, "G-1", her(**glued))
    one = await submit(client, imigrasi, "G-2", her())
    assert "merged 0 pairs" in await recluster(cli_runner)
    assert await entity_of(client, police, alone) != await entity_of(client, imigrasi, one)

    # A second agency's record of her (the same name, birth date and phone) joins her first;
    # the next pass scores the glued record against her two records together.
    two = await submit(client, navy, "G-3", her(phone="0812-6612-3344"))
    assert "merged 1 pairs" in await recluster(cli_runner)
    assert await entity_of(client, imigrasi, one) == await entity_of(client, navy, two)
    assert "merged 1 pairs" in await recluster(cli_runner)
    assert await entity_of(client, police, alone) == await entity_of(client, imigrasi, one)


async def test_a_namesake_on_another_phone_stays_apart_from_her_entity_of_several_records(
    client: httpx.AsyncClient, agencies: dict[str, dict[str, str]], cli_runner: CliRunner
) -> None:
    imigrasi, navy, police = (
        agencies[c] for c in ("IMIGRASI-DUMAI", "LANAL-DUMAI", "POLRES-DUMAI")
    )
    one = await submit(client, imigrasi, "S-1", her())
    two = await submit(client, navy, "S-2", her(phone="0812-6612-3344"))
    other = await submit(
        client,
        police,
        "S-3",
        her(full_name="RAHMAWATISIREGAR", date_of_birth=None, phone="+62 813 9000 1122"),
    )
    assert "merged 1 pairs" in await recluster(cli_runner)
    assert "merged 0 pairs" in await recluster(cli_runner)
    assert await entity_of(client, imigrasi, one) == await entity_of(client, navy, two)
    assert await entity_of(client, police, other) != await entity_of(client, imigrasi, one)
