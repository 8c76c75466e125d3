"""Per-agency rate limits: one moving window per (agency, budget), kept by the ``limits`` library.

Each budget (ingest, reads, screening) allows ``burst`` requests in any window of
``burst / rate`` seconds (at least one second), so an agency may send its burst at once and then
``rate`` requests per second on average. The windows live in this process by default
(``SINERGI_RATE_LIMIT_STORAGE_URL=memory://``); with a shared store (``redis://host:6379/0``)
every API replica spends from the same budget, so N replicas do not give an agency N budgets.

When the shared store cannot be reached the request is let through and the failure logged:
a rate limit protects the service, and refusing every agency because Redis is down would turn
a degraded limit into an outage.

In this process, the library's synchronous memory storage is called straight from the event
loop: its check is a list lookup under a lock. Its asyncio twin starts a task per request that
expires old entries through ``asyncio.to_thread``, a thread hop per key, which cost a read some
7% of its CPU. Both run the same moving window, so verdicts and ``Retry-After`` are the same.
The synchronous storage's own expiry starts a ``threading.Timer`` thread 10 ms after a hit
whenever the last one has fired, most requests under moderate load (``InlineExpiryStorage``).
"""

from __future__ import annotations

import logging
import math
import time
import uuid
from dataclasses import dataclass
from enum import StrEnum

from limits import RateLimitItem, RateLimitItemPerSecond
from limits.aio.storage import Storage
from limits.aio.strategies import MovingWindowRateLimiter
from limits.storage import MemoryStorage, storage_from_string
from limits.strategies import MovingWindowRateLimiter as LocalMovingWindowRateLimiter

from app.config import Settings

logger = logging.getLogger(__name__)

#: What every key in a shared store starts with, so that a Redis shared with other programs can
#: tell Sinergi's keys apart (and an operator can delete them with one pattern).
KEY_PREFIX = "sinergi-rate-limit"


class Budget(StrEnum):
    """What a request spends: report writes, reads (reports, cases, inbox), or screenings."""

    INGEST = "ingest"
    READS = "reads"
    SCREENING = "screening"


@dataclass(frozen=True)
class Limit:
    rate: float
    """Requests per second on average."""
    burst: int
    """How many requests may arrive at once."""

    def window_seconds(self) -> int:
        """The moving window in which at most ``burst`` requests are allowed."""
        return max(1, math.ceil(self.burst / self.rate))

    def item(self) -> RateLimitItem:
        return RateLimitItemPerSecond(self.burst, self.window_seconds())


@dataclass(frozen=True)
class Verdict:
    """The outcome of one request against its budget, with what the RateLimit headers say."""

    allowed: bool
    limit: int
    remaining: int
    reset_seconds: int
    """Seconds until the window frees the next request."""
    retry_after_seconds: int
    """Seconds until the next request would be allowed (0 when allowed)."""

    def headers(self) -> dict[str, str]:
        """``RateLimit-*`` headers (IETF httpapi draft names), plus ``Retry-After`` on refusal."""
        headers = {
            "RateLimit-Limit": str(self.limit),
            "RateLimit-Remaining": str(self.remaining),
            "RateLimit-Reset": str(self.reset_seconds),
        }
        if not self.allowed:
            headers["Retry-After"] = str(self.retry_after_seconds)
        return headers


def storage_for(url: str, *, key_prefix: str = KEY_PREFIX) -> Storage:
    """The ``limits`` storage shared by replicas for a setting value: ``redis://host:port/db``."""
    scheme = url.split("://", 1)[0]
    if scheme not in {"redis", "rediss", "redis+unix"}:
        raise ValueError(
            f"SINERGI_RATE_LIMIT_STORAGE_URL: unsupported scheme {scheme!r} "
            "(use memory:// or redis://host:6379/0)"
        )
    storage = storage_from_string(f"async+{url}", key_prefix=key_prefix, wrap_exceptions=True)
    assert isinstance(storage, Storage)
    return storage


#: How often ``InlineExpiryStorage`` drops entries that left their window (seconds).
EXPIRY_SECONDS = 1.0


class InlineExpiryStorage(MemoryStorage):
    """The library's memory storage, whose old entries are dropped by the request that comes
    ``EXPIRY_SECONDS`` after the last drop, instead of by a new ``threading.Timer`` thread for
    most requests (~170 us of CPU each, measured, against ~11 us for the check itself).

    Dropping entries only frees memory: a verdict compares the entries' times with the window
    either way, so verdicts and headers are the library's.
    """

    def __init__(self) -> None:
        super().__init__()
        self._next_expiry = 0.0

    # The library's private hook, called by every hit and check (name-mangled in MemoryStorage).
    def _MemoryStorage__schedule_expiry(self) -> None:
        now = time.monotonic()
        if now >= self._next_expiry:
            self._next_expiry = now + EXPIRY_SECONDS
            self._MemoryStorage__expire_events()  # type: ignore[attr-defined]


#: The library's private names ``InlineExpiryStorage`` relies on (name-mangled in MemoryStorage).
_EXPIRY_HOOKS = ("_MemoryStorage__schedule_expiry", "_MemoryStorage__expire_events")


def memory_storage() -> MemoryStorage:
    """``InlineExpiryStorage`` while the library has the private hooks it overrides, the
    library's own storage (with its timer thread) if a later release renamed them: a renamed
    hook then costs CPU, never a request."""
    if all(callable(getattr(MemoryStorage, hook, None)) for hook in _EXPIRY_HOOKS):
        return InlineExpiryStorage()
    return MemoryStorage()


class RateLimits:
    """Moving windows keyed by (agency, budget), in memory or in a shared store."""

    def __init__(
        self,
        limits: dict[Budget, Limit],
        *,
        enabled: bool = True,
        storage_url: str = "memory://",
        key_prefix: str = KEY_PREFIX,
    ) -> None:
        self.limits = limits
        self._items = {budget: limit.item() for budget, limit in limits.items()}
        self.enabled = enabled
        self._local: LocalMovingWindowRateLimiter | None = None
        self._shared: MovingWindowRateLimiter | None = None
        if storage_url.split("://", 1)[0] == "memory":
            self._local = LocalMovingWindowRateLimiter(memory_storage())
        else:
            self._shared = MovingWindowRateLimiter(storage_for(storage_url, key_prefix=key_prefix))

    @classmethod
    def from_settings(cls, settings: Settings) -> RateLimits:
        return cls(
            {
                Budget.INGEST: Limit(
                    settings.rate_limit_ingest_rate, settings.rate_limit_ingest_burst
                ),
                Budget.READS: Limit(
                    settings.rate_limit_reads_rate, settings.rate_limit_reads_burst
                ),
                Budget.SCREENING: Limit(
                    settings.rate_limit_screening_rate, settings.rate_limit_screening_burst
                ),
            },
            enabled=settings.rate_limit_enabled,
            storage_url=settings.rate_limit_storage_url,
        )

    async def take(self, agency_id: uuid.UUID, budget: Budget) -> Verdict | None:
        """Spend one request of the agency's budget; None when limits are off or unreachable."""
        if not self.enabled:
            return None
        limit = self.limits[budget]
        item = self._items[budget]
        key = str(agency_id)
        try:
            if self._local is not None:
                allowed = self._local.hit(item, key, budget.value)
                stats = self._local.get_window_stats(item, key, budget.value)
            else:
                assert self._shared is not None
                allowed = await self._shared.hit(item, key, budget.value)
                stats = await self._shared.get_window_stats(item, key, budget.value)
        except Exception:  # the shared store is down or refused: let the request through
            logger.warning("rate limit store unreachable; request allowed", exc_info=True)
            return None
        wait = max(1, math.ceil(stats.reset_time - time.time()))
        return Verdict(
            allowed=allowed,
            limit=limit.burst,
            remaining=max(0, stats.remaining),
            reset_seconds=wait,
            retry_after_seconds=0 if allowed else wait,
        )
