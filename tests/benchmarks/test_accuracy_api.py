"""The accuracy-through-the-API benchmark's core on a tiny data set, so that it cannot rot."""

from __future__ import annotations

from itertools import combinations

from benchmarks.accuracy import pairwise
from benchmarks.accuracy_api import as_ingested, differing, records_of, resolve_through_api


async def test_records_of_one_person_with_equal_nik_end_in_one_entity(database_url: str) -> None:
    records, _ = records_of("synthetic", 20, seed=3)
    records = records[:30]
    data = as_ingested(records)
    order = list(range(len(records)))[::-1]

    run = await resolve_through_api(database_url, records, order, senders=4, fresh=False)

    same_nik = [
        (i, j)
        for i, j in combinations(range(len(data)), 2)
        if data[i].truth == data[j].truth and data[i].features.nik
        and data[i].features.nik == data[j].features.nik
    ]  # fmt: skip
    assert same_nik, "the sample holds no two records of one person with one NIK"
    assert sorted(run.arrival) == list(range(len(records)))
    for i, j in same_nik:
        assert run.before[i] == run.before[j], (records[i].person, records[j].person)
        assert run.after[i] == run.after[j]
    # Every record read back, each with the entity the service answered (nothing merged since
    # on a set this small), and the figures computed on them as accuracy.py computes its own.
    assert {i: a.entity_id for i, a in run.answers.items()} == run.before
    figures = pairwise(data, run.before)
    assert figures.true_positives >= len(same_nik)
    assert figures.precision == 1.0
    assert differing(run.before, run.after) == []
