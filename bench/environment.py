"""The PostgreSQL every measurement uses, and the environment the functions run with."""

from __future__ import annotations

import hashlib
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
from sqlalchemy import make_url

PROJECT_ROOT = Path(__file__).resolve().parents[1]
BENCH_DB = "jobprep_bench"


@dataclass
class Database:
    url: str  # a libpq URI: psycopg takes it as is, jobprep.db adds the SQLAlchemy driver
    server: Any = None

    def close(self) -> None:
        if self.server is not None:
            self.server.cleanup()


def start_database() -> Database:
    """DATABASE_URL's server when set, else an embedded PostgreSQL; a fresh, migrated bench database."""
    server = None
    given = os.environ.get("DATABASE_URL")
    if given:
        admin = make_url(given).set(drivername="postgresql")
    else:
        import pgserver

        digest = hashlib.sha256(str(PROJECT_ROOT).encode()).hexdigest()[:10]
        pgdata = Path(tempfile.gettempdir()) / f"jobprep-bench-{digest}"
        server = pgserver.get_server(pgdata, cleanup_mode="stop")  # type: ignore[attr-defined]
        admin = make_url(server.get_uri("postgres"))
    with psycopg.connect(admin.render_as_string(hide_password=False), autocommit=True) as conn:
        conn.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()",
            (BENCH_DB,),
        )
        conn.execute(f'DROP DATABASE IF EXISTS "{BENCH_DB}"')
        conn.execute(f'CREATE DATABASE "{BENCH_DB}"')
    database = Database(admin.set(database=BENCH_DB).render_as_string(hide_password=False), server)
    migrate(database.url)
    return database


def function_env(database_url: str) -> dict[str, str]:
    return {
        "DATABASE_URL": database_url,
        "EVENT_BUS_NAME": "job-prep-bench",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ACCESS_KEY_ID": "bench",
        "AWS_SECRET_ACCESS_KEY": "bench",
        "POWERTOOLS_SERVICE_NAME": "job-prep",
        "POWERTOOLS_METRICS_NAMESPACE": "JobPrepBench",
        "POWERTOOLS_LOG_LEVEL": "WARNING",
    }


def migrate(database_url: str) -> None:
    os.environ.update(function_env(database_url))
    from jobprep import db
    from jobprep.migrations import upgrade

    upgrade(db.engine)
    db.engine.dispose()
