"""Alembic, driven from code: the `sinergi migrate` commands, `serve` and `/readyz` use it."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import Script, ScriptDirectory
from sqlalchemy.engine import Connection

import migrations

SCRIPT_LOCATION = Path(migrations.__file__).resolve().parent


def alembic_config(database_url: str) -> Config:
    """An Alembic config for the packaged migrations against ``database_url``."""
    config = Config()
    config.set_main_option("script_location", str(SCRIPT_LOCATION))
    config.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    config.set_main_option(
        "file_template", "%%(year)d-%%(month).2d-%%(day).2d-%%(hour).2d%%(minute).2d_%%(slug)s"
    )
    return config


def upgrade(database_url: str, revision: str = "head") -> None:
    command.upgrade(alembic_config(database_url), revision)


def downgrade(database_url: str, revision: str) -> None:
    command.downgrade(alembic_config(database_url), revision)


def check(database_url: str) -> None:
    """Raise if the models and the migrations disagree (``alembic check``)."""
    command.check(alembic_config(database_url))


def revisions_undone(current: set[str], target: str) -> list[tuple[str, str]]:
    """(revision, title) of each migration a downgrade from ``current`` to ``target`` undoes.

    ``target`` is a revision id, ``base`` or a relative step such as ``-1``.
    """
    script = ScriptDirectory.from_config(alembic_config("sqlite://"))
    undone: list[tuple[str, str]] = []
    for head in current:
        if target.startswith("-"):
            steps = int(target[1:])
            revision: Script | None = script.get_revision(head)
            while revision is not None and steps > 0:
                undone.append((revision.revision, revision.doc or ""))
                down = revision.down_revision
                revision = script.get_revision(down) if isinstance(down, str) else None
                steps -= 1
            continue
        lower = None if target == "base" else target
        for revision in script.iterate_revisions(head, lower):
            if revision.revision != lower:
                undone.append((revision.revision, revision.doc or ""))
    return undone


def head_revisions() -> set[str]:
    script = ScriptDirectory.from_config(alembic_config("sqlite://"))
    return set(script.get_heads())


def current_revisions(connection: Connection) -> set[str]:
    return set(MigrationContext.configure(connection).get_current_heads())


def is_at_head(connection: Connection) -> bool:
    """Whether the database behind ``connection`` is migrated to the code's head."""
    return current_revisions(connection) == head_revisions()
