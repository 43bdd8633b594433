"""The README's session ("A session:" and its bash block), run as written.

Terminal 1's line (`make dev`) runs with bash in the background until its output shows what its
comment says to wait for; terminal 2's lines then run as one bash script (`bash -e`: a command that
fails stops the session, as it would stop a reader). Afterwards the dev server is asked what the
session's comments promise: the job info was created and printed, its JobInfoCreated event was
listed, and the signed user.deleted removed the user's data.

`python -m tests.e2e.readme_session SPEC RESULT` runs inside a network namespace of its own
(test_readme_session.py), so `make dev` gets the README's port (3001) even where another dev server
holds it: SPEC is JSON (the sessions, the data folder), RESULT what happened, for session_problems()."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import httpx

PROJECT_ROOT = Path(__file__).resolve().parents[2]
STARTUP_SECONDS = 240  # a fresh data folder (initdb, migrations) on a busy machine
SESSION_SECONDS = 300
HTTP_TIMEOUT = 60


@dataclass(frozen=True)
class Session:
    terminal_1: str  # the command line, comment included
    wait_for: str  # the text terminal 1's comment says to wait for
    terminal_2: str  # the rest of the block, as bash reads it
    user_id: str  # whose token terminal 2 makes

    @property
    def command(self) -> str:
        """Terminal 1's command without its comment (what bash runs)."""
        return "\n".join(re.sub(r"\s*#.*$", "", line) for line in self.terminal_1.splitlines()).strip()

    @property
    def base_url(self) -> str:
        found = re.search(r"https?://[\w.]+:\d+", self.wait_for)
        return found.group(0) if found else ""


class NotASession(ValueError):
    """The README has no session block in the expected shape."""


def session_of(readme: str) -> Session:
    """The bash block after "A session:", split at its "terminal 2" comment."""
    _, found, after = readme.partition("A session:")
    block = re.search(r"```bash\n(.*?)```", after, re.S) if found else None
    if block is None:
        raise NotASession('no ```bash block after "A session:"')
    lines = block.group(1).splitlines()
    second = next((i for i, line in enumerate(lines) if "# terminal 2" in line), None)
    if second is None or second == 0:
        raise NotASession("no line marked # terminal 2 after terminal 1's")
    terminal_1 = "\n".join(lines[:second])
    wait_for = re.search(r'wait for "([^"]+)"', terminal_1)
    user = re.search(r"make -s token USER_ID=([\w.@-]+)", "\n".join(lines[second:]))
    if wait_for is None or user is None:
        raise NotASession('terminal 1 says what to wait for (wait for "..."), terminal 2 makes a token')
    return Session(terminal_1, wait_for.group(1), "\n".join(lines[second:]) + "\n", user.group(1))


@dataclass
class Outcome:
    exit_code: int | None = None
    output: str = ""
    banner_seen: bool = False
    new_events: list[dict[str, Any]] = field(default_factory=list)
    job_infos_after: list[dict[str, Any]] = field(default_factory=list)
    not_run: str = ""  # why the session could not be run at all


def session_problems(session: Session, outcome: Outcome) -> list[str]:
    """What the session's comments promise and did not happen (empty: it worked as written)."""
    if outcome.not_run:
        return [outcome.not_run]
    problems = []
    if not outcome.banner_seen:
        problems.append(f"terminal 1 never showed {session.wait_for!r}")
    if outcome.exit_code != 0:
        problems.append(f"terminal 2 exited with {outcome.exit_code}")
    if "Traceback" in outcome.output:
        problems.append("a traceback in terminal 2")
    created = [
        e["detail"]["id"]
        for e in outcome.new_events
        if e["detail-type"] == "JobInfoCreated" and e["detail"]["userId"] == session.user_id
    ]
    if len(created) != 1:
        return [*problems, f"{len(created)} JobInfoCreated events for {session.user_id}, not 1"]
    job_id = created[0]
    if outcome.output.count(job_id) < 2:  # the created resource, then its event in /_local/events
        problems.append(f"terminal 2 did not print the job info {job_id} and its event")
    if "JobInfoCreated" not in outcome.output:
        problems.append("terminal 2 did not list the JobInfoCreated event")
    if not any(
        e["detail-type"] == "UserDataDeleted"
        and e["detail"]["userId"] == session.user_id
        and f"id:{job_id}:jobInfos" in e["detail"]["tags"]
        for e in outcome.new_events
    ):
        problems.append(f"no UserDataDeleted covering {session.user_id}'s job info")
    if any(item["id"] == job_id for item in outcome.job_infos_after):
        problems.append(f"{session.user_id}'s job info is still there")
    return problems


def _events(base_url: str) -> list[dict[str, Any]]:
    events: list[dict[str, Any]] = httpx.get(f"{base_url}/_local/events", timeout=HTTP_TIMEOUT).json()
    return events


def _settled_events(base_url: str, before: int) -> list[dict[str, Any]]:
    """The events since `before`, once the consumer has had time to print what is in flight."""
    deadline = time.monotonic() + 15
    seen = _events(base_url)
    while time.monotonic() < deadline:
        time.sleep(1)
        now = _events(base_url)
        if len(now) == len(seen) and len(now) > before:
            break
        seen = now
    return seen[before:]


def run_sessions(sessions: list[Session], data_dir: Path) -> list[Outcome]:
    """Terminal 1 of the first session starts `make dev`; every session's terminal 2 runs against it."""
    from jobprep_local.auth import DevKeys

    first = sessions[0]
    env = {k: v for k, v in os.environ.items() if k not in ("PORT",)} | {"JOBPREP_LOCAL_DIR": str(data_dir)}
    log_path = data_dir / "terminal-1.log"
    with log_path.open("w") as log:
        terminal_1 = subprocess.Popen(
            ["bash", "-c", first.terminal_1], cwd=PROJECT_ROOT, env=env, stdout=log, stderr=subprocess.STDOUT
        )
    outcomes = []
    try:
        deadline = time.monotonic() + STARTUP_SECONDS
        while first.wait_for not in log_path.read_text() and terminal_1.poll() is None:
            if time.monotonic() > deadline:
                break
            time.sleep(0.2)
        if first.wait_for not in log_path.read_text():
            tail = log_path.read_text()[-3000:]
            return [Outcome(not_run=f"terminal 1 never showed {first.wait_for!r}:\n{tail}") for _ in sessions]
        for session in sessions:
            if session.command != first.command:
                outcomes.append(Outcome(not_run="another terminal 1 command: needs a dev server of its own"))
                continue
            outcome = Outcome(banner_seen=session.wait_for in log_path.read_text())
            before = len(_events(first.base_url))
            script = subprocess.run(
                ["bash", "-e"],
                input=session.terminal_2,
                cwd=PROJECT_ROOT,
                env=env,
                capture_output=True,
                text=True,
                timeout=SESSION_SECONDS,
                check=False,
            )
            outcome.exit_code = script.returncode
            outcome.output = script.stdout + script.stderr
            outcome.new_events = _settled_events(first.base_url, before)
            token = DevKeys(data_dir).issue(session.user_id)
            listed = httpx.get(
                f"{first.base_url}/job-infos",
                headers={"authorization": f"Bearer {token}"},
                timeout=HTTP_TIMEOUT,
            )
            outcome.job_infos_after = listed.json().get("items", []) if listed.is_success else []
            outcomes.append(outcome)
        return outcomes
    finally:
        terminal_1.send_signal(signal.SIGTERM)  # as closing terminal 1's Ctrl-C would stop it
        try:
            terminal_1.wait(60)
        except subprocess.TimeoutExpired:
            terminal_1.kill()
            terminal_1.wait(10)


def main(spec_path: str, result_path: str) -> None:
    spec = json.loads(Path(spec_path).read_text())
    sessions = [Session(**s) for s in spec["sessions"]]
    outcomes = run_sessions(sessions, Path(spec["data_dir"]))
    Path(result_path).write_text(json.dumps([asdict(o) for o in outcomes]))


if __name__ == "__main__":
    main(*sys.argv[1:])
