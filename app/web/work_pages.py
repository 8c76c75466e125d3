"""The officer's working pages: counter screening, the new-report form, the case page, watches.

Routes parse the form, call the same services as the API (with the same permission aliases, so
the same need-to-know, role narrowing and CSRF check) and render a template; they hold no rule
of their own. None of them is in the OpenAPI spec.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from pydantic import ValidationError
from starlette.datastructures import FormData

from app.api.audit_hook import AuditDep
from app.api.deps import (
    CSRF_FORM_FIELD,
    Screener,
    SessionDep,
    SettingsDep,
    session_cookie_name,
)
from app.api.screening import screening_settings
from app.config import Settings
from app.errors import FieldProblem, InvalidInput, field_problems_from_validation
from app.schemas.screening import PersonQuery, ScreeningIn
from app.services import officer_sessions, screening
from app.web.forms import NO_ERRORS, FormErrors, form_errors
from app.web.templating import catalogue_for, render

router = APIRouter(include_in_schema=False)

#: The fields of the counter screening form, in the order the officer types them.
SCREENING_FIELDS = ("full_name", "date_of_birth", "nik", "passport_number")


def typed_values(form: FormData, names: Iterable[str]) -> dict[str, str]:
    """What the officer typed in the fields ``names``, trimmed (kept to refill the form)."""
    values: dict[str, str] = {}
    for name in names:
        value = form.get(name)
        values[name] = value.strip() if isinstance(value, str) else ""
    return values


def filled(values: Mapping[str, str]) -> dict[str, str]:
    """The fields that hold something: an empty field is an absent one, as in the API."""
    return {name: value for name, value in values.items() if value}


_DAY_FIRST = re.compile(r"^(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})$")


def form_date(text: str) -> str:
    """A date as officers write it (14/03/1999, 14-3-1999, 14.03.1999) in ISO form; anything
    else unchanged, for the schema to accept (1999-03-14) or refuse beside the field."""
    found = _DAY_FIRST.match(text)
    if found is None:
        return text
    day, month, year = found.groups()
    return f"{year}-{int(month):02d}-{int(day):02d}"


def worded_errors(
    request: Request, problems: Iterable[FieldProblem], *, strip: str = "", whole: str = ""
) -> FormErrors:
    """The API's field problems for a form: pointers under ``strip`` re-rooted at the form,
    a problem about the whole object placed on the field ``whole``, each message in the
    officer's language when the catalogue words its code (the API's English otherwise)."""
    words = catalogue_for(request)
    placed: list[FieldProblem] = []
    for problem in problems:
        pointer = problem.pointer
        if strip and pointer.startswith(strip):
            pointer = pointer[len(strip) :]
        if not pointer and whole:
            pointer = whole
        key = f"screening.problem.{problem.code}"
        detail = words.text(key) if words.has(key) else problem.detail
        placed.append(FieldProblem(pointer, detail, problem.code, problem.location))
    return form_errors(placed)


def page(
    request: Request,
    settings: Settings,
    template: str,
    context: dict[str, Any],
    *,
    status_code: int = 200,
) -> HTMLResponse:
    """``render`` with what every working page's forms need: the session's CSRF token (for the
    hidden ``csrf_token`` field) and ``t_has`` (whether the catalogue words a code)."""
    cookie = request.cookies.get(session_cookie_name(settings))
    csrf = officer_sessions.csrf_token(settings, cookie) if cookie else ""
    words = catalogue_for(request)
    return render(
        request,
        template,
        {"csrf_token": csrf, "csrf_field": CSRF_FORM_FIELD, "t_has": words.has, **context},
        status_code=status_code,
    )


# --- counter screening (Pemeriksaan) ------------------------------------------------------------


def _screening_page(
    request: Request,
    settings: Settings,
    *,
    values: Mapping[str, str],
    errors: FormErrors = NO_ERRORS,
    result: Any = None,
    status_code: int = 200,
) -> HTMLResponse:
    return page(
        request,
        settings,
        "pages/screening/screening.html",
        {"values": values, "errors": errors, "result": result, "fields": SCREENING_FIELDS},
        status_code=status_code,
    )


@router.get("/pemeriksaan", response_class=HTMLResponse)
async def screening_form(
    request: Request, principal: Screener, settings: SettingsDep, audit: AuditDep
) -> HTMLResponse:
    """Pemeriksaan: the counter screening form, empty."""
    audit.action("console.screening.form")
    return _screening_page(request, settings, values=dict.fromkeys(SCREENING_FIELDS, ""))


@router.post("/pemeriksaan", response_class=HTMLResponse)
async def screening_check(
    request: Request,
    principal: Screener,
    session: SessionDep,
    settings: SettingsDep,
    audit: AuditDep,
) -> HTMLResponse:
    """Screen one person at the counter; nothing about them is stored, the query is audited."""
    audit.action("screening.query")
    values = typed_values(await request.form(), SCREENING_FIELDS)
    query = filled(values)
    if "date_of_birth" in query:
        query["date_of_birth"] = form_date(query["date_of_birth"])
    try:
        person = PersonQuery.model_validate(query)
    except ValidationError as invalid:
        problems = field_problems_from_validation(invalid.errors())
        return _screening_page(
            request,
            settings,
            values=values,
            errors=worded_errors(request, problems),
            status_code=422,
        )
    try:
        answer = await screening.screen(
            session,
            principal,
            ScreeningIn(persons=[person]),
            settings=screening_settings(settings),
        )
    except InvalidInput as invalid:
        errors = worded_errors(request, invalid.errors, strip="/persons/0", whole="/full_name")
        return _screening_page(request, settings, values=values, errors=errors, status_code=422)
    result = answer.results[0]
    audit.note("persons", "1")
    audit.note("persons_with_hits", "1" if result.hit else "0")
    audit.note("hits", str(len(result.hits)))
    return _screening_page(request, settings, values=values, result=result)
