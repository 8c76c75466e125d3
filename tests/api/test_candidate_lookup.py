"""One candidate lookup for all the persons of a report decides exactly as one per person.

Ingest looks up every person's candidates in one statement (issue 21). The same reports are
sent to two worlds: one as shipped, one where each person's candidates are looked up alone
(as before). Every answer must be the same, entity for entity, including a report whose first
person merges two stored entities and whose second person is one of them.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from typing import Any

import httpx
import pytest

from app.services import reports, resolution
from tests.factories import dumai_agencies
from tests.report_samples import interception

NIK = "1472035403990002"


def person(name: str, role: str = "VICTIM", **fields: Any) -> dict[str, Any]:
    return {"role": role, "full_name": name, "sex": "FEMALE", "nationality": "IDN", **fields}


def _reports() -> list[tuple[str, list[dict[str, Any]]]]:
    """(sender, persons) of a sequence of reports whose persons meet again and again."""
    siti = {"date_of_birth": "1998-02-11"}
    return [
        ("IMIGRASI-DUMAI", [person("Rahmawati Siregar", nik=NIK)]),
        (
            "LANAL-DUMAI",
            [
                # her phone, not her birth date (her NIK's date would meet it)
                person("Rahmawati Siregar", phone="0812-6612-3344"),
                person("Siti Nurhaliza", **siti),
            ],
        ),
        ("POLRES-DUMAI", [person("Siti Nurhalizah", **siti), person("Budi Santoso", "SUSPECT")]),
        # the first person bridges the two Rahmawati entities (a merge); the second is one of
        # the persons the merge moved: her candidates must name the merged entity
        (
            "POLRES-DUMAI",
            [
                person(
                    "Rahmawati Siregar",
                    nik=NIK,
                    date_of_birth="1999-03-14",
                    phone="+62 812 6612 3344",
                ),
                person("Rahmawati Siregar", nik=NIK),
                person("Rahmawati Siregar", date_of_birth="1999-03-14", phone="081266123344"),
            ],
        ),
        ("IMIGRASI-DUMAI", [person("Siti Nurhaliza", **siti), person("Rahmawati Siregar")]),
    ]


def _canonical(answers: list[dict[str, Any]]) -> list[Any]:
    """The answers with every entity and case id replaced by the order it first appeared in."""
    names: dict[str, str] = {}

    def name(value: str | None, kind: str) -> str | None:
        if value is None:
            return None
        return names.setdefault(value, f"{kind}{len(names)}")

    return [
        (
            name(a["case_id"], "case"),
            [
                (name(p["entity_id"], "entity"), p["score"], p["reasons"], p["normalized"])
                for p in a["persons"]
            ],
        )
        for a in answers
    ]


async def _answers(app: Any) -> list[dict[str, Any]]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://sinergi.test") as client:
        agencies = await dumai_agencies(app, client)
        answers = []
        for i, (sender, persons) in enumerate(_reports()):
            body = interception(external_ref=f"LOOKUP-{i}", persons=persons, recipients=[])
            response = await client.post("/v1/reports", json=body, headers=agencies[sender])
            assert response.status_code == 201, response.text
            answers.append(response.json())
        return answers


async def test_one_lookup_for_all_persons_decides_as_one_per_person(
    fresh_app: Callable[[str], AbstractAsyncContextManager[Any]],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    async with fresh_app("together") as app:
        together = await _answers(app)
    merged = together[3]["persons"][0]
    assert any("merged them into one person" in r for r in merged["reasons"]), merged
    assert together[3]["persons"][1]["entity_id"] == merged["entity_id"]
    assert together[3]["persons"][2]["entity_id"] == merged["entity_id"]

    one_at_a_time = resolution.candidates_of

    async def per_person(session: Any, persons: Any, keys: Any = None, **kwargs: Any) -> list[Any]:
        each = keys if keys is not None else [None] * len(persons)
        return [
            (await one_at_a_time(session, [p], keys=None if k is None else [k], **kwargs))[0]
            for p, k in zip(persons, each, strict=True)
        ]

    monkeypatch.setattr(reports, "candidates_of", per_person)
    async with fresh_app("alone") as app:
        alone = await _answers(app)
    assert _canonical(together) == _canonical(alone)
