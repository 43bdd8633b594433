"""Test bootstrap: environment first (jobprep.db builds its engine at import), then a real
PostgreSQL with migrations applied, and EventBridge through moto with a rule -> SQS target."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import make_url, text
from sqlalchemy.engine import Engine

from tests import pg

EVENT_BUS = "job-prep-test"
# The identity provider's webhook signing secret in tests (Svix format: whsec_ + base64).
WEBHOOK_SECRET = "whsec_dGVzdHMtb25seSB3ZWJob29rIHNpZ25pbmcga2V5"


def pytest_configure(config: pytest.Config) -> None:
    # DATABASE_URL given: use that server (a scratch database is created on it next to the named one).
    given = os.environ.get("DATABASE_URL")
    if given:
        os.environ["JOBPREP_TEST_SERVER_URL"] = given
    url = pg.server_url().set(drivername="postgresql+psycopg", database=pg.TEST_DB)
    os.environ["DATABASE_URL"] = url.render_as_string(hide_password=False)
    os.environ["EVENT_BUS_NAME"] = EVENT_BUS
    for key, value in {
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "POWERTOOLS_SERVICE_NAME": "job-prep",
        "POWERTOOLS_METRICS_NAMESPACE": "JobPrepTest",
        "POWERTOOLS_LOG_LEVEL": "WARNING",
        "CLERK_WEBHOOK_SECRET": WEBHOOK_SECRET,
        "POWERTOOLS_TRACE_DISABLED": "true",  # no X-Ray daemon here
    }.items():
        os.environ[key] = value
    for key in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_EVENTBRIDGE"):
        os.environ.pop(key, None)
    # Before any botocore session exists: every session then carries the hook that judges a
    # function's AWS calls (jobprep_local.aws_model; tests/integration/conftest.py turns it on).
    from jobprep_local import aws_model

    aws_model.install(None)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    # After every fixture's teardown: a server still up now would outlive the run (an orphaned
    # postgres holding its data folder). Stop it, and fail the run so the leak gets fixed.
    left = pg.stop_leftovers()
    if left:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
        print(f"\nPostgreSQL servers left running by the run, now stopped: {[str(p) for p in left]}")


@pytest.fixture(scope="session")
def database() -> Iterator[Engine]:
    """A freshly created and migrated database; yields an admin engine on it (not the app's)."""
    server = None
    if "JOBPREP_TEST_SERVER_URL" not in os.environ:
        server = pg.start_embedded(pg.embedded_pgdata())
    url = pg.server_url()
    pg.recreate_database(url, pg.TEST_DB)
    from jobprep.db import engine as db
    from jobprep.migrations import upgrade

    upgrade(db.engine)
    db.engine.dispose()  # the migration's connection is not the one the tests observe
    admin = pg.admin_engine(make_url(os.environ["DATABASE_URL"]), pg.TEST_DB)
    yield admin
    admin.dispose()
    db.engine.dispose()
    if server is not None:
        server.cleanup()


def app_tables() -> tuple[str, ...]:
    """Every table the app has (the migrations' target): a new one is emptied and snapshotted too."""
    from jobprep.migrations.target import TABLES

    return tuple(t.name for t in TABLES)


@pytest.fixture
def clean_db(database: Engine) -> Engine:
    with database.connect() as conn:
        conn.execute(text(f"TRUNCATE {', '.join(app_tables())} CASCADE"))
    return database


class EventSink:
    """An SQS queue subscribed to every job-prep event on the bus, as a consumer would be."""

    def __init__(self, sqs: Any, queue_url: str) -> None:
        self.sqs = sqs
        self.queue_url = queue_url

    def drain(self) -> list[dict[str, Any]]:
        events: list[dict[str, Any]] = []
        while True:
            batch = self.sqs.receive_message(QueueUrl=self.queue_url, MaxNumberOfMessages=10).get("Messages", [])
            if not batch:
                return events
            for message in batch:
                events.append(json.loads(message["Body"]))
                self.sqs.delete_message(QueueUrl=self.queue_url, ReceiptHandle=message["ReceiptHandle"])


@pytest.fixture
def aws() -> Iterator[None]:
    from moto import mock_aws

    from jobprep import unit_of_work
    from jobprep.events.publisher import events_client

    with mock_aws():
        events_client.cache_clear()  # a client created inside this mock
        unit_of_work.reset_publish_skip()  # an earlier test's unreachable EventBridge is not this one's
        yield
    events_client.cache_clear()
    unit_of_work.reset_publish_skip()


@pytest.fixture
def event_sink(aws: None) -> EventSink:
    import boto3

    events = boto3.client("events")
    sqs = boto3.client("sqs")
    bus_arn = events.create_event_bus(Name=EVENT_BUS)["EventBusArn"]
    queue_url = sqs.create_queue(QueueName="invalidations")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    events.put_rule(
        Name="all-invalidations",
        EventBusName=EVENT_BUS,
        EventPattern=json.dumps({"source": [{"prefix": "job-prep."}]}),
    )
    events.put_targets(Rule="all-invalidations", EventBusName=EVENT_BUS, Targets=[{"Id": "sink", "Arn": queue_arn}])
    assert bus_arn.endswith(EVENT_BUS)
    return EventSink(sqs, queue_url)
