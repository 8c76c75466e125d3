"""Per-agency rate limits: one token bucket per (agency, budget), held in this process.

Each budget (ingest, reads, screening) refills at ``rate`` tokens per second up to ``burst``;
a request takes one token or is refused with how long to wait. The state lives in memory, so
with several API replicas each enforces its own share; a shared store (Redis) would be needed
for one limit across replicas (see docs/configuration.md).
"""

from __future__ import annotations

import math
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum

from app.config import Settings


class Budget(StrEnum):
    """What a request spends: report writes, reads (reports, cases, inbox), or screenings."""

    INGEST = "ingest"
    READS = "reads"
    SCREENING = "screening"


@dataclass(frozen=True)
class Limit:
    rate: float
    """Tokens added per second."""
    burst: int
    """Bucket size: how many requests may arrive at once."""


@dataclass(frozen=True)
class Verdict:
    """The outcome of one request against its bucket, with what the RateLimit headers say."""

    allowed: bool
    limit: int
    remaining: int
    reset_seconds: int
    """Seconds until the bucket is full again."""
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


@dataclass
class _Bucket:
    tokens: float
    updated: float


class RateLimits:
    """Token buckets keyed by (agency, budget); not shared between processes."""

    def __init__(
        self,
        limits: dict[Budget, Limit],
        *,
        enabled: bool = True,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.limits = limits
        self.enabled = enabled
        self._clock = clock
        self._buckets: dict[tuple[uuid.UUID, Budget], _Bucket] = {}

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
        )

    def take(self, agency_id: uuid.UUID, budget: Budget) -> Verdict | None:
        """Spend one token of the agency's budget; None when limits are switched off."""
        if not self.enabled:
            return None
        limit = self.limits[budget]
        now = self._clock()
        bucket = self._buckets.get((agency_id, budget))
        if bucket is None:
            bucket = self._buckets[(agency_id, budget)] = _Bucket(float(limit.burst), now)
        bucket.tokens = min(float(limit.burst), bucket.tokens + (now - bucket.updated) * limit.rate)
        bucket.updated = now
        allowed = bucket.tokens >= 1.0
        if allowed:
            bucket.tokens -= 1.0
        retry_after = 0 if allowed else math.ceil((1.0 - bucket.tokens) / limit.rate)
        return Verdict(
            allowed=allowed,
            limit=limit.burst,
            remaining=math.floor(bucket.tokens),
            reset_seconds=math.ceil((limit.burst - bucket.tokens) / limit.rate),
            retry_after_seconds=max(retry_after, 0 if allowed else 1),
        )
