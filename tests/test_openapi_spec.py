"""The spec as a product: valid OpenAPI 3.1, and complete enough to build an agency client from.

Checked on what the app serves (the drift test keeps openapi/openapi.json equal to it), so a route
added tomorrow is held to the same bar.
"""

from __future__ import annotations

from typing import Any

import pytest
from jsonschema import Draft202012Validator
from openapi_spec_validator import validate

from app.config import Environment, Settings
from app.main import create_app

_METHODS = {"get", "put", "post", "patch", "delete"}


@pytest.fixture(scope="module")
def spec() -> dict[str, Any]:
    settings = Settings(env=Environment.DEVELOPMENT, database_url="sqlite+aiosqlite:///:memory:")
    document: dict[str, Any] = create_app(settings).openapi()
    return document


def _operations(spec: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (method.upper(), path, op)
        for path, item in spec["paths"].items()
        for method, op in item.items()
        if method in _METHODS
    ]


def test_the_spec_is_valid_openapi_3_1(spec: dict[str, Any]) -> None:
    assert spec["openapi"].startswith("3.1")
    validate(spec)


def test_every_operation_is_described_and_tagged(spec: dict[str, Any]) -> None:
    described = {tag["name"]: tag.get("description", "") for tag in spec["tags"]}
    for method, path, op in _operations(spec):
        where = f"{method} {path}"
        tag = op["tags"][0]
        assert op["operationId"].startswith(tag.replace("-", "_") + "_"), where
        assert op.get("summary"), f"{where}: summary"
        assert op.get("description"), f"{where}: description"
        assert described.get(tag), f"{where}: tag {tag!r} has no description in app/api/openapi.py"


def test_the_indonesian_terms_are_explained(spec: dict[str, Any]) -> None:
    text = spec["info"]["description"] + " ".join(t.get("description", "") for t in spec["tags"])
    for term in ("TPPO", "TPPM", "TIMPORA", "NIK", "PMI nonprosedural"):
        assert term in text, term


def test_secured_operations_name_their_scopes_and_document_auth_errors(
    spec: dict[str, Any],
) -> None:
    schemes = spec["components"]["securitySchemes"]
    scopes = schemes["OAuth2ClientCredentials"]["flows"]["clientCredentials"]["scopes"]
    for method, path, op in _operations(spec):
        if not op.get("security"):
            continue
        for requirement in op["security"]:
            for name, needed in requirement.items():
                assert name in schemes, f"{method} {path}: unknown scheme {name}"
                if name == "OAuth2ClientCredentials":
                    assert needed, f"{method} {path}: no scope named"
                    assert set(needed) <= set(scopes), f"{method} {path}: unknown scope"
        assert {"401", "403"} <= set(op["responses"]), f"{method} {path}: 401/403"


def test_every_error_is_a_documented_problem(spec: dict[str, Any]) -> None:
    for method, path, op in _operations(spec):
        responses = op["responses"]
        if op.get("parameters") or op.get("requestBody"):
            assert "422" in responses, f"{method} {path}: 422"
        if "application/json" in op.get("requestBody", {}).get("content", {}):
            assert {"400", "413", "415"} <= set(responses), f"{method} {path}: 400/413/415"
        for status, response in responses.items():
            if status.startswith(("4", "5")):
                content = response.get("content", {})
                assert list(content) == ["application/problem+json"], f"{method} {path} {status}"
                ref = content["application/problem+json"]["schema"]["$ref"]
                assert ref == "#/components/schemas/Problem", f"{method} {path} {status}"
    assert "HTTPValidationError" not in spec["components"]["schemas"]


def test_every_body_has_an_example_that_fits_its_schema(spec: dict[str, Any]) -> None:
    def check(where: str, media: dict[str, Any]) -> None:
        assert "example" in media or "examples" in media, f"{where}: no example"
        example = media.get("example", next(iter(media.get("examples", {}).values()), None))
        schema = {**media["schema"], "components": spec["components"]}
        errors = sorted(Draft202012Validator(schema).iter_errors(example), key=str)
        assert not errors, f"{where}: example does not fit: {errors[0].message}"

    for method, path, op in _operations(spec):
        for media_type, media in op.get("requestBody", {}).get("content", {}).items():
            if media_type == "application/json":
                check(f"{method} {path} request", media)
        for status, response in op["responses"].items():
            for media_type, media in response.get("content", {}).items():
                if status.startswith("2") and media_type == "application/json":
                    check(f"{method} {path} {status}", media)


def test_the_webhook_envelope_is_documented(spec: dict[str, Any]) -> None:
    events = {
        "report.routed",
        "report.updated",
        "report.retracted",
        "case.linked",
        "watch.hit",
        "key.expiring",
    }
    assert events <= set(spec["webhooks"])
    for event in events:
        post = spec["webhooks"][event]["post"]
        headers = {p["name"] for p in post["parameters"] if p["in"] == "header"}
        assert {"webhook-id", "webhook-timestamp", "webhook-signature"} <= headers, event
        assert "application/json" in post["requestBody"]["content"], event
