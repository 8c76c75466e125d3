"""Resolution never answers from reports the sender may not see (DESIGN §5, docs/need-to-know.md).

Agency LANAL files a RED (or AMBER_STRICT) report naming a woman, for POLRES only. Immigration
then files its own GREEN report naming her. What Immigration is told (entity, case, score,
reasons), what its screening answers, and what the watcher BP3MI hears must be exactly what
they would be on a database without the hidden report; the hidden report's holders and the
analysts still see that the two records probably name one person.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest

from app.models.agency import AgencyKind
from tests.factories import bearer, create_admin, create_agency, token_for
from tests.report_samples import deferral, interception, victim

SOURCE, RECIPIENT, SENDER, WATCHER = "LANAL-DUMAI", "POLRES-DUMAI", "IMIGRASI-DUMAI", "BP3MI-DUMAI"

HIDDEN_PERSON = victim("Rina Marlina", "2001-12-30", "3201017012010002", phone="0812-1111-2222")

#: What Immigration sends: the same NIK with another birth date and phone, or the name alone.
SENT: dict[str, dict[str, Any]] = {
    "identifier": victim("Rina Marlina", "2001-12-03", "3201017012010002", phone="0813-9999-8888"),
    "name_only": victim("Rina Marlina", "2001-12-30"),
}
WATCHED: dict[str, dict[str, Any]] = {
    "identifier": {"full_name": "Rina Marlina", "nik": "3201017012010002"},
    "name_only": {"full_name": "Rina Marlina", "date_of_birth": "2001-12-30"},
}


@dataclass
class World:
    """What each agency saw, in a world with or without the hidden report."""

    created: dict[str, Any]
    screened: dict[str, Any]
    screened_after: dict[str, Any]
    deliveries: dict[str, list[dict[str, Any]]]
    own_case: dict[str, Any]
    network: dict[str, Any]
    hidden: dict[str, Any] | None = None
    seen: dict[str, Any] = field(default_factory=dict)


async def _inbox(client: httpx.AsyncClient, headers: dict[str, str]) -> list[dict[str, Any]]:
    response = await client.get("/v1/inbox", headers=headers)
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items


async def _post(
    client: httpx.AsyncClient, url: str, body: dict[str, Any], headers: dict[str, str]
) -> dict[str, Any]:
    response = await client.post(url, json=body, headers=headers)
    assert response.status_code in (200, 201), response.text
    answer: dict[str, Any] = response.json()
    return answer


async def _play(app: Any, *, hidden_tlp: str | None, match: str) -> World:
    """The story, with a hidden report first (``hidden_tlp``) or without one."""
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://sinergi.test") as client:
        await create_admin(app)
        for code, kind in (
            (SOURCE, AgencyKind.NAVY),
            (RECIPIENT, AgencyKind.POLICE),
            (SENDER, AgencyKind.IMMIGRATION),
            (WATCHER, AgencyKind.MIGRANT_WORKER_PROTECTION),
        ):
            await create_agency(app, code, kind=kind)
        headers = {
            code: bearer(await token_for(client, app, code))
            for code in ("ADMIN", SOURCE, RECIPIENT, SENDER, WATCHER)
        }
        await _post(client, "/v1/watches", {"person": WATCHED[match]}, headers[WATCHER])
        hidden = None
        if hidden_tlp is not None:
            hidden = await _post(
                client,
                "/v1/reports",
                interception(
                    external_ref="LANAL-HIDDEN-1",
                    tlp=hidden_tlp,
                    recipients=[RECIPIENT],
                    persons=[HIDDEN_PERSON],
                ),
                headers[SOURCE],
            )
        query = {"persons": [WATCHED[match]]}
        screened = await _post(client, "/v1/screenings", query, headers[SENDER])
        before = {code: len(await _inbox(client, h)) for code, h in headers.items()}
        created = await _post(
            client, "/v1/reports", deferral(tlp="GREEN", persons=[SENT[match]]), headers[SENDER]
        )
        deliveries = {
            code: (await _inbox(client, h))[before[code] :] for code, h in headers.items()
        }
        screened_after = await _post(client, "/v1/screenings", query, headers[SENDER])
        own_case = await client.get(f"/v1/cases/{created['case_id']}", headers=headers[SENDER])
        entity = created["persons"][0]["entity_id"]
        network = await client.get(f"/v1/persons/{entity}/network", headers=headers[SENDER])
        world = World(
            created=created,
            screened=screened,
            screened_after=screened_after,
            deliveries=deliveries,
            own_case=own_case.json(),
            network=network.json(),
            hidden=hidden,
        )
        if hidden is not None:
            hidden_case = f"/v1/cases/{hidden['case_id']}"
            for code in ("ADMIN", SOURCE, RECIPIENT, SENDER):
                world.seen[code] = await client.get(hidden_case, headers=headers[code])
            matches = await client.get("/v1/admin/possible-matches", headers=headers["ADMIN"])
            world.seen["possible-matches"] = matches.json()["items"]
        return world


def _without_generated(world: World) -> str:
    """The sender's and watcher's view as text, each generated id replaced by a stable name."""
    text = json.dumps(
        {
            "created": world.created,
            "screened": world.screened,
            "screened_after": world.screened_after,
            "deliveries": world.deliveries,
            "own_case": world.own_case,
            "network": world.network,
        },
        sort_keys=True,
    )
    names: dict[str, str] = {}
    for key in ("id", "case_id"):
        names[world.created[key]] = f"<{key}>"
    for person in world.created["persons"]:
        names[person["entity_id"]] = f"<entity {person['index']}>"
    for items in world.deliveries.values():
        for item in items:
            names[item["id"]] = "<delivery>"
            if "watch_id" in item["payload"]:
                names[item["payload"]["watch_id"]] = "<watch>"
    for value, name in names.items():
        text = text.replace(value, name)
    for stamp in (world.own_case["created_at"], world.own_case["updated_at"]):
        text = text.replace(stamp, "<time>")
    for items in world.deliveries.values():
        for item in items:
            text = text.replace(item["created_at"], "<time>")
    return text


@pytest.mark.parametrize("hidden_tlp", ["RED", "AMBER_STRICT"])
@pytest.mark.parametrize("match", ["identifier", "name_only"])
async def test_the_sender_is_answered_as_on_a_database_without_the_hidden_report(
    fresh_app: Any, hidden_tlp: str, match: str
) -> None:
    async with fresh_app("without") as app:
        without = await _play(app, hidden_tlp=None, match=match)
    async with fresh_app("with") as app:
        with_hidden = await _play(app, hidden_tlp=hidden_tlp, match=match)

    assert with_hidden.hidden is not None
    hidden_entity = with_hidden.hidden["persons"][0]["entity_id"]
    hidden_case = with_hidden.hidden["case_id"]
    sender_view = _without_generated(with_hidden)
    assert hidden_entity not in sender_view
    assert hidden_case not in sender_view
    assert with_hidden.hidden["id"] not in sender_view
    # Byte for byte what it would be without the hidden report, generated ids aside: no score or
    # reasons from the hidden person, a case of its own, no case.linked, the same watch.hit.
    assert sender_view == _without_generated(without)
    assert with_hidden.created["persons"][0]["score"] is None
    assert with_hidden.created["persons"][0]["reasons"] == ["no stored person matched"]
    assert not with_hidden.deliveries[SOURCE]
    assert not with_hidden.deliveries[RECIPIENT]
    [watch_hit] = with_hidden.deliveries[WATCHER]
    assert watch_hit["event"] == "watch.hit"

    # The holders of the hidden report and the analysts still see the probable link.
    assert with_hidden.seen[SENDER].status_code == 404
    for holder in (SOURCE, RECIPIENT, "ADMIN"):
        case = with_hidden.seen[holder]
        assert case.status_code == 200, case.text
        [outside] = case.json()["restricted_matches"]
        assert outside["held_by"] == SENDER
        assert outside["via_entity_id"] == hidden_entity
        assert outside["score"] > 0
        # Immigration's report is GREEN but not routed to them: acknowledged, not shown.
        assert outside["report_id"] == (with_hidden.created["id"] if holder == "ADMIN" else None)
    [pair] = [m for m in with_hidden.seen["possible-matches"] if m["restricted"]]
    assert pair["report_id"] == with_hidden.created["id"]
    assert pair["candidate_entity_id"] == hidden_entity
    assert pair["status"] == "open"
    # Analysts learn that the link exists, not the hidden report's values the reasons compared.
    assert pair["reasons"]
    assert not [reason for reason in pair["reasons"] if " (" in reason]
    if match == "identifier":
        assert "2001-12-30" not in json.dumps(pair)


async def test_a_holder_of_the_hidden_report_is_still_answered_with_the_link(
    app: Any, client: httpx.AsyncClient
) -> None:
    await create_agency(app, SOURCE, kind=AgencyKind.NAVY)
    await create_agency(app, RECIPIENT, kind=AgencyKind.POLICE)
    source = bearer(await token_for(client, app, SOURCE))
    recipient = bearer(await token_for(client, app, RECIPIENT))
    hidden = await _post(
        client,
        "/v1/reports",
        interception(
            external_ref="LANAL-HIDDEN-1",
            tlp="RED",
            recipients=[RECIPIENT],
            persons=[HIDDEN_PERSON],
        ),
        source,
    )
    # POLRES may read the RED report: its own report joins the person and the case.
    own = await _post(
        client,
        "/v1/reports",
        deferral(external_ref="POLRES-1", tlp="GREEN", persons=[SENT["identifier"]]),
        recipient,
    )
    assert own["persons"][0]["entity_id"] == hidden["persons"][0]["entity_id"]
    assert own["case_id"] == hidden["case_id"]
    assert any("NIK" in reason for reason in own["persons"][0]["reasons"])


async def test_screening_never_scores_a_visible_report_with_a_hidden_ones_values(
    app: Any, client: httpx.AsyncClient
) -> None:
    for code in (SOURCE, RECIPIENT, SENDER):
        await create_agency(app, code)
    headers = {
        code: bearer(await token_for(client, app, code)) for code in (SOURCE, RECIPIENT, SENDER)
    }
    hidden = await _post(
        client,
        "/v1/reports",
        interception(
            external_ref="LANAL-HIDDEN-1",
            tlp="RED",
            recipients=[RECIPIENT],
            persons=[HIDDEN_PERSON],
        ),
        headers[SOURCE],
    )
    # POLRES, who may read the RED report, files a GREEN one: same woman, by name and NIK only.
    without_phone = {k: v for k, v in HIDDEN_PERSON.items() if k not in ("phone", "date_of_birth")}
    green = await _post(
        client,
        "/v1/reports",
        deferral(external_ref="POLRES-1", tlp="GREEN", persons=[without_phone]),
        headers[RECIPIENT],
    )
    assert green["persons"][0]["entity_id"] == hidden["persons"][0]["entity_id"]

    # Only the RED report holds her phone (her birth date the GREEN one's NIK encodes):
    # screening by name and phone must not answer "contact POLRES, phone equal".
    by_phone = {
        "persons": [{"full_name": HIDDEN_PERSON["full_name"], "phone": HIDDEN_PERSON["phone"]}]
    }
    outsider = await _post(client, "/v1/screenings", by_phone, headers[SENDER])
    # What the GREEN report holds (her name) is all the answer rests on.
    [seen] = outsider["results"][0]["hits"]
    assert (seen["match"], seen["contact_agency"], seen["reasons"]) == (
        "REVIEW",
        RECIPIENT,
        ["name equal"],
    )
    assert not outsider["results"][0]["hit"]
    holder = await _post(client, "/v1/screenings", by_phone, headers[RECIPIENT])
    assert holder["results"][0]["hits"], holder
    # Screening by what the GREEN report holds still finds it.
    by_nik = {"persons": [{"nik": HIDDEN_PERSON["nik"]}]}
    [hit] = (await _post(client, "/v1/screenings", by_nik, headers[SENDER]))["results"][0]["hits"]
    assert hit["contact_agency"] == RECIPIENT


async def test_a_correction_naming_the_hidden_person_is_resolved_as_new_too(
    app: Any, client: httpx.AsyncClient
) -> None:
    await create_admin(app)
    for code in (SOURCE, RECIPIENT, SENDER):
        await create_agency(app, code)
    headers = {
        code: bearer(await token_for(client, app, code))
        for code in ("ADMIN", SOURCE, RECIPIENT, SENDER)
    }
    hidden = await _post(
        client,
        "/v1/reports",
        interception(
            external_ref="LANAL-HIDDEN-1",
            tlp="AMBER_STRICT",
            recipients=[RECIPIENT],
            persons=[HIDDEN_PERSON],
        ),
        headers[SOURCE],
    )
    created = await _post(
        client,
        "/v1/reports",
        deferral(tlp="GREEN", persons=[victim("Dewi Lestari", "2000-01-05")]),
        headers[SENDER],
    )
    corrected = await client.put(
        f"/v1/reports/{created['id']}",
        json=deferral(tlp="GREEN", persons=[SENT["identifier"]]),
        headers={**headers[SENDER], "If-Match": '"1"'},
    )
    assert corrected.status_code == 200, corrected.text
    case = await client.get(f"/v1/cases/{created['case_id']}", headers=headers[SENDER])
    assert case.status_code == 200, case.text
    assert [r["report_id"] for r in case.json()["reports"]] == [created["id"]]
    assert hidden["case_id"] != created["case_id"]
    assert case.json()["links"] == [
        {
            "report_id": created["id"],
            "linked_report_id": None,
            "kind": "opened",
            "via_entity_id": None,
            "score": None,
            "reasons": ["no shared victim"],
        }
    ]
    # The holders see the corrected report as a probable match of their person.
    seen = await client.get(f"/v1/cases/{hidden['case_id']}", headers=headers[RECIPIENT])
    [outside] = seen.json()["restricted_matches"]
    assert outside["via_entity_id"] == hidden["persons"][0]["entity_id"]


@pytest.mark.parametrize("corrected_tlp", ["GREEN", "RED"])
async def test_a_report_corrected_to_red_hides_its_person_from_then_on(
    app: Any, client: httpx.AsyncClient, corrected_tlp: str
) -> None:
    """Resolution reads the TLP from its copy on the report's persons: a correction that makes
    the report RED hides its person from the next sender as if it had been RED all along."""
    for code in (SOURCE, RECIPIENT, SENDER):
        await create_agency(app, code)
    headers = {code: bearer(await token_for(client, app, code)) for code in (SOURCE, SENDER)}
    body = {"external_ref": "LANAL-1", "recipients": [RECIPIENT], "persons": [HIDDEN_PERSON]}
    stored = await _post(client, "/v1/reports", interception(tlp="GREEN", **body), headers[SOURCE])
    corrected = await client.put(
        f"/v1/reports/{stored['id']}",
        json=interception(tlp=corrected_tlp, destination_countries=["SGP"], **body),
        headers={**headers[SOURCE], "If-Match": '"1"'},
    )
    assert corrected.status_code == 200, corrected.text
    held = corrected.json()["persons"][0]["entity_id"]
    sent = await _post(
        client, "/v1/reports", deferral(tlp="GREEN", persons=[SENT["identifier"]]), headers[SENDER]
    )
    [person] = sent["persons"]
    if corrected_tlp == "GREEN":
        assert person["entity_id"] == held
        assert sent["case_id"] == stored["case_id"]
    else:
        assert person["entity_id"] != held
        assert sent["case_id"] != stored["case_id"]
        assert person["score"] is None
        assert person["reasons"] == ["no stored person matched"]
