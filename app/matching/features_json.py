"""Person features as stored (JSON columns) and read back: the one mapping both ways."""

from __future__ import annotations

from datetime import date
from typing import Any

from app.matching.scoring import PersonFeatures


def features_to_json(f: PersonFeatures) -> dict[str, Any]:
    """Features as stored in ``report_persons.features`` and ``watches.features`` (JSON)."""
    return {
        "display_name": f.display_name,
        "name": f.name,
        "father_name": f.father_name,
        "name_tokens": list(f.name_tokens),
        "phonetic_keys": list(f.phonetic_keys),
        "name_variants": list(f.name_variants),
        "raw_variants": list(f.raw_variants),
        "date_of_birth": f.date_of_birth.isoformat() if f.date_of_birth else None,
        "birth_year": f.birth_year,
        "sex": f.sex,
        "nationality": f.nationality,
        "nik": f.nik,
        "passport": f.passport,
        "phone": f.phone,
        "address_tokens": sorted(f.address_tokens),
    }


def features_from_json(d: dict[str, Any]) -> PersonFeatures:
    """Features read back from their stored JSON."""
    dob = d.get("date_of_birth")
    return PersonFeatures(
        display_name=d["display_name"],
        name=d["name"],
        father_name=d["father_name"],
        name_tokens=tuple(d["name_tokens"]),
        phonetic_keys=tuple(d["phonetic_keys"]),
        name_variants=tuple(d["name_variants"]),
        raw_variants=tuple(d["raw_variants"]),
        date_of_birth=date.fromisoformat(dob) if dob else None,
        birth_year=d.get("birth_year"),
        sex=d.get("sex"),
        nationality=d.get("nationality"),
        nik=d.get("nik"),
        passport=d.get("passport"),
        phone=d.get("phone"),
        address_tokens=frozenset(d.get("address_tokens", ())),
    )
