"""A year of a city TIMPORA's reports (synthetic, no persons) for statistics tests and the docs.

Deterministic for a seed: Immigration's deferred passport applications, the Navy's interceptions
at unofficial ports, the Police's investigations and BP3MI's returnees, spread over 2025 with the
destinations, modus and regions a Riau border city sees.
"""

from __future__ import annotations

import random
from typing import Any

from app.models.agency import AgencyKind

AGENCIES = {
    "IMIGRASI-DUMAI": AgencyKind.IMMIGRATION,
    "LANAL-DUMAI": AgencyKind.NAVY,
    "POLRES-DUMAI": AgencyKind.POLICE,
    "BP3MI-RIAU": AgencyKind.MIGRANT_WORKER_PROTECTION,
}
#: Region codes around Dumai, weighted: Kota Dumai, Bengkalis, Rokan Hilir, Kota Pekanbaru,
#: Kota Batam, and the home regions of many migrants (Lombok Timur, Kupang).
_REGIONS = (
    ["14.72"] * 10
    + ["14.03"] * 4
    + ["14.07"] * 3
    + ["14.71"] * 3
    + ["21.71"] * 2
    + ["52.03", "53.71"]
)
_DESTINATIONS = ["MYS"] * 12 + ["SGP"] * 2 + ["KHM"] * 2 + ["MMR", "THA", "SAU", "ARE"]
_SEASON = [6, 5, 7, 9, 8, 6, 10, 7, 6, 8, 9, 11]  # reports per month, roughly


def _when(rng: random.Random, month: int) -> str:
    day = rng.randint(1, 28)
    return f"2025-{month:02d}-{day:02d}T{rng.randint(7, 21):02d}:{rng.randint(0, 59):02d}:00+07:00"


def _deferral(rng: random.Random, ref: str, month: int) -> dict[str, Any]:
    modus = rng.sample(
        ["TOURIST_DISGUISE", "NONPROCEDURAL_MIGRANT_WORKER", "HIGH_SALARY_JOB_OFFER"],
        k=rng.randint(1, 3),
    )
    if rng.random() < 0.15:
        modus.append("ONLINE_SCAM_RECRUITMENT")
    return {
        "external_ref": ref,
        "case_type": "TPPO",
        "tlp": "AMBER",
        "reported_at": _when(rng, month),
        "location": {"region_code": "14.72", "place": "Kantor Imigrasi Kelas II TPI Dumai"},
        "modus_operandi": modus,
        "destination_countries": [rng.choice(_DESTINATIONS)],
        "documents": [{"type": "PASSPORT_APPLICATION", "status": "DEFERRED"}],
        "actions_taken": ["PASSPORT_DEFERRED"],
    }


def _interception(rng: random.Random, ref: str, month: int) -> dict[str, Any]:
    return {
        "external_ref": ref,
        "case_type": rng.choice(["TPPO_TPPM", "TPPM", "TPPO_TPPM"]),
        "tlp": "AMBER",
        "reported_at": _when(rng, month),
        "location": {"region_code": rng.choice(["14.72", "14.03", "14.07"])},
        "modus_operandi": [
            "UNOFFICIAL_PORT",
            rng.choice(["NONPROCEDURAL_MIGRANT_WORKER", "TRANSIT_ROUTE"]),
        ],
        "exploitation_types": ["FORCED_LABOUR"],
        "forced_labour_sector": rng.choice(["A", "C", "F"]),
        "destination_countries": ["MYS"],
        "actions_taken": ["DEPARTURE_PREVENTED", "SHELTER"],
    }


def _investigation(rng: random.Random, ref: str, month: int) -> dict[str, Any]:
    exploitation = rng.choice(
        [["FORCED_CRIMINALITY"], ["SEXUAL_EXPLOITATION"], ["FORCED_LABOUR"], ["FORCED_MARRIAGE"]]
    )
    destination = "KHM" if exploitation == ["FORCED_CRIMINALITY"] else rng.choice(_DESTINATIONS)
    return {
        "external_ref": ref,
        "case_type": "TPPO",
        "tlp": "AMBER",
        "reported_at": _when(rng, month),
        "location": {"region_code": rng.choice(_REGIONS)},
        "modus_operandi": rng.sample(
            [
                "HIGH_SALARY_JOB_OFFER",
                "ONLINE_SCAM_RECRUITMENT",
                "DEBT_BONDAGE",
                "FORGED_DOCUMENTS",
            ],
            k=2,
        ),
        "exploitation_types": exploitation,
        "destination_countries": [destination],
        "actions_taken": ["ARREST", "INVESTIGATION_OPENED"],
    }


def _returnee(rng: random.Random, ref: str, month: int) -> dict[str, Any]:
    return {
        "external_ref": ref,
        "case_type": rng.choice(["TPPO", "UNDETERMINED"]),
        "tlp": "GREEN",
        "reported_at": _when(rng, month),
        "location": {"region_code": rng.choice(_REGIONS)},
        "modus_operandi": ["NONPROCEDURAL_MIGRANT_WORKER", "DEBT_BONDAGE"],
        "exploitation_types": ["FORCED_LABOUR"],
        "destination_countries": [rng.choice(["MYS", "MYS", "SAU", "ARE"])],
        "actions_taken": ["REPATRIATION", "SHELTER"],
    }


_KINDS = (
    ("IMIGRASI-DUMAI", _deferral, 0.45),
    ("LANAL-DUMAI", _interception, 0.2),
    ("POLRES-DUMAI", _investigation, 0.2),
    ("BP3MI-RIAU", _returnee, 0.15),
)


def meeting_year(seed: int = 2025) -> list[tuple[str, dict[str, Any]]]:
    """(source agency code, report body) for a year; every report is routed to the others."""
    rng = random.Random(seed)
    reports: list[tuple[str, dict[str, Any]]] = []
    for month, count in enumerate(_SEASON, start=1):
        for i in range(count):
            source, make, _ = rng.choices(_KINDS, weights=[k[2] for k in _KINDS])[0]
            body = make(rng, f"{source}/2025/{month:02d}-{i:02d}", month)
            body["recipients"] = [code for code in AGENCIES if code != source]
            reports.append((source, body))
    return reports
