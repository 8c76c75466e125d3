"""Reports through the HTTP API: ingest, replays, corrections, retraction, need-to-know."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from app.main import create_app
from tests.conftest import make_settings
from tests.factories import bearer, create_agency, submit_report, token_for
from tests.report_samples import deferral, interception

NIK_SITI = "1472035403990002"  # Dumai (14.72.03), born 14-03-1999, female (54 = 14 + 40)


async def post(
    client: httpx.AsyncClient, headers: dict[str, str], body: dict[str, Any], **extra: str
) -> httpx.Response:
    return await client.post("/v1/reports", json=body, headers={**headers, **extra})


async def test_submit_returns_id_version_case_and_normalized_persons(
    client: httpx.AsyncClient, agencies: dict[str, dict[str, str]]
) -> None:
    response = await post(client, agencies["IMIGRASI-DUMAI"], deferral())
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["version"] == 1
    assert body["case_id"]
    assert response.headers["location"] == f"/v1/reports/{body['id']}"
    person = body["persons"][0]
    assert person["role"] == "POTENTIAL_VICTIM"
    assert person["entity_id"]
    assert person["normalized"]["nik"] == NIK_SITI
    assert person["normalized"]["phone"] == "+6281266123344"
    assert person["normalized"]["full_name"]
    assert body["warnings"] == []


async def test_nik_contradicting_the_stated_birth_date_is_a_warning(
    client: httpx.AsyncClient, agencies: dict[str, dict[str, str]]
) -> None:
    report = deferral()
    report["persons"][0]["date_of_birth"] = "1999-04-14"
    response = await post(client, agencies["IMIGRASI-DUMAI"], report)
    assert response.status_code == 201, response.text
    warnings = response.json()["warnings"]
    assert any(w["pointer"] == "/persons/0/nik" for w in warnings), warnings


async def test_same_ref_same_body_is_a_replay_and_different_body_a_conflict(
    client: httpx.AsyncClient, agencies: dict[str, dict[str, str]]
) -> None:
    first = await post(client, agencies["IMIGRASI-DUMAI"], deferral())
    again = await post(client, agencies["IMIGRASI-DUMAI"], deferral())
    assert again.status_code == 200
    assert again.json()["id"] == first.json()["id"]
    changed = await post(client, agencies["IMIGRASI-DUMAI"], deferral(narrative="other text"))
    assert changed.status_code == 409
    assert changed.json()["errors"][0]["pointer"] == "/external_ref"
    listed = await client.get("/v1/reports", headers=agencies["IMIGRASI-DUMAI"])
    assert len(listed.json()["items"]) == 1


async def test_idempotency_key_replays_and_refuses_another_body(
    client: httpx.AsyncClient, agencies: dict[str, dict[str, str]]
) -> None:
    key = {"Idempotency-Key": str(uuid.uuid4())}
    first = await post(client, agencies["IMIGRASI-DUMAI"], deferral(), **key)
    replay = await post(client, agencies["IMIGRASI-DUMAI"], deferral(), **key)
    assert first.status_code == 201
    assert replay.status_code == 201
    assert replay.json() == first.json()
    other = await post(client, agencies["IMIGRASI-DUMAI"], deferral(external_ref="X-2"), **key)
    assert other.status_code == 422
    assert other.json()["errors"][0]["location"] == "header"


async def test_need_to_know_across_three_agencies(
    client: httpx.AsyncClient, agencies: dict[str, dict[str, str]]
) -> None:
    created = await post(client, agencies["IMIGRASI-DUMAI"], deferral(recipients=["POLRES-DUMAI"]))
    assert created.status_code == 201, created.text
    report_id = created.json()["id"]
    assert created.json()["routed_to"] == [{"agency": "POLRES-DUMAI", "rule": "explicit"}]

    for code in ("IMIGRASI-DUMAI", "POLRES-DUMAI", "ADMIN"):
        read = await client.get(f"/v1/reports/{report_id}", headers=agencies[code])
        assert read.status_code == 200, (code, read.text)
        assert read.json()["source_agency"] == "IMIGRASI-DUMAI"
        assert read.headers["etag"] == '"1"'

    hidden = await client.get(f"/v1/reports/{report_id}", headers=agencies["LANAL-DUMAI"])
    missing = await client.get(f"/v1/reports/{uuid.uuid4()}", headers=agencies["LANAL-DUMAI"])
    assert hidden.status_code == missing.status_code == 404
    # nothing but the path each request named (``instance``) tells the two apart
    assert hidden.json().pop("instance") == f"/v1/reports/{report_id}"
    assert {**hidden.json(), "instance": None} == {**missing.json(), "instance": None}
    lanal_list = await client.get("/v1/reports", headers=agencies["LANAL-DUMAI"])
    assert lanal_list.json()["items"] == []
    polres_list = await client.get("/v1/reports", headers=agencies["POLRES-DUMAI"])
    assert [r["id"] for r in polres_list.json()["items"]] == [report_id]
    history = await client.get(f"/v1/reports/{report_id}/versions", headers=agencies["LANAL-DUMAI"])
    assert history.status_code == 404


async def test_correction_needs_if_match_and_keeps_history(
    client: httpx.AsyncClient, agencies: dict[str, dict[str, str]]
) -> None:
    imi = agencies["IMIGRASI-DUMAI"]
    created = (await post(client, imi, deferral(recipients=["POLRES-DUMAI"]))).json()
    url = f"/v1/reports/{created['id']}"
    corrected = deferral(recipients=["POLRES-DUMAI"], narrative="Koreksi: tujuan Kuala Lumpur.")

    assert (await client.put(url, json=corrected, headers=imi)).status_code == 428
    stale = await client.put(url, json=corrected, headers={**imi, "If-Match": '"7"'})
    assert stale.status_code == 412
    by_recipient = await client.put(
        url, json=corrected, headers={**agencies["POLRES-DUMAI"], "If-Match": '"1"'}
    )
    assert by_recipient.status_code == 403
    by_stranger = await client.put(
        url, json=corrected, headers={**agencies["LANAL-DUMAI"], "If-Match": '"1"'}
    )
    assert by_stranger.status_code == 404

    ok = await client.put(url, json=corrected, headers={**imi, "If-Match": '"1"'})
    assert ok.status_code == 200, ok.text
    assert ok.json()["version"] == 2
    assert ok.json()["narrative"] == "Koreksi: tujuan Kuala Lumpur."
    assert ok.headers["etag"] == '"2"'
    history = (await client.get(f"{url}/versions", headers=agencies["POLRES-DUMAI"])).json()
    assert [(v["version"], v["change"]) for v in history] == [(1, "created"), (2, "updated")]
    assert history[0]["body"]["narrative"] != history[1]["body"]["narrative"]

    moved_ref = deferral(external_ref="OTHER")
    refused = await client.put(url, json=moved_ref, headers={**imi, "If-Match": '"2"'})
    assert refused.status_code == 422
    assert refused.json()["errors"][0]["pointer"] == "/external_ref"


async def test_retraction_by_source_only(
    client: httpx.AsyncClient, agencies: dict[str, dict[str, str]]
) -> None:
    imi = agencies["IMIGRASI-DUMAI"]
    created = (await post(client, imi, deferral(recipients=["POLRES-DUMAI"]))).json()
    url = f"/v1/reports/{created['id']}/retract"
    reason = {"reason": "Pemohon ternyata memiliki kontrak kerja resmi."}
    assert (
        await client.post(url, json=reason, headers=agencies["POLRES-DUMAI"])
    ).status_code == 403
    assert (await client.post(url, json=reason, headers=agencies["LANAL-DUMAI"])).status_code == 404
    done = await client.post(url, json=reason, headers=imi)
    assert done.status_code == 200
    assert done.json()["status"] == "RETRACTED"
    assert done.json()["retraction_reason"] == reason["reason"]
    assert (await client.post(url, json={}, headers=imi)).status_code == 422


async def test_rejected_report_stores_nothing(
    client: httpx.AsyncClient, agencies: dict[str, dict[str, str]]
) -> None:
    bad = deferral(colour="red")
    bad["persons"][0]["nik"] = "12345"
    response = await post(client, agencies["IMIGRASI-DUMAI"], bad)
    assert response.status_code == 422
    pointers = {e["pointer"] for e in response.json()["errors"]}
    assert {"/colour", "/persons/0/nik"} <= pointers
    listed = await client.get("/v1/reports", headers=agencies["IMIGRASI-DUMAI"])
    assert listed.json()["items"] == []


async def test_injection_looking_text_is_stored_verbatim(
    client: httpx.AsyncClient, agencies: dict[str, dict[str, str]]
) -> None:
    text = "' OR 1=1-- <script>alert(1)</script> {{7*7}} ${jndi:ldap://x/a}"
    created = await post(client, agencies["IMIGRASI-DUMAI"], deferral(narrative=text))
    assert created.status_code == 201, created.text
    read = await client.get(
        f"/v1/reports/{created.json()['id']}", headers=agencies["IMIGRASI-DUMAI"]
    )
    assert read.json()["narrative"] == text


async def test_list_filters_and_cursor_pagination(
    client: httpx.AsyncClient, agencies: dict[str, dict[str, str]]
) -> None:
    imi = agencies["IMIGRASI-DUMAI"]
    for i in range(5):
        await post(client, imi, deferral(external_ref=f"D-{i}", persons=[]))
    await post(client, imi, interception(external_ref="I-0", persons=[]))
    await post(
        client, imi, deferral(external_ref="B-0", persons=[], location={"region_code": "21.71"})
    )

    seen: list[str] = []
    cursor: str | None = None
    while True:
        params = {"limit": 3, **({"cursor": cursor} if cursor else {})}
        page = (await client.get("/v1/reports", params=params, headers=imi)).json()
        seen += [r["external_ref"] for r in page["items"]]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert sorted(seen) == sorted(["D-0", "D-1", "D-2", "D-3", "D-4", "I-0", "B-0"])
    assert len(seen) == len(set(seen))

    tppm = (await client.get("/v1/reports", params={"case_type": "TPPO_TPPM"}, headers=imi)).json()
    assert [r["external_ref"] for r in tppm["items"]] == ["I-0"]
    riau = (await client.get("/v1/reports", params={"region_code": "14"}, headers=imi)).json()
    assert "B-0" not in {r["external_ref"] for r in riau["items"]}
    assert len(riau["items"]) == 6
    port = (
        await client.get("/v1/reports", params={"modus": "UNOFFICIAL_PORT"}, headers=imi)
    ).json()
    assert [r["external_ref"] for r in port["items"]] == ["I-0"]
    bad = await client.get("/v1/reports", params={"case_type": "NOPE"}, headers=imi)
    assert bad.status_code == 422
    assert bad.json()["errors"][0]["pointer"] == "/case_type"
    garbage = await client.get("/v1/reports", params={"cursor": "%%%"}, headers=imi)
    assert garbage.status_code == 400  # one answer for a foreign cursor, on every list
    assert garbage.json()["type"] == "urn:sinergi:problem:invalid-cursor"


async def test_reports_need_a_token(client: httpx.AsyncClient) -> None:
    response = await client.post("/v1/reports", json=deferral())
    assert response.status_code == 401
    assert response.headers["content-type"] == "application/problem+json"


async def inbox(client: httpx.AsyncClient, headers: dict[str, str]) -> list[dict[str, Any]]:
    response = await client.get("/v1/inbox", headers=headers)
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items


async def test_recipients_get_routed_updated_and_retracted_in_order(
    client: httpx.AsyncClient, agencies: dict[str, dict[str, str]]
) -> None:
    imi = agencies["IMIGRASI-DUMAI"]
    created = (await post(client, imi, deferral(recipients=["POLRES-DUMAI"]))).json()
    url = f"/v1/reports/{created['id']}"
    corrected = deferral(recipients=["POLRES-DUMAI"], narrative="Koreksi.")
    assert (
        await client.put(url, json=corrected, headers={**imi, "If-Match": '"1"'})
    ).status_code == 200
    assert (
        await client.post(f"{url}/retract", json={"reason": "keliru"}, headers=imi)
    ).status_code == 200

    items = await inbox(client, agencies["POLRES-DUMAI"])
    assert [(i["event"], i["sequence"]) for i in items] == [
        ("report.routed", 1),
        ("report.updated", 2),
        ("report.retracted", 3),
    ]
    assert items[0]["rule"] == "explicit"
    assert items[0]["payload"]["report"]["id"] == created["id"]
    assert items[1]["payload"]["report"]["narrative"] == "Koreksi."
    assert items[2]["payload"]["reason"] == "keliru"
    assert await inbox(client, imi) == []  # the source never receives its own report
    assert await inbox(client, agencies["LANAL-DUMAI"]) == []


async def test_holder_of_a_linked_case_is_told(
    client: httpx.AsyncClient, agencies: dict[str, dict[str, str]]
) -> None:
    first = (await post(client, agencies["IMIGRASI-DUMAI"], deferral())).json()
    second = (await post(client, agencies["LANAL-DUMAI"], interception())).json()
    assert second["case_id"] == first["case_id"]
    items = await inbox(client, agencies["IMIGRASI-DUMAI"])
    assert [i["event"] for i in items] == ["case.linked"]
    payload = items[0]["payload"]
    assert payload["case_id"] == first["case_id"]
    assert payload["your_reports"] == [first["id"]]
    assert payload["linked_by_agency"] == "LANAL-DUMAI"
    assert payload["report_id"] is None  # Immigration was not routed the Navy's report
    hidden = await client.get(f"/v1/reports/{second['id']}", headers=agencies["IMIGRASI-DUMAI"])
    assert hidden.status_code == 404


async def test_red_report_in_a_case_is_not_announced(
    client: httpx.AsyncClient, agencies: dict[str, dict[str, str]]
) -> None:
    await post(client, agencies["IMIGRASI-DUMAI"], deferral())
    red = interception(tlp="RED", recipients=["POLRES-DUMAI"])
    assert (await post(client, agencies["LANAL-DUMAI"], red)).status_code == 201
    assert await inbox(client, agencies["IMIGRASI-DUMAI"]) == []
    assert [i["event"] for i in await inbox(client, agencies["POLRES-DUMAI"])] == ["report.routed"]


async def test_unknown_deactivated_or_own_recipients_are_named_not_dropped(
    client: httpx.AsyncClient, agencies: dict[str, dict[str, str]]
) -> None:
    """A typo in a TLP:RED report's recipients must not leave it with nobody (issue 15)."""
    imi = agencies["IMIGRASI-DUMAI"]
    deactivated = await client.post(
        "/v1/admin/agencies/LANAL-DUMAI/deactivate", headers=agencies["ADMIN"]
    )
    assert deactivated.status_code == 200
    body = deferral(tlp="RED", recipients=["POLRES-DUMAl", "POLRES-DUMAI", "LANAL-DUMAI"])
    response = await post(client, imi, body)
    assert response.status_code == 422, response.text
    errors = {e["pointer"]: e for e in response.json()["errors"]}
    assert set(errors) == {"/recipients/0", "/recipients/2"}
    assert "POLRES-DUMAl" in errors["/recipients/0"]["detail"]
    own = await post(client, imi, deferral(tlp="RED", recipients=["IMIGRASI-DUMAI"]))
    assert own.status_code == 422
    assert [e["pointer"] for e in own.json()["errors"]] == ["/recipients/0"]
    listed = await client.get("/v1/reports", headers=imi)
    assert listed.json()["items"] == []

    created = await post(client, imi, deferral(tlp="RED", recipients=["POLRES-DUMAI"]))
    assert created.status_code == 201, created.text
    assert [r["agency"] for r in created.json()["routed_to"]] == ["POLRES-DUMAI"]
    url = f"/v1/reports/{created.json()['id']}"
    typo = deferral(tlp="RED", recipients=["POLRES-DUMAl"], narrative="Koreksi")
    corrected = await client.put(url, json=typo, headers={**imi, "If-Match": '"1"'})
    assert corrected.status_code == 422
    assert corrected.json()["errors"][0]["pointer"] == "/recipients/0"
    assert (await client.get(url, headers=imi)).json()["version"] == 1


async def test_a_replay_answers_the_stored_report_whatever_changed_since(
    client: httpx.AsyncClient, agencies: dict[str, dict[str, str]]
) -> None:
    """Its named recipient deactivated since, an exact replay is still 200 and another body 409."""
    imi = agencies["IMIGRASI-DUMAI"]
    body = deferral(tlp="RED", recipients=["LANAL-DUMAI"])
    first = await post(client, imi, body)
    assert first.status_code == 201, first.text
    deactivated = await client.post(
        "/v1/admin/agencies/LANAL-DUMAI/deactivate", headers=agencies["ADMIN"]
    )
    assert deactivated.status_code == 200
    again = await post(client, imi, body)
    assert again.status_code == 200, again.text
    assert again.json()["id"] == first.json()["id"]
    assert again.json()["routed_to"] == first.json()["routed_to"]
    changed = await post(client, imi, {**body, "narrative": "Koreksi tanpa PUT"})
    assert changed.status_code == 409, changed.text
    assert changed.json()["errors"][0]["pointer"] == "/external_ref"


@pytest.mark.parametrize(
    ("field", "value", "pointer"),
    [
        ("reported_at", "2099-01-01T00:00:00+07:00", "/reported_at"),
        ("occurred_to", "2099-01-01", "/occurred_to"),
        ("events", [{"type": "DEPARTURE", "date": "2099-01-01"}], "/events/0/date"),
    ],
)
async def test_times_far_in_the_future_are_refused(
    client: httpx.AsyncClient,
    agencies: dict[str, dict[str, str]],
    field: str,
    value: Any,
    pointer: str,
) -> None:
    imi = agencies["IMIGRASI-DUMAI"]
    response = await post(client, imi, deferral(**{field: value}))
    assert response.status_code == 422, response.text
    assert [e["pointer"] for e in response.json()["errors"]] == [pointer]
    assert response.json()["errors"][0]["code"] == "in_future"
    created = await post(client, imi, deferral())
    url = f"/v1/reports/{created.json()['id']}"
    corrected = await client.put(
        url, json=deferral(**{field: value}), headers={**imi, "If-Match": '"1"'}
    )
    assert corrected.status_code == 422
    assert [e["pointer"] for e in corrected.json()["errors"]] == [pointer]


@pytest.mark.parametrize(
    ("reported_at", "code"),
    [
        # Fuzzing found this one answered 500: held in UTC it falls in the year 0.
        ("0001-01-01T12:00:01+15:00", "datetime_out_of_range"),
        ("1899-12-31T23:59:59+00:00", "date_too_old"),
    ],
)
async def test_a_report_time_before_1900_is_refused_beside_its_field(
    client: httpx.AsyncClient, agencies: dict[str, dict[str, str]], reported_at: str, code: str
) -> None:
    imi = agencies["IMIGRASI-DUMAI"]
    response = await post(client, imi, deferral(reported_at=reported_at))
    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert [(e["pointer"], e["code"]) for e in response.json()["errors"]] == [
        ("/reported_at", code)
    ]
    listed = await client.get("/v1/reports", headers=imi)
    assert listed.json()["items"] == []


@pytest.mark.parametrize(
    ("path", "parameter"),
    [("/v1/reports", "updated_after"), ("/v1/admin/audit", "from"), ("/v1/admin/audit", "to")],
)
async def test_a_query_time_outside_utc_is_refused_beside_its_parameter(
    client: httpx.AsyncClient, agencies: dict[str, dict[str, str]], path: str, parameter: str
) -> None:
    headers = agencies["ADMIN"] if "admin" in path else agencies["IMIGRASI-DUMAI"]
    for value in ("0001-01-01T00:00:00+14:00", "9999-12-31T23:00:00-05:00"):
        response = await client.get(path, params={parameter: value}, headers=headers)
        assert response.status_code == 422, response.text
        assert [e["code"] for e in response.json()["errors"]] == ["datetime_out_of_range"]
        assert parameter in response.json()["errors"][0]["pointer"]


async def test_a_sender_clock_a_few_hours_ahead_is_tolerated(
    client: httpx.AsyncClient, agencies: dict[str, dict[str, str]]
) -> None:
    ahead = datetime.now(UTC) + timedelta(hours=20)
    body = deferral(reported_at=ahead.isoformat(), occurred_to=ahead.date().isoformat())
    response = await post(client, agencies["IMIGRASI-DUMAI"], body)
    assert response.status_code == 201, response.text


async def test_the_clock_skew_is_a_setting(database_url: str) -> None:
    app = create_app(make_settings(database_url, report_clock_skew_hours=0))
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://sinergi.test") as client:
        await create_agency(app, "IMIGRASI-DUMAI")
        imi = bearer(await token_for(client, app, "IMIGRASI-DUMAI"))
        ahead = datetime.now(UTC) + timedelta(hours=1)
        response = await post(client, imi, deferral(reported_at=ahead.isoformat()))
    await app.state.engine.dispose()
    assert response.status_code == 422
    assert response.json()["errors"][0]["pointer"] == "/reported_at"


async def test_the_routed_report_is_the_report_as_stored(
    client: httpx.AsyncClient, agencies: dict[str, dict[str, str]]
) -> None:
    """What a recipient is sent (``report.routed``) is the report as it reads it afterwards, its
    ``updated_at`` included: storing the report's case does not move it after the fact."""
    created = await submit_report(
        client, agencies["IMIGRASI-DUMAI"], deferral(recipients=["POLRES-DUMAI"])
    )
    inbox = (await client.get("/v1/inbox", headers=agencies["POLRES-DUMAI"])).json()
    [routed] = [i for i in inbox["items"] if i["event"] == "report.routed"]
    read = await client.get(f"/v1/reports/{created['id']}", headers=agencies["POLRES-DUMAI"])
    assert read.status_code == 200
    assert routed["payload"]["report"] == read.json()
