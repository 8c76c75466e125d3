"""Queries on officers and their sessions."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import delete, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.models.agency import Agency
from app.models.officer import Officer, OfficerSession


async def by_username(session: AsyncSession, username: str) -> Officer | None:
    result = await session.execute(select(Officer).where(Officer.username == username.lower()))
    return result.scalar_one_or_none()


async def by_id(session: AsyncSession, officer_id: uuid.UUID) -> Officer | None:
    return await session.get(Officer, officer_id)


async def of_agency(session: AsyncSession, agency_id: uuid.UUID) -> Sequence[Officer]:
    result = await session.execute(
        select(Officer).where(Officer.agency_id == agency_id).order_by(Officer.username)
    )
    return result.scalars().all()


async def add(session: AsyncSession, officer: Officer) -> Officer:
    session.add(officer)
    await session.flush()
    return officer


async def add_session(session: AsyncSession, record: OfficerSession) -> OfficerSession:
    session.add(record)
    await session.flush()
    return record


async def session_by_token_hash(
    session: AsyncSession, token_hash: str
) -> tuple[OfficerSession, Officer, Agency] | None:
    """The session with this token hash, its officer and agency (ended sessions included)."""
    result = await session.execute(
        select(OfficerSession, Officer, Agency)
        .join(Officer, Officer.id == OfficerSession.officer_id)
        .join(Agency, Agency.id == Officer.agency_id)
        .where(OfficerSession.token_hash == token_hash)
    )
    row = result.first()
    return (row[0], row[1], row[2]) if row else None


async def end_sessions_of_officer(
    session: AsyncSession,
    officer_id: uuid.UUID,
    at: datetime,
    *,
    keep: uuid.UUID | None = None,
) -> int:
    """End the officer's open sessions (but ``keep``); how many were open."""
    query = update(OfficerSession).where(
        OfficerSession.officer_id == officer_id, OfficerSession.ended_at.is_(None)
    )
    if keep is not None:
        query = query.where(OfficerSession.id != keep)
    result = await session.execute(
        query.values(ended_at=at).execution_options(synchronize_session=False)
    )
    return int(getattr(result, "rowcount", 0) or 0)


async def end_sessions_of_agency(session: AsyncSession, agency_id: uuid.UUID, at: datetime) -> int:
    officers = select(Officer.id).where(Officer.agency_id == agency_id).scalar_subquery()
    result = await session.execute(
        update(OfficerSession)
        .where(OfficerSession.officer_id.in_(officers), OfficerSession.ended_at.is_(None))
        .values(ended_at=at)
        .execution_options(synchronize_session=False)
    )
    return int(getattr(result, "rowcount", 0) or 0)


#: What a purged officer's name becomes (the row stays: the audit trail refers to its id).
REMOVED_NAME = "(removed)"


async def disabled_with_personal_data(session: AsyncSession, before: datetime) -> Sequence[Officer]:
    """Officers disabled before ``before`` whose name, NIP or e-mail is still stored."""
    result = await session.execute(
        select(Officer).where(
            Officer.active.is_(False),
            Officer.disabled_at < before,
            or_(
                Officer.full_name != REMOVED_NAME,
                Officer.nip.is_not(None),
                Officer.email.is_not(None),
            ),
        )
    )
    return result.scalars().all()


async def delete_sessions_over_before(session: AsyncSession, before: datetime) -> int:
    """Delete sessions that ended or expired before ``before`` (client address, user agent)."""
    result = await session.execute(
        delete(OfficerSession)
        .where(or_(OfficerSession.ended_at < before, OfficerSession.expires_at < before))
        .execution_options(synchronize_session=False)
    )
    return int(getattr(result, "rowcount", 0) or 0)
