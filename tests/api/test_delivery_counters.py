"""Every agency has its delivery counter from registration,
so ingest never creates one under locks."""

from __future__ import annotations

from typing import Any

import httpx
from sqlalchemy import select

from app.db import transaction
from app.models.delivery import DeliverySequence
from tests.factories import bearer, create_admin, token_for


async def test_an_agency_registered_through_the_api_starts_with_its_counter(
    app: Any, client: httpx.AsyncClient
) -> None:
    await create_admin(app)
    admin = bearer(await token_for(client, app, "ADMIN"))
    created = await client.post(
        "/v1/admin/agencies",
        json={"code": "KSOP-DUMAI", "name": "KSOP Dumai", "kind": "PORT_AUTHORITY"},
        headers=admin,
    )
    assert created.status_code == 201, created.text
    async with transaction(app.state.session_factory) as session:
        counters = (await session.execute(select(DeliverySequence))).scalars().all()
    assert sorted(c.last_sequence for c in counters) == [0, 0]  # ADMIN's and KSOP-DUMAI's
