"""person_keys_key_collation: blocking keys compared byte by byte on PostgreSQL (COLLATE "C")

Every ingest writes 50-80 blocking keys into ``pk_person_keys`` (a btree on ``(key,
report_person_id)``) and looks up as many: each descent compares the key with 20-30 others.
Under the database's locale (``C.UTF-8``, ``en_US.UTF-8``) each comparison copies both strings
and calls the C library's ``strcoll``; under ``"C"`` it is a ``memcmp``. Keys are ASCII and only
compared for equality (candidates, counts) or grouped, so no lookup finds anything else. The
index is rebuilt (a few seconds at 100,000 stored persons). Changing a column's type drops its
statistics, and without them PostgreSQL planned the candidate lookup as a hash join over every
key (over a second per ingest): the table is analyzed again at once. SQLite compares bytes
already.

Revision ID: person_keys_0018_key_collation
Revises: persons_0017_identifier_indexes
Create Date: 2026-12-07 20:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "person_keys_0018_key_collation"
down_revision: str | Sequence[str] | None = "persons_0017_identifier_indexes"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    _compare_keys_by("C")


def downgrade() -> None:
    _compare_keys_by(None)


def _compare_keys_by(collation: str | None) -> None:
    """``person_keys.key`` under ``collation`` (None: the database's), its statistics rebuilt."""
    if op.get_bind().dialect.name != "postgresql":
        return
    op.alter_column(
        "person_keys",
        "key",
        existing_type=sa.String(160),
        type_=sa.String(160, collation=collation),
        existing_nullable=False,
    )
    op.execute("ANALYZE person_keys")
