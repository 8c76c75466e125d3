"""`sinergi import FILE.jsonl --agency CODE`: created, replayed and rejected lines."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from prometheus_client import REGISTRY
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from typer.testing import CliRunner

from app.db import create_engine, create_session_factory, transaction
from app.models.audit import AuditEvent
from app.models.delivery import Delivery
from app.models.report import Report, ReportPerson
from app.schemas.agency import AgencyCreate
from app.services.agencies import create_agency
from app.services.routing import seed_default_rules
from tests.conftest import invoke_cli, make_settings
from tests.report_samples import deferral, recruiter, victim


@pytest.fixture
async def sessions(database_url: str) -> Any:
    engine = create_engine(make_settings(database_url))
    factory = create_session_factory(engine)
    async with transaction(factory) as session:
        for code, kind in (("IMIGRASI-DUMAI", "IMMIGRATION"), ("POLRES-DUMAI", "POLICE")):
            await create_agency(
                session, AgencyCreate(code=code, name=code, kind=kind, region_code="14.72")
            )
        await seed_default_rules(session, region_code="14.72")
    yield factory
    await engine.dispose()


async def _count(factory: async_sessionmaker[AsyncSession], model: Any) -> int:
    async with transaction(factory) as session:
        return int(await session.scalar(select(func.count()).select_from(model)) or 0)


def _ingested(outcome: str) -> float:
    return REGISTRY.get_sample_value("sinergi_ingest_reports_total", {"outcome": outcome}) or 0.0


def _write(path: Path, *lines: dict[str, Any] | str) -> Path:
    path.write_text(
        "\n".join(line if isinstance(line, str) else json.dumps(line) for line in lines) + "\n",
        encoding="utf-8",
    )
    return path


async def test_import_reports_created_replayed_and_rejected_lines(
    cli_runner: CliRunner, sessions: async_sessionmaker[AsyncSession], tmp_path: Path
) -> None:
    first = deferral(external_ref="IMI/2025/1")
    second = deferral(
        external_ref="IMI/2025/2",
        persons=[victim("Yohanes Bria", "2001-11-02"), recruiter()],
    )
    file = _write(
        tmp_path / "reports.jsonl",
        first,
        second,
        "",
        first,  # the same report again: replayed
        deferral(external_ref="IMI/2025/1", narrative="another body"),  # same ref: conflict
        deferral(external_ref="IMI/2025/3", case_type="HUMAN_TRAFFICKING"),  # not a code
        '{"external_ref": "IMI/2025/4", ',  # malformed JSON
    )

    before = {o: _ingested(o) for o in ("created", "replayed", "rejected")}
    result = await invoke_cli(cli_runner, "import", str(file), "--agency", "IMIGRASI-DUMAI")

    assert result.exit_code == 1, result.output
    assert {o: _ingested(o) - n for o, n in before.items()} == {
        "created": 2,
        "replayed": 1,
        "rejected": 3,
    }
    rejects = tmp_path / "reports.rejects.jsonl"
    assert f"created 2, replayed 1, rejected 3 (written to {rejects})" in result.stdout
    problems = [json.loads(line) for line in rejects.read_text().splitlines()]
    assert [(p["line"], p["status"]) for p in problems] == [(5, 409), (6, 422), (7, 400)]
    assert problems[0]["type"] == "urn:sinergi:problem:conflict"
    assert problems[0]["errors"][0]["pointer"] == "/external_ref"
    assert [e["pointer"] for e in problems[1]["errors"]] == ["/case_type"]
    assert problems[2]["type"] == "urn:sinergi:problem:malformed-json"

    # Exactly the two good reports, routed like any other (Police gets every TPPO report).
    assert await _count(sessions, Report) == 2
    assert await _count(sessions, ReportPerson) == 3
    async with transaction(sessions) as session:
        routed = (await session.scalars(select(Delivery.event))).all()
        audited = (await session.scalars(select(AuditEvent.outcome))).all()
    assert routed.count("report.routed") == 2
    assert sorted(audited) == sorted(["success"] * 3 + ["invalid"] * 3)


async def test_import_again_replays_everything_and_exits_zero(
    cli_runner: CliRunner, sessions: async_sessionmaker[AsyncSession], tmp_path: Path
) -> None:
    file = _write(
        tmp_path / "batch.jsonl", deferral(external_ref="A/1"), deferral(external_ref="A/2")
    )
    assert (
        await invoke_cli(cli_runner, "import", str(file), "--agency", "IMIGRASI-DUMAI")
    ).exit_code == 0
    again = await invoke_cli(cli_runner, "import", str(file), "--agency", "IMIGRASI-DUMAI")
    assert again.exit_code == 0, again.output
    assert "created 0, replayed 2, rejected 0" in again.stdout
    assert not (tmp_path / "batch.rejects.jsonl").exists()
    assert await _count(sessions, Report) == 2


async def test_import_for_an_unknown_agency_imports_nothing(
    cli_runner: CliRunner, sessions: async_sessionmaker[AsyncSession], tmp_path: Path
) -> None:
    file = _write(tmp_path / "batch.jsonl", deferral())
    result = await invoke_cli(cli_runner, "import", str(file), "--agency", "NO-SUCH-AGENCY")
    assert result.exit_code == 2
    assert "No agency with code NO-SUCH-AGENCY" in result.output
    assert await _count(sessions, Report) == 0


async def test_rejects_go_to_the_named_file(
    cli_runner: CliRunner, sessions: async_sessionmaker[AsyncSession], tmp_path: Path
) -> None:
    file = _write(tmp_path / "batch.jsonl", deferral(tlp="RED"))  # RED needs recipients
    out = tmp_path / "out" / "bad.jsonl"
    out.parent.mkdir()
    result = await invoke_cli(
        cli_runner, "import", str(file), "--agency", "IMIGRASI-DUMAI", "--rejects", str(out)
    )
    assert result.exit_code == 1
    (problem,) = [json.loads(line) for line in out.read_text().splitlines()]
    assert problem["line"] == 1
    assert problem["errors"][0]["pointer"] == "/recipients"
    assert await _count(sessions, Report) == 0


async def test_a_file_with_a_utf8_byte_order_mark_imports_every_line(
    cli_runner: CliRunner, sessions: async_sessionmaker[AsyncSession], tmp_path: Path
) -> None:
    # Excel and Notepad on Windows start a UTF-8 file with a byte-order mark.
    file = tmp_path / "excel.jsonl"
    lines = [json.dumps(deferral(external_ref=f"XL/{n}")) for n in (1, 2)]
    file.write_bytes(b"\xef\xbb\xbf" + "\r\n".join(lines).encode() + b"\r\n")
    result = await invoke_cli(cli_runner, "import", str(file), "--agency", "IMIGRASI-DUMAI")
    assert result.exit_code == 0, result.output
    assert f"imported {file} as IMIGRASI-DUMAI: created 2, replayed 0, rejected 0" in result.stdout
    assert await _count(sessions, Report) == 2


@pytest.mark.parametrize(
    ("content", "shape", "convert"),
    [
        (
            lambda: json.dumps([deferral(external_ref="J/1"), deferral(external_ref="J/2")]),
            "is a JSON array",
            "jq -c '.[]'",
        ),
        (
            lambda: json.dumps([deferral(external_ref="J/1")], indent=2),
            "is a JSON array",
            "jq -c '.[]'",
        ),
        (
            lambda: json.dumps(deferral(external_ref="J/1"), indent=2),
            "is pretty-printed JSON",
            "jq -c .",
        ),
    ],
)
async def test_json_that_is_not_json_lines_is_named_once_with_the_conversion(
    cli_runner: CliRunner,
    sessions: async_sessionmaker[AsyncSession],
    tmp_path: Path,
    content: Any,
    shape: str,
    convert: str,
) -> None:
    file = tmp_path / "export.json"
    file.write_text(content(), encoding="utf-8")
    result = await invoke_cli(cli_runner, "import", str(file), "--agency", "IMIGRASI-DUMAI")
    assert result.exit_code == 2
    assert f"{file} {shape}" in result.output
    assert "not JSON Lines (one report per line)" in result.output
    assert f"{convert} {file} > export.jsonl" in result.output
    assert not (tmp_path / "export.rejects.jsonl").exists()
    assert await _count(sessions, Report) == 0


def test_progress_keeps_count_and_time_within_80_columns() -> None:
    import io

    from rich.console import Console

    from app.cli import import_progress

    out = io.StringIO()
    console = Console(file=out, width=80, force_terminal=True, color_system=None)
    progress = import_progress(console)
    task = progress.add_task("importing", total=123456, counts="")
    progress.update(task, advance=123456, counts="ok 120000 re 3000 rej 456")
    progress.refresh()
    line = progress.make_tasks_table(progress.tasks)
    console.print(line)
    text = out.getvalue()
    assert "123456/123456" in text
    assert "0:00:0" in text  # the elapsed time
    assert "rej 456" in text
