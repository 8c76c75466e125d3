"""The delivery worker (``sinergi worker``): pushes due deliveries to agencies' webhooks.

One round: claim a batch of due deliveries with a lease (a short transaction; on PostgreSQL
``FOR UPDATE SKIP LOCKED``, so any number of workers share the work), send each signed POST
*outside* any transaction, then record every attempt and its outcome (another short
transaction). A worker that dies mid-round leaves leases that expire after
``worker_lease_seconds``; another worker (or the restarted one) takes the deliveries over and
sends them again with the same ``webhook-id`` — at-least-once, receivers deduplicate.

Outcomes: 2xx delivered (and acked); 410 Gone disables the agency's endpoint (its deliveries
wait in the inbox until an admin sets the endpoint again); anything else is retried on the
schedule below with ±20 % jitter — ``Retry-After`` wins on 429 and 503 — and after the last
attempt the delivery is dead until an admin retries it. Agencies without an endpoint are
pull-only and never claimed; neither are deactivated agencies.

Order: per agency only the lowest pending sequence is sent, so a failing delivery holds back
the later ones until it succeeds or dies; a dead delivery no longer holds anything back (an
admin retry then arrives out of order, with its original sequence number).
"""

from __future__ import annotations

import asyncio
import contextlib
import email.utils
import logging
import os
import random
import signal
import socket
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta

import httpx
import orjson
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app import metrics
from app.config import Settings
from app.db import create_engine, create_session_factory, is_database_unavailable, transaction
from app.models.base import utcnow
from app.models.delivery import DeliveryAttempt, DeliveryStatus
from app.repositories import deliveries as repo
from app.services.delivery import envelope
from app.services.match_weights import (
    SelfCalibration,
    TermRecount,
    calibrate_if_due,
    recount_terms_if_due,
)
from app.services.recluster import recluster
from app.services.retention import run_retention
from app.services.webhooks import (
    Answer,
    Message,
    Verdict,
    post_signed,
    signing_secrets,
    verdict,
    webhook_client,
    webhook_id_of,
)

logger = logging.getLogger("sinergi.worker")

#: Delay before attempt n (n = 1, 2, …): now, 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h.
RETRY_SCHEDULE = (0, 5, 300, 1800, 7200, 18000, 36000, 36000)
MAX_ATTEMPTS = len(RETRY_SCHEDULE)
JITTER = 0.2
#: Longest ``Retry-After`` the worker honours.
MAX_RETRY_AFTER = timedelta(hours=24)


def retry_delay(attempts_made: int, rand: Callable[[], float] = random.random) -> timedelta | None:
    """Wait before the next attempt after ``attempts_made`` failures; ``None``: dead-letter."""
    if attempts_made >= MAX_ATTEMPTS:
        return None
    base = RETRY_SCHEDULE[attempts_made]
    return timedelta(seconds=base * (1 - JITTER + 2 * JITTER * rand()))


def parse_retry_after(value: str | None, now: datetime) -> timedelta | None:
    """``Retry-After`` as seconds or an HTTP date; bounded by :data:`MAX_RETRY_AFTER`."""
    if not value:
        return None
    value = value.strip()
    delay: timedelta | None
    if value.isdigit():
        delay = timedelta(seconds=int(value))
    else:
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        delay = max(when - now, timedelta(0))
    return min(delay, MAX_RETRY_AFTER)


@dataclass(frozen=True)
class Job:
    """A claimed delivery, as plain data the send step needs (no ORM outside transactions)."""

    delivery_id: uuid.UUID
    endpoint_id: uuid.UUID
    agency_id: uuid.UUID
    url: str
    secrets: tuple[str, ...]
    body: bytes
    attempts: int


#: The longest pause between attempts while the database is unreachable.
MAX_OUTAGE_BACKOFF_SECONDS = 30


class Worker:
    """Claims, sends and records deliveries; ``run`` loops until ``stop`` is set."""

    def __init__(
        self,
        settings: Settings,
        session_factory: async_sessionmaker[AsyncSession],
        *,
        client: httpx.AsyncClient | None = None,
        name: str | None = None,
        rand: Callable[[], float] = random.random,
    ) -> None:
        self.settings = settings
        self.session_factory = session_factory
        self.name = name or f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"
        self.rand = rand
        self._own_client = client is None
        self.client = client or webhook_client(settings)

    async def aclose(self) -> None:
        if self._own_client:
            await self.client.aclose()

    async def claim(self) -> list[Job]:
        now = utcnow()
        lease_until = now + timedelta(seconds=self.settings.worker_lease_seconds)
        jobs: list[Job] = []
        async with transaction(self.session_factory) as session:
            rows = await repo.claim_due(
                session,
                now=now,
                lease_until=lease_until,
                worker=self.name,
                limit=self.settings.worker_batch_size,
            )
            for delivery, endpoint in rows:
                jobs.append(
                    Job(
                        delivery_id=delivery.id,
                        endpoint_id=endpoint.id,
                        agency_id=delivery.agency_id,
                        url=endpoint.url,
                        secrets=tuple(signing_secrets(self.settings, endpoint, now)),
                        body=orjson.dumps(envelope(delivery)),
                        attempts=delivery.attempts,
                    )
                )
        return jobs

    async def send(self, job: Job) -> Answer:
        """POST one delivery (the URL checked again); never raises, never waits past the
        timeout."""
        message = Message(job.url, job.secrets, webhook_id_of(job.delivery_id), job.body)
        return await post_signed(self.client, self.settings, message)

    async def record(self, job: Job, outcome: Answer, session: AsyncSession) -> None:
        session.add(
            DeliveryAttempt(
                delivery_id=job.delivery_id,
                started_at=outcome.started_at,
                duration_ms=outcome.duration_ms,
                status_code=outcome.status_code,
                error=outcome.error,
                url=job.url,
                worker=self.name,
            )
        )
        now = utcnow()
        status = outcome.status_code
        counted = "retry"
        answered = verdict(status)
        if answered is Verdict.DELIVERED:
            counted = "delivered"
            values: dict[str, object] = {
                "status": DeliveryStatus.DELIVERED,
                "delivered_at": now,
                "acked_at": now,
                "attempts": job.attempts + 1,
                "last_error": None,
            }
        elif answered is Verdict.DISABLED:
            reason = f"The receiver answered 410 Gone at {now.isoformat()} to {job.url}"
            await repo.disable_endpoint(session, job.endpoint_id, now, reason)
            values = {"next_attempt_at": now, "last_error": "410 Gone: webhook disabled"}
            counted = "gone"
            logger.warning("webhook of agency %s disabled: 410 Gone", job.agency_id)
        else:
            attempts = job.attempts + 1
            delay = retry_delay(attempts, self.rand)
            if delay is not None and status in {429, 503}:
                delay = parse_retry_after(outcome.retry_after, now) or delay
            values = {"attempts": attempts, "last_error": outcome.error}
            if delay is None:
                values["status"] = DeliveryStatus.DEAD
                counted = "dead"
            else:
                values["next_attempt_at"] = now + delay
        if await repo.settle(session, job.delivery_id, self.name, values):
            metrics.count_after_commit(session, metrics.WEBHOOK_ATTEMPTS.labels(counted))
        else:
            logger.warning(
                "lease on delivery %s lost before its outcome was recorded", job.delivery_id
            )
        metrics.WEBHOOK_DURATION.labels(counted).observe(outcome.duration_ms / 1000)
        await session.flush()

    async def run_once(self) -> int:
        """One round; answers how many deliveries were attempted."""
        jobs = await self.claim()
        if not jobs:
            return 0
        outcomes = await asyncio.gather(*(self.send(job) for job in jobs))
        async with transaction(self.session_factory) as session:
            for job, outcome in zip(jobs, outcomes, strict=True):
                await self.record(job, outcome, session)
        return len(jobs)

    async def run(self, stop: asyncio.Event) -> None:
        """Rounds until ``stop`` is set; the round in progress finishes first."""
        logger.info("worker %s started", self.name)
        next_retention = time.monotonic()
        #: Rounds failed in a row because the database could not be reached.
        outage = 0
        # The first recluster pass one interval after start: a fleet of restarted workers does
        # not all walk the store at once.
        next_recluster = time.monotonic() + self.settings.recluster_interval_hours * 3600
        reclustering: asyncio.Task[None] | None = None
        next_terms = time.monotonic() + self.settings.term_check_interval_minutes * 60
        counting: asyncio.Task[None] | None = None
        while not stop.is_set():
            if (
                not outage
                and self.settings.retention_interval_hours
                and time.monotonic() >= next_retention
            ):
                next_retention = time.monotonic() + self.settings.retention_interval_hours * 3600
                await self._run_retention()
            if (
                not outage
                and self.settings.recluster_interval_hours
                and time.monotonic() >= next_recluster
                and (reclustering is None or reclustering.done())
            ):
                next_recluster = time.monotonic() + self.settings.recluster_interval_hours * 3600
                # Beside the deliveries, batch by batch: a pass over a large store takes minutes.
                reclustering = asyncio.create_task(self._run_recluster())
            if (
                not outage
                and (self.settings.term_recount_growth or self.settings.calibration_growth)
                and time.monotonic() >= next_terms
                and (counting is None or counting.done())
            ):
                next_terms = time.monotonic() + self.settings.term_check_interval_minutes * 60
                # Beside the deliveries: a count over a large store reads it page by page.
                counting = asyncio.create_task(self.check_weights())
            try:
                count = await self.run_once()
            except Exception as exc:
                count = 0
                if is_database_unavailable(exc):
                    if not outage:
                        logger.warning(
                            "worker %s: the database cannot be reached (%s); backing off up to "
                            "%d s between attempts until it returns",
                            self.name,
                            type(exc).__name__,
                            MAX_OUTAGE_BACKOFF_SECONDS,
                        )
                    outage += 1
                else:
                    logger.exception("worker round failed; retrying after the poll interval")
            else:
                if outage:
                    logger.warning(
                        "worker %s: the database is reachable again after %d failed attempts",
                        self.name,
                        outage,
                    )
                outage = 0
            if count == 0:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), self._pause(outage))
        for task in (reclustering, counting):
            if task is not None and not task.done():
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        logger.info("worker %s stopped", self.name)

    def _pause(self, outage: int) -> float:
        """The poll interval, doubled per round failed for want of the database (capped)."""
        poll = self.settings.worker_poll_seconds
        if not outage:
            return poll
        backoff: float = poll * 2.0 ** min(outage, 16)
        return min(backoff, max(poll, float(MAX_OUTAGE_BACKOFF_SECONDS)))

    async def _run_retention(self) -> None:
        """The retention purge on its schedule (UU PDP); a failure is logged, never fatal."""
        try:
            async with transaction(self.session_factory) as session:
                run = await run_retention(session, self.settings)
            purged = sum(len(p.object_ids) for p in run.purged.values())
            logger.info("retention: %d objects purged", purged)
        except Exception:
            logger.exception("retention run failed; it runs again at the next interval")

    async def _run_recluster(self) -> None:
        """The recluster pass on its schedule; a failure is logged, never fatal."""
        try:
            result = await recluster(
                self.session_factory, merge_threshold=self.settings.match_merge_threshold
            )
            logger.info(
                "recluster: %d persons, %d pairs scored, %d merges",
                result.persons,
                result.pairs,
                result.merges,
            )
        except Exception:
            logger.exception("recluster failed; it runs again at the next interval")

    async def check_weights(self) -> None:
        """The weights' schedule: calibrate if due, else recount the term frequencies if due
        (a calibration counts them too)."""
        if self.settings.calibration_growth:
            calibrated = await self.calibrate_if_due()
            if calibrated is not None and calibrated.stored:
                return
        if self.settings.term_recount_growth:
            await self.recount_terms_if_due()

    async def calibrate_if_due(self) -> SelfCalibration | None:
        """Calibrate the store's weights if due (``calibration_growth``), then re-score every
        stored person under them (a full recluster pass); a failure is logged, never fatal.
        ``None``: the check failed."""
        try:
            result = await calibrate_if_due(
                self.session_factory, growth=self.settings.calibration_growth
            )
        except Exception:
            logger.exception("calibration failed; it is checked again at the next interval")
            return None
        if not result.stored:
            if result.due:
                logger.info(
                    "calibration due over %d persons, not stored: %d candidate pairs (too few), "
                    "or another worker or an operator stored weights meanwhile",
                    result.persons,
                    result.pairs,
                )
            return result
        logger.info(
            "weights calibrated over %d persons (%d candidate pairs%s) and stored (before: %s)",
            result.persons,
            result.pairs,
            f"; households found in {', '.join(result.households)}: m learnt within pairs of "
            "one name"
            if result.households
            else "",
            "shipped"
            if result.calibrated_on is None
            else f"calibrated over {result.calibrated_on} persons",
        )
        try:
            # Records linked or held apart before are re-scored under the new weights.
            reclustered = await recluster(
                self.session_factory, merge_threshold=self.settings.match_merge_threshold, full=True
            )
        except Exception:
            logger.exception("recluster after calibration failed; the scheduled pass repairs")
            return result
        logger.info(
            "recluster after calibration: %d persons, %d pairs scored, %d merges",
            reclustered.persons,
            reclustered.pairs,
            reclustered.merges,
        )
        return replace(result, merges=reclustered.merges)

    async def recount_terms_if_due(self) -> TermRecount | None:
        """Count the store's term frequencies if due (``term_recount_growth``); a failure is
        logged, never fatal. ``None``: the check failed."""
        try:
            result = await recount_terms_if_due(
                self.session_factory, growth=self.settings.term_recount_growth
            )
        except Exception:
            logger.exception("term count failed; it is checked again at the next interval")
            return None
        if result.stored:
            logger.info(
                "term frequencies counted over %d persons and stored (before: %s)",
                result.term_persons,
                "none counted" if result.counted_on is None else f"{result.counted_on} persons",
            )
        elif result.due:
            logger.info(
                "term frequencies counted over %d persons, not stored: another worker or an "
                "operator stored weights meanwhile, or persons were removed",
                result.term_persons,
            )
        return result


async def run_worker(settings: Settings) -> None:
    """The ``sinergi worker`` process: run until SIGTERM or SIGINT, then stop gracefully."""
    engine = create_engine(settings)
    worker = Worker(settings, create_session_factory(engine))
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    try:
        await worker.run(stop)
    finally:
        await worker.aclose()
        await engine.dispose()
