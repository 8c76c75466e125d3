"""The audit trail's public shapes: events, pages and the chain check."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

OutcomeName = Literal["success", "denied", "not_found", "invalid", "error"]

#: What a schema names in the audit event of a request that answers or receives it: pairs of
#: (object type, field holding an id or a list of ids). A schema declares it as a class variable
#: ``audit_objects``; ``app.api.audit_hook`` collects them from every route's body and answer.
AuditObjects = tuple[tuple[str, str], ...]


class AuditEventOut(BaseModel):
    """One audit event: who, with which key and token, did what to which objects,
    and how it ended."""

    model_config = ConfigDict(from_attributes=True)

    seq: int = Field(description="Position in the hash chain.", examples=[42])
    occurred_at: datetime = Field(description="When it happened (UTC).")
    actor_agency_id: uuid.UUID | None
    actor_agency_code: str | None = Field(examples=["IMIGRASI-DUMAI"])
    actor_user_id: uuid.UUID | None = Field(
        default=None, description="The officer who acted through a signed-in session."
    )
    actor_username: str | None = Field(
        default=None, description="That officer's username.", examples=["198503122010121001"]
    )
    credential_id: str | None = Field(
        description="The API key or client-assertion key the caller's token was minted from."
    )
    token_id: str | None = Field(description="The access token's `jti`.")
    action: str = Field(examples=["report.read"])
    object_type: str | None = Field(examples=["report"])
    object_ids: list[str]
    outcome: OutcomeName
    http_status: int | None = Field(examples=[200])
    request_id: str | None = Field(description="The `X-Request-ID` of the request.")
    client_address: str | None
    user_agent: str | None
    detail: dict[str, str]
    prev_hash: str = Field(description="SHA-256 (hex) of the previous event.")
    hash: str = Field(description="SHA-256 (hex) of this event's canonical form.")


class AuditPage(BaseModel):
    items: list[AuditEventOut]
    next_cursor: str | None = Field(
        description="Pass as `cursor` to get the next (older) page; null on the last page."
    )


class ChainCheck(BaseModel):
    """The result of walking the hash chain."""

    ok: bool = Field(description="True when no event was edited, deleted or reordered.")
    events_checked: int
    first_seq: int | None = Field(
        description="The oldest event kept (later than 1 after a retention purge)."
    )
    head_seq: int | None
    head_hash: str | None = Field(
        description="Keep it outside the database (`sinergi audit anchor`)."
    )
    broken_seq: int | None = Field(description="The first edited, missing or misplaced event.")
    problem: str | None = Field(examples=["the event's contents do not match its hash"])
