"""Controlled vocabularies and code lists (data in ``data/``, loaded by :mod:`.code_lists`)."""

from app.vocab.code_lists import (
    COUNTRIES,
    REGIONS,
    Code,
    CodeList,
    UnknownCodeList,
    all_code_lists,
    code_list,
)

__all__ = [
    "COUNTRIES",
    "REGIONS",
    "Code",
    "CodeList",
    "UnknownCodeList",
    "all_code_lists",
    "code_list",
]
