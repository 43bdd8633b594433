"""Start `python -m jobprep_local serve` as a subprocess with its own data folder and drive it over HTTP."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest

from jobprep_local.auth import DevKeys
from jobprep_local.eventbus import free_port
from tests import pg

STARTUP_SECONDS = 90
# Every HTTP client in tests/e2e waits this long, never httpx's default 5 s: a request may be the
# first to its function, a cold container on a busy machine (tests/unit/test_e2e_timeouts.py).
HTTP_TIMEOUT = 60


# The key the session's dev server sends (through DEV_WEBHOOK_API_KEY, as a developer would set it).
WEBHOOK_API_KEY = "e2e-webhook-key"


@dataclass(frozen=True)
class WebhookRequest:
    method: str
    path: str
    headers: dict[str, str]  # lower-case names
    raw_body: bytes

    @property
    def body(self) -> Any:
        return json.loads(self.raw_body)


class WebhookReceiver:
    """A real HTTP server recording every request the dev server's webhook makes, whatever the method."""

    def __init__(self) -> None:
        self.requests: list[WebhookRequest] = []
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("content-length", "0"))
                headers = {name.lower(): value for name, value in self.headers.items()}
                body = self.rfile.read(length)
                owner.requests.append(WebhookRequest(self.command, self.path, headers, body))
                self.send_response(owner.status_for(body))
                self.end_headers()

            # whatever method the template's HttpMethod says: a wrong one is recorded, not refused
            do_PUT = do_PATCH = do_GET = do_POST  # noqa: N815

            def log_message(self, *_args: Any) -> None:
                return

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def status_for(self, body: bytes) -> int:
        return 204

    @property
    def bodies(self) -> list[Any]:
        return [r.body for r in list(self.requests)]

    def close(self) -> None:
        self.server.shutdown()


class DevServer:
    def __init__(
        self,
        data_dir: Path,
        webhook: str | None = None,
        schedule_scale: float = 1.0,
        extra_env: dict[str, str] | None = None,
        concurrency: int | None = None,
        database_mode: str | None = "aurora",
    ) -> None:
        self.data_dir = data_dir
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.log_path = data_dir / f"server-{self.port}.log"
        data_dir.mkdir(parents=True, exist_ok=True)
        pg.will_start(data_dir / "pgdata")  # the gateway's embedded PostgreSQL
        # As `make dev` runs: no test settings (CLERK_: the documented dev webhook secret applies).
        env = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith(("AWS_", "DATABASE_URL", "POWERTOOLS_", "DEV_WEBHOOK_", "CLERK_"))
        }
        env.update(extra_env or {})
        command = [
            sys.executable,
            "-m",
            "jobprep_local",
            "--data-dir",
            str(data_dir),
            "serve",
            "--port",
            str(self.port),
        ]
        command += ["--schedule-scale", str(schedule_scale)]
        if webhook:
            command += ["--webhook", webhook]
        if concurrency:
            command += ["--concurrency", str(concurrency)]
        if database_mode:  # the functions' AWS calls judged as in AWS (aurora: the template's default)
            command += ["--database-mode", database_mode]
        self.aws_log = data_dir / "aws-calls.jsonl"
        self._log = self.log_path.open("w")
        self.process = subprocess.Popen(command, stdout=self._log, stderr=subprocess.STDOUT, env=env)
        self._wait_ready()

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + STARTUP_SECONDS
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"dev server exited:\n{self.log()}")
            try:
                if httpx.get(f"{self.base_url}/_local/health", timeout=HTTP_TIMEOUT).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"dev server not ready after {STARTUP_SECONDS}s:\n{self.log()}")

    def aws_calls(self) -> list[dict[str, Any]]:
        """Every AWS call the functions made, with its verdict (jobprep_local.aws_model)."""
        if not self.aws_log.exists():
            return []
        return [json.loads(line) for line in self.aws_log.read_text().splitlines() if line.strip()]

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def token(self, user_id: str, **kwargs: Any) -> str:
        return DevKeys(self.data_dir).issue(user_id, **kwargs)

    def client(self, user_id: str | None) -> httpx.Client:
        headers = {"authorization": f"Bearer {self.token(user_id)}"} if user_id else {}
        return httpx.Client(base_url=self.base_url, headers=headers, timeout=HTTP_TIMEOUT)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)
        self._log.close()


@pytest.fixture(scope="session")
def webhook() -> Iterator[WebhookReceiver]:
    receiver = WebhookReceiver()
    yield receiver
    receiver.close()


@pytest.fixture(scope="session")
def dev_server(tmp_path_factory: pytest.TempPathFactory, webhook: WebhookReceiver) -> Iterator[DevServer]:
    # Short path: the embedded PostgreSQL's Unix socket lives in its data folder.
    server = DevServer(
        Path(tmp_path_factory.mktemp("dev")),
        webhook=webhook.url,
        schedule_scale=0.05,
        extra_env={"DEV_WEBHOOK_API_KEY": WEBHOOK_API_KEY},
    )
    yield server
    server.stop()


@pytest.fixture(autouse=True)
def aws_calls_allowed(request: pytest.FixtureRequest) -> Iterator[None]:
    """A function's AWS call its role does not allow, or that aurora's network cannot reach, fails
    the test that caused it (the function itself may have swallowed the error)."""
    server = request.getfixturevalue("dev_server") if "dev_server" in request.fixturenames else None
    since = len(server.aws_calls()) if isinstance(server, DevServer) else 0
    yield
    if isinstance(server, DevServer):
        refused = [c for c in server.aws_calls()[since:] if c["verdict"] != "allowed"]
        if refused:
            pytest.fail("AWS would refuse these calls:\n" + "\n".join(sorted({c["message"] for c in refused})))


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    report = yield
    servers = [v for v in getattr(item, "funcargs", {}).values() if isinstance(v, DevServer)]
    if report.failed:
        for server in servers:
            report.sections.append(("dev server log (tail)", server.log()[-8000:]))
    return report
