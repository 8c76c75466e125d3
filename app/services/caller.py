"""Who is calling a service: the parts of an authenticated principal that the rules need."""

from __future__ import annotations

import uuid
from typing import Protocol


class Caller(Protocol):
    """An authenticated agency (``app.api.deps.Principal`` satisfies this)."""

    @property
    def agency_id(self) -> uuid.UUID: ...

    @property
    def agency_code(self) -> str: ...

    @property
    def is_admin(self) -> bool: ...
