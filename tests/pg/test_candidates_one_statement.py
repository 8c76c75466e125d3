"""Resolution's candidate lookup in one statement (PostgreSQL) finds what the two-statement
lookup finds: the same candidates, ranked alike, the same name counts, and the same weak keys
skipped (``usable_keys``' rule applied in SQL)."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from app.db import transaction
from app.models.agency import AgencyKind
from app.models.resolution import PersonKey
from app.repositories import resolution as repo
from tests.factories import bearer, create_agency, token_for
from tests.report_samples import deferral, victim

pytestmark = pytest.mark.pg


async def _lookup(
    session: Any,
    persons: list[tuple[list[str], list[str]]],
    *,
    one_statement: bool,
    exclude_report_id: uuid.UUID | None,
    viewer: uuid.UUID | None,
) -> list[repo.Found]:
    caps = [repo._caps_of(keys, names) for keys, names in persons]
    lookup = (
        repo._candidates_in_one_statement if one_statement else repo._candidates_in_two_statements
    )
    return await lookup(session, persons, caps, exclude_report_id, viewer)


async def test_one_statement_finds_what_two_statements_find(
    app: Any, client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    await create_agency(app, "IMIGRASI-DUMAI", kind=AgencyKind.IMMIGRATION)
    headers = bearer(await token_for(client, app, "IMIGRASI-DUMAI"))
    # Three women named alike, born the same year (their name keys are shared), two of them
    # one person by NIK; a fourth with a name of her own.
    people = [
        victim("Dewi Lestari", "2001-01-05", "3374014501010003"),
        victim("Dewi Lestari", "2001-01-05", "3374014501010003"),
        victim("Dewi Lestari", "2001-03-09", "3374014903010001"),
        victim("Sri Wahyuni", "1999-07-21"),
    ]
    report_ids = []
    for i, person in enumerate(people):
        answer = await client.post(
            "/v1/reports", json=deferral(external_ref=f"ONE-{i}", persons=[person]), headers=headers
        )
        assert answer.status_code == 201, answer.text
        report_ids.append(uuid.UUID(answer.json()["id"]))
    async with transaction(app.state.session_factory) as session:
        holders: dict[str, int] = {}
        for key in (await session.scalars(select(PersonKey.key))).all():
            holders[key] = holders.get(key, 0) + 1
        keys = sorted(holders)
        assert any(repo.is_weak_key(k) and n >= 2 for k, n in holders.items())
        assert any(repo.is_weak_key(k) and n == 1 for k, n in holders.items())
        # probes: every stored key at once, each weak key alone, and keys nobody holds, each
        # also counted as a name (as ``name_frequency_keys`` gives them)
        persons = [(keys, keys[:3]), (["nb:nobody|1900"], ["nobody"])]
        persons += [([k], [k]) for k in keys if repo.is_weak_key(k)]
        weak = [k for k in keys if repo.is_weak_key(k)]
        found_alone: dict[int, list[int]] = {}
        for limit in (0, 1, 2, 50):
            monkeypatch.setattr(repo, "WEAK_KEY_LIMIT", limit)
            for viewer in (None, uuid.uuid4()):
                for exclude in (None, report_ids[0]):
                    one = await _lookup(
                        session, persons, one_statement=True, exclude_report_id=exclude,
                        viewer=viewer,
                    )  # fmt: skip
                    two = await _lookup(
                        session, persons, one_statement=False, exclude_report_id=exclude,
                        viewer=viewer,
                    )  # fmt: skip
                    assert [(list(f.rows), f.name_counts) for f in one] == [
                        (list(f.rows), f.name_counts) for f in two
                    ], (limit, viewer, exclude)
                    if viewer is None and exclude is None:
                        found_alone[limit] = [len(f.rows) for f in one[2:]]
        # the rule bit: a weak key held by more persons than the limit found nobody
        for limit, found in found_alone.items():
            assert [n > 0 for n in found] == [holders[k] <= limit for k in weak], limit
