"""Prometheus metrics: what an operator watches
(``GET /metrics``, ``sinergi worker --metrics-port``).

Counters live in the process that does the work: the API counts requests, ingest and dedup
outcomes; the worker counts webhook attempts and their latency. Outbox state
(pending and dead deliveries, the age of the oldest pending one) is read from the database at
scrape time, so every API replica reports the same, current values.

Labels are bounded: a route *template* (``/v1/reports/{report_id}``), never the raw path; no
agency codes or ids. Counts that depend on a transaction (a person linked, a report created)
are taken only when that transaction commits (:func:`count_after_commit`).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator
from datetime import datetime
from typing import Any

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    disable_created_metrics,
    generate_latest,
)
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.metrics_core import Metric
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session, SessionTransaction

__all__ = ["CONTENT_TYPE_LATEST"]

# No ``*_created`` series next to every counter: they only double the scrape.
disable_created_metrics()  # type: ignore[no-untyped-call]

#: Latency buckets (seconds) for API requests: most answers take milliseconds, ingest tens of them.
_REQUEST_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
#: Webhook attempts wait on the receiver, up to the webhook timeout.
_WEBHOOK_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)
#: The route label of a request no route matched (404s for arbitrary paths, scanners).
UNMATCHED_ROUTE = "(unmatched)"

HTTP_REQUESTS = Counter(
    "sinergi_http_requests",
    "HTTP requests answered, by method, route template and status code.",
    ["method", "route", "status"],
)
HTTP_DURATION = Histogram(
    "sinergi_http_request_duration_seconds",
    "Time to answer an HTTP request, by method, route template and status code.",
    ["method", "route", "status"],
    buckets=_REQUEST_BUCKETS,
)
INGEST = Counter(
    "sinergi_ingest_reports",
    "Submitted reports by outcome: created (201), replayed (200, same external_ref and body), "
    "rejected (invalid, conflicting or unreadable).",
    ["outcome"],
)
DEDUP = Counter(
    "sinergi_dedup_persons",
    "Persons of ingested reports by resolution outcome: linked to a stored person, new, "
    "or new with a possible match recorded for review.",
    ["outcome"],
)
ENTITY_MERGES = Counter(
    "sinergi_dedup_entity_merges",
    "Stored person entities merged into another by resolution, because one incoming person "
    "matched both surely (each merge is an undoable entity.merge action).",
)
INGEST_BATCH = Histogram(
    "sinergi_ingest_batch_requests",
    "Submissions and corrections committed together by one group commit (PostgreSQL); "
    "1 when a request ran alone.",
    buckets=(1, 2, 4, 8, 16, 32, 64),
)
WEBHOOK_ATTEMPTS = Counter(
    "sinergi_webhook_attempts",
    "Webhook POSTs by outcome: delivered, retry (failed, will be retried), dead (failed for "
    "the last time), gone (410: the endpoint was disabled).",
    ["outcome"],
)
WEBHOOK_DURATION = Histogram(
    "sinergi_webhook_attempt_duration_seconds",
    "Time a webhook POST took, from connect to the receiver's answer (or the timeout).",
    ["outcome"],
    buckets=_WEBHOOK_BUCKETS,
)

for outcome in ("created", "replayed", "rejected"):
    INGEST.labels(outcome)
for outcome in ("linked", "new", "review"):
    DEDUP.labels(outcome)
for outcome in ("delivered", "retry", "dead", "gone"):
    WEBHOOK_ATTEMPTS.labels(outcome)

#: HTTP statuses of ``POST /v1/reports`` and the ingest outcome each stands for.
_INGEST_OUTCOMES = {201: "created", 200: "replayed", 400: "rejected", 409: "rejected",
                    413: "rejected", 415: "rejected", 422: "rejected"}  # fmt: skip


def ingest_outcome(status: int) -> str | None:
    """The ingest outcome of a submission answered with ``status`` (``None``: not an outcome,
    such as 401 or 429, where the report was never looked at)."""
    return _INGEST_OUTCOMES.get(status)


# -- counting on commit ------------------------------------------------------------------------

_PENDING_KEY = "sinergi.metrics.pending"


def on_commit(session: AsyncSession | Session, record: Callable[[], None]) -> None:
    """Call ``record`` (say, a counter's ``inc``) once the session's transaction commits;
    never if it rolls back."""
    session.info.setdefault(_PENDING_KEY, []).append(record)


def count_after_commit(session: AsyncSession | Session, counter: Any) -> None:
    """Increment ``counter`` (a labelled child) once the session's transaction commits."""
    on_commit(session, counter.inc)


def pending_count(session: AsyncSession | Session) -> int:
    """How many records wait for the session's commit (see ``forget_pending_after``)."""
    return len(session.info.get(_PENDING_KEY, ()))


def forget_pending_after(session: AsyncSession | Session, count: int) -> None:
    """Drop the records added since ``pending_count`` answered ``count``: a savepoint that
    rolled back counts nothing, though the transaction around it may still commit."""
    pending = session.info.get(_PENDING_KEY)
    if pending:
        del pending[count:]


@event.listens_for(Session, "after_commit")
def _count_committed(session: Session) -> None:
    if session.in_nested_transaction():
        return  # a savepoint: the outer transaction may still roll back
    for record in session.info.pop(_PENDING_KEY, ()):
        record()


@event.listens_for(Session, "after_transaction_end")
def _forget_rolled_back(session: Session, transaction: SessionTransaction) -> None:
    if transaction.parent is None:
        session.info.pop(_PENDING_KEY, None)


# -- exposition ----------------------------------------------------------------------------------


class OutboxSnapshot:
    """The outbox as read at scrape time, as gauges."""

    def __init__(self, pending: int, dead: int, oldest_pending: datetime | None, now: datetime):
        self.pending = pending
        self.dead = dead
        self.lag = (now - oldest_pending).total_seconds() if oldest_pending else 0.0

    def collect(self) -> Iterator[Metric]:
        deliveries = GaugeMetricFamily(
            "sinergi_deliveries",
            "Deliveries by state: pending (waiting to be pulled, acked or pushed) and dead "
            "(retries exhausted, waiting for an admin).",
            labels=["state"],
        )
        deliveries.add_metric(["pending"], self.pending)
        deliveries.add_metric(["dead"], self.dead)
        yield deliveries
        yield GaugeMetricFamily(
            "sinergi_outbox_lag_seconds",
            "Age of the oldest pending delivery (0 when none is pending).",
            value=max(self.lag, 0.0),
        )


class _Together:
    """Several collectors exposed as one."""

    def __init__(self, collectors: Iterable[Collector]) -> None:
        self.collectors = list(collectors)

    def collect(self) -> Iterator[Metric]:
        for collector in self.collectors:
            yield from collector.collect()


def exposition(snapshot: OutboxSnapshot | None = None) -> bytes:
    """The text exposition of this process's metrics (all processes' under multiprocess mode)."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        source = CollectorRegistry()
        MultiProcessCollector(source)  # type: ignore[no-untyped-call]
    else:
        source = REGISTRY
    registry = CollectorRegistry(auto_describe=False)
    registry.register(_Together([source, *([snapshot] if snapshot else [])]))
    return generate_latest(registry)
