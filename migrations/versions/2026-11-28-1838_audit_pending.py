"""audit_pending: chain audit events at COMMIT on PostgreSQL

Until now a request appended its audit event under the chain lock and held the lock until its
COMMIT. Between the append and the COMMIT the request waited for its turn on the API's event
loop, so under load every request queued on that one lock: the server sat idle two thirds of
the time during a read benchmark, and a second API process added nothing.

Now a PostgreSQL transaction writes its events to ``audit_pending``. A deferred constraint
trigger chains each one when the transaction commits: it takes the chain lock, reads the head,
splices ``prev_hash`` and ``seq`` into the event's canonical form (stored in three parts beside
it, ``app.services.audit.canonical_parts``), stores the SHA-256 of the result as ``hash`` and
moves the event into ``audit_events``. The hash is exactly the one the application computes and
``verify`` checks; the lock is held from the trigger to the end of the COMMIT, with no round
trip to the application inside. The event still commits together with the request's work, or
not at all. ``sinergi_audit_append_after`` (0009) is no longer used and is dropped. SQLite has a
single writer and keeps appending directly; the table exists there only to keep both schemas
alike.

Revision ID: 0011_audit_pending
Revises: 0010_delivery_counters
Create Date: 2026-11-28 18:38:10.198640
"""

from __future__ import annotations

import importlib.util
from collections.abc import Sequence
from pathlib import Path

import sqlalchemy as sa
from alembic import op

revision: str = '0011_audit_pending'
down_revision: str | Sequence[str] | None = '0010_delivery_counters'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

#: app.repositories.audit.CHAIN_LOCK_KEY ("SINERGI"), fixed here as it was when written.
CHAIN_LOCK_KEY = 0x53_49_4E_45_52_47_49

CHAIN_FUNCTION = f"""
CREATE FUNCTION sinergi_audit_chain_pending() RETURNS trigger
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    head_seq bigint;
    head_hash text;
    chained audit_events;
BEGIN
    PERFORM pg_advisory_xact_lock({CHAIN_LOCK_KEY});
    -- a fresh snapshot: every event committed before the lock was granted is seen
    SELECT a.seq, a.hash INTO head_seq, head_hash FROM audit_events a ORDER BY a.seq DESC LIMIT 1;
    IF NOT FOUND THEN
        head_seq := 0;
        head_hash := repeat('0', 64);
    END IF;
    chained := json_populate_record(NULL::audit_events, NEW.document);
    chained.seq := head_seq + 1;
    chained.prev_hash := head_hash;
    chained.hash := encode(sha256(convert_to(
        NEW.before_prev_hash || '"' || head_hash || '"' || NEW.before_seq
        || chained.seq::text || NEW.after_seq,
        'UTF8')), 'hex');
    INSERT INTO audit_events VALUES (chained.*);
    DELETE FROM audit_pending WHERE id = NEW.id;
    RETURN NULL;
END
$$
"""


def upgrade() -> None:
    op.create_table('audit_pending',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('document', sa.JSON(), nullable=False),
    sa.Column('before_prev_hash', sa.Text(), nullable=False),
    sa.Column('before_seq', sa.Text(), nullable=False),
    sa.Column('after_seq', sa.Text(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_pending'))
    )
    if op.get_bind().dialect.name == "postgresql":
        op.execute(CHAIN_FUNCTION)
        op.execute(
            "CREATE CONSTRAINT TRIGGER audit_pending_chain AFTER INSERT ON audit_pending "
            "DEFERRABLE INITIALLY DEFERRED FOR EACH ROW "
            "EXECUTE FUNCTION sinergi_audit_chain_pending()"
        )
        op.execute("DROP FUNCTION sinergi_audit_append_after(bigint, bigint, text, json)")


def _append_function_of_0009() -> str:
    """The function 0009 created, read from that migration rather than written twice."""
    path = Path(__file__).with_name("2026-11-28-1628_audit_append.py")
    spec = importlib.util.spec_from_file_location("sinergi_migration_0009", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return str(module.APPEND_FUNCTION)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(_append_function_of_0009())
        op.execute("DROP TRIGGER audit_pending_chain ON audit_pending")
        op.execute("DROP FUNCTION sinergi_audit_chain_pending()")
    op.drop_table('audit_pending')
