"""Load the controlled vocabularies: one JSON file per code list in ``data/``, plus countries.

Every list has a ``name`` (as in ``GET /v1/vocab/{name}``), Indonesian and English labels, and
its codes. Countries are ISO 3166-1 alpha-3 from pycountry (Indonesian labels from pycountry's
translations) plus the ICAO nationality codes of ``countries_supplement.json``.
"""

from __future__ import annotations

import gettext
import json
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from typing import Any

import pycountry

COUNTRIES = "countries"
REGIONS = "regions"
#: Files in ``data/`` that feed another list instead of being one.
_SUPPLEMENTS = {"countries_supplement"}


@dataclass(frozen=True)
class Code:
    """One value of a code list."""

    code: str
    label_id: str
    label_en: str
    description: str | None = None
    #: Extra attributes some lists carry (regions: ``kind``, ``parent``).
    attributes: dict[str, str] = field(default_factory=dict, compare=False)


@dataclass(frozen=True)
class CodeList:
    """A controlled vocabulary: its labels and codes, in the order forms should show them."""

    name: str
    label_id: str
    label_en: str
    description: str
    codes: tuple[Code, ...]
    _index: dict[str, Code] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_index", {c.code: c for c in self.codes})
        if len(self._index) != len(self.codes):
            raise ValueError(f"code list {self.name} repeats a code")

    @property
    def values(self) -> tuple[str, ...]:
        return tuple(c.code for c in self.codes)

    def __contains__(self, code: object) -> bool:
        return code in self._index

    def get(self, code: str) -> Code | None:
        return self._index.get(code)


class UnknownCodeList(KeyError):
    """No code list has this name."""


def _code_from(raw: dict[str, Any]) -> Code:
    known = {"code", "label_id", "label_en", "description"}
    return Code(
        code=str(raw["code"]),
        label_id=str(raw["label_id"]),
        label_en=str(raw["label_en"]),
        description=raw.get("description"),
        attributes={k: str(v) for k, v in raw.items() if k not in known},
    )


def _read_data_file(stem: str) -> dict[str, Any]:
    text = resources.files("app.vocab").joinpath("data", f"{stem}.json").read_text("utf-8")
    document: dict[str, Any] = json.loads(text)
    return document


def _data_file_stems() -> list[str]:
    folder = resources.files("app.vocab").joinpath("data")
    return sorted(
        entry.name.removesuffix(".json")
        for entry in folder.iterdir()
        if entry.name.endswith(".json")
    )


def _load_file(stem: str) -> CodeList:
    document = _read_data_file(stem)
    if document["name"] != stem:
        raise ValueError(f"vocab/data/{stem}.json names itself {document['name']!r}")
    return CodeList(
        name=stem,
        label_id=document["label_id"],
        label_en=document["label_en"],
        description=document.get("description", ""),
        codes=tuple(_code_from(raw) for raw in document["codes"]),
    )


def _load_countries() -> CodeList:
    indonesian = gettext.translation("iso3166-1", pycountry.LOCALES_DIR, languages=["id"])
    codes = [
        Code(
            code=country.alpha_3,
            label_id=indonesian.gettext(country.name),
            label_en=getattr(country, "common_name", None) or country.name,
        )
        for country in pycountry.countries
    ]
    supplement = _read_data_file("countries_supplement")
    codes.extend(_code_from(raw) for raw in supplement["codes"])
    return CodeList(
        name=COUNTRIES,
        label_id="Negara (ISO 3166-1 alpha-3)",
        label_en="Countries (ISO 3166-1 alpha-3)",
        description=(
            "ISO 3166-1 alpha-3 country codes (pycountry "
            f"{_pycountry_version()}), plus ICAO Doc 9303 codes for stateless persons, "
            "refugees and unspecified nationality."
        ),
        codes=tuple(sorted(codes, key=lambda c: c.code)),
    )


def _pycountry_version() -> str:
    from importlib.metadata import version

    return version("pycountry")


@cache
def all_code_lists() -> dict[str, CodeList]:
    """Every code list by name, loaded once per process."""
    lists = {stem: _load_file(stem) for stem in _data_file_stems() if stem not in _SUPPLEMENTS}
    lists[COUNTRIES] = _load_countries()
    return dict(sorted(lists.items()))


def code_list(name: str) -> CodeList:
    """The code list called ``name``; :class:`UnknownCodeList` if there is none."""
    try:
        return all_code_lists()[name]
    except KeyError:
        raise UnknownCodeList(name) from None
