"""The hash chain: appends link each event to the previous one; verify names the first event
that was edited, deleted or moved; the retention purge leaves a checkpoint that keeps it valid."""

from __future__ import annotations

import asyncio
import dataclasses
import itertools
import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from typer.testing import CliRunner

from app.db import create_engine, create_session_factory, transaction
from app.models.audit import GENESIS_HASH, AuditEvent
from app.services import audit, retention
from app.services.audit import Anchor, AuditEventIn, Outcome, record_event, verify_chain
from tests.conftest import ON_POSTGRES, invoke_cli, make_settings


@pytest.fixture
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(make_settings(database_url))
    yield engine
    await engine.dispose()


@pytest.fixture
def sessions(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return create_session_factory(engine)


def _event(i: int, **changes: object) -> AuditEventIn:
    values: dict[str, object] = {
        "action": "report.read",
        "outcome": Outcome.SUCCESS,
        "actor_agency_code": "IMIGRASI-DUMAI",
        "object_type": "report",
        "object_ids": (f"00000000-0000-0000-0000-{i:012d}",),
        "http_status": 200,
        "request_id": f"req-{i}",
    }
    values.update(changes)
    return AuditEventIn(**values)  # type: ignore[arg-type]


async def _append(sessions: async_sessionmaker[AsyncSession], *events: AuditEventIn) -> None:
    async with transaction(sessions) as session:
        for event in events:
            await record_event(session, event)


async def _verify(
    sessions: async_sessionmaker[AsyncSession], anchors: tuple[Anchor, ...] = ()
) -> audit.VerifyResult:
    async with sessions() as session:
        return await verify_chain(session, anchors)


async def _tamper(sessions: async_sessionmaker[AsyncSession], *statements: str) -> None:
    """Change the table behind the service's back (on PostgreSQL, past the trigger,
    as a DBA could)."""
    async with transaction(sessions) as session:
        if ON_POSTGRES:
            await session.execute(text("SET LOCAL session_replication_role = replica"))
        for statement in statements:
            await session.execute(text(statement))


async def _rows(sessions: async_sessionmaker[AsyncSession]) -> list[AuditEvent]:
    async with sessions() as session:
        from sqlalchemy import select

        return list((await session.execute(select(AuditEvent).order_by(AuditEvent.seq))).scalars())


async def test_empty_chain_verifies(sessions: async_sessionmaker[AsyncSession]) -> None:
    result = await _verify(sessions)
    assert (result.ok, result.events_checked, result.head_seq) == (True, 0, None)


async def test_each_event_links_to_the_previous_one(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    await _append(sessions, *(_event(i) for i in range(1, 6)))
    rows = await _rows(sessions)
    assert [r.seq for r in rows] == [1, 2, 3, 4, 5]
    assert rows[0].prev_hash == GENESIS_HASH
    assert all(b.prev_hash == a.hash for a, b in itertools.pairwise(rows))
    assert len({r.hash for r in rows}) == 5
    result = await _verify(sessions)
    assert result.ok
    assert (result.events_checked, result.head_seq, result.head_hash) == (5, 5, rows[-1].hash)


async def test_the_hash_covers_every_field_and_the_previous_hash(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    await _append(sessions, _event(1))
    [row] = await _rows(sessions)
    original = audit.event_hash(row)
    assert original == row.hash
    for name, value in [
        ("action", "report.update"),
        ("outcome", "denied"),
        ("actor_agency_code", "POLRES-DUMAI"),
        ("object_ids", ["other"]),
        ("http_status", 404),
        ("occurred_at", row.occurred_at + timedelta(microseconds=1)),
        ("prev_hash", "f" * 64),
        ("detail", {"k": "v"}),
        ("seq", 2),
    ]:
        saved = getattr(row, name)
        setattr(row, name, value)
        assert audit.event_hash(row) != original, name
        setattr(row, name, saved)


#: (what a tamperer does, the event verify must name, a word of its explanation)
TAMPERINGS = {
    "edit-action": (
        ["UPDATE audit_events SET action = 'report.list' WHERE seq = 3"],
        3,
        "contents",
    ),
    "edit-actor": (
        ["UPDATE audit_events SET actor_agency_code = 'POLRES-DUMAI' WHERE seq = 2"],
        2,
        "contents",
    ),
    "delete-middle": (["DELETE FROM audit_events WHERE seq = 3"], 3, "missing"),
    "delete-first": (["DELETE FROM audit_events WHERE seq = 1"], 1, "missing"),
    # reorder: events 2 and 3 exchange places (every column but seq)
    "reorder": (
        [
            "UPDATE audit_events SET seq = 100 WHERE seq = 2",
            "UPDATE audit_events SET seq = 2 WHERE seq = 3",
            "UPDATE audit_events SET seq = 3 WHERE seq = 100",
        ],
        2,
        "",
    ),
}


async def test_verify_names_the_first_broken_event(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    for name, (statements, broken_seq, problem) in TAMPERINGS.items():
        await _tamper(sessions, "DELETE FROM audit_events")
        await _append(sessions, *(_event(i) for i in range(1, 6)))
        assert (await _verify(sessions)).ok
        await _tamper(sessions, *statements)
        result = await _verify(sessions)
        assert not result.ok, name
        assert result.broken_seq == broken_seq, (name, result)
        assert problem in (result.problem or ""), (name, result)


async def test_an_edit_with_a_recomputed_hash_breaks_the_next_link(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    await _append(sessions, *(_event(i) for i in range(1, 6)))
    rows = await _rows(sessions)
    forged = rows[2]
    forged.action = "report.list"
    new_hash = audit.event_hash(forged)
    await _tamper(
        sessions,
        f"UPDATE audit_events SET action = 'report.list', hash = '{new_hash}' WHERE seq = 3",  # noqa: S608
    )
    result = await _verify(sessions)
    assert (result.ok, result.broken_seq) == (False, 4)
    assert "prev_hash" in (result.problem or "")


async def test_verify_walks_in_batches(
    sessions: async_sessionmaker[AsyncSession], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(audit, "VERIFY_BATCH", 2)
    await _append(sessions, *(_event(i) for i in range(1, 8)))
    assert (await _verify(sessions)).events_checked == 7
    await _tamper(sessions, "DELETE FROM audit_events WHERE seq = 5")
    result = await _verify(sessions)
    assert (result.ok, result.broken_seq) == (False, 5)


async def test_an_anchor_catches_a_trimmed_head(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    await _append(sessions, *(_event(i) for i in range(1, 5)))
    async with sessions() as session:
        head = await audit.chain_head(session)
    assert head is not None
    anchor = Anchor.parse(f"{head.seq}:{head.hash}")
    assert (await _verify(sessions, (anchor,))).ok
    await _tamper(sessions, f"DELETE FROM audit_events WHERE seq = {head.seq}")  # noqa: S608
    assert (await _verify(sessions)).ok  # without the anchor a trimmed head is invisible
    result = await _verify(sessions, (anchor,))
    assert (result.ok, result.broken_seq) == (False, head.seq)


async def test_concurrent_appends_never_fork_the_chain(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    await asyncio.gather(*(_append(sessions, _event(i)) for i in range(1, 21)))
    rows = await _rows(sessions)
    assert [r.seq for r in rows] == list(range(1, 21))
    assert (await _verify(sessions)).ok


async def test_credential_event_outside_a_request_is_appended_at_once(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    async with transaction(sessions) as session:
        await audit.record_credential_event(
            session,
            action="key.rotate",
            agency_code="IMIGRASI-DUMAI",
            credential_id="key-1",
            outcome="success",
            detail={"grace_hours": "24"},
        )
    [row] = await _rows(sessions)
    assert (row.action, row.actor_agency_code, row.credential_id, row.outcome) == (
        "key.rotate",
        "IMIGRASI-DUMAI",
        "key-1",
        "success",
    )
    assert row.detail == {"grace_hours": "24"}


async def test_purge_leaves_a_checkpoint_that_verifies(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    now = datetime.now(UTC)
    old = [_event(i, occurred_at=now - timedelta(days=400 - i)) for i in range(1, 4)]
    await _append(sessions, *old, *(_event(i) for i in range(4, 7)))
    rows = await _rows(sessions)
    async with transaction(sessions) as session:
        removed = await audit.purge_events_before(session, now - timedelta(days=300))
    assert removed == 3
    after = await _rows(sessions)
    assert [r.seq for r in after] == [4, 5, 6, 7]
    checkpoint = after[-1]
    assert checkpoint.action == audit.CHECKPOINT_ACTION
    assert checkpoint.detail["purged_through_seq"] == "3"
    assert checkpoint.detail["purged_through_hash"] == rows[2].hash
    result = await _verify(sessions)
    assert (result.ok, result.first_seq, result.events_checked) == (True, 4, 4)
    # deleting right after the purged prefix is still caught
    await _tamper(sessions, "DELETE FROM audit_events WHERE seq = 4")
    result = await _verify(sessions)
    assert (result.ok, result.broken_seq) == (False, 4)


async def test_purge_of_everything_keeps_the_head_and_continues_the_chain(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    past = datetime.now(UTC) - timedelta(days=10)
    await _append(sessions, *(_event(i, occurred_at=past) for i in range(1, 4)))
    async with transaction(sessions) as session:
        assert await audit.purge_events_before(session, datetime.now(UTC)) == 2
    await _append(sessions, _event(9))
    rows = await _rows(sessions)
    assert [r.seq for r in rows] == [3, 4, 5]
    assert rows[1].detail["purged_through_seq"] == "2"
    assert (await _verify(sessions)).ok


async def test_retention_runs_registered_purgers_and_audits_them(
    sessions: async_sessionmaker[AsyncSession], database_url: str
) -> None:
    seen: list[datetime] = []

    async def purge_test_persons(session: AsyncSession, cutoff: datetime) -> retention.Purged:
        seen.append(cutoff)
        return retention.Purged(
            object_type="report", object_ids=["r-1", "r-2"], detail={"persons": "5"}
        )

    retention.register_purger("test-persons", purge_test_persons)
    try:
        now = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
        settings = make_settings(database_url, retention_person_data_days=30)
        async with transaction(sessions) as session:
            run = await retention.run_retention(session, settings, now=now)
    finally:
        retention.unregister_purger("test-persons")
    assert seen == [now - timedelta(days=30)]
    assert run.purged["test-persons"].object_ids == ["r-1", "r-2"]
    # the reports' own purger runs too (and finds nothing); this test looks at its own purger
    [event] = [r for r in await _rows(sessions) if r.detail.get("purger") == "test-persons"]
    assert (event.action, event.object_type, event.object_ids) == (
        "retention.purge",
        "report",
        ["r-1", "r-2"],
    )
    assert event.detail["purger"] == "test-persons"
    assert event.detail["persons"] == "5"
    assert event.detail["count"] == "2"
    assert "test-persons" not in retention.registered_purgers()


async def test_retention_trims_the_audit_trail_when_configured(
    sessions: async_sessionmaker[AsyncSession], database_url: str
) -> None:
    now = datetime.now(UTC)
    await _append(sessions, _event(1, occurred_at=now - timedelta(days=100)), _event(2))
    settings = make_settings(database_url, audit_retention_days=90)
    async with transaction(sessions) as session:
        run = await retention.run_retention(session, settings, now=now)
    assert run.audit_events_removed == 1
    remaining = [r.action for r in await _rows(sessions) if r.action != "retention.purge"]
    assert remaining == ["report.read", audit.CHECKPOINT_ACTION]
    assert (await _verify(sessions)).ok


async def test_cli_verify_anchor_export(
    cli_runner: CliRunner, sessions: async_sessionmaker[AsyncSession], tmp_path: Path
) -> None:
    await _append(sessions, *(_event(i) for i in range(1, 4)))
    anchored = await invoke_cli(cli_runner, "audit", "anchor")
    assert anchored.exit_code == 0, anchored.output
    seq, _, digest = anchored.stdout.strip().partition(":")
    assert seq == "3"
    assert len(digest) == 64

    verified = await invoke_cli(cli_runner, "audit", "verify", "--anchor", anchored.stdout.strip())
    assert verified.exit_code == 0, verified.output
    assert "ok: 3 events" in verified.stdout

    out = tmp_path / "audit.jsonl"
    exported = await invoke_cli(cli_runner, "audit", "export", "--out", str(out))
    assert exported.exit_code == 0, exported.output
    lines = [json.loads(line) for line in out.read_text().splitlines()]
    assert [line["seq"] for line in lines] == [1, 2, 3]
    assert lines[-1]["hash"] == digest
    assert lines[1]["prev_hash"] == lines[0]["hash"]

    await _tamper(sessions, "UPDATE audit_events SET http_status = 500 WHERE seq = 2")
    broken = await invoke_cli(cli_runner, "audit", "verify")
    assert broken.exit_code == 1
    assert "BROKEN at event 2" in broken.output


async def test_cli_retention_run(
    cli_runner: CliRunner, sessions: async_sessionmaker[AsyncSession]
) -> None:
    async def purge_nothing(session: AsyncSession, cutoff: datetime) -> retention.Purged:
        return retention.Purged(object_type="report")

    retention.register_purger("cli-test", purge_nothing)
    try:
        result = await invoke_cli(cli_runner, "retention", "run")
    finally:
        retention.unregister_purger("cli-test")
    assert result.exit_code == 0, result.output
    assert "cli-test: purged 0 report" in result.stdout
    rows = await _rows(sessions)
    purgers = [(r.action, r.detail["purger"]) for r in rows]
    assert ("retention.purge", "cli-test") in purgers
    assert ("retention.purge", "reports.person_data") in purgers


def test_the_canonical_form_is_the_event_as_sorted_compact_json() -> None:
    """The form PostgreSQL's commit trigger splices ``prev_hash`` and ``seq`` into is the very
    JSON document the hash was always computed over, whatever the fields hold."""
    event = AuditEvent(
        seq=123_456,
        occurred_at=datetime(2026, 11, 28, 12, 0, 0, 123_456, tzinfo=UTC),
        actor_agency_id=None,
        actor_agency_code="POLRES-DUMAI",
        credential_id='key "one", seq:1',
        token_id=None,
        action="report.read",
        object_type="report",
        object_ids=["a", '"prev_hash":"x"', "\u0000"],
        outcome="success",
        http_status=200,
        request_id="req-1",
        client_address="10.0.0.1",
        user_agent='curl/8 "seq":1 \\ é 日本',
        detail={"z": "1", "a": "\n", "seq": "2"},
        prev_hash="ab" * 32,
    )
    document = {
        **{k: v for k, v in audit.event_document(event).items() if k != "hash"},
        "occurred_at": "2026-11-28T12:00:00.123456Z",
    }
    plain = json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    assert audit.canonical_form(event) == plain.encode("utf-8")
    before_prev_hash, before_seq, after_seq = audit.canonical_parts(event)
    assert before_prev_hash.endswith('"prev_hash":')
    assert before_seq.endswith(',"seq":')
    assert after_seq.startswith(',"token_id":')


def test_an_unchained_event_holds_every_column_of_audit_events_but_the_chains() -> None:
    """What PostgreSQL writes for its trigger to chain is built from ``UnchainedEvent``: a
    column added to ``audit_events`` and not to it would be hashed and stored without it."""
    columns = [c.key for c in AuditEvent.__table__.columns]
    chain = ["seq", "prev_hash", "hash"]
    assert [f.name for f in dataclasses.fields(audit.UnchainedEvent)] == [
        c for c in columns if c not in chain
    ]
