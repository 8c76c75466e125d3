"""person_identifier_indexes: drop ix_report_persons_nik and ix_report_persons_passport_number

No query reads a person by these columns: identifiers are looked up through the persons'
blocking keys (``person_keys``, the ``nik:`` and ``pp:`` keys), and the one query that reads
``nik`` selects it by entity (``ix_report_persons_entity_id``). Every person written, and every
update of a person that is not a HOT update (its entity changing), paid two btree entries for
nothing: 7-13 µs of PostgreSQL's CPU per person row (measured on the 100,000-person store, where
they take 4.6 MB). ``ix_report_persons_phone_e164`` stays: the case network finds persons by
their phone through it.

Revision ID: persons_0017_identifier_indexes
Revises: cases_0016_merged_into
Create Date: 2026-12-07 17:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "persons_0017_identifier_indexes"
down_revision: str | Sequence[str] | None = "cases_0016_merged_into"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("report_persons") as batch:
        batch.drop_index("ix_report_persons_nik")
        batch.drop_index("ix_report_persons_passport_number")


def downgrade() -> None:
    with op.batch_alter_table("report_persons") as batch:
        batch.create_index("ix_report_persons_passport_number", ["passport_number"], unique=False)
        batch.create_index("ix_report_persons_nik", ["nik"], unique=False)
