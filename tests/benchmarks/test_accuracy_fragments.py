"""accuracy.py's account of a person left in two entities after the recluster pass."""

from __future__ import annotations

from datetime import date

from app.matching.scoring import DEFAULT_WEIGHTS, PersonFeatures
from benchmarks.accuracy import DEFAULT_REVIEW_THRESHOLD, Labelled, run_online


def her(nik: str | None) -> Labelled:
    return Labelled(
        1,
        PersonFeatures.from_raw(
            full_name="Rahmawati Siregar",
            date_of_birth=date(1999, 3, 14),
            sex="FEMALE",
            nik=nik,
            phone="+6281266123344",
        ),
    )


def resolved(*niks: str | None) -> dict[str, int]:
    data = [her(nik) for nik in niks]
    # Online never links (threshold above 1): only the pass can join her records.
    result = run_online(
        data, list(range(len(data))), DEFAULT_WEIGHTS, 1.01, DEFAULT_REVIEW_THRESHOLD,
        recluster=True,
    )  # fmt: skip
    return dict(result.fragments)


def test_her_nik_mistyped_once_in_each_of_two_records_leaves_no_fragment() -> None:
    assert resolved("1471035403990002", "1472035403990008", None) == {}


def test_twins_niks_are_counted_as_contradicting_niks_of_one_person() -> None:
    # Labelled one person here, so that the breakdown has to say what kept her apart.
    assert resolved("1472035403990002", "1472035403990013", None) == {"NIKs contradict: own": 1}
