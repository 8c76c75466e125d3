"""person_keys_cascade_trigger: a person's keys go with it by trigger, not by a foreign key

Every ingest writes 50-80 blocking keys, and PostgreSQL checked each one's foreign key to
``report_persons`` with a query of its own (an index probe and a row lock on the person,
written in the same statement): 4 µs of the ~8 µs a key row costs, measured on the
100,000-person store (5,500 key rows inserted and rolled back, six rounds: 8.1-8.5 µs per row
with the key, 4.0-4.4 without). The key table is derived data, an index of the persons that
``sinergi dedup rekey`` rebuilds: what it needs from the key is the cascade, so that a person
deleted (a correction's removed person, retention, a report deleted) takes its keys along. A
row trigger on ``report_persons`` does that delete, through ``ix_person_keys_report_person_id``
as the cascade did. A key written for a person that does not exist finds nothing: the
candidate lookup joins each holder to its person.

Revision ID: person_keys_0019_cascade_trigger
Revises: person_keys_0018_key_collation
Create Date: 2026-12-07 23:30:00
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "person_keys_0019_cascade_trigger"
down_revision: str | Sequence[str] | None = "person_keys_0018_key_collation"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_FK = "fk_person_keys_report_person_id_report_persons"


def upgrade() -> None:
    with op.batch_alter_table("person_keys") as batch:
        batch.drop_constraint(_FK, type_="foreignkey")
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "CREATE FUNCTION report_persons_delete_keys() RETURNS trigger LANGUAGE plpgsql AS $$ "
            "BEGIN DELETE FROM person_keys WHERE report_person_id = OLD.id; RETURN NULL; END $$"
        )
        op.execute(
            "CREATE TRIGGER tr_report_persons_delete_keys AFTER DELETE ON report_persons "
            "FOR EACH ROW EXECUTE FUNCTION report_persons_delete_keys()"
        )
    else:
        op.execute(
            "CREATE TRIGGER tr_report_persons_delete_keys AFTER DELETE ON report_persons "
            "FOR EACH ROW BEGIN DELETE FROM person_keys WHERE report_person_id = OLD.id; END"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER tr_report_persons_delete_keys ON report_persons")
        op.execute("DROP FUNCTION report_persons_delete_keys()")
    else:
        op.execute("DROP TRIGGER tr_report_persons_delete_keys")
    # keys whose person is gone would fail the constraint (none, while the trigger held)
    op.execute(
        "DELETE FROM person_keys WHERE NOT EXISTS "
        "(SELECT 1 FROM report_persons WHERE report_persons.id = person_keys.report_person_id)"
    )
    with op.batch_alter_table("person_keys") as batch:
        batch.create_foreign_key(
            _FK, "report_persons", ["report_person_id"], ["id"], ondelete="CASCADE"
        )
