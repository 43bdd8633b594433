"""The environment the functions run with, the schema, and a description of the machine."""

from __future__ import annotations

import os
import platform
from pathlib import Path
from typing import Any

PROJECT_ROOT = Path(__file__).resolve().parents[1]
BENCH_DB = "jobprep_bench"
APP_NAME = "job-prep-functions"  # jobprep's application_name: how pg_stat_activity tells our connections apart
RATE_LIMIT_CAPACITY = 1_000_000_000  # the bench creates thousands of interviews: never rate limited
RATE_LIMIT_REFILL_PER_DAY = 4.0


def function_env(database_url: str) -> dict[str, str]:
    """What template.yaml gives every function, with DATABASE_URL for credentials. AWS keys are
    dummies: EventBridge is a stand-in or a local moto server, never AWS."""
    return {
        "DATABASE_URL": database_url,
        "EVENT_BUS_NAME": "job-prep-bench",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ACCESS_KEY_ID": "bench",
        "AWS_SECRET_ACCESS_KEY": "bench",
        "POWERTOOLS_SERVICE_NAME": "job-prep",
        "POWERTOOLS_METRICS_NAMESPACE": "JobPrepBench",
        "POWERTOOLS_LOG_LEVEL": "INFO",
        "RATE_LIMIT_CAPACITY": str(RATE_LIMIT_CAPACITY),
        "RATE_LIMIT_REFILL_PER_DAY": str(RATE_LIMIT_REFILL_PER_DAY),
    }


def clean_process_env() -> None:
    """No real AWS identity or endpoint may leak into a measurement."""
    for key in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_EVENTBRIDGE"):
        os.environ.pop(key, None)


def migrate() -> None:
    """The template's MigrateFunction, in this process (DATABASE_URL must be set already). Its
    connection stays in the module-scope pool, where the other functions reuse it."""
    from jobprep_local.apigw import LocalLambdaContext
    from jobprep_local.template import load_handler

    load_handler("MigrateFunction")({}, LocalLambdaContext("MigrateFunction"))


def machine() -> dict[str, Any]:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {"python": platform.python_version(), "cpu": cpu, "cpus": os.cpu_count(), "os": platform.system()}
