"""Who is signed in, as the console's header shows it (name, agency, role, sign-out token)."""

from __future__ import annotations

from dataclasses import dataclass

from app.config import Settings
from app.services import officer_sessions
from app.services.officer_sessions import CurrentSession


@dataclass(frozen=True)
class Identity:
    """What the header says about who is signed in (and the token its sign-out form needs)."""

    officer: str
    username: str
    agency: str
    agency_code: str
    role: str
    csrf: str


def identity_of(current: CurrentSession, settings: Settings) -> Identity:
    """The header's identity for a live session."""
    return Identity(
        officer=current.officer.full_name,
        username=current.officer.username,
        agency=current.agency.name,
        agency_code=current.agency.code,
        role=current.officer.role,
        csrf=officer_sessions.csrf_token(settings, current.token),
    )
