"""What changed between two versions of a report: fields added, removed and changed (pure).

A report body is nested (``location``, ``persons[]`` with their own fields); a change is named
by its path from the top (``("persons", 1, "passport_number")``). Objects are compared field by
field and lists of objects item by item, so correcting one person's passport number is one
change, not "persons changed". A list of plain values (codes, countries, aliases) is one value.
A field that is missing, null or empty is absent: adding ``[]`` is no change.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

#: A step of a path: a field name or a position in a list.
PathStep = str | int


class ChangeKind(StrEnum):
    ADDED = "added"
    REMOVED = "removed"
    CHANGED = "changed"


@dataclass(frozen=True)
class FieldChange:
    """One field that differs between two versions; ``before``/``after`` are None when absent."""

    path: tuple[PathStep, ...]
    kind: ChangeKind
    before: Any = None
    after: Any = None


def _absent(value: Any) -> bool:
    return value is None or value == [] or value == {} or value == ""


def _is_object_list(value: Any) -> bool:
    return isinstance(value, list) and any(isinstance(item, dict) for item in value)


def _compare(path: tuple[PathStep, ...], before: Any, after: Any, out: list[FieldChange]) -> None:
    if _absent(before) and _absent(after):
        return
    if _absent(before):
        out.append(FieldChange(path, ChangeKind.ADDED, after=after))
    elif _absent(after):
        out.append(FieldChange(path, ChangeKind.REMOVED, before=before))
    elif isinstance(before, dict) and isinstance(after, dict):
        _compare_objects(path, before, after, out)
    elif _is_object_list(before) and _is_object_list(after):
        for index in range(max(len(before), len(after))):
            old = before[index] if index < len(before) else None
            new = after[index] if index < len(after) else None
            _compare((*path, index), old, new, out)
    elif before != after:
        out.append(FieldChange(path, ChangeKind.CHANGED, before=before, after=after))


def _compare_objects(
    path: tuple[PathStep, ...],
    before: Mapping[str, Any],
    after: Mapping[str, Any],
    out: list[FieldChange],
) -> None:
    keys = list(after) + [k for k in before if k not in after]
    for key in keys:
        _compare((*path, key), before.get(key), after.get(key), out)


def changes_between(before: Mapping[str, Any], after: Mapping[str, Any]) -> list[FieldChange]:
    """The fields ``after`` added, removed or changed relative to ``before``,
    in ``after``'s order."""
    out: list[FieldChange] = []
    _compare_objects((), before, after, out)
    return out


@dataclass(frozen=True)
class VersionChanges:
    """One version and what it changed relative to the one before (nothing for the first)."""

    version: int
    change: str
    created_at: datetime
    changes: list[FieldChange]


def version_history(versions: Sequence[Any]) -> list[VersionChanges]:
    """Each version (``version``, ``change``, ``created_at``, ``body``), newest first, with the
    fields it changed relative to the previous one."""
    ordered = sorted(versions, key=lambda v: v.version)
    out: list[VersionChanges] = []
    previous: Mapping[str, Any] | None = None
    for v in ordered:
        changes = [] if previous is None else changes_between(previous, v.body)
        out.append(VersionChanges(v.version, v.change, v.created_at, changes))
        previous = v.body
    return out[::-1]
