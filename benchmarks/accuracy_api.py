"""Dedup accuracy through the service's own ingest, as issue 22's testers measured it.

Each labelled record becomes a one-person report (``benchmarks.workload`` bodies) and goes
through ``POST /v1/reports`` of the real app (in process, over ``httpx.ASGITransport``) on a fresh
database, in the seeded shuffled order ``accuracy.py`` uses, from four sending agencies at once.
At the end each person's current ``entity_id`` is read back with ``GET /v1/reports/{id}`` (by the
source agency), then the recluster pass (``app.services.recluster``, what ``sinergi dedup
recluster`` runs) is run once and the entities are read again.

``--terms-every N`` runs the worker's due-check of the term count (``Worker.recount_terms_if_due``,
``SINERGI_TERM_RECOUNT_GROWTH``) after every N reports answered, as a running worker would: a
fresh store gets its term frequencies once it holds ``MIN_TERM_PERSONS`` persons, and again when
it has doubled. Without it the store is never counted (an uncalibrated deployment, or a worker
with the count turned off). The mirror scores without term frequencies either way.
``--calibrate-every N`` runs the worker's calibration check (``Worker.calibrate_if_due``,
``SINERGI_CALIBRATION_GROWTH``) likewise: m, u and term counts estimated and stored once the store
holds ``MIN_CALIBRATION_PERSONS`` persons and again when it has doubled, each followed by a full
recluster pass; the mirror keeps the shipped weights.

Beside the service's figures it prints, on the same data, ``accuracy.py``'s in-memory figures
(its own loaders) and those of the same in-memory mirror fed what the service was fed (each
person's features as ingest computed them from the body sent, in the order the service answered),
and lists the records whose final entity differs between that mirror and the service, so a drift
between the mirror and the service is visible.

    python -m benchmarks.accuracy_api                                   # every set, SQLite
    python -m benchmarks.accuracy_api --dataset febrl1 --dataset febrl1-no-ids
    python -m benchmarks.accuracy_api \\
        --database-url postgresql+asyncpg://postgres@127.0.0.1:5432/bench_apiacc

FEBRL's ``soc_sec_id`` (seven digits) is no NIK (16 digits) and the API refuses it as one; it is
sent as a passport number (no nationality: a foreign passport, "as printed"), as ``accuracy.py``'s
loader gives it too. Values the API would refuse are dropped from the body
(``workload.as_accepted``), as an agency's own form would have.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import sys
import time
from collections import defaultdict
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from app.config import Settings
from app.main import create_app
from app.matching.scoring import DEFAULT_WEIGHTS
from app.schemas.report import PersonIn
from app.services.match_weights import SelfCalibration, forget_cached_weights
from app.services.persons import identify
from app.services.recluster import recluster
from app.services.resolution import Thresholds
from app.worker import Worker
from benchmarks.accuracy import (
    Labelled,
    Pairwise,
    RunResult,
    febrl_rows,
    load,
    pairwise,
    run_online,
    synthetic_records,
)
from benchmarks.setup import SENDERS, bench_settings, prepare
from benchmarks.workload import VICTIM_ROLES, as_accepted, person_json, report_json

DATASETS = (
    "synthetic",
    "synthetic-no-ids",
    "synthetic-households",
    "synthetic-households-no-ids",
    "febrl1",
    "febrl2",
    "febrl1-no-ids",
    "febrl2-no-ids",
)
DEFAULT_DATABASE_URL = "sqlite+aiosqlite:////tmp/sinergi-accuracy-api.db"


# ------------------------------------------------------------------------------ the bodies


@dataclass(frozen=True)
class Record:
    """A labelled record as the service receives it: the report's one person."""

    truth: int
    person: dict[str, Any]


def records_of(name: str, entities: int, seed: int) -> tuple[list[Record], list[tuple[int, int]]]:
    """The records of a data set as report persons (in ``accuracy.load``'s order), and its twin
    pairs (true person ids) where known."""
    rng = random.Random(seed)
    if name.startswith("synthetic"):
        raw, twins = synthetic_records(name, entities, seed)
        return [Record(r.entity_id, person_json(r, rng.choice(VICTIM_ROLES))) for r in raw], twins
    febrl, _, ids = name.partition("-")
    rows = febrl_rows(febrl, with_ids=ids != "no-ids")
    return [Record(truth, febrl_person(raw, rng.choice(VICTIM_ROLES))) for truth, raw in rows], []


def febrl_person(raw: Mapping[str, Any], role: str) -> dict[str, Any]:
    """A FEBRL row (``accuracy.febrl_rows``) as a report person; soc_sec_id as a passport."""
    person: dict[str, Any] = {"role": role}
    if raw["full_name"]:
        person["full_name"] = raw["full_name"]
    if raw["date_of_birth"] is not None:
        person["date_of_birth"] = raw["date_of_birth"].isoformat()
    elif raw["birth_year"] is not None:
        person["birth_year"] = raw["birth_year"]
    if raw["passport_number"]:
        person["passport_number"] = raw["passport_number"]
    if raw["address"].strip():
        person["address"] = " ".join(raw["address"].split())
    if role in {"VICTIM", "POTENTIAL_VICTIM"}:
        person["trafficking_status"] = "POSSIBLE"
    return as_accepted(person)


def as_ingested(records: Sequence[Record]) -> list[Labelled]:
    """Each record's features exactly as ingest computes them from the person sent."""
    return [
        Labelled(r.truth, identify(PersonIn.model_validate(r.person), "/persons/0").features)
        for r in records
    ]


# ----------------------------------------------------------------------------- the service


@dataclass(frozen=True)
class Answer:
    """What the service answered for one record's report."""

    report_id: str
    sender: str
    entity_id: str
    score: float | None
    reasons: list[str]
    seconds: float


@dataclass
class ServiceRun:
    """One data set through the API: answers, entities read back, before and after recluster."""

    arrival: list[int]
    """Record indices in the order their reports were answered."""
    answers: dict[int, Answer]
    before: dict[int, str]
    """Each record's entity read back after the last report (``GET /v1/reports/{id}``)."""
    after: dict[int, str]
    """The same after one recluster pass."""
    seconds: float
    """Wall time of the submissions (all senders)."""
    merges: int = 0
    pairs: int = 0
    refused: dict[str, int] = field(default_factory=dict)
    term_counts: list[tuple[int, int]] = field(default_factory=list)
    """(reports answered, persons counted) of each term count the worker's check stored."""
    calibrations: list[tuple[int, SelfCalibration]] = field(default_factory=list)
    """(reports answered, what the check found) of each calibration the worker's check stored."""

    @property
    def reports_per_second(self) -> float:
        return len(self.answers) / self.seconds if self.seconds else 0.0

    @property
    def median_ms(self) -> float:
        return statistics.median(a.seconds for a in self.answers.values()) * 1000


def service_settings(database_url: str) -> Settings:
    """The benchmark's production settings, rate limits off (one client sends everything), a
    log line only for what goes wrong (as ``setup.server_env``)."""
    return bench_settings(database_url).model_copy(
        update={"rate_limit_enabled": False, "log_level": "WARNING"}
    )


async def fresh_database(database_url: str) -> dict[str, str]:
    """An empty, migrated database with the benchmark's agencies; their API keys by code."""
    if database_url.startswith("sqlite"):
        path = Path(database_url.split(":///", 1)[1])
        for suffix in ("", "-wal", "-shm", "-journal"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
    return (await prepare(database_url)).keys


async def resolve_through_api(
    database_url: str,
    records: Sequence[Record],
    order: Sequence[int],
    *,
    senders: int = 4,
    seed: int = 7,
    recluster_pass: bool = True,
    fresh: bool = True,
    terms_every: int = 0,
    calibrate_every: int = 0,
) -> ServiceRun:
    """Submit each record as a one-person report in ``order`` from ``senders`` agencies at
    once (each sends the next record left when its previous report is answered), read every
    person's entity back, run the recluster pass once and read them again.

    ``fresh``: recreate the database first; otherwise it must be migrated and empty.
    ``terms_every``: run the worker's due-check of the term count after every that many
    reports answered (0: never). ``calibrate_every``: the same for the worker's calibration
    check (``Worker.calibrate_if_due``: when it stores weights, its full recluster pass too); a
    check is skipped while the previous one still runs, as the worker's schedule does."""
    keys = (
        await fresh_database(database_url)
        if fresh
        else (await prepare(database_url, recreate=False)).keys
    )
    forget_cached_weights()
    settings = service_settings(database_url)
    app = create_app(settings)
    worker = Worker(settings, app.state.session_factory, name="accuracy-api")
    term_counts: list[tuple[int, int]] = []
    calibrations: list[tuple[int, SelfCalibration]] = []
    checking: list[asyncio.Task[None]] = []

    async def calibrate_check(answered: int) -> None:
        check = await worker.calibrate_if_due()
        if check is None:
            raise SystemExit("the worker's calibration failed")
        if check.stored:
            calibrations.append((answered, check))

    rng = random.Random(seed)
    bodies = {}
    for i in order:  # built before the clock starts, in a fixed order
        body = report_json(f"ACC-{i:06d}", [], rng)
        body["persons"] = [records[i].person]
        bodies[i] = body
    transport = httpx.ASGITransport(app=app)
    try:
        async with httpx.AsyncClient(
            transport=transport, base_url="http://sinergi.bench", timeout=120
        ) as client:
            tokens = {}
            for code in SENDERS[:senders]:
                response = await client.post(
                    "/v1/auth/token",
                    data={
                        "grant_type": "client_credentials",
                        "client_id": code,
                        "client_secret": keys[code],
                    },
                )
                response.raise_for_status()
                tokens[code] = f"Bearer {response.json()['access_token']}"
            pending = iter(order)
            arrival: list[int] = []
            answers: dict[int, Answer] = {}

            async def sender(code: str) -> None:
                headers = {"Authorization": tokens[code]}
                for i in pending:
                    started = time.perf_counter()
                    response = await client.post("/v1/reports", json=bodies[i], headers=headers)
                    took = time.perf_counter() - started
                    if response.status_code != 201:
                        raise SystemExit(
                            f"record {i}: {response.status_code} {response.text[:500]}"
                        )
                    created = response.json()
                    [person] = created["persons"]
                    answers[i] = Answer(
                        created["id"],
                        code,
                        person["entity_id"],
                        person["score"],
                        person["reasons"],
                        took,
                    )
                    arrival.append(i)
                    answered = len(arrival)  # other senders append while a check awaits
                    if terms_every and answered % terms_every == 0:
                        check = await worker.recount_terms_if_due()
                        if check is None:
                            raise SystemExit("the worker's term count failed")
                        if check.stored:
                            term_counts.append((answered, check.term_persons))
                    if (
                        calibrate_every
                        and answered % calibrate_every == 0
                        and not (checking and not checking[-1].done())
                    ):
                        checking.append(asyncio.create_task(calibrate_check(answered)))

            started = time.perf_counter()
            await asyncio.gather(*(sender(code) for code in tokens))
            seconds = time.perf_counter() - started
            await asyncio.gather(*checking)  # a calibration begun before the last report
            run = ServiceRun(
                arrival,
                answers,
                {},
                {},
                seconds,
                term_counts=term_counts,
                calibrations=calibrations,
            )
            run.before = await _read_entities(client, tokens, answers)
            if recluster_pass:
                result = await recluster(
                    app.state.session_factory, merge_threshold=settings.match_merge_threshold
                )
                run.merges, run.pairs = result.merges, result.pairs
                run.refused = {
                    "identifiers": result.refused_identifiers,
                    "analyst": result.refused_analyst,
                    "restricted": result.refused_restricted,
                }
                # Read again only if the pass merged: otherwise every entity is as read.
                run.after = (
                    await _read_entities(client, tokens, answers)
                    if run.merges
                    else dict(run.before)
                )
            else:
                run.after = dict(run.before)
            return run
    finally:
        await worker.aclose()
        await app.state.engine.dispose()


async def _read_entities(
    client: httpx.AsyncClient, tokens: Mapping[str, str], answers: Mapping[int, Answer]
) -> dict[int, str]:
    """Each record's current entity, read by its report's source agency, four at a time."""
    pending = iter(answers.items())
    entities: dict[int, str] = {}

    async def reader() -> None:
        for i, answer in pending:
            response = await client.get(
                f"/v1/reports/{answer.report_id}",
                headers={"Authorization": tokens[answer.sender]},
            )
            response.raise_for_status()
            [person] = response.json()["persons"]
            entities[i] = person["entity_id"]

    await asyncio.gather(*(reader() for _ in range(4)))
    return entities


# ------------------------------------------------------------------------------ comparison


def clusters(entity_of: Mapping[int, Hashable]) -> dict[int, frozenset[int]]:
    """Each record's cluster: the records sharing its entity (itself included)."""
    members: dict[Hashable, set[int]] = defaultdict(set)
    for i, entity in entity_of.items():
        members[entity].add(i)
    frozen = {entity: frozenset(m) for entity, m in members.items()}
    return {i: frozen[entity] for i, entity in entity_of.items()}


def differing(first: Mapping[int, Hashable], second: Mapping[int, Hashable]) -> list[int]:
    """Records whose cluster differs between two resolutions of the same records."""
    a, b = clusters(first), clusters(second)
    return sorted(i for i in a if a[i] != b[i])


def feature_drift(loaded: Sequence[Labelled], sent: Sequence[Labelled]) -> dict[str, int]:
    """How many records' features differ, field by field, between ``accuracy.py``'s loader and
    ingest's reading of the body sent."""
    drift: dict[str, int] = defaultdict(int)
    for x, y in zip(loaded, sent, strict=True):
        for f in fields(x.features):
            if getattr(x.features, f.name) != getattr(y.features, f.name):
                drift[f.name] += 1
    return dict(drift)


def _line(label: str, figures: Pairwise) -> str:
    twins, twin_pairs = figures.twins_merged
    same, same_pairs = figures.namesakes_merged
    return (
        f"  {label:<30}{figures.precision:>10.4f}{figures.recall:>9.4f}{figures.f1:>8.4f}"
        f"{f'{twins}/{twin_pairs}':>10}{f'{same}/{same_pairs}':>12}"
    )


def _describe(data: Sequence[Labelled], records: Sequence[Record], i: int) -> str:
    p = records[i].person
    shown = ", ".join(
        str(p[k])
        for k in ("full_name", "date_of_birth", "birth_year", "nik", "passport_number", "phone")
        if k in p
    )
    return f"#{i} (person {data[i].truth}: {shown})"


def report_dataset(
    name: str,
    entities: int,
    seed: int,
    database_url: str,
    senders: int,
    examples: int,
    terms_every: int = 0,
    calibrate_every: int = 0,
) -> ServiceRun:
    loaded, relations = load(name, entities, seed)
    twins = [(a, b) for a, b, kind in relations if kind == "twin"]
    records, _ = records_of(name, entities, seed)
    order = list(range(len(loaded)))
    random.Random(seed).shuffle(order)  # as accuracy.py shuffles
    thresholds = Thresholds.of(service_settings(database_url))
    sent = as_ingested(records)

    def mirror(data: list[Labelled], arrival: Sequence[int], again: bool) -> RunResult:
        return run_online(
            data, list(arrival), DEFAULT_WEIGHTS, thresholds.link, thresholds.review,
            merge_threshold=thresholds.merge, twins=twins, recluster=again,
        )  # fmt: skip

    own = mirror(loaded, order, False)
    service = asyncio.run(
        resolve_through_api(
            database_url,
            records,
            order,
            senders=senders,
            seed=seed,
            terms_every=terms_every,
            calibrate_every=calibrate_every,
        )
    )
    online = mirror(sent, service.arrival, False)
    reclustered = mirror(sent, service.arrival, True)
    print(
        f"\n{name}: {len(records)} records, {own.true_pairs} true pairs; {senders} senders,"
        f" {service.reports_per_second:.1f} reports/s, median {service.median_ms:.1f} ms per"
        f" report; recluster: {service.pairs} pairs scored, {service.merges} merges",
        flush=True,
    )
    if terms_every:
        counts = ", ".join(f"{p} persons after {r} reports" for r, p in service.term_counts)
        print(f"  term counts stored by the worker's check every {terms_every} reports: "
              + (counts or "none"))  # fmt: skip
    if calibrate_every:
        done = "; ".join(
            f"{c.persons} persons after {r} reports ({c.pairs} candidate pairs"
            + (f", households in {'/'.join(c.households)}" if c.households else "")
            + f"), recluster {c.merges} merges"
            for r, c in service.calibrations
        )
        print(f"  calibrations stored by the worker's check every {calibrate_every} reports: "
              + (done or "none"))  # fmt: skip
    print(f"  {'':<30}{'precision':>10}{'recall':>9}{'F1':>8}{'twins':>10}{'same name':>12}")
    print(_line("accuracy.py (its loader)", pairwise(loaded, own.entity_of, twins)))
    print(_line("mirror, as sent", pairwise(sent, online.entity_of, twins)))
    print(_line("service", pairwise(sent, service.before, twins)))
    print(_line("mirror, as sent + recluster", pairwise(sent, reclustered.entity_of, twins)))
    print(_line("service + recluster", pairwise(sent, service.after, twins)))
    drift = feature_drift(loaded, sent)
    print(
        "  features differing between accuracy.py's loader and ingest: "
        + (", ".join(f"{k} {v}" for k, v in sorted(drift.items())) or "none")
    )
    before = differing(online.entity_of, service.before)
    after = differing(reclustered.entity_of, service.after)
    print(
        f"  records whose entity differs, mirror as sent vs service: {len(before)} online,"
        f" {len(after)} after recluster"
    )
    mirror_clusters, service_clusters = clusters(online.entity_of), clusters(service.before)
    for i in before[:examples]:
        outcome, probability = online.decisions[i]
        answer = service.answers[i]
        print(f"    {_describe(sent, records, i)}")
        print(
            f"      mirror: {outcome.value}"
            + ("" if probability is None else f" p={probability:.4f}")
            + f", with {sorted(mirror_clusters[i] - {i})}"
        )
        print(
            f"      service: score={answer.score} {answer.reasons[:3]}, with"
            f" {sorted(service_clusters[i] - {i})}"
        )
    sys.stdout.flush()  # each data set's figures as soon as they are known
    return service


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", choices=DATASETS, action="append")
    parser.add_argument("--entities", type=int, default=2000, help="synthetic true persons")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--senders", type=int, default=4, choices=range(1, len(SENDERS) + 1))
    parser.add_argument("--examples", type=int, default=5, help="differing records shown")
    parser.add_argument(
        "--terms-every",
        type=int,
        default=0,
        metavar="N",
        help="run the worker's due-check of the term count every N reports (0: never)",
    )
    parser.add_argument(
        "--calibrate-every",
        type=int,
        default=0,
        metavar="N",
        help="run the worker's due-check of its calibration (and, when it calibrates, its"
        " recluster pass) every N reports (0: never)",
    )
    parser.add_argument(
        "--database-url",
        default=DEFAULT_DATABASE_URL,
        help="recreated for every data set (default %(default)s)",
    )
    args = parser.parse_args()
    for name in args.dataset or DATASETS:
        report_dataset(
            name,
            args.entities,
            args.seed,
            args.database_url,
            args.senders,
            args.examples,
            args.terms_every,
            args.calibrate_every,
        )


if __name__ == "__main__":
    main()
