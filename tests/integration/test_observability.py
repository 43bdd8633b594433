"""Structured logs carry the request id as correlation id; unexpected errors never leak details."""

from __future__ import annotations

import io
import json
from typing import Any

import pytest

from jobprep.observability import logger
from jobprep_local.apigw import http_api_event
from jobprep_local.template import load_module
from tests.integration.conftest import ApiClient


def log_lines(out: str) -> list[dict[str, Any]]:
    lines = []
    for line in out.splitlines():
        if line.startswith("{"):
            lines.append(json.loads(line))
    return lines


def test_unexpected_error_is_a_bare_500_and_a_correlated_log(api: ApiClient, monkeypatch: pytest.MonkeyPatch) -> None:
    # The Powertools handler holds the stream it was created with: give it one we can read.
    stream = io.StringIO()
    monkeypatch.setattr(logger.registered_handler, "stream", stream)

    def boom(*_args: Any, **_kwargs: Any) -> None:
        raise RuntimeError("secret internals: SELECT * FROM job_infos")

    match = api.api.match("GET", "/job-infos")
    assert match is not None
    # the handler module imported the logic function by name: replace it there
    monkeypatch.setattr(load_module(match.spec), "list_job_infos", boom)
    event = http_api_event(match.route, path="/job-infos", claims={"sub": "alice"})
    request_id = event["requestContext"]["requestId"]

    result = api.api.invoke_function(match.spec, event)

    assert result["statusCode"] == 500
    assert json.loads(result["body"]) == {
        "statusCode": 500,
        "code": "INTERNAL_ERROR",
        "message": "Internal server error",
    }
    errors = [line for line in log_lines(stream.getvalue()) if line.get("level") == "ERROR"]
    assert len(errors) == 1
    assert errors[0]["correlation_id"] == request_id
    assert "secret internals" in errors[0]["exception"]
    assert errors[0]["function_name"] == "ListJobInfosFunction"


def test_mutations_emit_emf_metrics(api: ApiClient, capsys: pytest.CaptureFixture[str]) -> None:
    capsys.readouterr()
    api.create_job_info()
    metrics = [line for line in log_lines(capsys.readouterr().out) if "_aws" in line]
    names = {m["Name"] for line in metrics for d in line["_aws"]["CloudWatchMetrics"] for m in d["Metrics"]}
    assert "JobInfoCreated" in names
    assert all(d["Namespace"] == "JobPrepTest" for line in metrics for d in line["_aws"]["CloudWatchMetrics"])
