"""audit_append: take the audit chain lock and append after a proposed head in one call (PostgreSQL)

Every authenticated request appends one event under the chain lock, so the lock is held from
the moment it is granted until the request's COMMIT. Granting the lock, checking the head and
inserting in one function call takes one round trip (and one wait in the server's event loop)
out of that window. The function runs each statement on a fresh snapshot (plpgsql, VOLATILE,
READ COMMITTED), so the head check sees every append committed before the lock was granted.
SQLite has a single writer and needs nothing.

Revision ID: 0009_audit_append
Revises: 0008_facets
Create Date: 2026-11-28 16:28:24.061790
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = '0009_audit_append'
down_revision: str | Sequence[str] | None = '0008_facets'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

APPEND_FUNCTION = """
CREATE FUNCTION sinergi_audit_append_after(
    lock_key bigint, head_seq bigint, head_hash text, event json
) RETURNS boolean LANGUAGE plpgsql VOLATILE AS $$
BEGIN
    PERFORM pg_advisory_xact_lock(lock_key);
    IF NOT EXISTS (SELECT 1 FROM audit_events WHERE seq = head_seq AND hash = head_hash)
       OR EXISTS (SELECT 1 FROM audit_events WHERE seq > head_seq) THEN
        RETURN false;  -- the head moved on: the caller reads it (still holding the lock)
    END IF;
    INSERT INTO audit_events SELECT * FROM json_populate_record(NULL::audit_events, event);
    RETURN true;
END
$$
"""


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(APPEND_FUNCTION)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "DROP FUNCTION sinergi_audit_append_after(bigint, bigint, text, json)"
        )
