"""The PostgreSQL every measurement uses, and the environment the functions run with."""

from __future__ import annotations

import hashlib
import os
import platform
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
from sqlalchemy import make_url

PROJECT_ROOT = Path(__file__).resolve().parents[1]
BENCH_DB = "jobprep_bench"
APP_NAME = "job-prep-functions"  # jobprep.db's application_name: how pg_stat_activity tells our connections apart


@dataclass
class Database:
    url: str  # a libpq URI: psycopg takes it as is, jobprep.db adds the SQLAlchemy driver
    server: Any = None  # the embedded server, stopped by close()

    def close(self) -> None:
        if self.server is not None:
            self.server.cleanup()

    def describe(self) -> dict[str, str]:
        with psycopg.connect(self.url, autocommit=True) as conn:
            version = str(conn.execute("SHOW server_version").fetchone()[0])  # type: ignore[index]
            host = conn.info.host
        return {
            "server": "embedded pgserver" if self.server is not None else "DATABASE_URL",
            "version": version,
            "transport": "Unix socket" if host.startswith("/") else f"TCP {host}",
        }


def bench_pgdata() -> Path:
    # Its own data dir, short (Unix socket paths are limited to ~107 bytes) and per checkout.
    digest = hashlib.sha256(str(PROJECT_ROOT).encode()).hexdigest()[:10]
    return Path(tempfile.gettempdir()) / f"jobprep-bench-{digest}"


def start_database(name: str = BENCH_DB) -> Database:
    """DATABASE_URL's server when set, else the bench's embedded PostgreSQL; on it a freshly
    created and migrated database `name` (only that database is ever dropped)."""
    server = None
    given = os.environ.get("DATABASE_URL")
    if given:
        admin = make_url(given).set(drivername="postgresql")
        if admin.database == name:  # cannot drop the database we are connected to
            admin = admin.set(database="postgres")
    else:
        import pgserver

        server = pgserver.get_server(bench_pgdata(), cleanup_mode="stop")  # type: ignore[attr-defined]
        admin = make_url(server.get_uri("postgres"))
    with psycopg.connect(admin.render_as_string(hide_password=False), autocommit=True) as conn:
        conn.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()",
            (name,),
        )
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        conn.execute(f'CREATE DATABASE "{name}"')
    database = Database(admin.set(database=name).render_as_string(hide_password=False), server)
    migrate(database.url)
    return database


def function_env(database_url: str) -> dict[str, str]:
    """What template.yaml gives every function, with DATABASE_URL for credentials. AWS keys are
    dummies: EventBridge is a stand-in or a local moto server, never AWS."""
    return {
        "DATABASE_URL": database_url,
        "EVENT_BUS_NAME": "job-prep-bench",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ACCESS_KEY_ID": "bench",
        "AWS_SECRET_ACCESS_KEY": "bench",
        "POWERTOOLS_SERVICE_NAME": "job-prep",
        "POWERTOOLS_METRICS_NAMESPACE": "JobPrepBench",
        "POWERTOOLS_LOG_LEVEL": "INFO",
    }


def clean_process_env() -> None:
    """No real AWS identity or endpoint may leak into a measurement."""
    for key in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_EVENTBRIDGE"):
        os.environ.pop(key, None)


def migrate(database_url: str) -> None:
    os.environ.update(function_env(database_url))
    from jobprep.db import engine as db
    from jobprep.migrations import upgrade

    upgrade(db.engine)
    db.engine.dispose()  # the migration's connection must not count as a container's


def machine() -> dict[str, Any]:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {"python": platform.python_version(), "cpu": cpu, "cpus": os.cpu_count(), "os": platform.system()}
