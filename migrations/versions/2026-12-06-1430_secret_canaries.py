"""secret_canaries: detect a server secret that does not match the database

Restarting an existing database with a new SINERGI_SECRET_KEY or SINERGI_KEY_ENCRYPTION_KEY made
every API key answer 401 (and every signing key undecryptable) while /readyz said ready. This
table keeps, per secret, an HMAC of a fixed text under the secret the data was made with, so
`sinergi serve` and /readyz can name the setting that changed, and records when a rotation
(previous value configured beside the new one) began. Empty until `serve` first starts.

Revision ID: harden_secret_canaries
Revises: officers_accounts
Create Date: 2026-12-06 14:30:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import app.models.base

revision: str = 'harden_secret_canaries'
down_revision: str | Sequence[str] | None = 'officers_accounts'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('secret_canaries',
    sa.Column('name', sa.String(length=32), nullable=False),
    sa.Column('mac', sa.String(length=64), nullable=False),
    sa.Column('rotation_started_at', app.models.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('updated_at', app.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('name', name=op.f('pk_secret_canaries'))
    )


def downgrade() -> None:
    op.drop_table('secret_canaries')
