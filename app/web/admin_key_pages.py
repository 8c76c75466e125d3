"""Keys in the administrators' console (issue 19): an agency's public keys for private_key_jwt,
and the service's own token signing keys.

SYSTEM_ADMIN only, as the API (``/v1/admin/agencies/{code}/public-keys`` and
``/v1/admin/signing-keys`` take the ``Admin`` dependency): an AGENCY_ADMIN and every other
officer get the console's 404, and the agency tab is not shown to them.
"""

from __future__ import annotations

import json
import uuid
from typing import TYPE_CHECKING, Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from app.api.audit_hook import AuditDep
from app.api.deps import SessionDep, SettingsDep
from app.errors import Conflict, FieldProblem, InvalidInput, NotFound
from app.services import agencies, client_assertions, signing_keys
from app.web.admin_common import AdminOfficer, SystemAdmin, admin_page, back_to
from app.web.forms import NO_ERRORS, FormErrors, form_errors
from app.web.templating import catalogue_for

if TYPE_CHECKING:
    from app.models.agency import Agency

router = APIRouter(prefix="/admin", include_in_schema=False)

#: The most text the JWK box accepts (an RSA-4096 public JWK is under 1,000 characters).
MAX_JWK_TEXT = 16_000


# --- Public keys for private_key_jwt (per agency) ---------------------------------------------


def _jwk_error(request: Request, code: str, detail: str) -> FormErrors:
    """The JWK box's error in plain words (``adminkeys.jwk_error.<code>``), else the API's."""
    words = catalogue_for(request)
    key = f"adminkeys.jwk_error.{code}"
    return form_errors([FieldProblem("/jwk", words.text(key) if words.has(key) else detail)])


def _read_jwk(request: Request, text: str) -> tuple[dict[str, Any] | None, FormErrors]:
    """The pasted JWK as a JSON object, or the reason it is not one."""
    if not text.strip():
        return None, _jwk_error(request, "empty", "Paste the public JWK")
    if len(text) > MAX_JWK_TEXT:
        return None, _jwk_error(request, "too_long", "The text is too long for one JWK")
    try:
        value = json.loads(text)
    except ValueError:
        return None, _jwk_error(request, "json", "The text is not JSON")
    if not isinstance(value, dict):
        return None, _jwk_error(request, "json", "A JWK is a JSON object")
    if "keys" in value and "kty" not in value:
        return None, _jwk_error(request, "jwks", "Paste one key (JWK), not a key set (JWKS)")
    return value, NO_ERRORS


def _refusal(request: Request, refused: InvalidInput) -> FormErrors:
    problem = refused.errors[0] if refused.errors else FieldProblem("/jwk", refused.detail)
    return _jwk_error(request, problem.code, problem.detail)


async def _public_key_page(
    request: Request,
    admin: AdminOfficer,
    session: SessionDep,
    agency: Agency,
    *,
    typed: str = "",
    errors: FormErrors = NO_ERRORS,
    status_code: int = 200,
) -> HTMLResponse:
    keys = await client_assertions.list_public_keys(session, agency)
    return admin_page(
        request,
        admin,
        "public_keys.html",
        {
            "agency": agencies.agency_view(agency),
            "keys": keys,
            "registered": request.query_params.get("terdaftar"),
            "typed": typed,
            "errors": errors,
        },
        status_code=status_code,
    )


@router.get("/instansi/{code}/kunci-publik", response_class=HTMLResponse)
async def public_key_list(
    request: Request, code: str, admin: SystemAdmin, session: SessionDep, audited: AuditDep
) -> HTMLResponse:
    """The agency's registered JWKs (kid, algorithm, thumbprint, status) and the box to add one."""
    audited.action("public_key.list")
    agency = await agencies.get_agency(session, code)
    return await _public_key_page(request, admin, session, agency)


async def _typed_jwk(request: Request) -> str:
    form = await request.form()
    value = form.get("jwk")
    return value if isinstance(value, str) else ""


@router.post("/instansi/{code}/kunci-publik/periksa", response_class=HTMLResponse)
async def public_key_preview(
    request: Request, code: str, admin: SystemAdmin, session: SessionDep, audited: AuditDep
) -> HTMLResponse:
    """Check the pasted JWK by the registration's own rules and show its thumbprint before
    anything is saved, so the admin can compare it with the one the agency gave."""
    audited.action("public_key.preview")
    agency = await agencies.get_agency(session, code)
    text = await _typed_jwk(request)
    raw, errors = _read_jwk(request, text)
    if raw is None:
        return await _public_key_page(
            request, admin, session, agency, typed=text, errors=errors, status_code=422
        )
    try:
        preview = client_assertions.preview_public_key(raw)
    except InvalidInput as refused:
        errors = _refusal(request, refused)
        return await _public_key_page(
            request, admin, session, agency, typed=text, errors=errors, status_code=422
        )
    return admin_page(
        request,
        admin,
        "public_key_preview.html",
        {"agency": agencies.agency_view(agency), "preview": preview, "typed": text},
    )


@router.post("/instansi/{code}/kunci-publik", response_class=HTMLResponse, response_model=None)
async def public_key_register(
    request: Request, code: str, admin: SystemAdmin, session: SessionDep, audited: AuditDep
) -> HTMLResponse | RedirectResponse:
    """Register the JWK; back to the list, where the new key is marked with its thumbprint."""
    audited.action("public_key.register")
    agency = await agencies.get_agency(session, code)
    text = await _typed_jwk(request)
    raw, errors = _read_jwk(request, text)
    status_code = 422
    if raw is not None:
        try:
            saved = await client_assertions.register_public_key(
                session, agency=agency, raw_jwk=raw, actor=admin.principal.actor
            )
        except InvalidInput as refused:
            errors = _refusal(request, refused)
        except Conflict as taken:
            errors, status_code = _jwk_error(request, "taken", taken.detail), 409
        else:
            audited.object("key", saved.id)
            return back_to(
                request,
                f"/admin/instansi/{code}/kunci-publik?terdaftar={saved.id}",
                "flash.adminkeys.public_key_registered",
            )
    return await _public_key_page(
        request, admin, session, agency, typed=text, errors=errors, status_code=status_code
    )


def _key_id(text: str) -> uuid.UUID:
    """A key id from the path; anything else is a page that does not exist."""
    try:
        return uuid.UUID(text)
    except ValueError:
        raise NotFound(detail="No such public key") from None


async def _public_key(session: SessionDep, code: str, key_id: str) -> tuple[Agency, Any]:
    """The agency and its registered key ``key_id`` (404 when the agency has no such key)."""
    agency = await agencies.get_agency(session, code)
    wanted = _key_id(key_id)
    for key in await client_assertions.list_public_keys(session, agency):
        if key.id == wanted:
            return agency, key
    raise NotFound(detail=f"Agency {code} has no public key {key_id}")


@router.get("/instansi/{code}/kunci-publik/{key_id}/cabut", response_class=HTMLResponse)
async def public_key_revoke_confirm(
    request: Request,
    code: str,
    key_id: str,
    admin: SystemAdmin,
    session: SessionDep,
    audited: AuditDep,
) -> HTMLResponse:
    """What revoking the key stops, before it happens."""
    audited.action("public_key.read")
    agency, key = await _public_key(session, code, key_id)
    return admin_page(
        request,
        admin,
        "public_key_revoke.html",
        {"agency": agencies.agency_view(agency), "key": key},
    )


@router.post("/instansi/{code}/kunci-publik/{key_id}/cabut", response_class=HTMLResponse)
async def public_key_revoke(
    request: Request,
    code: str,
    key_id: str,
    admin: SystemAdmin,
    session: SessionDep,
    audited: AuditDep,
) -> RedirectResponse:
    """Revoke now: assertions signed with the key are refused from the next one on."""
    audited.action("public_key.revoke")
    agency = await agencies.get_agency(session, code)
    await client_assertions.revoke_public_key(
        session, agency=agency, key_id=_key_id(key_id), actor=admin.principal.actor
    )
    return back_to(
        request, f"/admin/instansi/{code}/kunci-publik", "flash.adminkeys.public_key_revoked"
    )


# --- The service's signing keys -----------------------------------------------------------


@router.get("/kunci-penandatangan", response_class=HTMLResponse)
async def signing_key_list(
    request: Request,
    admin: SystemAdmin,
    session: SessionDep,
    settings: SettingsDep,
    audited: AuditDep,
) -> HTMLResponse:
    """The keys that sign and verify access tokens: next, current and the retired ones."""
    audited.action("signing_key.list")
    keys = await signing_keys.signing_key_statuses(session, settings)
    return admin_page(request, admin, "signing_keys.html", {"keys": keys})


@router.get("/kunci-penandatangan/rotasi", response_class=HTMLResponse)
async def signing_key_rotate_confirm(
    request: Request,
    admin: SystemAdmin,
    session: SessionDep,
    settings: SettingsDep,
    audited: AuditDep,
) -> HTMLResponse:
    """What a rotation does to the keys and to the tokens already issued, before it happens."""
    audited.action("signing_key.read")
    keys = await signing_keys.signing_key_statuses(session, settings)
    return admin_page(
        request,
        admin,
        "signing_rotate.html",
        {
            "current": next((k for k in keys if k.key.state == "current"), None),
            "waiting": next((k for k in keys if k.key.state == "next"), None),
            "token_minutes": max(1, settings.access_token_ttl_seconds // 60),
        },
    )


@router.post("/kunci-penandatangan/rotasi", response_class=HTMLResponse)
async def signing_key_rotate(
    request: Request,
    admin: SystemAdmin,
    session: SessionDep,
    settings: SettingsDep,
    audited: AuditDep,
) -> RedirectResponse:
    """Rotate: next becomes current, current retires (it keeps verifying its tokens until they
    expire), a new next is published."""
    audited.action("signing_key.rotate")
    await signing_keys.rotate_signing_keys(session, settings, actor=admin.principal.actor)
    return back_to(request, "/admin/kunci-penandatangan", "flash.adminkeys.signing_rotated")
