"""The committed spec must be what the app serves: integrators generate clients from it."""

from __future__ import annotations

import json
from pathlib import Path

from app.cli import openapi_document


def test_committed_openapi_matches_the_app(repo_root: Path) -> None:
    committed = (repo_root / "openapi" / "openapi.json").read_text(encoding="utf-8")
    assert committed == openapi_document(), "openapi/openapi.json is stale: run `sinergi openapi`"


def test_every_operation_has_an_id_tag_and_summary(repo_root: Path) -> None:
    spec = json.loads((repo_root / "openapi" / "openapi.json").read_text(encoding="utf-8"))
    seen: set[str] = set()
    for path, item in spec["paths"].items():
        for method, op in item.items():
            assert op.get("operationId"), f"{method} {path} has no operationId"
            assert op["operationId"] not in seen
            seen.add(op["operationId"])
            assert op.get("tags"), f"{method} {path} has no tag"
            assert op.get("summary"), f"{method} {path} has no summary"
