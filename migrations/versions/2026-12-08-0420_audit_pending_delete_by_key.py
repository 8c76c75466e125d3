"""audit_pending_delete_by_key: the audit chain's trigger deletes its pending row by the key

``sinergi_audit_chain_pending`` (0011) moves each pending audit event into ``audit_events`` at
COMMIT and deletes it from ``audit_pending`` with ``DELETE … WHERE id = NEW.id``. PL/pgSQL plans
that statement once per connection and keeps the plan: planned while the queue was a page or two,
it is a sequential scan, and it stays one while the queue's dead rows pile up until a vacuum
(every audited request leaves one: after 600 ingests on the 100,000-person store the table was
121 pages, 0 live rows, and each COMMIT's delete read all of them, 0.2 ms, against 2 buffers and
0.01 ms through ``pk_audit_pending``). The function now plans with sequential scans disabled, so
its statements take the index whatever the queue's size was when they were first planned. The
head of the chain is read by ``pk_audit_events`` and the insert scans nothing: their plans are
unchanged. PostgreSQL only (SQLite chains in the application).

Revision ID: audit_pending_0021_delete_by_key
Revises: report_persons_0020_report_copy
Create Date: 2026-12-08 04:20:00
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "audit_pending_0021_delete_by_key"
down_revision: str | Sequence[str] | None = "report_persons_0020_report_copy"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER FUNCTION sinergi_audit_chain_pending() SET enable_seqscan = off")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER FUNCTION sinergi_audit_chain_pending() RESET enable_seqscan")
