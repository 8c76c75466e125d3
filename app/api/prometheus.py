"""``GET /metrics`` (public, like the probes); the middleware that counts every request lives in
``app.api.middleware``."""

from __future__ import annotations

from fastapi import APIRouter, Response

from app import metrics
from app.api.deps import SessionDep
from app.api.route_class import SinergiRoute, operation_id
from app.services.delivery import outbox_snapshot

router = APIRouter(
    tags=["health"], route_class=SinergiRoute, generate_unique_id_function=operation_id
)


@router.get(
    "/metrics",
    summary="Prometheus metrics",
    description=(
        "Metrics in the Prometheus text format, for the operator's scraper: requests and "
        "latency by route template and status (`sinergi_http_*`), ingest outcomes "
        "(`sinergi_ingest_reports_total`), person resolution outcomes "
        "(`sinergi_dedup_persons_total`), pending and dead deliveries (`sinergi_deliveries`) "
        "and the age of the oldest pending delivery (`sinergi_outbox_lag_seconds`). "
        "Public like `/healthz` (no personal data, no agency names): restrict it at the "
        "network edge. Webhook attempt metrics come from `sinergi worker --metrics-port`."
    ),
    response_class=Response,
    responses={
        200: {
            "content": {"text/plain": {"schema": {"type": "string"}}},
            "description": "Prometheus text exposition format 0.0.4",
        }
    },
)
async def scrape(session: SessionDep) -> Response:
    snapshot = await outbox_snapshot(session)
    return Response(metrics.exposition(snapshot), media_type=metrics.CONTENT_TYPE_LATEST)
