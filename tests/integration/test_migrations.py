"""The Alembic migrations build exactly the schema the table definitions describe, and reverse cleanly."""

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect, text
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


def test_plan_usage_starts_from_the_interviews_that_reached_hume(clean_db: Engine) -> None:
    """Revision 0003 counts what the free plan had already spent, so upgrading refunds nothing."""
    database = clean_db
    downgrade(db.engine, "0002")
    with database.begin() as conn:
        alice_job, bob_job = (
            conn.execute(
                text(
                    "INSERT INTO job_infos (user_id, name, experience_level, description)"
                    " VALUES (:u, 'n', 'junior', 'd') RETURNING id"
                ),
                {"u": user},
            ).scalar_one()
            for user in ("alice", "bob")
        )
        for job, hume in ((alice_job, "chat-1"), (alice_job, "chat-2"), (alice_job, None), (bob_job, None)):
            conn.execute(
                text("INSERT INTO interviews (job_info_id, hume_chat_id) VALUES (:j, :h)"), {"j": job, "h": hume}
            )
    upgrade(db.engine)
    with database.connect() as conn:
        rows = conn.execute(text("SELECT user_id, interviews FROM plan_usage"))
        usage = {row.user_id: row.interviews for row in rows}
    assert usage == {"alice": 2}
    db.engine.dispose()
    clean_db.dispose()
