"""What changed between two report versions: field by field, person by person (pure)."""

from __future__ import annotations

from datetime import UTC, datetime
from types import SimpleNamespace

from app.services.report_changes import ChangeKind, FieldChange, changes_between, version_history


def test_nested_fields_are_compared_one_by_one() -> None:
    before = {
        "tlp": "AMBER",
        "location": {"place": "Dumai"},
        "persons": [{"role": "VICTIM", "nik": "1"}, {"role": "SUSPECT"}],
        "modus_operandi": ["A", "B"],
        "narrative": "lama",
    }
    after = {
        "tlp": "RED",
        "location": {"place": "Dumai", "region_code": "14.72"},
        "persons": [{"role": "VICTIM", "nik": "2"}],
        "modus_operandi": ["B", "A"],
        "recipients": ["POLRES-DUMAI"],
    }
    assert changes_between(before, after) == [
        FieldChange(("tlp",), ChangeKind.CHANGED, "AMBER", "RED"),
        FieldChange(("location", "region_code"), ChangeKind.ADDED, after="14.72"),
        FieldChange(("persons", 0, "nik"), ChangeKind.CHANGED, "1", "2"),
        FieldChange(("persons", 1), ChangeKind.REMOVED, before={"role": "SUSPECT"}),
        FieldChange(("modus_operandi",), ChangeKind.CHANGED, ["A", "B"], ["B", "A"]),
        FieldChange(("recipients",), ChangeKind.ADDED, after=["POLRES-DUMAI"]),
        FieldChange(("narrative",), ChangeKind.REMOVED, before="lama"),
    ]


def test_empty_and_missing_are_the_same() -> None:
    assert changes_between({"aliases": [], "place": None}, {"location": {}}) == []


def test_history_is_newest_first_each_against_the_one_before() -> None:
    at = datetime(2026, 1, 1, tzinfo=UTC)
    versions = [
        SimpleNamespace(version=2, change="updated", created_at=at, body={"tlp": "RED"}),
        SimpleNamespace(version=1, change="created", created_at=at, body={"tlp": "AMBER"}),
        SimpleNamespace(version=3, change="retracted", created_at=at, body={"tlp": "RED"}),
    ]
    history = version_history(versions)
    assert [(v.version, v.change, len(v.changes)) for v in history] == [
        (3, "retracted", 0),
        (2, "updated", 1),
        (1, "created", 0),
    ]
