"""person_keys_one_index: drop ix_person_keys_key_person, a copy of the primary key's index

Both were btrees on (key, report_person_id): every blocking key of every stored person was
written twice (at 100,000 persons, 170 MB each), and candidate lookups read only one of them.

Revision ID: person_keys_0014_one_index
Revises: recluster_0013_passes
Create Date: 2026-12-07 07:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "person_keys_0014_one_index"
down_revision: str | Sequence[str] | None = "recluster_0013_passes"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("person_keys") as batch:
        batch.drop_index("ix_person_keys_key_person")


def downgrade() -> None:
    with op.batch_alter_table("person_keys") as batch:
        batch.create_index("ix_person_keys_key_person", ["key", "report_person_id"], unique=False)
