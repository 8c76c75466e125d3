"""Inbox, deliveries, attempts, webhook endpoints and the webhook envelope."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field

from app.schemas.audit import AuditObjects

Event = Literal[
    "report.routed",
    "report.updated",
    "report.retracted",
    "case.linked",
    "watch.hit",
    "key.expiring",
]
Status = Literal["PENDING", "DELIVERED", "DEAD"]
#: The test event an admin sends to an endpoint (``POST …/webhook/test``): never a delivery.
TestEvent = Literal["webhook.test"]


class InboxItem(BaseModel):
    audit_objects: ClassVar[AuditObjects] = (("delivery", "id"), ("report", "report_id"))
    id: uuid.UUID = Field(description="The delivery's id; also its webhook-id (`msg_<hex>`).")
    sequence: int = Field(description="1, 2, 3, … per recipient agency, without gaps.")
    event: Event
    created_at: datetime
    rule: str | None = Field(
        description="The routing rule that caused it (`explicit`: named by the sender)."
    )
    report_id: uuid.UUID | None
    acked_at: datetime | None
    payload: dict[str, Any]


class InboxPage(BaseModel):
    items: list[InboxItem]
    next_cursor: str | None = Field(
        description="Pass as `cursor` for the next page; null at the end."
    )


class AckRequest(BaseModel):
    """Deliveries the caller has processed; acking twice is harmless."""

    audit_objects: ClassVar[AuditObjects] = (("delivery", "delivery_ids"),)

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [{"delivery_ids": ["2a4c8a52-5f38-4f59-9a59-7f6f2c3f4b10"]}]
        },
    )

    delivery_ids: list[uuid.UUID] = Field(min_length=1, max_length=500)


class AckResult(BaseModel):
    acked: list[uuid.UUID] = Field(
        description="The caller's deliveries now acked (or acked before)."
    )
    unknown: list[uuid.UUID] = Field(description="Ids that are not deliveries to the caller.")


class DeliveryOut(BaseModel):
    audit_objects: ClassVar[AuditObjects] = (("delivery", "id"), ("report", "report_id"))
    id: uuid.UUID
    agency_code: str
    sequence: int
    event: Event
    rule: str | None
    report_id: uuid.UUID | None
    status: Status
    created_at: datetime
    acked_at: datetime | None
    delivered_at: datetime | None
    attempts: int
    next_attempt_at: datetime
    last_error: str | None


class DeliveryPage(BaseModel):
    items: list[DeliveryOut]
    next_cursor: str | None


class AttemptOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    started_at: datetime
    duration_ms: int
    status_code: int | None
    error: str | None
    url: str
    worker: str | None


class AttemptList(BaseModel):
    items: list[AttemptOut]


class WebhookEndpointIn(BaseModel):
    """Where the agency receives webhooks: https,
    on a public address (or an allow-listed network)."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [{"url": "https://siak.imigrasi-dumai.go.id/sinergi/webhook"}]
        },
    )

    url: str = Field(min_length=8, max_length=2048)


class WebhookEndpointOut(BaseModel):
    agency_code: str
    url: str
    enabled: bool
    disabled_at: datetime | None
    disabled_reason: str | None = Field(
        description="Why the worker stopped sending (for example 410 Gone)."
    )
    previous_secret_expires_at: datetime | None = Field(
        description="Until then the previous secret signs too (after a rotation)."
    )
    secret: str | None = Field(
        default=None,
        description=(
            "The `whsec_…` signing secret: shown only when created or rotated, never again."
        ),
    )
    created_at: datetime
    updated_at: datetime


class WebhookTestOut(BaseModel):
    """What the agency's receiver answered a test event (nothing is stored, nothing retried)."""

    agency_code: str
    url: str
    webhook_id: str = Field(description="`msg_<hex>`: the test event's own id (not a delivery's).")
    sent_at: datetime
    duration_ms: int = Field(description="From the start of the attempt to the answer (or error).")
    status_code: int | None = Field(
        description="The receiver's HTTP status; null when no answer came (see `error`)."
    )
    verdict: Literal["delivered", "disabled", "retried"] = Field(
        description=(
            "What a delivery answered the same way would do: `delivered` (2xx), `disabled` (410 "
            "Gone disables the endpoint), `retried` (anything else, or no answer; dead at last)."
        )
    )
    error: str | None = Field(
        description="Why the attempt failed (refused URL, timeout, connection error, non-2xx)."
    )
    body_excerpt: str | None = Field(
        description="The start of the receiver's answer body (at most 300 characters)."
    )


class WebhookEnvelope(BaseModel):
    """The JSON body of every webhook POST (the same content an inbox item carries)."""

    id: uuid.UUID = Field(
        description="The delivery's id (the `webhook-id` header is `msg_<hex of id>`)."
    )
    type: Event | TestEvent = Field(
        description="The event; `webhook.test` is a test an administrator sent (store nothing)."
    )
    sequence: int = Field(
        description="Per-recipient sequence number: a gap means a missed event (0: a test)."
    )
    timestamp: datetime = Field(description="When the event was created (not when it was sent).")
    rule: str | None
    report_id: uuid.UUID | None
    data: dict[str, Any] = Field(description="The event's payload.")
