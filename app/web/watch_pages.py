"""Watches (*Pantauan*): the agency's watches, watching a person, removing a watch, and the
page of one watch with the times it fired.

Routes call ``app.services.watches``, the service of ``/v1/watches``, with the same permission
alias (``Screener``): another agency's watch, like one that does not exist, is the console's 404
page, and a hit names its report only while the officer's agency may read it.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from app.api.audit_hook import AuditDep
from app.api.deps import Principal, Screener, SessionDep, SettingsDep
from app.config import Settings
from app.errors import InvalidInput, NotFound, field_problems_from_validation
from app.schemas.screening import WatchIn
from app.services import watches
from app.web.forms import NO_ERRORS, FormErrors
from app.web.messages import flash
from app.web.report_form import form_date
from app.web.work_pages import SCREENING_FIELDS, answered, filled, page, typed_values, worded_errors

router = APIRouter(include_in_schema=False)

WATCHES = "/pantauan"
#: The person fields of the watch form (those of the screening form) and the note.
WATCH_FIELDS = (*SCREENING_FIELDS, "note")
Cursor = Annotated[str | None, Query(max_length=200)]


def _watch_id(text: str) -> uuid.UUID:
    """The watch id of the path; anything that is not one answers 404, like an unknown watch."""
    try:
        return uuid.UUID(text)
    except ValueError:
        raise NotFound(detail="No such watch") from None


async def _watches_page(
    request: Request,
    session: AsyncSession,
    settings: Settings,
    principal: Principal,
    *,
    cursor: str | None = None,
    values: Mapping[str, str] | None = None,
    errors: FormErrors = NO_ERRORS,
    status_code: int = 200,
) -> HTMLResponse:
    items, next_cursor = await watches.list_own(
        session, principal, cursor=cursor, limit=settings.max_page_size
    )
    return page(
        request,
        settings,
        "pages/watches/watches.html",
        {
            "watches": items,
            "next_cursor": next_cursor,
            "values": values or dict.fromkeys(WATCH_FIELDS, ""),
            "errors": errors,
        },
        status_code=status_code,
    )


@router.get(WATCHES, response_class=HTMLResponse)
async def watches_list(
    request: Request,
    principal: Screener,
    session: SessionDep,
    settings: SettingsDep,
    audit: AuditDep,
    cursor: Cursor = None,
) -> HTMLResponse:
    """Pantauan: the agency's watches with their new hits, and the form to watch a person."""
    audit.action("watch.list")
    return await _watches_page(request, session, settings, principal, cursor=cursor)


@router.post(WATCHES, response_class=HTMLResponse, response_model=None)
async def watches_create(
    request: Request,
    principal: Screener,
    session: SessionDep,
    settings: SettingsDep,
    audit: AuditDep,
) -> HTMLResponse | RedirectResponse:
    """Watch a person (typed here, or sent from a screening's answer)."""
    audit.action("watch.create")
    values = typed_values(await request.form(), WATCH_FIELDS)
    person = {k: v for k, v in filled(values).items() if k != "note"}
    if "date_of_birth" in person:
        person["date_of_birth"] = form_date(person["date_of_birth"])
    body = {"person": person, **({"note": values["note"]} if values["note"] else {})}
    try:
        watch = await watches.create(
            session,
            principal,
            WatchIn.model_validate(body),
            settings=watches.WatchSettings.of(settings),
        )
    except ValidationError as invalid:
        problems = field_problems_from_validation(invalid.errors())
        errors = worded_errors(request, problems, strip="/person", whole="/full_name")
    except InvalidInput as invalid:
        errors = worded_errors(request, invalid.errors, strip="/person", whole="/full_name")
    else:
        audit.object("watch", watch.id)
        response = RedirectResponse(WATCHES, status_code=303)
        flash(request, response, "flash.watch_created")
        return answered(audit, response)
    refused = await _watches_page(
        request, session, settings, principal, values=values, errors=errors, status_code=422
    )
    return answered(audit, refused)


@router.get(WATCHES + "/{watch_id}", response_class=HTMLResponse)
async def watch_hits(
    request: Request,
    watch_id: str,
    principal: Screener,
    session: SessionDep,
    settings: SettingsDep,
    audit: AuditDep,
    cursor: Cursor = None,
) -> HTMLResponse:
    """One watch and the times it fired, newest first (what ``GET /v1/watches/{id}/hits``
    answers); another agency's watch is the 404 page, as if it did not exist."""
    audit.action("watch.hits")
    wanted = _watch_id(watch_id)
    watch = await watches.read_own(session, principal, wanted)
    hits, next_cursor = await watches.hits(
        session, principal, wanted, cursor=cursor, limit=settings.max_page_size
    )
    audit.object("watch", watch.id)
    audit.object("delivery", *(hit.id for hit in hits))
    audit.object("report", *(hit.report_id for hit in hits if hit.report_id is not None))
    return page(
        request,
        settings,
        "pages/watches/watch.html",
        {
            "watch": watch,
            "hits": hits,
            "new_hits": [hit.id for hit in hits if hit.new],
            "next_cursor": next_cursor,
            "back": request.url.path,
        },
    )


@router.post(WATCHES + "/{watch_id}/hapus", response_model=None)
async def watches_remove(
    request: Request,
    watch_id: str,
    principal: Screener,
    session: SessionDep,
    audit: AuditDep,
) -> RedirectResponse:
    """Stop watching a person; another agency's watch answers 404, as if absent."""
    audit.action("watch.delete")
    watch = _watch_id(watch_id)
    audit.object("watch", watch)
    await watches.delete(session, principal, watch)
    response = RedirectResponse(WATCHES, status_code=303)
    flash(request, response, "flash.watch_removed")
    return answered(audit, response)
