"""Request values must have the JSON type the spec states (found by schemathesis, ST201)."""

from __future__ import annotations

from typing import Any

import httpx

from tests.factories import bearer, create_admin, token_for


async def test_json_types_are_not_coerced(client: httpx.AsyncClient, app: Any) -> None:
    """`0` is not `false`, `"3"` is not a position, and `0.5` is not a date-time."""
    await create_admin(app)
    admin = bearer(await token_for(client, app, "ADMIN"))
    for field, value in (("foreign_nationals", 0), ("position", "3"), ("active", "yes")):
        rule = {"name": "coerced", "recipients": ["ADMIN"], field: value}
        refused = await client.post("/v1/admin/routing-rules", json=rule, headers=admin)
        assert refused.status_code == 422, (field, refused.text)
        assert refused.json()["errors"][0]["pointer"] == f"/{field}"
    numeric_time = await client.get("/v1/admin/audit", params={"to": "0.5"}, headers=admin)
    assert numeric_time.status_code == 422
    iso_time = await client.get(
        "/v1/admin/audit", params={"to": "2030-01-01T00:00:00+07:00"}, headers=admin
    )
    assert iso_time.status_code == 200
