"""A database that is resuming (Aurora Serverless v2 or Neon waking from a pause: up to ~15 s before
it accepts a session), and a migration behind a transaction-mode pooler. Each function gets the
connect settings template.yaml gives it; a TCP front of our own stands in for the proxy/pooler."""

from __future__ import annotations

import os
import socket
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, ClassVar

import psycopg
import pytest
from sqlalchemy import create_engine, inspect, make_url, text
from sqlalchemy.engine import Engine

from jobprep.config import Settings, get_settings
from jobprep.db import engine as db
from jobprep.db.engine import build_engine
from jobprep.migrations import downgrade, head_revision, upgrade
from jobprep.migrations.on_deploy import migrate_to
from jobprep_local.template import functions
from tests.conftest import app_tables
from tests.integration.conftest import ApiClient

TEST_URL = make_url(os.environ["DATABASE_URL"])


class ResumingDatabase:
    """127.0.0.1:<port> in front of the test PostgreSQL's Unix socket, as a proxy or pooler in front
    of a paused compute: the first `drop` connections are closed as soon as they arrive (refused
    while the compute starts), and every later one is held `hold` seconds before it reaches the
    database (accepted, but nothing answers yet); `hold=None` holds it until the front closes."""

    def __init__(self, *, drop: int = 0, hold: float | None = 0.0) -> None:
        self.upstream = Path(str(TEST_URL.query["host"])) / f".s.PGSQL.{TEST_URL.port or 5432}"
        self.drop, self.hold = drop, hold
        self.arrived = 0
        self.closing = threading.Event()
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        threading.Thread(target=self._accept, daemon=True).start()

    def url(self) -> str:
        return f"postgresql://{TEST_URL.username}@127.0.0.1:{self.port}/{TEST_URL.database}?sslmode=disable"

    def _accept(self) -> None:
        while not self.closing.is_set():
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            self.arrived += 1
            if self.arrived <= self.drop:
                client.close()
                continue
            threading.Thread(target=self._link, args=(client,), daemon=True).start()

    def _link(self, client: socket.socket) -> None:
        if self.closing.wait(self.hold):  # None: until the front closes
            client.close()
            return
        server = socket.socket(socket.AF_UNIX)
        server.connect(str(self.upstream))

        def pump(source: socket.socket, sink: socket.socket) -> None:
            try:
                while chunk := source.recv(65536):
                    sink.sendall(chunk)
            except OSError:
                pass
            finally:
                for sock in (source, sink):
                    sock.close()

        threading.Thread(target=pump, args=(server, client), daemon=True).start()
        pump(client, server)

    def close(self) -> None:
        self.closing.set()
        self.listener.close()


@pytest.fixture
def resuming() -> Iterator[Callable[..., ResumingDatabase]]:
    fronts: list[ResumingDatabase] = []

    def make(**kw: Any) -> ResumingDatabase:
        fronts.append(ResumingDatabase(**kw))
        return fronts[-1]

    yield make
    for front in fronts:
        front.close()


def engine_as_deployed(logical_id: str, url: str) -> Engine:
    """The engine `logical_id` builds in AWS (its template variables: connect timeout, retries),
    pointed at `url`."""
    env = functions()[logical_id].environment
    return build_engine(
        Settings.model_validate(
            {
                "EVENT_BUS_NAME": "bus",
                "DATABASE_URL": url,
                **{k: env[k] for k in ("DB_CONNECT_TIMEOUT", "DB_CONNECT_RETRIES") if k in env},
            }
        )
    )


@pytest.fixture
def at_head(database: Engine) -> Iterator[Engine]:
    yield database
    db.engine.dispose()
    upgrade(db.engine)
    db.engine.dispose()


# --- the migration and the relay wait the resume out ------------------------------------------

RESUMES: dict[str, dict[str, Any]] = {
    "accepts-after-8s": {"hold": 8.0},  # longer than the 5 s default connect timeout
    "drops-the-first-connection": {"drop": 1},  # a retry, not a failed deploy
}


@pytest.mark.parametrize("resume", sorted(RESUMES))
def test_the_migration_waits_for_a_resuming_database(
    at_head: Engine, resuming: Callable[..., ResumingDatabase], resume: str
) -> None:
    downgrade(db.engine, "base")
    front = resuming(**RESUMES[resume])
    engine = engine_as_deployed("MigrateFunction", front.url())
    try:
        assert migrate_to(engine, head_revision(), budget_ms=60_000) == head_revision()
    finally:
        engine.dispose()
    inspect(at_head).clear_cache()
    assert set(inspect(at_head).get_table_names()) >= set(app_tables())


@pytest.mark.parametrize("resume", sorted(RESUMES))
def test_the_relay_waits_for_a_resuming_database(
    api: ApiClient, resuming: Callable[..., ResumingDatabase], resume: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from jobprep.relay import relay_pending

    front = resuming(**RESUMES[resume])
    engine = engine_as_deployed("RelayOutboxFunction", front.url())
    monkeypatch.setattr(db, "engine", engine)
    try:
        report = relay_pending(lambda: 60_000)
    finally:
        engine.dispose()
    assert (report.failed, report.pending) == (0, 0)
    assert front.arrived == 1 + RESUMES[resume].get("drop", 0)


# --- the API does not wait: 503 + Retry-After, before its own Lambda timeout -------------------


def test_the_api_answers_503_with_retry_after_while_the_database_resumes(
    api: ApiClient, resuming: Callable[..., ResumingDatabase], monkeypatch: pytest.MonkeyPatch
) -> None:
    assert api.get("/me").status == 200  # a warm container (its import is not what is timed)
    front = resuming(hold=None)  # accepted, never answered while the test runs
    engine = engine_as_deployed("GetMeFunction", front.url())
    monkeypatch.setattr(db, "engine", engine)
    started = time.monotonic()
    try:
        response = api.get("/me")
    finally:
        engine.dispose()
    elapsed = time.monotonic() - started
    assert response.status == 503, response.body
    assert response.headers["retry-after"] == "5"
    assert response.json()["code"] == "SERVICE_UNAVAILABLE"
    # answered by the function, not cut off by Lambda (which API Gateway would turn into a bare 500)
    assert elapsed < functions()["GetMeFunction"].timeout - 2, elapsed
    front.close()
    # and once the database answers again, so does the API
    monkeypatch.setattr(db, "engine", db.build_engine(get_settings()))
    try:
        assert api.get("/me").status == 200
    finally:
        db.engine.dispose()


# --- the migration's timeouts end with its transactions (transaction-mode pooler) -------------


TIMEOUTS = text("SELECT current_setting('statement_timeout'), current_setting('lock_timeout')")


class SessionAfterEachCommit(psycopg.Connection[Any]):
    """Records the session's timeouts right after every COMMIT: what a transaction-mode pooler
    hands to the next client that gets this server connection."""

    seen: ClassVar[list[tuple[str, str]]] = []

    def commit(self) -> None:
        super().commit()
        row = self.execute(str(TIMEOUTS)).fetchone()
        super().rollback()  # end the transaction that SELECT opened
        assert row is not None
        SessionAfterEachCommit.seen.append((row[0], row[1]))


def test_the_migration_leaves_no_timeout_on_its_session(at_head: Engine) -> None:
    with at_head.connect() as conn:  # a session with the server's defaults
        statement_default, lock_default = conn.execute(TIMEOUTS).one()
    downgrade(db.engine, "base")
    conninfo = TEST_URL.set(drivername="postgresql").render_as_string(hide_password=False)
    SessionAfterEachCommit.seen = []
    engine = create_engine(
        "postgresql+psycopg://",
        creator=lambda: SessionAfterEachCommit.connect(conninfo, prepare_threshold=None),
        pool_size=1,
        max_overflow=0,
    )
    try:
        assert migrate_to(engine, head_revision(), budget_ms=42_000) == head_revision()
        with engine.connect() as conn:  # the same server session, afterwards
            assert tuple(conn.execute(TIMEOUTS).one()) == (statement_default, lock_default)
    finally:
        engine.dispose()
    assert SessionAfterEachCommit.seen, "the migration committed"
    assert set(SessionAfterEachCommit.seen) == {(statement_default, lock_default)}
