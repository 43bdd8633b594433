"""python -m bench.dev_cold_start: the first request to every function of a fresh `make dev`.

Starts the dev server the way `make dev` does (its own data folder and port, the environment of
this process, so PYTHONDONTWRITEBYTECODE=1 applies when set), waits for the banner, then sends each
function its first request, one function after the other, and prints each latency with the median
and the maximum. Every request reaches the function (a 404 for a made-up id is the function's own
answer; schedule-only functions are fired through /_local/schedules). Used for the cold-start
figures in docs/dev-server.md."""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

from jobprep_local.auth import DevKeys
from jobprep_local.eventbus import free_port
from jobprep_local.template import FunctionSpec, functions

BANNER = "job-prep API on "
FIRST_REQUEST_TIMEOUT = 120  # a cold container on a busy machine: measured, never cut short


@dataclass(frozen=True)
class FirstRequest:
    logical_id: str
    method: str
    path: str
    status: int
    seconds: float


def first_request_of(spec: FunctionSpec) -> tuple[str, str, dict[str, object] | None] | None:
    """(method, path, JSON body) that reaches the function; None for one with no route or schedule."""
    if spec.routes:
        route = spec.routes[0]
        path = route.path
        for name in [part[1:-1] for part in path.split("/") if part.startswith("{")]:
            path = path.replace("{" + name + "}", str(uuid.uuid4()))
        body: dict[str, object] | None = None
        if route.method == "POST":
            body = {"name": "cold", "experienceLevel": "junior", "description": "d"}
        return route.method, path, body
    if spec.schedules:
        return "POST", f"/_local/schedules/{spec.logical_id}", None
    return None


@contextmanager
def dev_server(data_dir: Path, port: int) -> Iterator[float]:
    """Yields the seconds the server took to print its banner (a new data folder: initdb, migrations)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "DATABASE_URL", "POWERTOOLS_"))}
    command = [sys.executable, "-m", "jobprep_local", "--data-dir", str(data_dir), "serve", "--port", str(port)]
    started = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)
    try:
        assert process.stdout is not None
        for line in process.stdout:
            if BANNER in line:
                break
        else:
            raise RuntimeError("the dev server exited before its banner")
        banner_after = time.perf_counter() - started
        # keep reading, so the server never blocks on a full pipe
        threading.Thread(target=process.stdout.read, daemon=True).start()
        yield banner_after
    finally:
        process.terminate()
        try:
            process.wait(60)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def measure(data_dir: Path) -> tuple[float, list[FirstRequest]]:
    port = free_port()
    results: list[FirstRequest] = []
    with dev_server(data_dir, port) as banner_after:
        token = DevKeys(data_dir).issue("cold-start")
        headers = {"authorization": f"Bearer {token}"}
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", headers=headers, timeout=FIRST_REQUEST_TIMEOUT) as http:
            for spec in functions().values():
                request = first_request_of(spec)
                if request is None:
                    continue
                method, path, body = request
                started = time.perf_counter()
                response = http.request(method, path, json=body)
                elapsed = time.perf_counter() - started
                results.append(FirstRequest(spec.logical_id, method, path, response.status_code, elapsed))
    return banner_after, results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true", help="print the samples as JSON")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="cold-") as tmp:  # short: PostgreSQL's socket lives there
        banner_after, results = measure(Path(tmp))
    seconds = [r.seconds for r in results]
    if args.json:
        print(json.dumps([r.__dict__ for r in results]))
    for r in results:
        print(f"{r.logical_id:28} {r.method:6} {r.status}  {r.seconds * 1000:7.0f} ms")
    dont_write = os.environ.get("PYTHONDONTWRITEBYTECODE") or "unset"
    print(
        f"banner after {banner_after:.1f} s; first request per function ({len(results)} functions, "
        f"PYTHONDONTWRITEBYTECODE={dont_write}): "
        f"median {statistics.median(seconds) * 1000:.0f} ms, max {max(seconds) * 1000:.0f} ms"
    )


if __name__ == "__main__":
    main()
