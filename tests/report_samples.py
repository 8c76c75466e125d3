"""Realistic report bodies for tests: a deferred passport application and a port interception."""

from __future__ import annotations

import copy
from typing import Any

_DEFERRAL: dict[str, Any] = {
    "external_ref": "IMI-DUMAI/2025/0001",
    "case_type": "TPPO",
    "tlp": "AMBER",
    "reported_at": "2025-05-12T09:30:00+07:00",
    "occurred_from": "2025-05-12",
    "location": {"region_code": "14.72", "place": "Kantor Imigrasi Kelas II TPI Dumai"},
    "modus_operandi": ["TOURIST_DISGUISE", "NONPROCEDURAL_MIGRANT_WORKER"],
    "destination_countries": ["MYS"],
    "persons": [
        {
            "role": "POTENTIAL_VICTIM",
            "full_name": "Siti Nurhaliza binti Ahmad",
            "sex": "FEMALE",
            "date_of_birth": "1999-03-14",
            "nationality": "IDN",
            "nik": "1472035403990002",
            "phone": "0812-6612-3344",
            "trafficking_status": "POSSIBLE",
        }
    ],
    "documents": [{"type": "PASSPORT_APPLICATION", "number": "PERM-0001", "status": "DEFERRED"}],
    "actions_taken": ["PASSPORT_DEFERRED"],
    "narrative": "Pemohon mengaku berwisata, ditemukan tawaran kerja di Johor Bahru.",
}

_INTERCEPTION: dict[str, Any] = {
    "external_ref": "LANAL-DUMAI/2025/0027",
    "case_type": "TPPO_TPPM",
    "tlp": "AMBER",
    "reported_at": "2025-05-21T23:40:00+07:00",
    "occurred_from": "2025-05-21",
    "location": {"region_code": "14.72", "place": "Pantai Purnama, pelabuhan tidak resmi"},
    "modus_operandi": ["UNOFFICIAL_PORT", "NONPROCEDURAL_MIGRANT_WORKER"],
    "destination_countries": ["MYS"],
    "persons": [
        {
            "role": "SUSPECT",
            "full_name": "Hendra Saputra",
            "sex": "MALE",
            "birth_year": 1985,
            "nationality": "IDN",
            "phone": "+62 813-7100-2211",
            "perpetrator_roles": ["RECRUITER_OR_INTERMEDIARY"],
        },
        {
            "role": "VICTIM",
            "full_name": "Siti Nur Haliza",
            "sex": "FEMALE",
            "date_of_birth": "1999-03-14",
            "nationality": "IDN",
            "nik": "1472035403990002",
            "trafficking_status": "POSSIBLE",
        },
    ],
    "actions_taken": ["DEPARTURE_PREVENTED"],
}


def deferral(**overrides: Any) -> dict[str, Any]:
    """Immigration defers the passport application of a suspected PMI nonprosedural."""
    body = copy.deepcopy(_DEFERRAL)
    body.update(overrides)
    return body


def interception(**overrides: Any) -> dict[str, Any]:
    """The Navy intercepts a speedboat at an unofficial port: a recruiter and a victim."""
    body = copy.deepcopy(_INTERCEPTION)
    body.update(overrides)
    return body


def victim(name: str, dob: str, nik: str | None = None, **extra: Any) -> dict[str, Any]:
    person: dict[str, Any] = {
        "role": "VICTIM",
        "full_name": name,
        "sex": "FEMALE",
        "date_of_birth": dob,
        "nationality": "IDN",
        "trafficking_status": "POSSIBLE",
    }
    if nik:
        person["nik"] = nik
    person.update(extra)
    return person


def recruiter(name: str = "Hendra Saputra", phone: str = "+62 813-7100-2211") -> dict[str, Any]:
    return {
        "role": "SUSPECT",
        "full_name": name,
        "sex": "MALE",
        "birth_year": 1985,
        "nationality": "IDN",
        "phone": phone,
        "perpetrator_roles": ["RECRUITER_OR_INTERMEDIARY"],
    }
