"""Alembic migrations, run programmatically (jobprep.migrations.upgrade) or by the Migrate function."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine

_HERE = Path(__file__).resolve().parent


def alembic_config(engine: Engine | None = None, connection: Connection | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(_HERE))
    config.attributes["engine"] = engine
    # A caller's connection (with its session settings) is used as is; the caller commits.
    config.attributes["connection"] = connection
    return config


def script_directory() -> ScriptDirectory:
    return ScriptDirectory.from_config(alembic_config())


def head_revision() -> str:
    """The one head revision of the migration scripts (template.yaml's SchemaRevision)."""
    head = script_directory().get_current_head()
    if head is None:
        raise RuntimeError("no migration scripts")
    return head


def upgrade(engine: Engine, revision: str = "head") -> None:
    command.upgrade(alembic_config(engine), revision)


def upgrade_on(connection: Connection, revision: str) -> None:
    command.upgrade(alembic_config(connection=connection), revision)


def downgrade(engine: Engine, revision: str) -> None:
    command.downgrade(alembic_config(engine), revision)
