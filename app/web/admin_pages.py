"""The administrators' console: agencies, their officers and their API keys (issue 19).

The pages call the same services as ``/v1/admin`` with the same role rules: a SYSTEM_ADMIN
(an officer whose principal carries the admin scope) manages every agency; an AGENCY_ADMIN only
their own (``agencies.get_managed_agency`` answers 404 for any other); every other officer gets
the console's 404 on every admin page, as for a page that does not exist. Every POST needs the
session's CSRF token (``get_principal`` checks it; the forms carry it as ``csrf_token``).
"""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from pydantic import ValidationError
from starlette.datastructures import FormData

from app.api.deps import SessionDep, SettingsDep
from app.errors import Conflict, FieldProblem, NotFound
from app.schemas.agency import AgencyCreate, AgencyRead, AgencyUpdate, ApiKeyIssue, ApiKeyRotate
from app.schemas.officer import OfficerCreate
from app.services import agencies, api_keys, officers
from app.services.officers import OfficerDraft, officer_view, setup_view
from app.vocab.code_lists import REGIONS, code_list
from app.vocab.enums import AgencyKind, OfficerRole, Scope
from app.web.admin_common import (
    AdminOfficer,
    Manager,
    SystemAdmin,
    admin_page,
    back_to,
    form_text,
    invalid_form,
    plain_errors,
    whole_number,
)
from app.web.forms import NO_ERRORS, FormErrors

router = APIRouter(prefix="/admin", include_in_schema=False)


# --- Agencies (SYSTEM_ADMIN) -------------------------------------------------------------


@router.get("", response_class=HTMLResponse)
async def start(admin: Manager) -> RedirectResponse:
    """The admin console's front page: the agencies (system admins) or one's own agency."""
    if admin.is_system_admin:
        return RedirectResponse("/admin/instansi", status_code=303)
    return RedirectResponse(f"/admin/instansi/{admin.principal.agency_code}", status_code=303)


@router.get("/instansi", response_class=HTMLResponse)
async def agency_list(request: Request, admin: SystemAdmin, session: SessionDep) -> HTMLResponse:
    """Every registered agency by code, active or not."""
    rows: list[Any] = []
    after: str | None = None
    while True:
        page = await agencies.list_agencies(session, after_code=after, limit=200)
        rows += [agencies.agency_view(a) for a in page]
        if len(page) < 200:
            break
        after = page[-1].code
    regions = code_list(REGIONS)
    return admin_page(request, admin, "agencies.html", {"agencies": rows, "regions": regions})


def _agency_form(
    request: Request,
    admin: AdminOfficer,
    typed: dict[str, Any],
    errors: FormErrors,
    *,
    status_code: int = 200,
    editing: AgencyRead | None = None,
) -> HTMLResponse:
    """The registration form, or with ``editing`` the same form to change that agency."""
    return admin_page(
        request,
        admin,
        "agency_new.html",
        {
            "typed": typed,
            "errors": errors,
            "kinds": [k.value for k in AgencyKind],
            "regions": code_list(REGIONS).codes,
            "editing": editing,
            "scopes": [s.value for s in Scope],
        },
        status_code=status_code,
    )


def _agency_typed(form: FormData) -> tuple[dict[str, Any], dict[str, str | None]]:
    """What the agency form holds, as typed (to show again), and its contact part."""
    typed: dict[str, Any] = {
        name: form_text(form, name) for name in ("code", "name", "kind", "region_code")
    }
    contact = {k: form_text(form, f"contact_{k}") for k in ("name", "email", "phone")}
    typed.update({f"contact_{k}": v for k, v in contact.items()})
    typed["scopes"] = [v for v in form.getlist("scopes") if isinstance(v, str)]
    return typed, contact


@router.get("/instansi/baru", response_class=HTMLResponse)
async def agency_new(request: Request, admin: SystemAdmin) -> HTMLResponse:
    """The form to register an agency."""
    return _agency_form(request, admin, {}, NO_ERRORS)


@router.post("/instansi/baru", response_class=HTMLResponse, response_model=None)
async def agency_create(
    request: Request, admin: SystemAdmin, session: SessionDep
) -> HTMLResponse | RedirectResponse:
    """Register the agency, or show the form again with each problem beside its field."""
    typed, contact = _agency_typed(await request.form())
    body: dict[str, Any] = {k: typed[k] for k in ("code", "name", "kind", "region_code")}
    if any(contact.values()):
        body["contact"] = contact
    try:
        data = AgencyCreate.model_validate(body)
        agency = await agencies.create_agency(session, data)
    except ValidationError as invalid:
        return _agency_form(request, admin, typed, invalid_form(request, invalid), status_code=422)
    except Conflict as taken:
        problems = [FieldProblem("/code", taken.detail or "taken", "taken")]
        errors = plain_errors(request, problems, "taken")
        return _agency_form(request, admin, typed, errors, status_code=409)
    return back_to(request, f"/admin/instansi/{agency.code}", "flash.admin.agency_created")


@router.get("/instansi/{code}", response_class=HTMLResponse)
async def agency_detail(
    request: Request, code: str, admin: Manager, session: SessionDep
) -> HTMLResponse:
    """One agency: its facts and the way to its officers and keys."""
    agency = await agencies.get_managed_agency(session, admin.principal, code)
    region = code_list(REGIONS).get(agency.region_code) if agency.region_code else None
    return admin_page(
        request,
        admin,
        "agency.html",
        {"agency": agencies.agency_view(agency), "region": region},
    )


@router.get("/instansi/{code}/ubah", response_class=HTMLResponse)
async def agency_edit(
    request: Request, code: str, admin: SystemAdmin, session: SessionDep
) -> HTMLResponse:
    """The agency's name, kind, region, contact and scopes in the registration form, to change."""
    agency = agencies.agency_view(await agencies.get_agency(session, code))
    contact = agency.contact
    typed: dict[str, Any] = {
        "code": agency.code,
        "name": agency.name,
        "kind": agency.kind.value,
        "region_code": agency.region_code,
        "contact_name": contact.name if contact else None,
        "contact_email": contact.email if contact else None,
        "contact_phone": contact.phone if contact else None,
        "scopes": [str(scope) for scope in agency.scopes],
    }
    return _agency_form(request, admin, typed, NO_ERRORS, editing=agency)


@router.post("/instansi/{code}/ubah", response_class=HTMLResponse, response_model=None)
async def agency_change(
    request: Request, code: str, admin: SystemAdmin, session: SessionDep
) -> HTMLResponse | RedirectResponse:
    """Change the agency as ``PATCH /v1/admin/agencies/{code}`` does (the code never changes);
    an emptied region or contact is cleared; each problem is shown beside its field."""
    agency = agencies.agency_view(await agencies.get_agency(session, code))
    typed, contact = _agency_typed(await request.form())
    typed["code"] = agency.code
    body: dict[str, Any] = {
        "name": typed["name"],
        "kind": typed["kind"],
        "region_code": typed["region_code"],
        "contact": contact if any(contact.values()) else None,
        "scopes": typed["scopes"],
    }
    try:
        await agencies.update_agency(session, code, AgencyUpdate.model_validate(body))
    except ValidationError as invalid:
        errors = invalid_form(request, invalid)
        return _agency_form(request, admin, typed, errors, status_code=422, editing=agency)
    except Conflict as refused:
        problems = [FieldProblem("/scopes", refused.detail or "refused", "conflict")]
        errors = plain_errors(request, problems, "conflict")
        return _agency_form(request, admin, typed, errors, status_code=409, editing=agency)
    return back_to(request, f"/admin/instansi/{code}", "flash.admin.agency_changed")


@router.get("/instansi/{code}/nonaktifkan", response_class=HTMLResponse)
async def agency_deactivate_confirm(
    request: Request, code: str, admin: SystemAdmin, session: SessionDep
) -> HTMLResponse:
    """What deactivation does, before it happens."""
    agency = await agencies.get_agency(session, code)
    return admin_page(
        request, admin, "agency_deactivate.html", {"agency": agencies.agency_view(agency)}
    )


@router.post("/instansi/{code}/nonaktifkan", response_class=HTMLResponse)
async def agency_deactivate(
    request: Request, code: str, admin: SystemAdmin, session: SessionDep
) -> RedirectResponse:
    """Deactivate: tokens refused at once, officers signed out, reports kept (409 for ADMIN)."""
    await agencies.deactivate_agency(session, code, actor=admin.principal.actor)
    return back_to(request, f"/admin/instansi/{code}", "flash.admin.agency_deactivated")


@router.post("/instansi/{code}/aktifkan", response_class=HTMLResponse)
async def agency_reactivate(
    request: Request, code: str, admin: SystemAdmin, session: SessionDep
) -> RedirectResponse:
    """Reactivate: its keys mint tokens again and its officers may sign in."""
    await agencies.update_agency(session, code, AgencyUpdate(active=True))
    return back_to(request, f"/admin/instansi/{code}", "flash.admin.agency_reactivated")


# --- Officers (SYSTEM_ADMIN: any agency; AGENCY_ADMIN: their own) --------------------------


@router.get("/instansi/{code}/petugas", response_class=HTMLResponse)
async def officer_list(
    request: Request, code: str, admin: Manager, session: SessionDep
) -> HTMLResponse:
    """The agency's officers: role, active, TOTP, locked, last sign-in."""
    agency = await agencies.get_managed_agency(session, admin.principal, code)
    rows = [officer_view(o, agency) for o in await officers.list_officers(session, agency)]
    return admin_page(
        request, admin, "officers.html", {"agency": agencies.agency_view(agency), "officers": rows}
    )


def _roles_for(admin: AdminOfficer) -> list[str]:
    """The roles the admin may give (SYSTEM_ADMIN only by system admins)."""
    return [
        r.value for r in OfficerRole if r is not OfficerRole.SYSTEM_ADMIN or admin.is_system_admin
    ]


@router.get("/instansi/{code}/petugas/baru", response_class=HTMLResponse)
async def officer_new(
    request: Request, code: str, admin: Manager, session: SessionDep
) -> HTMLResponse:
    """The form to create an officer."""
    agency = await agencies.get_managed_agency(session, admin.principal, code)
    return admin_page(
        request,
        admin,
        "officer_new.html",
        {
            "agency": agencies.agency_view(agency),
            "typed": {"role": OfficerRole.OFFICER.value},
            "errors": NO_ERRORS,
            "roles": _roles_for(admin),
        },
    )


@router.post("/instansi/{code}/petugas/baru", response_class=HTMLResponse)
async def officer_create(
    request: Request, code: str, admin: Manager, session: SessionDep, settings: SettingsDep
) -> HTMLResponse:
    """Create the officer and show the one-time setup code (once: it is not stored in clear)."""
    agency = await agencies.get_managed_agency(session, admin.principal, code)
    form = await request.form()
    typed = {
        name: form_text(form, name) for name in ("username", "full_name", "role", "nip", "email")
    }
    try:
        body = OfficerCreate.model_validate(typed)
        officers.check_may_give_role(admin.principal, body.role)
        setup = await officers.create_officer(
            session,
            settings,
            agency,
            OfficerDraft(
                username=body.username,
                full_name=body.full_name,
                role=body.role,
                nip=body.nip,
                email=body.email,
            ),
            actor=admin.principal.actor,
        )
    except (ValidationError, Conflict) as refused:
        errors = (
            invalid_form(request, refused)
            if isinstance(refused, ValidationError)
            else plain_errors(
                request, [FieldProblem("/username", refused.detail or "", "taken")], "taken"
            )
        )
        return admin_page(
            request,
            admin,
            "officer_new.html",
            {
                "agency": agencies.agency_view(agency),
                "typed": typed,
                "errors": errors,
                "roles": _roles_for(admin),
            },
            status_code=422 if isinstance(refused, ValidationError) else 409,
        )
    return admin_page(
        request,
        admin,
        "setup_code.html",
        {
            "agency": agencies.agency_view(agency),
            "issued": setup_view(setup, agency),
            "reset": False,
        },
    )


#: The changes an officer's row offers, with the message each one leaves.
_OFFICER_CHANGES = {
    "nonaktifkan": "flash.admin.officer_disabled",
    "aktifkan": "flash.admin.officer_enabled",
    "buka-kunci": "flash.admin.officer_unlocked",
    "reset-totp": "flash.admin.officer_totp_reset",
}


@router.post(
    "/instansi/{code}/petugas/{username}/reset-sandi",
    response_class=HTMLResponse,
)
async def officer_reset_password(
    request: Request,
    code: str,
    username: str,
    admin: Manager,
    session: SessionDep,
    settings: SettingsDep,
) -> HTMLResponse:
    """Forget the password, end the sessions, show a new one-time setup code."""
    agency = await agencies.get_managed_agency(session, admin.principal, code)
    officers.check_may_manage(
        admin.principal, await officers.get_officer(session, agency, username)
    )
    setup = await officers.reset_password(
        session, settings, agency, username, actor=admin.principal.actor
    )
    return admin_page(
        request,
        admin,
        "setup_code.html",
        {
            "agency": agencies.agency_view(agency),
            "issued": setup_view(setup, agency),
            "reset": True,
        },
    )


@router.post("/instansi/{code}/petugas/{username}/{change}", response_class=HTMLResponse)
async def officer_change(
    request: Request, code: str, username: str, change: str, admin: Manager, session: SessionDep
) -> RedirectResponse:
    """Disable, enable, unlock or reset the second factor of one officer."""
    if change not in _OFFICER_CHANGES:
        raise NotFound(detail="No such page")
    agency = await agencies.get_managed_agency(session, admin.principal, code)
    officers.check_may_manage(
        admin.principal, await officers.get_officer(session, agency, username)
    )
    actor = admin.principal.actor
    if change in ("nonaktifkan", "aktifkan"):
        active = change == "aktifkan"
        await officers.set_active(session, agency, username, active=active, actor=actor)
    elif change == "buka-kunci":
        await officers.unlock(session, agency, username, actor=actor)
    else:
        await officers.reset_totp(session, agency, username, actor=actor)
    return back_to(request, f"/admin/instansi/{code}/petugas", _OFFICER_CHANGES[change])


# --- API keys (SYSTEM_ADMIN: any agency; AGENCY_ADMIN: their own) --------------------------


async def _key_list_page(
    request: Request,
    admin: AdminOfficer,
    session: SessionDep,
    settings: SettingsDep,
    code: str,
    *,
    typed: dict[str, Any] | None = None,
    errors: FormErrors = NO_ERRORS,
    status_code: int = 200,
) -> HTMLResponse:
    agency = await agencies.get_managed_agency(session, admin.principal, code)
    keys = await api_keys.list_api_keys(session, agency)
    return admin_page(
        request,
        admin,
        "keys.html",
        {
            "agency": agencies.agency_view(agency),
            "keys": keys,
            "expiring": {k.id for k in keys if api_keys.expires_soon(k, settings)},
            "warning_days": settings.api_key_expiry_warning_days,
            "typed": typed or {},
            "errors": errors,
        },
        status_code=status_code,
    )


@router.get("/instansi/{code}/kunci", response_class=HTMLResponse)
async def key_list(
    request: Request, code: str, admin: Manager, session: SessionDep, settings: SettingsDep
) -> HTMLResponse:
    """The agency's keys (prefix, created, last used, expiry, status) and the form to issue one."""
    return await _key_list_page(request, admin, session, settings, code)


@router.post("/instansi/{code}/kunci", response_class=HTMLResponse)
async def key_issue(
    request: Request, code: str, admin: Manager, session: SessionDep, settings: SettingsDep
) -> HTMLResponse:
    """Issue a key and show it once, with a copy button."""
    agency = await agencies.get_managed_agency(session, admin.principal, code)
    form = await request.form()
    typed = {"expires_in_days": form_text(form, "expires_in_days")}
    try:
        body = ApiKeyIssue.model_validate(
            {"expires_in_days": whole_number(form, "expires_in_days")}
        )
    except ValidationError as invalid:
        return await _key_list_page(
            request,
            admin,
            session,
            settings,
            code,
            typed=typed,
            errors=invalid_form(request, invalid),
            status_code=422,
        )
    try:
        issued = await api_keys.issue_api_key(
            session,
            secret_key=settings.secret_key,
            agency=agency,
            expires_at=api_keys.expiry_after(body.expires_in_days),
            actor=admin.principal.actor,
        )
    except Conflict as full:  # two keys are active already
        errors = plain_errors(request, [FieldProblem("", full.detail or "", "conflict")], "taken")
        return await _key_list_page(
            request, admin, session, settings, code, typed=typed, errors=errors, status_code=409
        )
    return admin_page(
        request,
        admin,
        "key_issued.html",
        {"agency": agencies.agency_view(agency), "issued": api_keys.issued_view(issued)},
    )


async def _live_key(session: SessionDep, admin: AdminOfficer, code: str, key_id: uuid.UUID) -> Any:
    """The agency and the listed key ``key_id`` of it (404 when the agency has no such key)."""
    agency = await agencies.get_managed_agency(session, admin.principal, code)
    for key in await api_keys.list_api_keys(session, agency):
        if key.id == key_id:
            return agency, key
    raise NotFound(detail=f"No API key {key_id} for {code}")


def _rotate_form(
    request: Request,
    admin: AdminOfficer,
    agency: Any,
    key: Any,
    settings: SettingsDep,
    typed: dict[str, Any],
    errors: FormErrors,
    *,
    status_code: int = 200,
) -> HTMLResponse:
    return admin_page(
        request,
        admin,
        "key_rotate.html",
        {
            "agency": agencies.agency_view(agency),
            "key": key,
            "typed": typed,
            "errors": errors,
            "default_grace": settings.api_key_rotation_grace_hours,
        },
        status_code=status_code,
    )


@router.get("/instansi/{code}/kunci/{key_id}/rotasi", response_class=HTMLResponse)
async def key_rotate_form(
    request: Request,
    code: str,
    key_id: uuid.UUID,
    admin: Manager,
    session: SessionDep,
    settings: SettingsDep,
) -> HTMLResponse:
    """Choose how long the old key keeps working after the new one is issued."""
    agency, key = await _live_key(session, admin, code, key_id)
    typed = {"grace_hours": str(settings.api_key_rotation_grace_hours)}
    return _rotate_form(request, admin, agency, key, settings, typed, NO_ERRORS)


@router.post("/instansi/{code}/kunci/{key_id}/rotasi", response_class=HTMLResponse)
async def key_rotate(
    request: Request,
    code: str,
    key_id: uuid.UUID,
    admin: Manager,
    session: SessionDep,
    settings: SettingsDep,
) -> HTMLResponse:
    """Issue the successor (shown once); the old key works until the grace period ends."""
    agency, key = await _live_key(session, admin, code, key_id)
    form = await request.form()
    typed = {"grace_hours": form_text(form, "grace_hours")}
    try:
        body = ApiKeyRotate.model_validate({"grace_hours": whole_number(form, "grace_hours")})
    except ValidationError as invalid:
        errors = invalid_form(request, invalid)
        return _rotate_form(request, admin, agency, key, settings, typed, errors, status_code=422)
    issued = await api_keys.rotate_api_key(
        session,
        secret_key=settings.secret_key,
        agency=agency,
        key_id=key_id,
        grace=api_keys.rotation_grace(settings, body.grace_hours),
        actor=admin.principal.actor,
    )
    return admin_page(
        request,
        admin,
        "key_issued.html",
        {
            "agency": agencies.agency_view(agency),
            "issued": api_keys.issued_view(issued),
            "rotated": key,
        },
    )


@router.get("/instansi/{code}/kunci/{key_id}/cabut", response_class=HTMLResponse)
async def key_revoke_confirm(
    request: Request, code: str, key_id: uuid.UUID, admin: Manager, session: SessionDep
) -> HTMLResponse:
    """What revoking stops, before it happens."""
    agency, key = await _live_key(session, admin, code, key_id)
    return admin_page(
        request, admin, "key_revoke.html", {"agency": agencies.agency_view(agency), "key": key}
    )


@router.post("/instansi/{code}/kunci/{key_id}/cabut", response_class=HTMLResponse)
async def key_revoke(
    request: Request, code: str, key_id: uuid.UUID, admin: Manager, session: SessionDep
) -> RedirectResponse:
    """Revoke now: tokens minted from the key are refused from the next request on."""
    agency = await agencies.get_managed_agency(session, admin.principal, code)
    await api_keys.revoke_api_key(
        session, agency=agency, key_id=key_id, actor=admin.principal.actor
    )
    return back_to(request, f"/admin/instansi/{code}/kunci", "flash.admin.key_revoked")
