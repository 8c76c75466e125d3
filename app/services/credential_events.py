"""The one seam through which every credential event is recorded.

Issue, rotate and revoke of keys, tokens minted and refused all pass through
:func:`record_credential_event`. For now it writes one structured log line (never a secret); the
audit log's hash chain replaces its body, keeping the signature.
"""

from __future__ import annotations

import json
import logging

from sqlalchemy.ext.asyncio import AsyncSession

logger = logging.getLogger("sinergi.credentials")


async def record_credential_event(
    session: AsyncSession,
    *,
    action: str,
    agency_code: str | None,
    credential_id: str | None,
    outcome: str,
    detail: dict[str, str] | None = None,
) -> None:
    """Record who did what with which credential, and how it ended.

    Callers that refuse a request (401) pass a session of its own transaction, since the
    request's transaction is rolled back.
    """
    line = {
        "event": "credential",
        "action": action,
        "agency": agency_code,
        "credential_id": credential_id,
        "outcome": outcome,
        **({"detail": detail} if detail else {}),
    }
    logger.info(json.dumps(line, sort_keys=True))
