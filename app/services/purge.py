"""What a retention purger is and reports, apart from the runner that calls every purger."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession


@dataclass(frozen=True)
class Purged:
    """What one purger removed: the type of the objects and their ids (never their contents)."""

    object_type: str
    object_ids: Sequence[str] = ()
    #: Non-personal facts worth keeping (``{"persons": "12"}``).
    detail: dict[str, str] = field(default_factory=dict)


#: A purger removes personal data last relevant before ``cutoff`` (it only flushes).
Purger = Callable[[AsyncSession, datetime], Awaitable[Purged]]
