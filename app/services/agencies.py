"""Agencies: register, read, update, deactivate, and bootstrap the admin agency."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from app.config import Settings
from app.errors import Conflict, NotFound
from app.models.agency import ADMIN_AGENCY_CODE, DEFAULT_AGENCY_SCOPES, Agency, AgencyKind, Scope
from app.repositories import agencies as agencies_repo
from app.schemas.agency import AgencyCreate, AgencyRead, AgencyUpdate, Contact
from app.services import api_keys
from app.services.audit import record_credential_event
from app.services.caller import Caller
from app.services.officers import end_agency_sessions
from app.services.signing_keys import ensure_signing_keys


async def get_agency(session: AsyncSession, code: str) -> Agency:
    """The agency with ``code``, or 404."""
    agency = await agencies_repo.by_code(session, code)
    if agency is None:
        raise NotFound(detail=f"No agency with code {code}")
    return agency


async def get_managed_agency(session: AsyncSession, caller: Caller, code: str) -> Agency:
    """The agency ``code`` when ``caller`` may manage it (admins: any; others: their own); 404."""
    if not caller.is_admin and code != caller.agency_code:
        raise NotFound(detail=f"No agency with code {code}")
    return await get_agency(session, code)


async def list_agencies(
    session: AsyncSession, *, after_code: str | None, limit: int
) -> Sequence[Agency]:
    return await agencies_repo.page(session, after_code=after_code, limit=limit)


async def member_agencies(session: AsyncSession) -> list[Agency]:
    """The active member agencies (the operator's ADMIN agency is not a member), by code."""
    members: list[Agency] = []
    after: str | None = None
    while True:
        page = await agencies_repo.page(session, after_code=after, limit=200)
        members += [a for a in page if a.active and a.code != ADMIN_AGENCY_CODE]
        if len(page) < 200:
            return members
        after = page[-1].code


async def create_agency(session: AsyncSession, data: AgencyCreate) -> Agency:
    """Register an agency; 409 when the code is taken."""
    if await agencies_repo.by_code(session, data.code) is not None:
        raise Conflict(detail=f"An agency with code {data.code} already exists")
    agency = Agency(
        id=uuid.uuid4(),
        code=data.code,
        name=data.name,
        kind=data.kind,
        region_code=data.region_code,
        contact_name=data.contact.name if data.contact else None,
        contact_email=data.contact.email if data.contact else None,
        contact_phone=data.contact.phone if data.contact else None,
        scopes=[str(s) for s in (data.scopes or DEFAULT_AGENCY_SCOPES)],
        active=True,
    )
    return await agencies_repo.add(session, agency)


async def update_agency(session: AsyncSession, code: str, data: AgencyUpdate) -> Agency:
    """Change the fields given in ``data``; the code never changes (it is the client id)."""
    agency = await get_agency(session, code)
    changes = data.changes()
    if "scopes" in changes:
        scopes: list[Scope] = changes.pop("scopes")
        if agency.code == ADMIN_AGENCY_CODE and Scope.ADMIN not in scopes:
            raise Conflict(detail="The ADMIN agency keeps the admin scope")
        agency.scopes = [str(s) for s in dict.fromkeys(scopes)]
    if "active" in changes:
        active: bool = changes.pop("active")
        if agency.code == ADMIN_AGENCY_CODE and not active:
            raise Conflict(detail="The ADMIN agency cannot be deactivated")
        agency.active = active
        if not active:
            await end_agency_sessions(session, agency)
    if "contact" in changes:
        contact: Contact | None = changes.pop("contact")
        agency.contact_name = contact.name if contact else None
        agency.contact_email = contact.email if contact else None
        agency.contact_phone = contact.phone if contact else None
    for name, value in changes.items():  # name, kind, region_code
        setattr(agency, name, value)
    await session.flush()
    return agency


async def deactivate_agency(
    session: AsyncSession, code: str, *, actor: str | None = None
) -> Agency:
    """Deactivate: the agency's tokens are refused from the next request, its keys mint nothing."""
    agency = await get_agency(session, code)
    if agency.code == ADMIN_AGENCY_CODE:
        raise Conflict(detail="The ADMIN agency cannot be deactivated")
    agency.active = False
    await end_agency_sessions(session, agency)  # its officers are signed out at once
    await session.flush()
    await record_credential_event(
        session,
        action="agency.deactivate",
        agency_code=agency.code,
        credential_id=None,
        outcome="success",
        detail={"actor": actor or "system"},
    )
    return agency


async def bootstrap_admin(session: AsyncSession, settings: Settings) -> api_keys.IssuedApiKey:
    """Create the ADMIN agency, its first API key and the first signing keys; 409 if it exists."""
    if await agencies_repo.by_code(session, ADMIN_AGENCY_CODE) is not None:
        raise Conflict(
            detail=(
                "The ADMIN agency already exists; issue a key with `sinergi admin issue-key ADMIN`"
            )
        )
    agency = Agency(
        id=uuid.uuid4(),
        code=ADMIN_AGENCY_CODE,
        name="Sinergi administrators",
        kind=AgencyKind.OTHER,
        scopes=[str(Scope.ADMIN)],
        active=True,
    )
    await agencies_repo.add(session, agency)
    await ensure_signing_keys(session, settings)
    return await api_keys.issue_api_key(
        session, secret_key=settings.secret_key, agency=agency, actor="bootstrap"
    )


def agency_view(agency: Agency) -> AgencyRead:
    """An agency row as the admin API answers it."""
    has_contact = any((agency.contact_name, agency.contact_email, agency.contact_phone))
    return AgencyRead(
        id=agency.id,
        code=agency.code,
        name=agency.name,
        kind=AgencyKind(agency.kind),
        region_code=agency.region_code,
        contact=Contact(
            name=agency.contact_name, email=agency.contact_email, phone=agency.contact_phone
        )
        if has_contact
        else None,
        scopes=list(agency.scopes),
        active=agency.active,
        created_at=agency.created_at,
        updated_at=agency.updated_at,
    )
