"""The finishing pass over the generated OpenAPI document: tags, shared problems, examples.

FastAPI writes what each route declares; this pass adds what every route shares by construction,
so a route added later is documented the same way without repeating it:

- ``400`` (token and session cookie together), ``401``, ``403`` on every operation with a
  security requirement (``app.api.deps``);
- ``422`` on every operation with parameters or a body, as ``application/problem+json`` in place of
  FastAPI's default ``HTTPValidationError`` (``app.api.problems`` answers every error as a problem);
- ``400`` on every list with a ``cursor`` (one this service did not issue);
- ``400`` (malformed JSON), ``413`` (body over ``SINERGI_MAX_BODY_BYTES``) and ``415`` (not JSON,
  ``app.api.route_class.SinergiRoute``) on every operation that takes a JSON body;
- a media-type ``example`` beside every body whose schema carries ``examples``;
- OpenAPI ``links`` from a creation to the operations on the object it created whose path
  parameter is not an ``…_id`` (``POST /v1/admin/agencies`` → ``/{code}``), so a client
  generator or a stateful fuzzer can follow them (``FOLLOW_UPS``);
- the tag descriptions, which explain the Indonesian terms an integrator meets.
"""

from __future__ import annotations

from typing import Any

from app.api.problems import PROBLEM_MEDIA_TYPE, problem_responses

TAGS: list[dict[str, str]] = [
    {
        "name": "reports",
        "description": (
            "Standardized reports of suspected **TPPO** (*tindak pidana perdagangan orang*, "
            "trafficking in persons, UU 21/2007) and **TPPM** (*tindak pidana penyelundupan "
            "manusia*, people smuggling, UU 6/2011 art. 120). A person may carry a **NIK** "
            "(*Nomor Induk Kependudukan*, the 16-digit national identity number: digits 1 to 6 the "
            "region, 7 to 12 the birth date as DDMMYY with 40 added to the day for women, 13 to 16 "
            "a serial); a NIK that contradicts the stated birth date, sex or region is a warning, "
            "not a rejection. `NONPROCEDURAL_MIGRANT_WORKER` is **PMI nonprosedural**: an "
            "Indonesian migrant worker (*Pekerja Migran Indonesia*) sent abroad outside the legal "
            "procedure (UU 18/2017). Region codes are Kemendagri *kode wilayah* (`14` Riau, "
            "`14.72` Kota Dumai); `tlp` is a Traffic Light Protocol 2.0 label."
        ),
    },
    {
        "name": "cases",
        "description": (
            "Reports linked because they concern the same people (a resolved victim), with the "
            "score and reasons of each link. Parts the caller may not see appear at most as "
            "“another report, held by agency X” (never for TLP RED)."
        ),
    },
    {
        "name": "persons",
        "description": (
            "The network around one resolved person: the reports they appear in and the people "
            "they appear with (a recruiter's victims, a victim's recruiters), within the "
            "caller's visibility."
        ),
    },
    {
        "name": "inbox",
        "description": (
            "Deliveries routed to the calling agency (`report.routed`, `report.updated`, "
            "`report.retracted`, `case.linked`, `watch.hit`, `key.expiring`), oldest first, each "
            "with a per-recipient `sequence`; acknowledge what you processed. The same events "
            "are pushed as signed webhooks when the agency registered an endpoint (see "
            "`webhooks`)."
        ),
    },
    {
        "name": "screenings",
        "description": (
            "Screen a person before acting (a passport application, a departure): is this name, "
            "birth date, NIK, passport or phone in any report? Hits name the agency to contact, "
            "the score and reasons; the report itself only when the caller may already read it. "
            "Nothing about the screened person is stored except the audit event."
        ),
    },
    {
        "name": "watches",
        "description": (
            "Watch a person (say, an applicant whose passport application was deferred): a later "
            "report resolving to that person sends the agency `watch.hit` through its inbox or "
            "webhook. Watches expire (one year by default)."
        ),
    },
    {
        "name": "stats",
        "description": (
            "Counts for a TIMPORA coordination meeting by month, case type, modus, exploitation "
            "type, destination country, region and source agency, as JSON, CSV or one "
            "self-contained HTML page; over the reports the caller may see, with small counts "
            "suppressed for non-admins so they cannot point at a victim."
        ),
    },
    {
        "name": "auth",
        "description": (
            "OAuth 2.0 client credentials: `client_id` is the agency code, the secret its API key "
            "(`sng_…`), or a `client_assertion` (RFC 7523 private_key_jwt). Access tokens are "
            "short-lived JWTs; send them as `Authorization: Bearer <token>`."
        ),
    },
    {
        "name": "session",
        "description": (
            "Officers (people) sign in with a username (often the **NIP**, *Nomor Induk "
            "Pegawai*), a password and a TOTP code, or a one-time setup code the first time. The "
            "answer sets a session cookie (`__Host-sinergi_session`: HttpOnly, Secure, "
            "SameSite=Lax) and gives a CSRF token to send as `X-CSRF-Token` with every "
            "state-changing request. The cookie works on every route a bearer token does, with "
            "the agency's need-to-know narrowed by the officer's role; never send both at once."
        ),
    },
    {
        "name": "discovery",
        "description": "The public keys that verify access tokens and the RFC 8414 metadata.",
    },
    {
        "name": "vocab",
        "description": (
            "The controlled vocabularies a report uses (case types, modus operandi, exploitation "
            "types, Kemendagri regions, countries …), with Indonesian and English labels."
        ),
    },
    {"name": "health", "description": "Liveness and readiness probes for the operator."},
    {
        "name": "admin-users",
        "description": (
            "Admin: the officers of an agency (OFFICER, ANALYST, AGENCY_ADMIN, SYSTEM_ADMIN). "
            "Creating one or resetting a password answers a one-time setup code, shown once. "
            "The ADMIN agency's token and SYSTEM_ADMIN officers manage every agency; an "
            "AGENCY_ADMIN officer only their own (others answer 404)."
        ),
    },
    {
        "name": "admin-agencies",
        "description": (
            "Admin: the agencies of a **TIMPORA** (*Tim Pengawasan Orang Asing*: Immigration, "
            "Police, BP2MI/BP3MI migrant-worker protection, the manpower office, prosecutors, "
            "the Navy, port authorities, social services, local government), their API keys "
            "(shown once, rotated with overlap, revoked at once) and their registered public "
            "keys for private_key_jwt."
        ),
    },
    {
        "name": "admin-signing-keys",
        "description": "Admin: the service's token-signing keys (published in the JWKS).",
    },
    {
        "name": "routing-rules",
        "description": (
            "Admin: the ordered rules that decide which agencies receive a report (by case type, "
            "modus, exploitation type, region prefix, nationality, documents, destination, TLP)."
        ),
    },
    {
        "name": "deliveries",
        "description": "Admin: the outbox of deliveries, their attempts, and replay of dead ones.",
    },
    {
        "name": "webhooks",
        "description": (
            "Admin: an agency's webhook endpoint and its signing secret (Standard Webhooks "
            "scheme). The envelope the service posts is documented under `webhooks`."
        ),
    },
    {
        "name": "admin-resolution",
        "description": (
            "Admin: review possible matches between persons, merge and split person entities and "
            "cases; every action is audited and can be undone."
        ),
    },
    {
        "name": "audit",
        "description": (
            "Admin: the append-only, hash-chained audit log (UU PDP access logging) and its "
            "verification."
        ),
    },
]

_METHODS = {"get", "put", "post", "patch", "delete", "head", "options", "trace"}
_JSON = "application/json"


#: creating operation → (field of its answer, operations taking it as the path parameter of that
#: name). Only operations that work on any freshly created object: not the agency's webhook
#: reads, which answer 404 until one is registered.
FOLLOW_UPS: dict[str, tuple[str, list[str]]] = {
    "admin_agencies_create": (
        "code",
        [
            "admin_agencies_read",
            "admin_agencies_update",
            "admin_agencies_deactivate",
            "admin_agencies_issue_key",
            "admin_agencies_list_keys",
            "admin_agencies_register_public_key",
            "admin_agencies_list_public_keys",
            "webhooks_update",
        ],
    ),
}


def finish(schema: dict[str, Any]) -> dict[str, Any]:
    """Complete ``schema`` in place (see the module docstring) and return it."""
    used = {
        tag
        for item in schema.get("paths", {}).values()
        for op in _operations(item)
        for tag in op.get("tags", ())
    }
    known = [tag for tag in TAGS if tag["name"] in used]
    extra = sorted(used - {tag["name"] for tag in known})
    schema["tags"] = known + [{"name": name} for name in extra]

    components = schema.get("components", {}).get("schemas", {})
    for item in schema.get("paths", {}).values():
        for op in _operations(item):
            _document_shared_problems(op)
            _add_examples(op, components)
    for item in schema.get("webhooks", {}).values():
        for op in _operations(item):
            _document_webhook_answers(op)
            _add_examples(op, components)
    _link_created_objects(schema)
    _drop_unused_validation_schemas(schema)
    return schema


def _link_created_objects(schema: dict[str, Any]) -> None:
    """Add the ``links`` of ``FOLLOW_UPS`` to the 201 answer of each creating operation."""
    answers = {
        op["operationId"]: op["responses"]["201"]
        for item in schema.get("paths", {}).values()
        for op in _operations(item)
        if "201" in op.get("responses", {})
    }
    for creating, (field, operation_ids) in FOLLOW_UPS.items():
        answers[creating]["links"] = {
            operation_id: {
                "operationId": operation_id,
                "parameters": {field: f"$response.body#/{field}"},
                "description": f"The `{field}` of the object just created.",
            }
            for operation_id in operation_ids
        }


def _operations(item: dict[str, Any]) -> list[dict[str, Any]]:
    return [op for method, op in item.items() if method in _METHODS]


def _document_shared_problems(op: dict[str, Any]) -> None:
    responses: dict[str, Any] = op.setdefault("responses", {})
    statuses: list[int] = []
    if op.get("security"):
        # 400: a bearer token and a session cookie sent together (app.api.deps)
        statuses += [400, 401, 403]
    body = op.get("requestBody", {}).get("content", {})
    if op.get("parameters") or body:
        statuses.append(422)
    if any(p.get("name") == "cursor" and p.get("in") == "query" for p in op.get("parameters", [])):
        statuses.append(400)  # app.errors.InvalidCursor
    if _JSON in body:
        statuses += [400, 413, 415]
    elif body:
        statuses += [400, 413]
    default_422 = responses.get("422", {}).get("content", {}).get(_JSON)
    if default_422 is not None:
        del responses["422"]
    for status, response in problem_responses(*statuses).items():
        responses.setdefault(str(status), response)
    op["responses"] = dict(sorted(responses.items()))


def _document_webhook_answers(op: dict[str, Any]) -> None:
    """A webhook's responses are the receiver's: only its status matters to the service."""
    op["responses"] = {
        "2XX": {"description": "Accepted; the delivery is done."},
        "410": {"description": "Gone: the service disables the endpoint."},
        "default": {"description": "Anything else: the delivery is retried with backoff."},
    }


def _add_examples(op: dict[str, Any], components: dict[str, Any]) -> None:
    contents = [op.get("requestBody", {}).get("content", {})]
    contents += [r.get("content", {}) for r in op.get("responses", {}).values()]
    for content in contents:
        for media_type, media in content.items():
            # A problem's example lives once on the Problem schema, not on every error response.
            if media_type == PROBLEM_MEDIA_TYPE or "example" in media or "examples" in media:
                continue
            example = _example(media.get("schema", {}), components, depth=0)
            if example is not _NONE:
                media["example"] = example


class _Missing:
    """No trustworthy example can be built for this schema."""


_NONE: Any = _Missing()
_MAX_DEPTH = 8
_FORMAT_EXAMPLES = {
    "date-time": "2025-05-12T09:30:00+07:00",
    "date": "2025-05-12",
    "uuid": "3b241101-e2bb-4255-8caf-4136c566a962",
    "uri": "https://sinergi.example.go.id/",
    "email": "inteldakim@example.go.id",
}


def _example(schema: dict[str, Any], components: dict[str, Any], depth: int) -> Any:
    """An example for ``schema`` built only from what the schema itself states.

    The schema's own ``examples``, its ``const``/``enum``/``default``, a well-known ``format``;
    objects and arrays are assembled from their parts. A required part with nothing trustworthy
    (a patterned string without an example) leaves the whole example out rather than inventing one;
    free text gets the placeholder ``"text"``.
    """
    if depth > _MAX_DEPTH:
        return _NONE
    schema = _resolve(schema, components)
    for key in ("examples",):
        values = schema.get(key)
        if isinstance(values, list) and values:
            return values[0]
    if "const" in schema:
        return schema["const"]
    if schema.get("enum"):
        return schema["enum"][0]
    if "default" in schema and schema["default"] is not None:
        return schema["default"]
    for key in ("anyOf", "oneOf"):
        if key in schema:
            options = [o for o in schema[key] if o.get("type") != "null"]
            for option in options:
                found = _example(option, components, depth + 1)
                if found is not _NONE:
                    return found
            return None if len(options) < len(schema[key]) else _NONE
    kind = schema.get("type")
    if kind == "object" or "properties" in schema:
        result: dict[str, Any] = {}
        required = set(schema.get("required", ()))
        for name, part in schema.get("properties", {}).items():
            value = _example(part, components, depth + 1)
            if value is _NONE:
                if name in required:
                    return _NONE
                continue
            result[name] = value
        return result
    if kind == "array":
        item = _example(schema.get("items", {}), components, depth + 1)
        if item is _NONE:
            return [] if not schema.get("minItems") else _NONE
        return [item]
    if kind == "string":
        if schema.get("format") in _FORMAT_EXAMPLES:
            return _FORMAT_EXAMPLES[schema["format"]]
        # Free text: a placeholder, as documentation viewers show; never for a patterned code.
        return _NONE if "pattern" in schema or schema.get("minLength", 0) > len("text") else "text"
    if kind == "integer":
        return (
            max(int(schema.get("minimum", 1)), 1)
            if "maximum" not in schema
            else schema.get("minimum", 0)
        )
    if kind == "number":
        return schema.get("minimum", 0.5)
    if kind == "boolean":
        return True
    return _NONE


def _resolve(schema: dict[str, Any], components: dict[str, Any]) -> dict[str, Any]:
    ref = schema.get("$ref", "")
    if ref.startswith("#/components/schemas/"):
        found: dict[str, Any] = components.get(ref.rsplit("/", 1)[1], {})
        return found
    return schema


def _drop_unused_validation_schemas(schema: dict[str, Any]) -> None:
    components = schema.get("components", {}).get("schemas", {})
    text = repr({k: v for k, v in schema.items() if k != "components"}) + repr(
        {k: v for k, v in components.items() if k not in {"HTTPValidationError", "ValidationError"}}
    )
    for name in ("HTTPValidationError", "ValidationError"):
        if f"#/components/schemas/{name}'" not in text:
            components.pop(name, None)
