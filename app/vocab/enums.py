"""Enumerations every layer shares (models store them, schemas publish them, the API checks them).

They live here, below every layer, so the API and the console never import app/models for them.
"""

from __future__ import annotations

from enum import StrEnum


class AgencyKind(StrEnum):
    IMMIGRATION = "IMMIGRATION"
    POLICE = "POLICE"
    MIGRANT_WORKER_PROTECTION = "MIGRANT_WORKER_PROTECTION"
    MANPOWER = "MANPOWER"
    PROSECUTOR = "PROSECUTOR"
    NAVY = "NAVY"
    PORT_AUTHORITY = "PORT_AUTHORITY"
    SOCIAL_SERVICES = "SOCIAL_SERVICES"
    LOCAL_GOVERNMENT = "LOCAL_GOVERNMENT"
    OTHER = "OTHER"


class Scope(StrEnum):
    """What a token may do; an agency's record grants a set of these."""

    REPORTS_WRITE = "reports:write"
    REPORTS_READ = "reports:read"
    INBOX_READ = "inbox:read"
    SCREENING_QUERY = "screening:query"
    ADMIN = "admin"


class OfficerRole(StrEnum):
    """What an officer may do; never more than their agency's token may."""

    #: Submit, read, screen, watch, acknowledge.
    OFFICER = "OFFICER"
    #: An officer who also reviews possible matches, merges and splits (in an admin agency).
    ANALYST = "ANALYST"
    #: An officer who also manages the officers and API keys of their own agency.
    AGENCY_ADMIN = "AGENCY_ADMIN"
    #: Everything the ADMIN agency's token can do (only in an agency with the admin scope).
    SYSTEM_ADMIN = "SYSTEM_ADMIN"


#: Roles that must sign in with a second factor (TOTP), whatever the settings say.
TOTP_REQUIRED_ROLES = frozenset({OfficerRole.AGENCY_ADMIN, OfficerRole.SYSTEM_ADMIN})


class SessionStage(StrEnum):
    #: Signed in with a setup code, or TOTP still to enrol: may only finish the setup.
    SETUP = "setup"
    #: Fully signed in: acts for the agency within the role.
    ACTIVE = "active"
