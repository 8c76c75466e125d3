"""The token bucket: burst, refill at the rate, one bucket per (agency, budget)."""

from __future__ import annotations

import uuid

from app.services.rate_limits import Budget, Limit, RateLimits, Verdict


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def limits(clock: Clock) -> RateLimits:
    return RateLimits(
        {
            Budget.INGEST: Limit(rate=0.5, burst=2),
            Budget.READS: Limit(rate=10, burst=3),
            Budget.SCREENING: Limit(rate=1, burst=1),
        },
        clock=clock,
    )


def take(buckets: RateLimits, agency: uuid.UUID, budget: Budget) -> Verdict:
    verdict = buckets.take(agency, budget)
    assert verdict is not None
    return verdict


def test_burst_then_refusal_with_the_wait_until_the_next_token() -> None:
    clock = Clock()
    buckets = limits(clock)
    agency = uuid.uuid4()
    first = take(buckets, agency, Budget.INGEST)
    second = take(buckets, agency, Budget.INGEST)
    third = take(buckets, agency, Budget.INGEST)
    assert (first.allowed, first.remaining) == (True, 1)
    assert (second.allowed, second.remaining) == (True, 0)
    assert not third.allowed
    assert third.retry_after_seconds == 2  # one token every two seconds
    assert third.reset_seconds == 4  # two tokens to refill
    assert third.headers() == {
        "RateLimit-Limit": "2",
        "RateLimit-Remaining": "0",
        "RateLimit-Reset": "4",
        "Retry-After": "2",
    }
    assert "Retry-After" not in first.headers()

    clock.now += 2
    assert take(buckets, agency, Budget.INGEST).allowed
    clock.now += 100  # refill stops at the burst
    assert take(buckets, agency, Budget.INGEST).remaining == 1


def test_budgets_and_agencies_do_not_share_buckets() -> None:
    clock = Clock()
    buckets = limits(clock)
    noisy, quiet = uuid.uuid4(), uuid.uuid4()
    assert take(buckets, noisy, Budget.SCREENING).allowed
    assert not take(buckets, noisy, Budget.SCREENING).allowed
    assert take(buckets, noisy, Budget.READS).allowed
    assert take(buckets, quiet, Budget.SCREENING).allowed


def test_switched_off_limits_answer_nothing() -> None:
    buckets = RateLimits({Budget.READS: Limit(1, 1)}, enabled=False)
    assert buckets.take(uuid.uuid4(), Budget.READS) is None
