"""The test PostgreSQL: DATABASE_URL when set, else an embedded server from the pgserver package."""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, make_url, text
from sqlalchemy.engine import URL, Engine

PROJECT_ROOT = Path(__file__).resolve().parents[1]
TEST_DB = "jobprep_test"


def embedded_pgdata() -> Path:
    # Short and per-checkout: Unix socket paths are limited to ~107 bytes.
    digest = hashlib.sha256(str(PROJECT_ROOT).encode()).hexdigest()[:10]
    return Path(tempfile.gettempdir()) / f"jobprep-pg-{digest}"


def start_embedded(pgdata: Path) -> Any:
    """Stopped again when its last user goes: the fixture's cleanup(), or pgserver's atexit hook
    when a run ends early, so no test run leaves a server behind."""
    import pgserver  # only needed when no DATABASE_URL is given

    return pgserver.get_server(pgdata, cleanup_mode="stop")  # type: ignore[attr-defined]


def server_url() -> URL:
    """Where the tests' database lives; sets nothing up."""
    given = os.environ.get("JOBPREP_TEST_SERVER_URL")
    if given:
        return make_url(given)
    return make_url(f"postgresql+psycopg://postgres@/postgres?host={embedded_pgdata()}")


def admin_engine(url: URL, database: str = "postgres") -> Engine:
    # No prepared statements: they would go stale when a test rebuilds the schema.
    return create_engine(
        url.set(database=database),
        isolation_level="AUTOCOMMIT",
        pool_pre_ping=True,
        connect_args={"prepare_threshold": None},
    )


def recreate_database(url: URL, name: str) -> None:
    engine = admin_engine(url)
    try:
        with engine.connect() as conn:
            conn.execute(
                text(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                    " WHERE datname = :d AND pid <> pg_backend_pid()"
                ),
                {"d": name},
            )
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    finally:
        engine.dispose()
