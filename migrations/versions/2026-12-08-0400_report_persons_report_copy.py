"""report_persons_report_copy: each person carries its report's status, TLP and source

The candidate lookup of every ingest reads the 20 best holders of a person's blocking keys
(about 40 per report) and, for each, its report's row only for three columns: the status
(persons of a retracted report are never candidates) and the TLP and source (is the holder
hidden from the agency asking). Each read is an index descent of ``pk_reports`` and a random
page of the 112 MB ``reports`` heap (a ~1 kB row, the body inline), ~140 of the statement's
~420 shared buffers on the 100,000-person store. The person's own row, read anyway, now carries
the three values: the source never changes, the TLP changes only by a correction (which writes
the report's persons anew) and the status is copied by the code that changes it.

On SQLite a column added ``NOT NULL`` needs a default (the table is not rebuilt, which would
drop ``tr_report_persons_delete_keys``): ``''``, overwritten at once from the reports.

Revision ID: report_persons_0020_report_copy
Revises: person_keys_0019_cascade_trigger
Create Date: 2026-12-08 04:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "report_persons_0020_report_copy"
down_revision: str | Sequence[str] | None = "person_keys_0019_cascade_trigger"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_COLUMNS = (
    ("report_status", sa.String(16), "status"),
    ("report_tlp", sa.String(16), "tlp"),
    ("report_source_agency_id", sa.Uuid(), "source_agency_id"),
)


def upgrade() -> None:
    postgresql = op.get_bind().dialect.name == "postgresql"
    for name, type_, _ in _COLUMNS:
        op.add_column(
            "report_persons",
            sa.Column(name, type_, nullable=postgresql, server_default=None if postgresql else ""),
        )
    if postgresql:
        op.execute(
            "UPDATE report_persons p SET report_status = r.status, report_tlp = r.tlp, "
            "report_source_agency_id = r.source_agency_id FROM reports r WHERE r.id = p.report_id"
        )
        for name, _, _ in _COLUMNS:
            op.alter_column("report_persons", name, nullable=False)
    else:
        op.execute(
            "UPDATE report_persons SET "
            + ", ".join(
                f"{name} = (SELECT r.{source} FROM reports r WHERE r.id = report_persons.report_id)"
                for name, _, source in _COLUMNS
            )
        )


def downgrade() -> None:
    for name, _, _ in reversed(_COLUMNS):
        op.drop_column("report_persons", name)
