"""What every admin page shares: who may open it, how it renders, how its forms are read.

An admin page takes ``Manager`` (a signed-in SYSTEM_ADMIN or AGENCY_ADMIN; an AGENCY_ADMIN is
further narrowed to their own agency by the service it calls) or ``SystemAdmin`` (SYSTEM_ADMIN
only). Anyone else gets the console's 404, as for a page that does not exist. Every POST needs
the session's CSRF token (``get_principal`` checks it; forms carry it as ``csrf_token``).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from pydantic import ValidationError
from starlette.datastructures import FormData

from app.api.deps import Principal, SettingsDep, get_principal, session_cookie_name
from app.errors import FieldProblem, NotFound, field_problems_from_validation
from app.services import officer_sessions
from app.vocab.enums import OfficerRole
from app.web.forms import FormErrors, field_id, form_errors
from app.web.messages import flash
from app.web.templating import catalogue_for, render


@dataclass(frozen=True)
class AdminOfficer:
    """The signed-in administrator: who they are and the CSRF token their forms carry."""

    principal: Principal
    csrf_token: str

    @property
    def is_system_admin(self) -> bool:
        return self.principal.is_admin


async def administrator(
    request: Request,
    settings: SettingsDep,
    principal: Annotated[Principal, Depends(get_principal)],
) -> AdminOfficer:
    """A signed-in SYSTEM_ADMIN or AGENCY_ADMIN; anyone else is answered 404
    (a role only narrows)."""
    cookie = request.cookies.get(session_cookie_name(settings))
    if cookie is None or principal.officer_id is None:
        raise NotFound(detail="The console is for officers signed in with a session")
    if not (principal.is_admin or principal.role is OfficerRole.AGENCY_ADMIN):
        raise NotFound(detail="No such page")
    return AdminOfficer(principal, officer_sessions.csrf_token(settings, cookie))


async def system_administrator(
    admin: Annotated[AdminOfficer, Depends(administrator)],
) -> AdminOfficer:
    """A SYSTEM_ADMIN (the admin scope); an AGENCY_ADMIN gets 404 here."""
    if not admin.is_system_admin:
        raise NotFound(detail="No such page")
    return admin


#: Manages one agency's officers and keys (any agency for system admins, else their own).
Manager = Annotated[AdminOfficer, Depends(administrator)]
#: Registers, deactivates and reactivates agencies.
SystemAdmin = Annotated[AdminOfficer, Depends(system_administrator)]


def admin_page(
    request: Request,
    admin: AdminOfficer,
    template: str,
    context: dict[str, Any],
    *,
    status_code: int = 200,
) -> HTMLResponse:
    """Render an admin page with the CSRF token for its forms (the header names the officer
    from the request, as on every console page)."""
    values: dict[str, Any] = {
        "admin": admin,
        "csrf_token": admin.csrf_token,
        "agency_tabs": AGENCY_TABS,
        "system_sections": SYSTEM_SECTIONS,
    }
    values.update(context)
    return render(request, f"pages/admin/{template}", values, status_code=status_code)


def back_to(request: Request, path: str, message: str) -> RedirectResponse:
    """After a change: back to the list, with a one-time message saying what happened."""
    response = RedirectResponse(path, status_code=303)
    flash(request, response, message)
    return response


def plain_errors(
    request: Request, problems: Iterable[FieldProblem], kind: str = "invalid"
) -> FormErrors:
    """The form's errors in plain words: ``admin.<kind>.<field id>`` when the catalogue has it,
    else the API's own message (the field is the same JSON pointer either way)."""
    words = catalogue_for(request)
    plain: list[FieldProblem] = []
    for problem in problems:
        key = f"admin.{kind}.{field_id(problem.pointer)}"
        plain.append(replace(problem, detail=words.text(key)) if words.has(key) else problem)
    return form_errors(plain)


def invalid_form(request: Request, invalid: ValidationError) -> FormErrors:
    return plain_errors(request, field_problems_from_validation(invalid.errors()))


def form_text(form: FormData, name: str) -> str | None:
    """A form field, trimmed; None when left empty (the schemas' "not given")."""
    value = form.get(name)
    if not isinstance(value, str):
        return None
    value = value.strip()
    return value or None


def whole_number(form: FormData, name: str) -> int | str | None:
    """A number field: the int typed, or the text as typed so the schema names what is wrong."""
    value = form_text(form, name)
    if value is None:
        return None
    return int(value) if value.isdecimal() and len(value) < 10 else value


@dataclass(frozen=True)
class AdminLink:
    """One entry of an admin menu: the path (after ``/admin`` or the agency's page) and the
    catalogue key of its label."""

    path: str
    label_key: str
    #: Shown to SYSTEM_ADMINs only (the API behind the page takes the ``Admin`` scope).
    system_only: bool = False


#: The tabs of an agency's admin pages (path after ``/admin/instansi/<code>``), in order.
#: A new per-agency admin page adds itself here.
AGENCY_TABS: tuple[AdminLink, ...] = (
    AdminLink("", "admin.tabs.summary"),
    AdminLink("/petugas", "admin.tabs.officers"),
    AdminLink("/kunci", "admin.tabs.keys"),
    AdminLink("/webhook", "admin.tabs.webhook"),
    AdminLink("/kunci-publik", "adminkeys.tab", system_only=True),
)

#: The SYSTEM_ADMIN's sections (path after ``/admin``), in order, shown above every admin
#: page they open. A new system-wide admin page adds itself here.
SYSTEM_SECTIONS: tuple[AdminLink, ...] = (
    AdminLink("/instansi", "admin.agencies.title"),
    AdminLink("/audit", "admin.sections.audit"),
    AdminLink("/pengiriman", "admin.sections.deliveries"),
    AdminLink("/kunci-penandatangan", "adminkeys.signing.section"),
    AdminLink("/aturan-rute", "admin.routing.title"),
    AdminLink("/tinjauan", "nav.review"),
)
