"""cases_merged_into_index: index the cases merged into another (the self-referencing key)

An ingest whose report joins a stored case deletes the case it was stored with (nothing else is
in it). PostgreSQL then checks every foreign key that references ``cases``: ``reports.case_id``
and ``case_links.case_id`` have an index, ``cases.merged_into_id`` had none, so each such
delete scanned every case (3-5 ms of PostgreSQL's CPU at 70,000 cases, a quarter of its CPU per
ingest on the 100,000-person store). Partial: only merged cases are in it, so a case written
costs no entry.

Revision ID: cases_0016_merged_into
Revises: prefix_0015_indexes
Create Date: 2026-12-07 16:40:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "cases_0016_merged_into"
down_revision: str | Sequence[str] | None = "prefix_0015_indexes"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("cases") as batch:
        batch.create_index(
            "ix_cases_merged_into_id",
            ["merged_into_id"],
            unique=False,
            postgresql_where=sa.text("merged_into_id IS NOT NULL"),
            sqlite_where=sa.text("merged_into_id IS NOT NULL"),
        )


def downgrade() -> None:
    with op.batch_alter_table("cases") as batch:
        batch.drop_index("ix_cases_merged_into_id")
