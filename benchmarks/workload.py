"""Realistic report bodies for the load and cost benchmarks, built from the synthetic persons.

A report names one to three persons drawn from ``benchmarks.synthetic`` (victims, a recruiter),
with the fields an agency fills in: case type, TLP, place, modus, destination, documents. The
persons of a chunk come from ``synthetic.generate(entities, seed)``, so a chunk is reproducible:
the bulk loader stores most of a chunk's records and holds some back (``split_chunk``), and the
benchmarks later submit the held-back ones, which are duplicates of stored persons and so take
the link path of person resolution, as a real later report about a known person would.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from app.schemas.report import PersonIn
from benchmarks.synthetic import PersonRecord, generate

# Regencies and cities (Kemendagri codes) where TIMPORA teams write reports.
REGIONS = (
    ("14.72", "Pelabuhan Dumai"),
    ("21.71", "Pelabuhan Batam Centre"),
    ("53.71", "Kantor Imigrasi Kupang"),
    ("52.01", "Bandara Lombok"),
    ("32.04", "Kabupaten Bandung"),
    ("35.78", "Bandara Juanda Surabaya"),
    ("12.71", "Pelabuhan Belawan Medan"),
    ("61.71", "PLBN Entikong"),
)
MODUS = (
    "HIGH_SALARY_JOB_OFFER",
    "TOURIST_DISGUISE",
    "STUDENT_DISGUISE",
    "TRANSIT_ROUTE",
    "NONPROCEDURAL_MIGRANT_WORKER",
    "UNOFFICIAL_PORT",
    "FORGED_DOCUMENTS",
    "ONLINE_SCAM_RECRUITMENT",
)
DESTINATIONS = ("MYS", "SGP", "KHM", "MMR", "SAU", "ARE", "HKG", "TWN")
CASE_TYPES = ("TPPO", "TPPM", "TPPO_TPPM", "UNDETERMINED")
VICTIM_ROLES = ("VICTIM", "POTENTIAL_VICTIM", "APPLICANT")
_SEX = {"M": "MALE", "L": "MALE", "F": "FEMALE", "P": "FEMALE"}

#: Entities per generated chunk (one ``synthetic.generate`` call, one seed).
CHUNK_ENTITIES = 5_000


def person_json(record: PersonRecord, role: str) -> dict[str, Any]:
    """The report's ``persons[]`` item for one synthetic record, as an agency would send it."""
    person: dict[str, Any] = {"role": role, "full_name": record.full_name}
    if record.aliases:
        person["aliases"] = list(record.aliases)
    if record.sex:
        person["sex"] = _SEX.get(record.sex, "UNKNOWN")
    if record.date_of_birth:
        person["date_of_birth"] = record.date_of_birth
    elif record.birth_year:
        person["birth_year"] = record.birth_year
    for name in ("nationality", "nik", "passport_number", "phone", "address"):
        value = getattr(record, name)
        if value:
            person[name] = value
    if role in ("VICTIM", "POTENTIAL_VICTIM"):
        person["trafficking_status"] = "POSSIBLE"
    if role == "SUSPECT":
        person["perpetrator_roles"] = ["RECRUITER_OR_INTERMEDIARY"]
    return as_accepted(person)


def as_accepted(person: dict[str, Any]) -> dict[str, Any]:
    """Drop the fields the API would refuse (a mistyped NIK whose date is impossible, …).

    The generator corrupts identifiers on purpose; an agency's own form would have caught the
    unreadable ones, and the load test wants reports the service accepts.
    """
    for _ in range(4):
        try:
            PersonIn.model_validate(person)
            return person
        except ValidationError as exc:
            for error in exc.errors():
                if error["loc"] and error["loc"][0] in person and error["loc"][0] != "role":
                    person.pop(str(error["loc"][0]))
    return person


def report_json(
    external_ref: str, persons: list[tuple[PersonRecord, str]], rng: random.Random
) -> dict[str, Any]:
    """A complete report body around ``persons`` ((record, role) pairs)."""
    region, place = rng.choice(REGIONS)
    day = rng.randint(1, 28)
    month = rng.randint(1, 12)
    body: dict[str, Any] = {
        "external_ref": external_ref,
        "case_type": rng.choice(CASE_TYPES),
        "tlp": rng.choice(("GREEN", "AMBER", "AMBER")),
        "reported_at": f"2025-{month:02d}-{day:02d}T09:30:00+07:00",
        "occurred_from": f"2025-{month:02d}-{day:02d}",
        "location": {"region_code": region, "place": place},
        "modus_operandi": rng.sample(MODUS, k=rng.randint(1, 3)),
        "destination_countries": [rng.choice(DESTINATIONS)],
        "persons": [person_json(record, role) for record, role in persons],
        "actions_taken": [rng.choice(("PASSPORT_DEFERRED", "DEPARTURE_PREVENTED", "REFERRAL"))],
        "narrative": (
            "Laporan sintetis untuk uji beban: tawaran kerja bergaji tinggi di luar negeri."
        ),
    }
    if rng.random() < 0.4:
        body["documents"] = [
            {
                "type": "PASSPORT_APPLICATION",
                "number": f"PERM-{rng.randint(1, 999_999):06d}",
                "status": "DEFERRED",
            }
        ]
    return body


@dataclass(frozen=True)
class Chunk:
    """One chunk's records: those the store holds and those held back for later submission."""

    seed: int
    stored: list[PersonRecord]
    held_back: list[PersonRecord]


def split_chunk(seed: int, entities: int = CHUNK_ENTITIES) -> Chunk:
    """Generate a chunk; hold back half of the later records of persons reported more than once."""
    rng = random.Random(seed * 7919)
    stored: list[PersonRecord] = []
    held: list[PersonRecord] = []
    seen: set[int] = set()
    for record in generate(entities, seed=seed):
        if record.entity_id in seen and rng.random() < 0.5:
            held.append(record)
        else:
            stored.append(record)
        seen.add(record.entity_id)
    return Chunk(seed, stored, held)


def fresh_reports(
    prefix: str, seed: int, count: int, *, known: list[PersonRecord] | None = None
) -> Iterator[dict[str, Any]]:
    """``count`` new report bodies with unique refs; about a third name a known person.

    Persons are new synthetic people (a seed of their own) plus, when ``known`` is given, held-back
    records of stored persons, so resolution meets both new people and people it already holds.
    """
    rng = random.Random(seed)
    new_people = iter(())  # refilled chunk by chunk
    chunk_seed = seed * 1000

    def next_new() -> PersonRecord:
        nonlocal new_people, chunk_seed
        for record in new_people:
            return record
        chunk_seed += 1
        new_people = iter(generate(2_000, seed=chunk_seed))
        return next(new_people)

    for i in range(count):
        persons: list[tuple[PersonRecord, str]] = []
        victims = rng.choices((1, 2), weights=(75, 25))[0]
        for _ in range(victims):
            if known and rng.random() < 0.33:
                persons.append((rng.choice(known), rng.choice(VICTIM_ROLES)))
            else:
                persons.append((next_new(), rng.choice(VICTIM_ROLES)))
        if rng.random() < 0.4:
            persons.append((next_new(), "SUSPECT"))
        yield report_json(f"{prefix}-{i:07d}", persons, rng)
