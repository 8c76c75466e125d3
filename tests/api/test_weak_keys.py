"""A common name without birth data stops bringing candidates once its weak key is crowded."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from app.models.agency import AgencyKind
from app.repositories import resolution as resolution_repo
from tests.factories import bearer, create_agency, token_for
from tests.report_samples import deferral


async def test_a_crowded_weak_key_is_skipped_by_the_store(
    app: Any, client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(resolution_repo, "WEAK_KEY_LIMIT", 2)
    await create_agency(app, "IMIGRASI-DUMAI", kind=AgencyKind.IMMIGRATION)
    headers = bearer(await token_for(client, app, "IMIGRASI-DUMAI"))
    reasons = []
    for i in range(4):
        person = {"role": "WITNESS", "full_name": "Tumini", "sex": "FEMALE"}
        body = deferral(external_ref=f"W-{i}", persons=[person])
        response = await client.post("/v1/reports", json=body, headers=headers)
        assert response.status_code == 201, response.text
        reasons.append(response.json()["persons"][0]["reasons"])
    # The second and third meet the earlier ones through the name key; the fourth finds it
    # holding more than the limit and does not read it at all.
    assert reasons[1] != ["no stored person matched"]
    assert reasons[2] != ["no stored person matched"]
    assert reasons[3] == ["no stored person matched"]
