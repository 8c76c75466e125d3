"""Who is signed in, as the console's header shows it (name, agency, role, sign-out token)."""

from __future__ import annotations

from dataclasses import dataclass

from app.config import Settings
from app.services import officer_sessions
from app.services.officer_sessions import CurrentSession, SessionNames


@dataclass(frozen=True)
class Identity:
    """What the header says about who is signed in (and the token its sign-out form needs)."""

    officer: str
    username: str
    agency: str
    agency_code: str
    role: str
    csrf: str
    #: May open the analysts' review pages (``can_curate``: the role *and* the agency's scopes).
    curates: bool = False


def identity_of(current: CurrentSession | SessionNames, settings: Settings) -> Identity:
    """The header's identity for a live session (or its names, kept from earlier in the request)."""
    names = current.names() if isinstance(current, CurrentSession) else current
    return Identity(
        officer=names.full_name,
        username=names.username,
        agency=names.agency_name,
        agency_code=names.agency_code,
        role=names.role,
        csrf=officer_sessions.csrf_token(settings, names.token),
        curates=names.curates,
    )
