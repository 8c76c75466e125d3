"""The console's Jinja2 environment and the one function routes render pages with."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache, partial
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape
from starlette.requests import Request
from starlette.responses import HTMLResponse

from app import __version__
from app.web.i18n import LANGUAGE_COOKIE, Catalogue, catalogue, language_from
from app.web.identity import identity_of
from app.web.messages import FLASH_COOKIE, take_flash
from app.web.reasons import reasons_in_words


@dataclass(frozen=True)
class NavItem:
    """One entry of the console's navigation: where it goes and the catalogue key of its label."""

    path: str
    label_key: str
    #: Shown only to a signed-in officer (the page needs one).
    signed_in: bool = False
    #: Shown only to officers with one of these roles (empty: every role).
    roles: tuple[str, ...] = ()
    #: Shown only to officers who may curate resolution (the role is not enough: an analyst of a
    #: member agency may not, and its pages answer 404).
    curators: bool = False

    def shown_to(self, identity: Any) -> bool:
        """Whether the menu offers this page to ``identity`` (None: signed out)."""
        if identity is None:
            return not self.signed_in and not self.roles and not self.curators
        if self.curators and not identity.curates:
            return False
        return not self.roles or identity.role in self.roles


#: The navigation bar, in order. A new page adds itself here (see app/web/README.md).
NAVIGATION: tuple[NavItem, ...] = (
    NavItem("/", "nav.home", signed_in=True),
    NavItem("/kotak-masuk", "nav.inbox", signed_in=True),
    NavItem("/pemeriksaan", "nav.screening", signed_in=True),
    NavItem("/laporan-baru", "nav.new_report", signed_in=True),
    NavItem("/pantauan", "nav.watches", signed_in=True),
    NavItem("/statistik", "nav.stats", signed_in=True),
    NavItem("/tinjauan", "nav.review", signed_in=True, curators=True),
    NavItem("/admin", "nav.admin", signed_in=True, roles=("AGENCY_ADMIN", "SYSTEM_ADMIN")),
    NavItem("/tentang", "nav.about"),
    NavItem("/docs", "nav.api_docs"),
    NavItem("/redoc", "nav.api_reference"),
)


@cache
def environment() -> Environment:
    """Templates from ``app/web/templates``, autoescaped, failing loudly on an undefined name."""
    env = Environment(
        loader=PackageLoader("app.web", "templates"),
        autoescape=select_autoescape(default=True, default_for_string=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.globals["version"] = __version__
    env.globals["navigation"] = NAVIGATION
    return env


def catalogue_for(request: Request) -> Catalogue:
    """The catalogue of the language the request's ``lang`` cookie names (Indonesian by default)."""
    return catalogue(language_from(request.cookies.get(LANGUAGE_COOKIE)))


def render(
    request: Request,
    template: str,
    context: dict[str, Any] | None = None,
    *,
    status_code: int = 200,
    headers: dict[str, str] | None = None,
) -> HTMLResponse:
    """The page ``template`` in the request's language, with the flash message if one is due.

    Every template gets ``t`` (a catalogue key to text), ``lang``, ``current_path``, ``messages``
    the formatting filters ``wib_date`` and ``wib_datetime``, and ``match_reasons`` (match
    reasons in words, app/web/reasons.py).
    """
    words = catalogue_for(request)
    flash = take_flash(request)
    values: dict[str, Any] = {
        "t": words.text,
        "lang": words.language.value,
        "wib_date": words.date,
        "wib_datetime": words.datetime,
        "match_reasons": partial(reasons_in_words, words),
        "current_path": request.url.path,
        "messages": [words.text(flash)] if flash and words.has(flash) else [],
        "identity": None,
    }
    values.update(context or {})
    current = getattr(request.state, "officer_names", None)
    if values["identity"] is None and current is not None:
        # a page authorized by the API's dependencies (cookie or token): the header still names
        # the signed-in officer and offers the working pages
        values["identity"] = identity_of(current, request.app.state.settings)
    html = environment().get_template(template).render(values)
    response = HTMLResponse(html, status_code=status_code, headers=headers)
    if flash:
        response.delete_cookie(FLASH_COOKIE, path="/")
    return response
