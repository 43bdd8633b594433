"""The Alembic migrations build exactly the schema the table definitions describe, and reverse cleanly."""

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect
from sqlalchemy.engine import Engine

from jobprep.db import engine as db
from jobprep.migrations import downgrade, upgrade
from jobprep.migrations.target import metadata


def test_migrated_schema_matches_the_tables(database: Engine) -> None:
    with db.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), metadata)
    assert diff == []


def test_downgrade_to_base_and_back(database: Engine) -> None:
    downgrade(db.engine, "base")
    assert set(inspect(database).get_table_names()) == {"alembic_version"}
    upgrade(db.engine)
    tables = set(inspect(database).get_table_names())
    assert {
        "job_infos",
        "interviews",
        "outbox",
        "idempotency_keys",
        "rate_limit_buckets",
        "webhook_deliveries",
    } <= tables
    db.engine.dispose()
