"""recluster_passes: each finished recluster pass, the watermark of the next scheduled one

Revision ID: recluster_0013_passes
Revises: resolution_0012_link_threshold
Create Date: 2026-12-06 21:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import app.models.base

revision: str = "recluster_0013_passes"
down_revision: str | Sequence[str] | None = "resolution_0012_link_threshold"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "recluster_passes",
        sa.Column("started_at", app.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("finished_at", app.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("full", sa.Boolean(), nullable=False),
        sa.Column("persons", sa.Integer(), nullable=False),
        sa.Column("pairs", sa.Integer(), nullable=False),
        sa.Column("merges", sa.Integer(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_recluster_passes")),
    )
    with op.batch_alter_table("recluster_passes") as batch:
        batch.create_index(batch.f("ix_recluster_passes_started_at"), ["started_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("recluster_passes") as batch:
        batch.drop_index(batch.f("ix_recluster_passes_started_at"))
    op.drop_table("recluster_passes")
