"""The path a newcomer takes, as they take it: the README's session run as written, `make psql`
with arguments, and stopping `make dev` with SIGTERM (a process manager, a closed terminal)."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import asdict
from pathlib import Path

import httpx
import psutil
import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine
from sqlalchemy.pool import NullPool

from bench.dev_cold_start import first_request_of
from jobprep_local.eventbus import free_port
from jobprep_local.template import functions
from tests import pg
from tests.e2e import readme_session
from tests.e2e.conftest import HTTP_TIMEOUT, STARTUP_SECONDS, DevServer

pytestmark = pytest.mark.e2e

PROJECT_ROOT = Path(__file__).resolve().parents[2]
BANNER = "job-prep API on "
STOP_SECONDS = 3.0  # issue 19: SIGTERM stops everything within 3 s


def developer_env(**extra: str) -> dict[str, str]:
    """The environment of a developer's shell: none of the test run's settings."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("AWS_", "DATABASE_URL", "POWERTOOLS_", "DEV_WEBHOOK_", "CLERK_", "JOBPREP_", "PORT"))
    }
    env.update(extra)
    return env


# -- make psql --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "command",
    [
        ["make", "-s", "psql", "ARGS=-c 'TABLE job_infos'"],  # make psql ARGS="-c 'TABLE job_infos'"
        [sys.executable, "-m", "jobprep_local", "psql", "-c", "TABLE job_infos"],
    ],
    ids=["make psql ARGS", "python -m jobprep_local psql"],
)
def test_psql_passes_its_arguments_to_psql(dev_server: DevServer, command: list[str]) -> None:
    """Both documented forms, on the database of a running dev server (docs/dev-server.md)."""
    created = dev_server.client("psql-user").post(
        "/job-infos", json={"name": f"psql {uuid.uuid4()}", "experienceLevel": "junior", "description": "d"}
    )
    assert created.status_code == 201, created.text
    run = subprocess.run(
        command,
        cwd=PROJECT_ROOT,
        env=developer_env(JOBPREP_LOCAL_DIR=str(dev_server.data_dir)),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    # psql ran the statement given to it: the table's rows, this job info among them
    assert created.json()["id"] in run.stdout
    assert created.json()["name"] in run.stdout


# -- SIGTERM -------------------------------------------------------------------------------------------


def _marked(marker: str) -> list[psutil.Process]:
    """Every process whose environment carries the marker: whatever `make dev` started, however
    it started it (a child, a forkserver's child, a daemonized one that kept its environment)."""
    found = []
    for process in psutil.process_iter():
        try:
            if process.environ().get("JOBPREP_E2E_MARK") == marker:
                found.append(process)
        except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
            continue
    return found


def _alive(processes: list[psutil.Process]) -> list[psutil.Process]:
    alive = []
    for process in processes:
        try:
            if process.is_running() and process.status() != psutil.STATUS_ZOMBIE:
                alive.append(process)
        except psutil.NoSuchProcess:
            continue
    return alive


def _describe(processes: list[psutil.Process]) -> list[str]:
    described = []
    for process in processes:
        try:
            described.append(f"{process.pid} {' '.join(process.cmdline())[:160]}")
        except psutil.Error:
            described.append(f"{process.pid} (gone)")
    return described


def _patch_quietly(base: str, token: str, job_id: str) -> None:
    with contextlib.suppress(httpx.HTTPError):  # cut short by the stop: that is the point
        httpx.patch(
            f"{base}/job-infos/{job_id}",
            json={"name": "never"},
            headers={"authorization": f"Bearer {token}"},
            timeout=HTTP_TIMEOUT,
        )


def _blocked_on_lock(engine: Engine) -> bool:
    query = "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND datname = current_database()"
    with engine.connect() as conn:
        return bool(conn.execute(text(query)).scalar())


@pytest.fixture
def short_data_dir() -> Iterator[Path]:
    # Short: the embedded PostgreSQL's Unix socket lives in its data folder (~107 bytes at most).
    with tempfile.TemporaryDirectory(prefix="jp-") as tmp:
        yield Path(tmp)


def test_sigterm_stops_make_dev_and_everything_it_started_within_3_s(short_data_dir: Path) -> None:
    port = free_port()
    marker = str(uuid.uuid4())
    log_path = short_data_dir / "make-dev.log"
    pgdata = pg.will_start(short_data_dir / "pgdata")
    env = developer_env(PORT=str(port), JOBPREP_LOCAL_DIR=str(short_data_dir), JOBPREP_E2E_MARK=marker)
    locker = create_engine(f"postgresql+psycopg://postgres@/jobprep?host={pgdata}", poolclass=NullPool)
    with log_path.open("w") as log:
        make = subprocess.Popen(["make", "dev"], cwd=PROJECT_ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + STARTUP_SECONDS
        while BANNER not in log_path.read_text():
            assert make.poll() is None, log_path.read_text()
            assert time.monotonic() < deadline, f"no banner after {STARTUP_SECONDS} s:\n{log_path.read_text()}"
            time.sleep(0.1)
        # Put every kind of process to work: containers of several functions, an event through
        # EventBridge to the consumer, the scheduler's relay.
        base = f"http://127.0.0.1:{port}"
        token = subprocess.run(
            ["make", "-s", "token", "USER_ID=sigterm"], cwd=PROJECT_ROOT, env=env, capture_output=True, text=True
        ).stdout.strip()
        with httpx.Client(base_url=base, headers={"authorization": f"Bearer {token}"}, timeout=HTTP_TIMEOUT) as http:
            job = http.post("/job-infos", json={"name": "stop", "experienceLevel": "junior", "description": "d"})
            assert job.status_code == 201, job.text
            assert http.get(f"/job-infos/{job.json()['id']}").status_code == 200
            assert http.get("/job-infos").status_code == 200
            assert http.post("/_local/schedules/RelayOutboxFunction").status_code == 200
            deadline = time.monotonic() + 30
            while not any(e["detail"]["id"] == job.json()["id"] for e in http.get("/_local/events").json()):
                assert time.monotonic() < deadline, "the event never reached the local consumer"
                time.sleep(0.1)
        # And a request that will not finish by itself: a PATCH waiting on a row another session holds.
        held = locker.connect()
        held.begin()
        held.execute(text("SELECT 1 FROM job_infos WHERE id = :id FOR UPDATE"), {"id": job.json()["id"]})
        patch = threading.Thread(target=_patch_quietly, args=(base, token, job.json()["id"]), daemon=True)
        patch.start()
        deadline = time.monotonic() + 30
        while not _blocked_on_lock(locker):
            assert time.monotonic() < deadline, "the PATCH never reached the locked row"
            time.sleep(0.1)
        postmaster = psutil.Process(int((pgdata / "postmaster.pid").read_text().split()[0]))
        started = [psutil.Process(make.pid), *psutil.Process(make.pid).children(recursive=True)]
        started += [postmaster, *postmaster.children(recursive=True), *_marked(marker)]
        started = list({p.pid: p for p in started}.values())
        # make, the gateway, at least 3 containers, postgres and its workers
        assert len(started) >= 7, _describe(started)

        sent = time.monotonic()
        make.send_signal(signal.SIGTERM)  # as a process manager stops it: the one process it started
        while _alive(started) and time.monotonic() - sent < 30:
            time.sleep(0.02)
        stopped_after = time.monotonic() - sent  # then whatever started after the snapshot above:
        left = _alive(started) + _marked(marker)
        assert not left, f"still running {stopped_after:.1f} s after SIGTERM: {_describe(left)}"
        print(f"SIGTERM -> all {len(started)} processes gone in {stopped_after:.2f} s")
        assert stopped_after <= STOP_SECONDS, f"stopping took {stopped_after:.2f} s"
        assert "Traceback" not in log_path.read_text(), log_path.read_text()[-4000:]
    finally:
        if make.poll() is None:
            make.kill()
            make.wait(10)
        locker.dispose()
        pg.stop_leftovers([pgdata])


# -- the README's session ----------------------------------------------------------------------------

README = PROJECT_ROOT / "README.md"
# Edits a README could get that break its session; each must be reported.
PLANTED = {
    "curl to another port": ("http://127.0.0.1:3001/job-infos", "http://127.0.0.1:3000/job-infos"),
    "a body the API refuses": ('"experienceLevel":"senior"', '"experienceLevel":"expert"'),
    "the webhook for another user": ("make webhook USER_ID=alice", "make webhook USER_ID=bob"),
    "a banner make dev does not print": ('wait for "job-prep API on http://127.0.0.1:3001"', 'wait for "API ready"'),
}


def isolated_network() -> list[str] | None:
    """A command prefix running its command in a network namespace of its own with loopback up (so
    the README's port is free whatever runs on this machine), or None where that is not possible.
    Root: `unshare -n`. Others: `unshare -rn` (root in a user namespace brings lo up), then back to
    their own uid, which pgserver needs (as root it would switch to a user the namespace lacks)."""
    if not (shutil.which("unshare") and shutil.which("ip")):
        return None
    if os.geteuid() == 0:
        prefix = ["unshare", "-n", "sh", "-c", 'ip link set lo up && exec "$@"', "sh"]
    else:
        back = f"unshare -U --map-user={os.getuid()} --map-group={os.getgid()}"
        prefix = ["unshare", "-rn", "sh", "-c", f'ip link set lo up && exec {back} "$@"', "sh"]
    probe = subprocess.run([*prefix, "true"], capture_output=True, check=False)
    return prefix if probe.returncode == 0 else None


def _port_free(port: int) -> bool:
    with socket.socket() as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def test_the_readme_session_runs_as_written_and_a_broken_one_fails(short_data_dir: Path) -> None:
    readme = README.read_text()
    session = readme_session.session_of(readme)
    planted = {}
    for name, (old, new) in PLANTED.items():
        assert old in readme, f"planted edit {name!r}: the README no longer has {old!r}"
        planted[name] = readme_session.session_of(readme.replace(old, new, 1))
    port = int(session.base_url.rsplit(":", 1)[1])

    prefix = isolated_network()
    if prefix is None and not _port_free(port):
        pytest.skip(f"port {port} is taken and no network namespace can be made here (unshare)")
    spec = short_data_dir / "spec.json"
    result = short_data_dir / "result.json"
    sessions = [session, *planted.values()]
    spec.write_text(json.dumps({"sessions": [asdict(s) for s in sessions], "data_dir": str(short_data_dir)}))
    pg.will_start(short_data_dir / "pgdata")
    runner = [sys.executable, "-m", "tests.e2e.readme_session", str(spec), str(result)]
    run = subprocess.run(
        [*(prefix or []), *runner],
        cwd=PROJECT_ROOT,
        env=developer_env(),
        capture_output=True,
        text=True,
        timeout=readme_session.STARTUP_SECONDS + len(sessions) * readme_session.SESSION_SECONDS,
        check=False,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    outcomes = [readme_session.Outcome(**o) for o in json.loads(result.read_text())]

    problems = readme_session.session_problems(session, outcomes[0])
    assert problems == [], f"{problems}\n{outcomes[0].output}"
    for (name, broken), outcome in zip(planted.items(), outcomes[1:], strict=True):
        assert not outcome.not_run, f"planted {name!r}: {outcome.not_run}"  # it ran, and
        found = readme_session.session_problems(broken, outcome)
        assert found, f"planted {name!r} went unnoticed"  # what it broke was seen
        print(f"planted {name!r}: {found}")


# -- first requests ----------------------------------------------------------------------------------

FIRST_REQUEST_SECONDS = 1.0  # issue 19: right after the banner, with PYTHONDONTWRITEBYTECODE=1


def test_the_first_request_to_every_function_right_after_start_takes_at_most_a_second(
    short_data_dir: Path,
) -> None:
    """A new dev server, then one request per function, one after the other (docs/dev-server.md,
    "Cold starts"; python -m bench.dev_cold_start prints the same figures)."""
    server = DevServer(short_data_dir, extra_env={"PYTHONDONTWRITEBYTECODE": "1"}, database_mode=None)  # as make dev
    try:
        headers = {"authorization": f"Bearer {server.token('first-requests')}"}
        timings = {}
        with httpx.Client(base_url=server.base_url, headers=headers, timeout=HTTP_TIMEOUT) as http:
            for spec in functions().values():
                request = first_request_of(spec)
                if request is None:
                    continue
                method, path, body = request
                started = time.perf_counter()
                response = http.request(method, path, json=body)
                timings[spec.logical_id] = round(time.perf_counter() - started, 3)
                assert response.status_code < 500, f"{spec.logical_id}: {response.status_code} {response.text}"
        assert set(timings) >= {s.logical_id for s in functions().values() if s.routes}, timings
        print(f"first requests (s): {timings}")
        slow = {name: seconds for name, seconds in timings.items() if seconds > FIRST_REQUEST_SECONDS}
        assert not slow, f"over {FIRST_REQUEST_SECONDS} s: {slow} (all: {timings})"
    finally:
        server.stop()
