"""audit_append: take the audit chain lock and append after a proposed head in one call (PostgreSQL)

Every authenticated request appends one event under the chain lock, so the lock is held from
the moment it is granted until the request's COMMIT. The function takes the lock and, in the
same call, either appends the event proposed as the successor of the head the caller remembers
(when that is still the head) or answers the real head. Each statement in it runs on a fresh
snapshot (plpgsql, VOLATILE, READ COMMITTED), so it sees every append committed before the lock
was granted. Lock and head used to be two round trips inside that window; now it is one, and
none more when the proposal holds. SQLite has a single writer and needs nothing.

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
) RETURNS TABLE (appended boolean, last_seq bigint, last_hash text)
LANGUAGE plpgsql VOLATILE AS $$
BEGIN
    PERFORM pg_advisory_xact_lock(lock_key);
    IF event IS NOT NULL
       AND EXISTS (SELECT 1 FROM audit_events a WHERE a.seq = head_seq AND a.hash = head_hash)
       AND NOT EXISTS (SELECT 1 FROM audit_events a WHERE a.seq > head_seq) THEN
        INSERT INTO audit_events SELECT * FROM json_populate_record(NULL::audit_events, event);
        RETURN QUERY SELECT true, NULL::bigint, NULL::text;
        RETURN;
    END IF;
    -- the head moved on (or none was proposed): the real one, the lock still held
    RETURN QUERY SELECT false, a.seq, a.hash::text FROM audit_events a ORDER BY a.seq DESC LIMIT 1;
    IF NOT FOUND THEN
        RETURN QUERY SELECT false, NULL::bigint, NULL::text;
    END IF;
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
