"""calibrated_link_threshold: the link threshold `sinergi dedup calibrate --precision` estimates

Revision ID: resolution_0012_link_threshold
Revises: tlp_0012_restricted_matches
Create Date: 2026-12-06 14:55:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "resolution_0012_link_threshold"
down_revision: str | Sequence[str] | None = "tlp_0012_restricted_matches"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("match_weights") as batch:
        batch.add_column(sa.Column("link_threshold", sa.Double(), nullable=True))
        batch.add_column(sa.Column("precision", sa.Double(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("match_weights") as batch:
        batch.drop_column("precision")
        batch.drop_column("link_threshold")
