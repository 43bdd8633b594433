"""Fault injection on a real PostgreSQL: the server stopped mid-run, a connection killed in the
middle of a transaction. Expect 503 + Retry-After, no partial writes, recovery when it is back."""

from __future__ import annotations

import tempfile
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from uuid import uuid4

import pytest
from sqlalchemy import text
from sqlalchemy.engine import Engine

from jobprep import unit_of_work
from jobprep.binds import EVENT_ID
from jobprep.config import get_settings
from jobprep.db import engine as db
from jobprep.events import outbox
from jobprep.migrations import upgrade
from tests import pg
from tests.alarms import custom_metric_alarms, emf_records
from tests.integration.conftest import ApiClient, snapshot, wait_for_lock_wait


class StoppableServer:
    """An embedded PostgreSQL of this test's own, so it can be stopped and started at will."""

    def __init__(self) -> None:
        self.pgdata = Path(tempfile.mkdtemp(prefix="jp-fault-", dir="/tmp"))
        self.server = pg.start_embedded(self.pgdata)
        self.url = pg.server_url().set(query={"host": str(self.pgdata)})

    def stop(self) -> None:
        from pgserver import _commands

        # -m immediate: like a crash or a failover, no chance to finish anything in flight
        _commands.pg_ctl(  # type: ignore[attr-defined]
            ["-m", "immediate", "-w", "stop"], pgdata=self.pgdata, user=self.server.system_user
        )

    def start(self) -> None:
        self.server.ensure_postgres_running()

    def close(self) -> None:
        self.server.cleanup_mode = "delete"
        self.server.cleanup()


@pytest.fixture
def stoppable(api: ApiClient, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[StoppableServer, Engine]]:
    server = StoppableServer()
    engine = db.build_engine(get_settings().model_copy(update={"database_url": server.url.render_as_string()}))
    upgrade(engine)
    engine.dispose()
    monkeypatch.setattr(db, "engine", engine)
    admin = pg.admin_engine(server.url)
    try:
        yield server, admin
    finally:
        admin.dispose()
        engine.dispose()
        server.close()


def assert_unavailable(response: Any) -> None:
    assert response.status == 503, response.body
    assert response.headers["retry-after"] == "5"
    assert response.json() == {
        "statusCode": 503,
        "code": "SERVICE_UNAVAILABLE",
        "message": "The database is unavailable, retry shortly",
    }


def test_database_stopped_mid_run(api: ApiClient, stoppable: tuple[StoppableServer, Engine]) -> None:
    server, admin = stoppable
    jobs = [api.create_job_info(name=f"before {i}") for i in range(5)]
    interview = api.create_interview(jobs[0]["id"])
    before = snapshot(admin)

    server.stop()
    calls: list[Callable[[], Any]] = [
        lambda: api.post("/job-infos", {"name": "during", "experienceLevel": "junior", "description": "d"}),
        lambda: api.patch(f"/job-infos/{jobs[1]['id']}", {"name": "during"}),
        lambda: api.delete(f"/job-infos/{jobs[2]['id']}"),
        lambda: api.post(f"/job-infos/{jobs[3]['id']}/interviews", {}),
        lambda: api.patch(f"/interviews/{interview['id']}", {"duration": "00:00:07"}),
        lambda: api.delete(f"/interviews/{interview['id']}"),
        lambda: api.get(f"/job-infos/{jobs[0]['id']}"),
        lambda: api.get("/job-infos"),
        lambda: api.get(f"/interviews/{interview['id']}"),
        lambda: api.get(f"/job-infos/{jobs[0]['id']}/interviews"),
    ]
    for call in calls * 3:
        assert_unavailable(call())

    server.start()
    assert snapshot(admin) == before, "nothing was half-written while the database was down"
    # and the same warm container recovers on its own
    assert api.patch(f"/job-infos/{jobs[1]['id']}", {"name": "after"}).status == 200
    assert api.post("/job-infos", {"name": "after", "experienceLevel": "junior", "description": "d"}).status == 201
    assert len(api.get("/job-infos").json()["items"]) == 6


@pytest.mark.parametrize(
    "mutation",
    [
        "create_job_info",
        "update_job_info",
        "delete_job_info",
        "create_interview",
        "update_interview",
        "delete_interview",
    ],
)
def test_connection_killed_halfway_through_a_mutation(
    api: ApiClient, clean_db: Engine, mutation: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The change is written, then the connection dies before its outbox row: all or nothing.

    The mutation is one statement whose outbox INSERT reads from the change's CTE, so it runs
    after the change. An uncommitted outbox row with the event id the statement will use makes
    that INSERT wait on the primary key, mid-statement; then its backend is terminated."""
    job = api.create_job_info()
    interview = api.create_interview(job["id"])
    before = snapshot(clean_db)

    event_id = uuid4()
    monkeypatch.setattr(unit_of_work, "event_params", lambda: {**outbox.event_params(), EVENT_ID.key: event_id})
    blocker = clean_db.connect().execution_options(isolation_level="READ COMMITTED")
    blocker.begin()
    blocker.execute(
        text(
            "INSERT INTO outbox (id, source, detail_type, detail, next_attempt_at)"
            " VALUES (:id, 'test', 'Blocker', '{}', now())"
        ),
        {"id": event_id},
    )
    calls: dict[str, Callable[[], Any]] = {
        "create_job_info": lambda: api.post(
            "/job-infos", {"name": "x", "experienceLevel": "junior", "description": "d"}
        ),
        "update_job_info": lambda: api.patch(f"/job-infos/{job['id']}", {"name": "x"}),
        "delete_job_info": lambda: api.delete(f"/job-infos/{job['id']}"),
        "create_interview": lambda: api.post(f"/job-infos/{job['id']}/interviews", {}),
        "update_interview": lambda: api.patch(f"/interviews/{interview['id']}", {"duration": "00:00:08"}),
        "delete_interview": lambda: api.delete(f"/interviews/{interview['id']}"),
    }
    call = calls[mutation]
    responses: list[Any] = []
    worker = threading.Thread(target=lambda: responses.append(call()))
    worker.start()
    try:
        pid = wait_for_lock_wait(clean_db)
        with clean_db.connect() as admin:
            admin.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
        worker.join(30)
    finally:
        blocker.rollback()
        blocker.close()
        worker.join(30)

    [response] = responses
    assert_unavailable(response)
    assert snapshot(clean_db) == before
    assert api.get(f"/job-infos/{job['id']}").status == 200, "the next invocation reconnects"


def test_database_unavailable_is_counted_for_its_alarm(
    api: ApiClient, stoppable: tuple[StoppableServer, Engine], capsys: pytest.CaptureFixture[str]
) -> None:
    server, _admin = stoppable
    capsys.readouterr()
    job = api.create_job_info()
    assert not [r for r in emf_records(capsys.readouterr().out) if "DatabaseUnavailable" in r.values]

    server.stop()
    for _ in range(3):
        assert_unavailable(api.get(f"/job-infos/{job['id']}"))

    [alarm] = [a for a in custom_metric_alarms() if a.metric == "DatabaseUnavailable"]
    counted = [
        r.values[alarm.metric]
        for r in emf_records(capsys.readouterr().out)
        if alarm.metric in r.values and r.dimensions == alarm.dimensions
    ]
    assert counted == [[1.0], [1.0], [1.0]], "one per request that found the database unreachable"
