"""Admin: agencies, their API keys and public keys, and the service's signing keys."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, Response

from app.api.deps import Admin, AgencyManager, SessionDep, SettingsDep
from app.api.problems import problem_responses
from app.api.route_class import SinergiRoute, operation_id
from app.pagination import decode_text_cursor, encode_cursor
from app.schemas.agency import (
    AgencyCreate,
    AgencyPage,
    AgencyRead,
    AgencyUpdate,
    ApiKeyIssue,
    ApiKeyIssued,
    ApiKeyRead,
    ApiKeyRotate,
    PublicKeyRead,
    PublicKeyRegister,
    SigningKeyRead,
)
from app.services import agencies, api_keys, client_assertions, signing_keys

router = APIRouter(
    prefix="/v1/admin/agencies",
    tags=["admin-agencies"],
    route_class=SinergiRoute,
    generate_unique_id_function=operation_id,
)
signing_router = APIRouter(
    prefix="/v1/admin/signing-keys",
    tags=["admin-signing-keys"],
    route_class=SinergiRoute,
    generate_unique_id_function=operation_id,
)

CodePath = Annotated[str, "the agency code"]


@router.post(
    "",
    response_model=AgencyRead,
    status_code=201,
    summary="Register an agency",
    responses=problem_responses(401, 403, 409, 415, 422),
)
async def create(body: AgencyCreate, session: SessionDep, _admin: Admin) -> AgencyRead:
    """Register an agency of the TIMPORA team (Immigration, Police, BP3MI, manpower office, …) by
    its code; it has no API key until one is issued. 409 if the code is taken."""
    return agencies.agency_view(await agencies.create_agency(session, body))


@router.get(
    "",
    response_model=AgencyPage,
    status_code=200,
    summary="List agencies by code",
    responses=problem_responses(400, 401, 403, 422),
    name="list",
)
async def list_agencies(
    session: SessionDep,
    settings: SettingsDep,
    _admin: Admin,
    cursor: Annotated[
        str | None, Query(description="From the previous page's `next_cursor`.")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 50,
) -> AgencyPage:
    """Every registered agency ordered by code, with cursor pagination."""
    limit = min(limit, settings.max_page_size)
    rows = await agencies.list_agencies(
        session, after_code=decode_text_cursor(cursor) if cursor else None, limit=limit + 1
    )
    items = [agencies.agency_view(a) for a in rows[:limit]]
    next_cursor = encode_cursor(rows[limit - 1].code) if len(rows) > limit else None
    return AgencyPage(items=items, next_cursor=next_cursor)


@router.get(
    "/{code}",
    response_model=AgencyRead,
    status_code=200,
    summary="Read an agency",
    responses=problem_responses(401, 403, 404),
)
async def read(code: str, session: SessionDep, _admin: Admin) -> AgencyRead:
    """One agency by its code: name, kind, Kemendagri region, contact,
    scopes and whether it is active."""
    return agencies.agency_view(await agencies.get_agency(session, code))


@router.patch(
    "/{code}",
    response_model=AgencyRead,
    status_code=200,
    summary="Change an agency's name, kind, region, contact, scopes or active flag",
    responses=problem_responses(401, 403, 404, 409, 415, 422),
)
async def update(code: str, body: AgencyUpdate, session: SessionDep, _admin: Admin) -> AgencyRead:
    """Change only the fields sent. Deactivating here refuses the agency's tokens at once,
    as `deactivate` does."""
    return agencies.agency_view(await agencies.update_agency(session, code, body))


@router.post(
    "/{code}/deactivate",
    response_model=AgencyRead,
    status_code=200,
    summary="Deactivate an agency: its tokens are refused at once",
    responses=problem_responses(401, 403, 404, 409),
)
async def deactivate(code: str, session: SessionDep, admin: Admin) -> AgencyRead:
    """The agency's tokens and keys are refused from now on;
    its reports stay. 409 for the ADMIN agency."""
    return agencies.agency_view(
        await agencies.deactivate_agency(session, code, actor=admin.agency_code)
    )


@router.post(
    "/{code}/keys",
    response_model=ApiKeyIssued,
    status_code=201,
    summary="Issue an API key (shown once)",
    description="At most two keys per agency are active at a time; a third is refused with 409.",
    responses=problem_responses(401, 403, 404, 409, 415, 422),
)
async def issue_key(
    code: str, body: ApiKeyIssue, session: SessionDep, settings: SettingsDep, admin: AgencyManager
) -> ApiKeyIssued:
    agency = await agencies.get_managed_agency(session, admin, code)
    issued = await api_keys.issue_api_key(
        session,
        secret_key=settings.secret_key,
        agency=agency,
        expires_at=api_keys.expiry_after(body.expires_in_days),
        actor=admin.actor,
    )
    return api_keys.issued_view(issued)


@router.get(
    "/{code}/keys",
    response_model=list[ApiKeyRead],
    status_code=200,
    summary="List an agency's API keys (prefix, created, last used, expires, status)",
    responses=problem_responses(401, 403, 404),
)
async def list_keys(code: str, session: SessionDep, admin: AgencyManager) -> list[ApiKeyRead]:
    """Never the key itself: its prefix (to recognise it), creation, last use, expiry and status."""
    agency = await agencies.get_managed_agency(session, admin, code)
    return await api_keys.list_api_keys(session, agency)


@router.post(
    "/{code}/keys/{key_id}/rotate",
    response_model=ApiKeyIssued,
    status_code=201,
    summary="Rotate an API key: a new key now, the old one expires after a grace period",
    responses=problem_responses(401, 403, 404, 409, 415, 422),
)
async def rotate_key(
    code: str,
    key_id: uuid.UUID,
    body: ApiKeyRotate,
    session: SessionDep,
    settings: SettingsDep,
    admin: AgencyManager,
) -> ApiKeyIssued:
    """Answers the new key once;
    the old key keeps working for `grace_hours` so the agency can switch without downtime."""
    agency = await agencies.get_managed_agency(session, admin, code)
    issued = await api_keys.rotate_api_key(
        session,
        secret_key=settings.secret_key,
        agency=agency,
        key_id=key_id,
        grace=api_keys.rotation_grace(settings, body.grace_hours),
        actor=admin.actor,
    )
    return api_keys.issued_view(issued)


@router.delete(
    "/{code}/keys/{key_id}",
    status_code=204,
    response_class=Response,
    summary="Revoke an API key now (tokens minted from it stop working at once)",
    responses=problem_responses(401, 403, 404),
)
async def revoke_key(
    code: str, key_id: uuid.UUID, session: SessionDep, admin: AgencyManager
) -> Response:
    """Tokens minted from the key are refused from the next request on."""
    agency = await agencies.get_managed_agency(session, admin, code)
    await api_keys.revoke_api_key(session, agency=agency, key_id=key_id, actor=admin.actor)
    return Response(status_code=204)


@router.post(
    "/{code}/public-keys",
    response_model=PublicKeyRead,
    status_code=201,
    summary="Register a public key (JWK) for private_key_jwt client authentication",
    responses=problem_responses(401, 403, 404, 409, 415, 422),
)
async def register_public_key(
    code: str, body: PublicKeyRegister, session: SessionDep, admin: Admin
) -> PublicKeyRead:
    """A public JWK (EC P-256 or RSA) the agency signs client assertions with (RFC 7523
    private_key_jwt), instead of sending an API key."""
    agency = await agencies.get_agency(session, code)
    return await client_assertions.register_public_key(
        session, agency=agency, raw_jwk=body.jwk, actor=admin.agency_code
    )


@router.get(
    "/{code}/public-keys",
    response_model=list[PublicKeyRead],
    status_code=200,
    summary="List an agency's registered public keys",
    responses=problem_responses(401, 403, 404),
)
async def list_public_keys(code: str, session: SessionDep, _admin: Admin) -> list[PublicKeyRead]:
    """The agency's registered JWKs, by `kid`, with their status."""
    agency = await agencies.get_agency(session, code)
    return await client_assertions.list_public_keys(session, agency)


@router.delete(
    "/{code}/public-keys/{key_id}",
    status_code=204,
    response_class=Response,
    summary="Revoke a registered public key",
    responses=problem_responses(401, 403, 404),
)
async def revoke_public_key(
    code: str, key_id: uuid.UUID, session: SessionDep, admin: Admin
) -> Response:
    """Client assertions signed by this key are refused from now on."""
    agency = await agencies.get_agency(session, code)
    await client_assertions.revoke_public_key(
        session, agency=agency, key_id=key_id, actor=admin.agency_code
    )
    return Response(status_code=204)


@signing_router.get(
    "",
    response_model=list[SigningKeyRead],
    status_code=200,
    summary="List the service's token signing keys",
    responses=problem_responses(401, 403),
    name="list",
)
async def list_signing_keys(
    session: SessionDep, settings: SettingsDep, _admin: Admin
) -> list[SigningKeyRead]:
    """The service's own token-signing keys (next, current, retired) with their `kid`s;
    the public parts are in the JWKS."""
    await signing_keys.ensure_signing_keys(session, settings)
    return await signing_keys.list_signing_keys(session)


@signing_router.post(
    "/rotate",
    response_model=list[SigningKeyRead],
    status_code=200,
    summary="Rotate: next becomes current, current retires, a new next is published",
    description=(
        "Retired keys stay in the JWKS and keep verifying until every token they signed has "
        "expired, so rotation causes no outage."
    ),
    responses=problem_responses(401, 403),
)
async def rotate(session: SessionDep, settings: SettingsDep, admin: Admin) -> list[SigningKeyRead]:
    await signing_keys.rotate_signing_keys(session, settings, actor=admin.agency_code)
    return await signing_keys.list_signing_keys(session)
