"""The common-passwords blocklist shipped in ``data/common-passwords.txt`` (data, not logic)."""

from __future__ import annotations

from functools import lru_cache
from importlib import resources


@lru_cache(maxsize=1)
def common_passwords() -> frozenset[str]:
    """Lower-cased entries of the blocklist (comment lines left out)."""
    text = resources.files("app.vocab").joinpath("data", "common-passwords.txt").read_text("utf-8")
    return frozenset(
        line.strip().lower() for line in text.splitlines() if line.strip() and line[0] != "#"
    )
