"""A warm container keeps one server connection across invocations and heals a killed one."""

import time
from typing import Any

import psycopg
import pytest
from sqlalchemy import text
from sqlalchemy.engine import Engine

from jobprep.db import engine as db
from jobprep_local.invoke import LocalApi
from tests.integration.conftest import ApiClient

APP = "job-prep-functions"


def app_backends(admin: Engine) -> list[int]:
    with admin.connect() as conn:
        return list(
            conn.execute(
                text("SELECT pid FROM pg_stat_activity WHERE application_name = :app AND datname = current_database()"),
                {"app": APP},
            ).scalars()
        )


def test_one_connection_reused_across_many_invocations(api: ApiClient, clean_db: Engine) -> None:
    db.engine.dispose()  # a fresh container
    job = api.create_job_info()
    [pid] = app_backends(clean_db)
    for i in range(60):
        kind = i % 4
        if kind == 0:
            assert api.get(f"/job-infos/{job['id']}").status == 200
        elif kind == 1:
            assert api.patch(f"/job-infos/{job['id']}", {"name": f"n{i}"}).status == 200
        elif kind == 2:
            assert api.post(f"/job-infos/{job['id']}/interviews", {}).status in (201, 429)
        else:
            assert api.get("/job-infos").status == 200
        assert app_backends(clean_db) == [pid], f"invocation {i} used another server connection"


def test_survives_pg_terminate_backend(api: ApiClient, clean_db: Engine) -> None:
    db.engine.dispose()
    job = api.create_job_info()
    [old_pid] = app_backends(clean_db)
    with clean_db.connect() as conn:
        # wait (up to 5 s) until the backend is really gone, as after a failover
        assert conn.execute(text("SELECT pg_terminate_backend(:pid, 5000)"), {"pid": old_pid}).scalar_one()

    # The next invocation's checkout sees the closed socket, pings, and reconnects before running the request.
    response = api.patch(f"/job-infos/{job['id']}", {"name": "after the kill"})
    assert response.status == 200
    [new_pid] = app_backends(clean_db)
    assert new_pid != old_pid
    assert api.get(f"/job-infos/{job['id']}").json()["name"] == "after the kill"
    assert app_backends(clean_db) == [new_pid]


def test_keep_warm_event_only_pings(local_api: LocalApi, clean_db: Engine) -> None:
    db.engine.dispose()
    result = local_api.fire_schedule("GetJobInfoFunction")
    assert result == {"warm": True}
    assert len(app_backends(clean_db)) == 1
    with clean_db.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM job_infos")).scalar_one() == 0


@pytest.fixture
def pings(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Records the liveness pings the checkout check sends (straight on the psycopg connection)."""
    seen: list[str] = []
    original = psycopg.Connection.execute

    def spy(self: psycopg.Connection[Any], query: Any, *args: Any, **kwargs: Any) -> Any:
        if query == "SELECT 1":
            seen.append(query)
        return original(self, query, *args, **kwargs)

    monkeypatch.setattr(psycopg.Connection, "execute", spy)
    return seen


def test_back_to_back_invocations_skip_the_network_ping(api: ApiClient, pings: list[str]) -> None:
    db.engine.dispose()
    job = api.create_job_info()
    pings.clear()
    for _ in range(20):
        assert api.get(f"/job-infos/{job['id']}").status == 200
    assert pings == []


def test_a_connection_idle_for_long_is_pinged(
    api: ApiClient, pings: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    job = api.create_job_info()
    pings.clear()
    later = time.monotonic() + db.PING_AFTER_IDLE_SECONDS + 60  # as after a freeze
    monkeypatch.setattr(time, "monotonic", lambda: later)  # the clock jobprep.db reads
    assert api.get(f"/job-infos/{job['id']}").status == 200
    assert pings == ["SELECT 1"]
