"""Re-indexing stored persons when the blocking keys change (`sinergi dedup rekey`).

Blocking keys are computed when a person is stored. A release that changes ``blocking_keys``
(a new key kind, a better phonetic rule) leaves earlier persons indexed the old way: new
reports would not meet them under the new keys. Re-keying recomputes every stored person's keys
from its stored features, batch by batch, each batch in its own transaction, so ingest can go on
meanwhile. It is idempotent: a second run changes nothing.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.db import transaction
from app.matching.features_json import features_from_json
from app.matching.scoring import blocking_keys
from app.models.report import ReportPerson
from app.models.resolution import PersonKey
from app.repositories import resolution as repo


@dataclass
class RekeyResult:
    persons: int = 0
    """Stored persons whose features were read."""
    changed: int = 0
    """Persons whose keys differed from what their features give now."""
    keys_added: int = 0
    keys_removed: int = 0


async def _batch(
    session: AsyncSession, after: uuid.UUID | None, size: int, dry_run: bool, result: RekeyResult
) -> uuid.UUID | None:
    """Re-key the next ``size`` persons after ``after`` (by id); the last id, None when done."""
    query = select(ReportPerson.id, ReportPerson.features)
    if after is not None:
        query = query.where(ReportPerson.id > after)
    rows = (await session.execute(query.order_by(ReportPerson.id).limit(size))).all()
    if not rows:
        return None
    ids: list[uuid.UUID] = [person_id for person_id, _ in rows]
    held: dict[uuid.UUID, set[str]] = {person_id: set() for person_id in ids}
    stored = await session.execute(
        select(PersonKey.report_person_id, PersonKey.key).where(PersonKey.report_person_id.in_(ids))
    )
    for person_id, key in stored.all():
        held[person_id].add(key)
    for person_id, features in rows:
        result.persons += 1
        # A person whose identity retention removed must not be found under any key.
        wanted = set(blocking_keys(features_from_json(features))) if features else set()
        stale, missing = held[person_id] - wanted, wanted - held[person_id]
        if not stale and not missing:
            continue
        result.changed += 1
        result.keys_removed += len(stale)
        result.keys_added += len(missing)
        if dry_run:
            continue
        if stale:
            await session.execute(
                delete(PersonKey).where(
                    PersonKey.report_person_id == person_id, PersonKey.key.in_(stale)
                )
            )
        repo.add_keys(session, person_id, sorted(missing))
    return ids[-1]


async def rekey(
    sessions: async_sessionmaker[AsyncSession],
    *,
    batch_size: int = 1000,
    dry_run: bool = False,
    progress: Callable[[RekeyResult], None] | None = None,
) -> RekeyResult:
    """Bring every stored person's blocking keys in line with ``blocking_keys``, batch by batch."""
    result = RekeyResult()
    after: uuid.UUID | None = None
    while True:
        async with transaction(sessions) as session:
            after = await _batch(session, after, batch_size, dry_run, result)
        if progress is not None:
            progress(result)
        if after is None:
            return result
