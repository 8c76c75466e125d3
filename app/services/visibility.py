"""Need-to-know constants every read shares (cases, screening, watches)."""

from __future__ import annotations

#: TLP labels whose reports may be acknowledged (not shown) to agencies outside need-to-know.
ACKNOWLEDGEABLE_TLP = frozenset({"CLEAR", "GREEN", "AMBER"})
