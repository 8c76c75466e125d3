"""The console's public pages: about Sinergi, the language switch, and the API documentation.

Routes parse the request, call services and render a template; they hold no rule of their own.
None of them is in the OpenAPI spec (``include_in_schema=False``): the spec is the API's.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from sqlalchemy.ext.asyncio import AsyncSession

from app.api.deps import SessionDep
from app.services.agencies import member_agencies
from app.vocab.code_lists import REGIONS, code_list
from app.web.i18n import LANGUAGE_COOKIE, Language, language_from
from app.web.messages import flash
from app.web.paths import local_target
from app.web.security import API_DOCS_CSP
from app.web.templating import render

router = APIRouter(include_in_schema=False)

#: One year: the language an officer chose stays chosen on this browser.
LANGUAGE_COOKIE_MAX_AGE = 365 * 24 * 3600


@dataclass(frozen=True)
class MemberAgency:
    """What the about page shows of an agency: public facts, no contact person."""

    name: str
    kind: str
    region: str | None
    joined: datetime


async def _member_agencies(session: AsyncSession, language: Language) -> Sequence[MemberAgency]:
    """The active member agencies by name (the operator's ADMIN agency is not a member)."""
    regions = code_list(REGIONS)
    members: list[MemberAgency] = []
    for agency in await member_agencies(session):
        region = regions.get(agency.region_code) if agency.region_code else None
        members.append(
            MemberAgency(
                name=agency.name,
                kind=agency.kind,
                region=(region.label_id if language is Language.ID else region.label_en)
                if region
                else None,
                joined=agency.created_at,
            )
        )
    return sorted(members, key=lambda m: m.name.casefold())


@router.get("/tentang", response_class=HTMLResponse)
async def about(request: Request, session: SessionDep) -> HTMLResponse:
    """Tentang Sinergi: what the exchange is for and which agencies take part."""
    language = language_from(request.cookies.get(LANGUAGE_COOKIE))
    members = await _member_agencies(session, language)
    return render(request, "pages/about.html", {"members": members})


@router.post("/bahasa")
async def switch_language(
    request: Request,
    lang: Annotated[str, Form(max_length=8)],
    next_path: Annotated[str, Form(alias="next", max_length=2000)] = "/tentang",
) -> RedirectResponse:
    """Remember the chosen language in a cookie and go back to the page the switch was on."""
    language = language_from(lang)
    response = RedirectResponse(local_target(next_path, "/tentang"), status_code=303)
    response.set_cookie(
        LANGUAGE_COOKIE,
        language.value,
        max_age=LANGUAGE_COOKIE_MAX_AGE,
        path="/",
        httponly=True,
        samesite="lax",
        secure=request.url.scheme == "https",
    )
    flash(request, response, f"flash.language_changed.{language.value}")
    return response


@router.get("/docs", response_class=HTMLResponse)
async def swagger_ui(request: Request) -> HTMLResponse:
    """Swagger UI for the OpenAPI spec, from the package's own copy (works without internet)."""
    return render(
        request,
        "pages/swagger.html",
        {"spec_url": request.app.openapi_url},
        headers={"Content-Security-Policy": API_DOCS_CSP},
    )


@router.get("/redoc", response_class=HTMLResponse)
async def redoc(request: Request) -> HTMLResponse:
    """ReDoc for the OpenAPI spec, from the package's own copy (works without internet)."""
    return render(
        request,
        "pages/redoc.html",
        {"spec_url": request.app.openapi_url},
        headers={"Content-Security-Policy": API_DOCS_CSP},
    )
