"""prefix_indexes: drop ix_reports_source_agency_id and ix_deliveries_agency_id

Each is the leading column of a unique index of its table ((source_agency_id, external_ref) and
(agency_id, sequence)), which serves the same lookups; every report and delivery written (and
every report's UPDATE at ingest, which is not a HOT update) paid for one more btree entry.

Revision ID: prefix_0015_indexes
Revises: person_keys_0014_one_index
Create Date: 2026-12-07 07:10:00
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "prefix_0015_indexes"
down_revision: str | Sequence[str] | None = "person_keys_0014_one_index"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("reports") as batch:
        batch.drop_index("ix_reports_source_agency_id")
    with op.batch_alter_table("deliveries") as batch:
        batch.drop_index("ix_deliveries_agency_id")


def downgrade() -> None:
    with op.batch_alter_table("deliveries") as batch:
        batch.create_index("ix_deliveries_agency_id", ["agency_id"], unique=False)
    with op.batch_alter_table("reports") as batch:
        batch.create_index("ix_reports_source_agency_id", ["source_agency_id"], unique=False)
