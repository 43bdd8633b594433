"""The dev gateway behaves like API Gateway: CORS from the template, concurrent containers, a clear
port clash, clean shutdown on SIGTERM/SIGHUP, a quiet terminal, local helper endpoints."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import uuid
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import psutil
import pytest
from sqlalchemy import create_engine, text

from jobprep_local.template import PROJECT_ROOT, http_api_cors
from tests import pg
from tests.e2e.conftest import HTTP_TIMEOUT, DevServer
from tests.e2e.test_dev_server import wait_for

pytestmark = pytest.mark.e2e

CORS = http_api_cors()
assert CORS is not None
WEB_APP = "http://localhost:3000"  # the template's CorsAllowOrigins default: the Next.js dev server


def _job(client: httpx.Client, name: str = "Role") -> dict[str, Any]:
    response = client.post("/job-infos", json={"name": name, "experienceLevel": "junior", "description": "d"})
    assert response.status_code == 201, response.text
    job: dict[str, Any] = response.json()
    return job


# -- CORS -----------------------------------------------------------------------------------------


def test_the_web_app_origin_is_allowed_and_not_the_api_port(dev_server: DevServer) -> None:
    assert CORS is not None
    assert WEB_APP in CORS.allow_origins
    from jobprep_local.devserver import DEFAULT_PORT

    assert DEFAULT_PORT != 3000


@pytest.mark.parametrize("method", ["GET", "POST", "PATCH", "DELETE"])
def test_preflight_is_answered_from_the_template_without_a_token(dev_server: DevServer, method: str) -> None:
    assert CORS is not None
    response = httpx.options(
        f"{dev_server.base_url}/job-infos/{uuid.uuid4()}",
        headers={
            "origin": WEB_APP,
            "access-control-request-method": method,
            "access-control-request-headers": ",".join(CORS.allow_headers),
        },
        timeout=HTTP_TIMEOUT,
    )
    assert response.status_code == 200, response.text
    assert response.headers["access-control-allow-origin"] == WEB_APP
    assert {m.strip() for m in response.headers["access-control-allow-methods"].split(",")} == set(CORS.allow_methods)
    allowed = {h.strip().lower() for h in response.headers["access-control-allow-headers"].split(",")}
    assert set(CORS.allow_headers) <= allowed
    assert response.headers["access-control-max-age"] == str(CORS.max_age)
    assert "access-control-allow-credentials" not in response.headers  # AllowCredentials is not set


def test_cors_headers_ride_on_real_and_gateway_responses(dev_server: DevServer) -> None:
    assert CORS is not None
    alice = dev_server.client("alice")
    ok = alice.get("/job-infos", headers={"origin": WEB_APP})
    unauthorized = httpx.get(f"{dev_server.base_url}/job-infos", headers={"origin": WEB_APP}, timeout=HTTP_TIMEOUT)
    for response, status in ((ok, 200), (unauthorized, 401)):
        assert response.status_code == status
        assert response.headers["access-control-allow-origin"] == WEB_APP
        exposed = {h.strip() for h in response.headers["access-control-expose-headers"].split(",")}
        assert exposed == set(CORS.expose_headers)


def test_other_origins_get_no_cors_headers(dev_server: DevServer) -> None:
    response = dev_server.client("alice").get("/job-infos", headers={"origin": "http://evil.example"})
    assert response.status_code == 200
    assert "access-control-allow-origin" not in response.headers
    preflight = httpx.options(
        f"{dev_server.base_url}/job-infos",
        headers={"origin": "http://evil.example", "access-control-request-method": "POST"},
        timeout=HTTP_TIMEOUT,
    )
    assert "access-control-allow-origin" not in preflight.headers


# -- concurrency ----------------------------------------------------------------------------------


def test_requests_are_served_concurrently_by_separate_containers(dev_server: DevServer) -> None:
    """A PATCH held on a row lock must not hold up anything else: a read of the same row and a PATCH of
    another row (a second container of the same function) both complete while it waits."""
    alice = dev_server.client("alice")
    locked, other = _job(alice, "locked"), _job(alice, "other")
    engine = create_engine(f"postgresql+psycopg://postgres@/jobprep?host={dev_server.data_dir / 'pgdata'}")
    with engine.connect() as conn, ThreadPoolExecutor(2) as pool:
        transaction = conn.begin()
        conn.execute(text("SELECT 1 FROM job_infos WHERE id = :id FOR UPDATE"), {"id": locked["id"]})
        waiting: Future[httpx.Response] = pool.submit(
            dev_server.client("alice").patch, f"/job-infos/{locked['id']}", json={"name": "after the lock"}
        )
        wait_for(lambda: _blocked_on_lock(engine))
        assert alice.get(f"/job-infos/{locked['id']}").json()["name"] == "locked"
        assert alice.patch(f"/job-infos/{other['id']}", json={"name": "meanwhile"}).status_code == 200
        assert not waiting.done()
        transaction.commit()
        assert waiting.result(timeout=30).json()["name"] == "after the lock"
    engine.dispose()
    containers = httpx.get(f"{dev_server.base_url}/_local/health", timeout=HTTP_TIMEOUT).json()["containers"]
    assert containers["UpdateJobInfoFunction"] >= 2


def _blocked_on_lock(engine: Any) -> bool:
    # A connection of its own: inside a transaction, pg_stat_activity is a snapshot that never moves.
    query = "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND datname = current_database()"
    with engine.connect() as conn:
        return bool(conn.execute(text(query)).scalar())


# -- terminal, helpers ----------------------------------------------------------------------------


def test_the_terminal_shows_one_line_per_request_and_emf_goes_to_a_file(dev_server: DevServer) -> None:
    _job(dev_server.client("quiet"))
    wait_for(lambda: "JobInfoCreated" in _read(dev_server.data_dir / "metrics.emf.log"))
    log = dev_server.log()
    assert "[api] POST /job-infos -> 201" in log
    assert '"_aws"' not in log
    assert "No application metrics to publish" not in log


def _read(path: Path) -> str:
    return path.read_text() if path.exists() else ""


def test_a_users_rate_limit_can_be_reset(dev_server: DevServer) -> None:
    user = f"limited-{uuid.uuid4()}"
    client = dev_server.client(user)
    job = _job(client)
    statuses = [client.post(f"/job-infos/{job['id']}/interviews", json={}).status_code for _ in range(13)]
    assert statuses == [201] * 12 + [429]

    reset = httpx.delete(f"{dev_server.base_url}/_local/rate-limits/{user}", timeout=HTTP_TIMEOUT)

    assert reset.json() == {"userId": user, "bucketsRemoved": 1}
    assert client.post(f"/job-infos/{job['id']}/interviews", json={}).status_code == 201


def test_unknown_schedule_lists_the_schedule_ids(dev_server: DevServer) -> None:
    response = httpx.post(f"{dev_server.base_url}/_local/schedules/Nope", timeout=HTTP_TIMEOUT)
    assert response.status_code == 404
    assert "RelayOutboxFunction" in response.json()["schedules"]
    assert (
        httpx.post(f"{dev_server.base_url}/_local/schedules/RelayOutboxFunction", timeout=HTTP_TIMEOUT).status_code
        == 200
    )


# -- start and stop -------------------------------------------------------------------------------


def test_a_taken_port_fails_before_the_banner(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "DATABASE_URL", "POWERTOOLS_"))}
        result = subprocess.run(
            [sys.executable, "-m", "jobprep_local", "--data-dir", str(tmp_path), "serve", "--port", str(port)],
            capture_output=True,
            text=True,
            timeout=60,
            env=env,
            check=False,
        )
    assert result.returncode != 0
    assert f"port {port} on 127.0.0.1 is already in use" in result.stderr
    assert "API on" not in result.stdout
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "pgdata").exists()  # nothing was started


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGHUP])
def test_sigterm_and_sighup_stop_the_embedded_postgres(tmp_path: Path, signum: int) -> None:
    server = DevServer(tmp_path / "signals")
    postgres = psutil.Process(int((server.data_dir / "pgdata" / "postmaster.pid").read_text().split()[0]))
    containers = psutil.Process(server.process.pid)
    _job(server.client("sig"))  # start a container too
    children = containers.children(recursive=True)
    assert postgres.is_running()

    server.process.send_signal(signum)
    assert server.process.wait(60) is not None
    server.stop()

    postgres.wait(30)
    assert not postgres.is_running()
    _gone, alive = psutil.wait_procs(children, timeout=30)
    assert alive == []
    assert "job-prep API on" in server.log()


def test_the_run_stops_a_postgres_left_behind(tmp_path: Path) -> None:
    """The net under every server the suite starts (pytest_sessionfinish): a postgres whose owner
    died without stopping it, as behind a dev server that had to be killed, is found and stopped."""
    import pgserver

    pgdata = tmp_path / "orphan"
    pgserver.get_server(pgdata, cleanup_mode=None)  # type: ignore[attr-defined]  # nobody will stop it
    postgres = psutil.Process(int((pgdata / "postmaster.pid").read_text().split()[0]))
    assert postgres.is_running()

    assert pg.stop_leftovers([pgdata, tmp_path / "never-started"]) == [pgdata]

    assert not postgres.is_running()
    assert pg.stop_leftovers([pgdata]) == []


def test_the_dev_gateway_port_default_is_documented() -> None:
    doc = (PROJECT_ROOT / "docs" / "dev-server.md").read_text()
    assert "3001" in doc
    assert "/_local/rate-limits/" in doc
    assert "make psql" in doc
