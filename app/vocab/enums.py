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
