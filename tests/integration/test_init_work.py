"""What a function does during INIT (the import Lambda runs before the first request), so the
first invocation does not: a function whose routes change data has its EventBridge client
before any request; a read-only one never imports boto3; in aurora mode the RDS client that
signs IAM tokens exists once the engine is built, before the first connect."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from sqlalchemy.engine import Engine

from jobprep.config import Settings
from jobprep.db import credentials
from jobprep_local.template import functions

AFTER_INIT = """
import json, sys
from jobprep_local.template import load_handler
load_handler(sys.argv[1])
from jobprep.events import publisher
print(json.dumps({"events_client": publisher.events_client.cache_info().currsize, "boto3": "boto3" in sys.modules}))
"""


def after_init(logical_id: str, *, drop: tuple[str, ...] = ()) -> dict[str, object]:
    """A fresh interpreter (the container), after importing the function's handler."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_ENDPOINT_URL") and k not in drop}
    done = subprocess.run(
        [sys.executable, "-c", AFTER_INIT, logical_id], env=env, capture_output=True, text=True, timeout=120, check=True
    )
    result: dict[str, object] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


@pytest.mark.parametrize("logical_id", ["CreateJobInfoFunction", "DeleteJobInfoFunction", "ClerkWebhookFunction"])
def test_a_function_that_changes_data_has_its_eventbridge_client_after_init(logical_id: str) -> None:
    assert logical_id in functions()
    assert after_init(logical_id) == {"events_client": 1, "boto3": True}


def test_without_a_region_the_handler_still_loads_and_the_client_waits_for_first_use() -> None:
    """Lambda always sets a region; tools importing the handlers (make openapi) may not."""
    assert after_init("CreateJobInfoFunction", drop=("AWS_DEFAULT_REGION", "AWS_REGION")) == {
        "events_client": 0,
        "boto3": True,
    }


@pytest.mark.parametrize("logical_id", ["GetJobInfoFunction", "ListInterviewsFunction"])
def test_a_read_only_function_never_imports_boto3(logical_id: str) -> None:
    assert logical_id in functions()
    assert after_init(logical_id) == {"events_client": 0, "boto3": False}


def test_aurora_mode_creates_the_rds_client_when_the_engine_is_built(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "x")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "y")
    aurora = {"DB_HOST": "proxy.example", "DB_IAM_AUTH": "true", "DB_USER": "app"}
    settings = Settings.model_validate({**os.environ, **aurora, "DATABASE_URL": None})
    credentials.rds_client.cache_clear()
    try:
        provide = credentials.password_provider(settings)  # what build_engine does at import
        assert credentials.rds_client.cache_info().currsize == 1, "created at INIT, not on the first connect"
        params: dict[str, object] = {}
        provide(None, None, None, params)  # a connect: signs a token with that same client
        assert str(params["password"]).startswith("proxy.example:5432/?Action=connect")
        assert credentials.rds_client.cache_info().misses == 1
    finally:
        credentials.rds_client.cache_clear()


FIRST_INVOCATIONS = """
import json, sys
from jobprep_local.apigw import LocalLambdaContext, http_api_event
from jobprep_local.template import Route, load_handler
logical_id, method, rule = sys.argv[1:4]
handler = load_handler(logical_id)  # INIT
from aws_lambda_powertools.event_handler.openapi import dependant
from sqlalchemy.sql import compiler
counts = {"compiled": 0, "parameter_models": 0}
compile_, get_dependant = compiler.SQLCompiler.__init__, dependant.get_dependant
def counting_compile(self, *args, **kwargs):
    counts["compiled"] += 1
    compile_(self, *args, **kwargs)
def counting_dependant(*args, **kwargs):
    counts["parameter_models"] += 1
    return get_dependant(*args, **kwargs)
compiler.SQLCompiler.__init__ = counting_compile
dependant.get_dependant = counting_dependant
job_info_id = "00000000-0000-4000-8000-00000000abcd"
path = rule.replace("{jobInfoId}", job_info_id)
ids = {"jobInfoId": job_info_id}
event = http_api_event(Route(method, rule), path=path, path_parameters=ids, claims={"sub": "nobody"})
statuses = [handler(dict(event), LocalLambdaContext(logical_id))["statusCode"] for _ in range(2)]
print(json.dumps({**counts, "statuses": statuses}))
"""


@pytest.mark.parametrize(
    ("logical_id", "method", "rule"),
    [
        ("GetJobInfoFunction", "GET", "/job-infos/{jobInfoId}"),
        ("DeleteJobInfoFunction", "DELETE", "/job-infos/{jobInfoId}"),
    ],
)
def test_the_first_invocations_compile_nothing(logical_id: str, method: str, rule: str, clean_db: Engine) -> None:
    """The statement runs from its committed sql/<name>.sql and the route's parameter model is
    built at INIT (jobprep.api.binding): neither is left to the first requests."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_ENDPOINT_URL")}
    done = subprocess.run(
        [sys.executable, "-c", FIRST_INVOCATIONS, logical_id, method, rule],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result == {"compiled": 0, "parameter_models": 0, "statuses": [404, 404]}, done.stderr[-2000:]
