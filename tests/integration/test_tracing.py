"""With tracing on, as in Lambda (Tracing: Active), an invocation sends X-Ray subsegments for the
handler and for the SQL statement it waits on. Run in a fresh interpreter: the tracer's on/off
state is process-wide, and every other test runs with it off (POWERTOOLS_TRACE_DISABLED)."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy.engine import Engine

from tests.integration.conftest import ApiClient

INVOKE = """
from jobprep_local.apigw import http_api_event
from jobprep_local.invoke import LocalApi

api = LocalApi()
match = api.match("GET", "/job-infos")
for _ in range(2):
    result = api.invoke_function(match.spec, http_api_event(match.route, path="/job-infos", claims={"sub": "alice"}))
    assert result["statusCode"] == 200, result
"""


@pytest.fixture
def xray_daemon() -> Iterator[socket.socket]:
    """A UDP socket where the X-Ray daemon would listen: the SDK streams finished subsegments to it."""
    daemon = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    daemon.bind(("127.0.0.1", 0))
    daemon.settimeout(5)
    yield daemon
    daemon.close()


def received(daemon: socket.socket) -> list[dict[str, Any]]:
    documents = []
    daemon.settimeout(0.5)  # everything was sent before the child exited
    try:
        while True:
            header, _, body = daemon.recv(65536).decode().partition("\n")
            assert json.loads(header) == {"format": "json", "version": 1}
            documents.append(json.loads(body))
    except TimeoutError:
        return documents


def test_invocations_are_traced_with_the_statement_as_a_subsegment(
    api: ApiClient, clean_db: Engine, xray_daemon: socket.socket
) -> None:
    api.create_job_info()
    host, port = xray_daemon.getsockname()
    env = {k: v for k, v in os.environ.items() if k != "POWERTOOLS_TRACE_DISABLED"}
    env |= {
        "LAMBDA_TASK_ROOT": "/var/task",  # what makes Powertools and the X-Ray SDK trace
        "_X_AMZN_TRACE_ID": "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1",
        "AWS_XRAY_DAEMON_ADDRESS": f"{host}:{port}",
    }
    subprocess.run([sys.executable, "-c", INVOKE], env=env, check=True, timeout=120, capture_output=True)

    documents = received(xray_daemon)
    handlers = [d for d in documents if d["name"] == "## handler"]
    statements = [d for d in documents if d["name"] == "## jobprep.db.reads.fetch"]
    assert [h["annotations"]["ColdStart"] for h in handlers] == [True, False]
    assert len(statements) == 2
    assert {s["parent_id"] for s in statements} == {h["id"] for h in handlers}, "the statement inside the handler"
    assert not [d for d in documents if "metadata" in d], "no response (user data) captured as metadata"
    assert all(h["trace_id"] == "1-5759e988-bd862e3fe1be46a994272793" for h in handlers)


def test_an_unsampled_invocation_builds_no_subsegments(
    api: ApiClient, clean_db: Engine, xray_daemon: socket.socket
) -> None:
    """X-Ray did not sample the request (Sampled=0 in Lambda's trace header): nothing is sent, and
    nothing is built either (the handler runs unwrapped: jobprep.observability.sampled)."""
    api.create_job_info()
    host, port = xray_daemon.getsockname()
    env = {k: v for k, v in os.environ.items() if k != "POWERTOOLS_TRACE_DISABLED"}
    env |= {
        "LAMBDA_TASK_ROOT": "/var/task",
        "_X_AMZN_TRACE_ID": "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=0",
        "AWS_XRAY_DAEMON_ADDRESS": f"{host}:{port}",
    }
    counting = (
        "from aws_xray_sdk.core import xray_recorder\n"
        "built = []\n"
        "begin = xray_recorder.begin_subsegment\n"
        "xray_recorder.begin_subsegment = lambda *a, **k: built.append(a) or begin(*a, **k)\n"
        + INVOKE
        + "print('subsegments built:', len(built))\n"
    )
    done = subprocess.run([sys.executable, "-c", counting], env=env, check=True, timeout=120, capture_output=True)
    assert "subsegments built: 0" in done.stdout.decode()
    assert received(xray_daemon) == []
