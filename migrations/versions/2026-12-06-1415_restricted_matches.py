"""restricted_matches: possible matches kept from a sender who may not see the candidate

A person known only from RED or AMBER_STRICT reports hidden to a report's sender is answered
as if new (docs/need-to-know.md). Resolution still records the pair, as a possible match marked
``restricted``: analysts review it, and the holders of the hidden report see it in their case
view; the sender never does.

Revision ID: tlp_0012_restricted_matches
Revises: harden_secret_canaries
Create Date: 2026-12-06 14:15:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "tlp_0012_restricted_matches"
down_revision: str | Sequence[str] | None = "harden_secret_canaries"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("possible_matches") as batch:
        batch.add_column(
            sa.Column("restricted", sa.Boolean(), server_default=sa.false(), nullable=False)
        )


def downgrade() -> None:
    with op.batch_alter_table("possible_matches") as batch:
        batch.drop_column("restricted")
