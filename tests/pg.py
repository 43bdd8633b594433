"""The test PostgreSQL: DATABASE_URL when set, else an embedded server from the pgserver package."""

from __future__ import annotations

import hashlib
import os
import signal
import tempfile
from pathlib import Path
from typing import Any

import psutil
from sqlalchemy import create_engine, make_url, text
from sqlalchemy.engine import URL, Engine

PROJECT_ROOT = Path(__file__).resolve().parents[1]
TEST_DB = "jobprep_test"


def embedded_pgdata() -> Path:
    # Short and per-checkout: Unix socket paths are limited to ~107 bytes.
    digest = hashlib.sha256(str(PROJECT_ROOT).encode()).hexdigest()[:10]
    return Path(tempfile.gettempdir()) / f"jobprep-pg-{digest}"


# Data folders of every PostgreSQL this run starts, directly or through a dev server process.
_started: list[Path] = []


def will_start(pgdata: Path) -> Path:
    """Remember a server's data folder, so the end of the run can check that it was stopped."""
    _started.append(pgdata)
    return pgdata


def start_embedded(pgdata: Path) -> Any:
    """Stopped again when its last user goes: the fixture's cleanup(), or pgserver's atexit hook
    when a run ends early; stop_leftovers() is the net behind both."""
    import pgserver  # only needed when no DATABASE_URL is given

    return pgserver.get_server(will_start(pgdata), cleanup_mode="stop")  # type: ignore[attr-defined]


def _running_postmaster(pgdata: Path) -> int | None:
    try:
        pid = int((pgdata / "postmaster.pid").read_text().split()[0])
        alive = "postgres" in psutil.Process(pid).name()  # the file outlives a crash; pids get reused
    except (OSError, ValueError, IndexError, psutil.Error):
        return None
    return pid if alive else None


def stop_leftovers(pgdatas: list[Path] | None = None) -> list[Path]:
    """Stop (fast shutdown) every server started by this run that is still up, e.g. behind a dev
    server that had to be killed; returns their data folders."""
    left = []
    for pgdata in dict.fromkeys(_started if pgdatas is None else pgdatas):
        pid = _running_postmaster(pgdata)
        if pid is None:
            continue
        left.append(pgdata)
        try:
            os.kill(pid, signal.SIGINT)
            psutil.Process(pid).wait(30)
        except (ProcessLookupError, psutil.NoSuchProcess):
            pass
    return left


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
