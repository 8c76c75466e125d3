"""The moving window: burst, refusal with the wait, one window per (agency, budget)."""

from __future__ import annotations

import asyncio
import threading
import uuid

import pytest

from app.services import rate_limits
from app.services.rate_limits import Budget, Limit, RateLimits, Verdict, storage_for


def limits() -> RateLimits:
    return RateLimits(
        {
            Budget.INGEST: Limit(rate=0.5, burst=2),
            Budget.READS: Limit(rate=10, burst=3),
            Budget.SCREENING: Limit(rate=1, burst=1),
        }
    )


async def take(buckets: RateLimits, agency: uuid.UUID, budget: Budget) -> Verdict:
    verdict = await buckets.take(agency, budget)
    assert verdict is not None
    return verdict


def test_window_is_burst_over_rate_and_at_least_a_second() -> None:
    assert Limit(rate=20, burst=200).window_seconds() == 10
    assert Limit(rate=0.5, burst=2).window_seconds() == 4
    assert Limit(rate=10, burst=3).window_seconds() == 1


async def test_burst_then_refusal_with_the_wait_until_the_next_request() -> None:
    buckets = limits()
    agency = uuid.uuid4()
    first = await take(buckets, agency, Budget.INGEST)
    second = await take(buckets, agency, Budget.INGEST)
    third = await take(buckets, agency, Budget.INGEST)
    assert (first.allowed, first.remaining) == (True, 1)
    assert (second.allowed, second.remaining) == (True, 0)
    assert not third.allowed
    assert 3 <= third.retry_after_seconds <= 4  # the first request leaves the 4 s window
    assert third.headers() == {
        "RateLimit-Limit": "2",
        "RateLimit-Remaining": "0",
        "RateLimit-Reset": str(third.reset_seconds),
        "Retry-After": str(third.retry_after_seconds),
    }
    assert "Retry-After" not in first.headers()


async def test_the_window_frees_requests_as_it_moves() -> None:
    buckets = limits()
    agency = uuid.uuid4()
    assert (await take(buckets, agency, Budget.SCREENING)).allowed
    assert not (await take(buckets, agency, Budget.SCREENING)).allowed
    await asyncio.sleep(1.1)
    assert (await take(buckets, agency, Budget.SCREENING)).allowed


async def test_budgets_and_agencies_do_not_share_windows() -> None:
    buckets = limits()
    noisy, quiet = uuid.uuid4(), uuid.uuid4()
    assert (await take(buckets, noisy, Budget.SCREENING)).allowed
    assert not (await take(buckets, noisy, Budget.SCREENING)).allowed
    assert (await take(buckets, noisy, Budget.READS)).allowed
    assert (await take(buckets, quiet, Budget.SCREENING)).allowed


async def test_switched_off_limits_answer_nothing() -> None:
    buckets = RateLimits({Budget.READS: Limit(1, 1)}, enabled=False)
    assert await buckets.take(uuid.uuid4(), Budget.READS) is None


async def test_an_unreachable_shared_store_lets_requests_through() -> None:
    # Nothing listens on port 1: the limit is skipped (and logged), the request is not refused.
    buckets = RateLimits({Budget.READS: Limit(1, 1)}, storage_url="redis://127.0.0.1:1/0")
    assert await buckets.take(uuid.uuid4(), Budget.READS) is None


def test_an_unknown_store_is_refused_naming_the_setting() -> None:
    with pytest.raises(ValueError, match="SINERGI_RATE_LIMIT_STORAGE_URL"):
        storage_for("memcached://127.0.0.1:11211")


async def test_requests_spaced_apart_start_no_thread_and_old_entries_are_still_dropped(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The library's memory storage started a timer thread whenever its last had fired (10 ms
    after a hit): most requests under moderate load. Entries that left their window are still
    dropped, by a later request."""
    started: list[threading.Thread] = []
    start = threading.Thread.start

    def counted(thread: threading.Thread) -> None:
        started.append(thread)
        start(thread)

    buckets = limits()  # made first: the library's own timer, once
    monkeypatch.setattr(threading.Thread, "start", counted)
    monkeypatch.setattr(rate_limits, "EXPIRY_SECONDS", 0.0, raising=False)
    agency = uuid.uuid4()
    for _ in range(5):
        assert (await take(buckets, agency, Budget.SCREENING)).remaining == 0
        await asyncio.sleep(1.05)  # the screening window (1 s) moves past the last request
    assert started == []
    await take(buckets, uuid.uuid4(), Budget.READS)
    storage = buckets._local.storage if buckets._local else None
    assert storage is not None
    assert sum(len(events) for events in storage.events.values()) == 1  # the read's only


def test_a_library_without_the_expiry_hooks_gets_its_own_storage(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """``InlineExpiryStorage`` overrides two private names of ``limits``' memory storage: a
    release that renamed them must cost the timer thread again, not every request an error."""
    assert type(rate_limits.memory_storage()) is rate_limits.InlineExpiryStorage
    monkeypatch.setattr(
        rate_limits, "_EXPIRY_HOOKS", ("_MemoryStorage__schedule_expiry", "_renamed_expire")
    )
    assert type(rate_limits.memory_storage()) is rate_limits.MemoryStorage
