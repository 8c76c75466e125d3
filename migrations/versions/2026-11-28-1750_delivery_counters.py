"""delivery_counters: every agency has its delivery counter row from the start

Ingest takes the counters of all of a report's recipients in one statement, locking the rows
in agency order. A counter created on first use was inserted while other counters were locked,
which could deadlock two concurrent ingests on a fresh database. Agencies now get their counter
when they are created; this creates the missing ones of agencies registered before.

Revision ID: 0010_delivery_counters
Revises: 0009_audit_append
Create Date: 2026-11-28 17:50:00
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0010_delivery_counters"
down_revision: str | Sequence[str] | None = "0009_audit_append"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute(
        "INSERT INTO delivery_sequences (agency_id, last_sequence) "
        "SELECT id, 0 FROM agencies "
        "WHERE id NOT IN (SELECT agency_id FROM delivery_sequences)"
    )


def downgrade() -> None:
    # The counters are harmless and hold the sequence numbers already handed out: keep them.
    pass
