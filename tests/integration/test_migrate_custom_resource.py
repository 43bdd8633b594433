"""The migrate function as CloudFormation's SchemaMigration custom resource, driven with
real-shaped Create/Update/Delete events against the real test PostgreSQL. A local HTTPS server
stands in for the pre-signed S3 ResponseURL: it receives the PUT, and the tests check the
Status, PhysicalResourceId, Reason and Data that CloudFormation would read."""

from __future__ import annotations

import copy
import json
import os
import socket
import ssl
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import inspect, text
from sqlalchemy.engine import Engine

from bench.netpg import self_signed
from jobprep.config import Settings
from jobprep.db import engine as db
from jobprep.db.engine import build_engine
from jobprep.migrations import downgrade, head_revision, upgrade
from jobprep_local.apigw import LocalLambdaContext
from jobprep_local.template import PROJECT_ROOT, functions, load_module
from tests.conftest import app_tables

SAMPLE = json.loads((PROJECT_ROOT / "events" / "migrate.json").read_text())


class ResponseUrl:
    """HTTPS on 127.0.0.1 with a throwaway CA that the process trusts (SSL_CERT_FILE), like S3."""

    def __init__(self, tmp: Path) -> None:
        self.cert_file, key_file = self_signed(tmp)
        self.puts: list[dict[str, Any]] = []
        self.arrived = threading.Condition()
        received, arrived = self.puts, self.arrived

        class Handler(BaseHTTPRequestHandler):
            def do_PUT(self) -> None:
                body = self.rfile.read(int(self.headers["content-length"]))
                with arrived:
                    received.append({"path": self.path, "body": json.loads(body)})
                    arrived.notify_all()
                self.send_response(200)
                self.end_headers()

            def log_message(self, *_args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(self.cert_file, key_file)
        self.server.socket = context.wrap_socket(self.server.socket, server_side=True)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def url_for(self) -> str:
        # Same path and query shape as CloudFormation's pre-signed URL, on our host.
        original = SAMPLE["ResponseURL"]
        return f"https://127.0.0.1:{self.server.server_address[1]}/{original.split('/', 3)[3]}"

    def wait_for(self, count: int, timeout: float = 30) -> list[dict[str, Any]]:
        with self.arrived:
            assert self.arrived.wait_for(lambda: len(self.puts) >= count, timeout), f"{len(self.puts)} responses"
            return [p["body"] for p in self.puts]

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def response_url(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[ResponseUrl]:
    server = ResponseUrl(tmp_path)
    monkeypatch.setenv("SSL_CERT_FILE", str(server.cert_file))
    yield server
    server.close()


@pytest.fixture(scope="module")
def migrate_handler() -> Any:
    return load_module(functions()["MigrateFunction"]).lambda_handler


def cfn_event(request_type: str, response_url: ResponseUrl, revision: str | None = None) -> dict[str, Any]:
    event: dict[str, Any] = copy.deepcopy(SAMPLE)
    event["RequestType"] = request_type
    event["ResponseURL"] = response_url.url_for()
    if revision is not None:
        event["ResourceProperties"]["SchemaRevision"] = revision
    if request_type != "Create":
        event["PhysicalResourceId"] = "jobprep-schema"
    if request_type == "Update":
        event["OldResourceProperties"] = copy.deepcopy(SAMPLE["ResourceProperties"])
    return event


def invoke(handler: Any, event: dict[str, Any], timeout_seconds: int = 300) -> Any:
    return handler(event, LocalLambdaContext("MigrateFunction", timeout_seconds=timeout_seconds))


def invoke_in_background(handler: Any, event: dict[str, Any], timeout_seconds: int) -> threading.Event:
    """The handler in its own thread (as Lambda runs it), so the test can act while it is blocked."""
    done = threading.Event()

    def run() -> None:
        invoke(handler, event, timeout_seconds)
        done.set()

    threading.Thread(target=run, daemon=True).start()
    return done


@pytest.fixture
def at_head(database: Engine) -> Iterator[Engine]:
    """Every test leaves the database migrated to head for the rest of the suite."""
    yield database
    db.engine.dispose()
    upgrade(db.engine)
    db.engine.dispose()


def tables(engine: Engine) -> set[str]:
    inspect(engine).clear_cache()
    return set(inspect(engine).get_table_names())


def test_create_on_an_empty_database_migrates_to_the_template_revision(
    at_head: Engine, response_url: ResponseUrl, migrate_handler: Any
) -> None:
    downgrade(db.engine, "base")
    assert tables(at_head) == {"alembic_version"}
    event = cfn_event("Create", response_url)

    invoke(migrate_handler, event)

    [reply] = response_url.wait_for(1)
    assert reply["Status"] == "SUCCESS", reply["Reason"]
    assert reply["PhysicalResourceId"] == "jobprep-schema"
    assert (reply["StackId"], reply["RequestId"], reply["LogicalResourceId"]) == (
        event["StackId"],
        event["RequestId"],
        "SchemaMigration",
    )
    assert reply["Data"] == {"Revision": head_revision()}
    assert tables(at_head) >= set(app_tables())
    assert response_url.puts[0]["path"] == "/" + SAMPLE["ResponseURL"].split("/", 3)[3]


def test_update_is_idempotent_and_delete_keeps_the_data(
    at_head: Engine, response_url: ResponseUrl, migrate_handler: Any
) -> None:
    with at_head.connect() as conn:
        conn.execute(
            text(
                "INSERT INTO job_infos (id, user_id, name, experience_level, description)"
                " VALUES (gen_random_uuid(), 'cfn-test', 'kept', 'senior', 'survives a stack delete')"
            )
        )
    invoke(migrate_handler, cfn_event("Update", response_url))
    invoke(migrate_handler, cfn_event("Update", response_url))  # a retried or repeated deploy
    invoke(migrate_handler, cfn_event("Delete", response_url))

    replies = response_url.wait_for(3)
    assert [r["Status"] for r in replies] == ["SUCCESS"] * 3, replies
    assert {r["PhysicalResourceId"] for r in replies} == {"jobprep-schema"}  # never a replacement
    assert replies[0]["Data"] == replies[1]["Data"] == {"Revision": head_revision()}
    with at_head.connect() as conn:
        assert conn.execute(text("SELECT name FROM job_infos WHERE user_id = 'cfn-test'")).scalars().all() == ["kept"]
        conn.execute(text("DELETE FROM job_infos WHERE user_id = 'cfn-test'"))
        assert conn.execute(text("SELECT version_num FROM alembic_version")).scalar() == head_revision()


@pytest.mark.parametrize("revision", ["9999", "head", ""])
def test_a_revision_the_code_does_not_have_fails_the_deploy(
    at_head: Engine, response_url: ResponseUrl, migrate_handler: Any, revision: str
) -> None:
    invoke(migrate_handler, cfn_event("Update", response_url, revision=revision))
    [reply] = response_url.wait_for(1)
    assert reply["Status"] == "FAILED"
    assert "SchemaRevision" in reply["Reason"]
    assert reply["PhysicalResourceId"] == "jobprep-schema"


def test_a_migration_blocked_by_a_lock_is_cancelled_before_the_deadline(
    at_head: Engine, response_url: ResponseUrl, migrate_handler: Any
) -> None:
    """Live traffic holds a lock the migration needs: PostgreSQL cancels the wait inside the
    time budget (deadline minus the reply margin), the migration's transaction rolls back on
    the server, and CloudFormation gets FAILED with the reason (not a timeout)."""
    downgrade(db.engine, "base")
    with at_head.connect() as blocker:
        blocker.execute(text("BEGIN"))
        blocker.execute(text("LOCK TABLE alembic_version IN ACCESS EXCLUSIVE MODE"))
        done = invoke_in_background(migrate_handler, cfn_event("Create", response_url), timeout_seconds=4)
        [reply] = response_url.wait_for(1)
        handler_returned = done.wait(10)
        blocker.execute(text("ROLLBACK"))
    assert handler_returned
    assert reply["Status"] == "FAILED"
    assert "canceling statement due to" in reply["Reason"]  # lock or statement timeout, whichever first
    assert tables(at_head) == {"alembic_version"}  # nothing half-applied


def test_an_approaching_timeout_answers_failed_before_the_deadline(
    at_head: Engine, response_url: ResponseUrl, migrate_handler: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The database does not answer at all (a server that accepts TCP and never speaks): the
    handler is still blocked when the deadline nears, and CloudFormation hears FAILED anyway."""
    silent = socket.create_server(("127.0.0.1", 0))
    port = silent.getsockname()[1]
    stuck = build_engine(
        Settings.model_validate(
            {
                "EVENT_BUS_NAME": "b",
                "DATABASE_URL": f"postgresql://u@127.0.0.1:{port}/d?sslmode=disable",
                "DB_CONNECT_TIMEOUT": "30",
            }
        )
    )
    monkeypatch.setattr(db, "engine", stuck)
    done = invoke_in_background(migrate_handler, cfn_event("Create", response_url), timeout_seconds=2)
    [reply] = response_url.wait_for(1)
    assert not done.is_set(), "the reply came from the timer, while the handler was still blocked"
    assert reply["Status"] == "FAILED"
    assert "timed out" in reply["Reason"]
    silent.close()  # now the connection attempt fails; whatever the handler says next is FAILED too
    assert done.wait(60)
    assert {p["body"]["Status"] for p in response_url.puts} == {"FAILED"}
    stuck.dispose()


def test_plain_invoke_still_upgrades(at_head: Engine, migrate_handler: Any) -> None:
    downgrade(db.engine, "base")
    assert invoke(migrate_handler, {"revision": "head"}) == {"upgradedTo": "head"}
    assert tables(at_head) >= set(app_tables())


def test_sample_event_is_a_cloudformation_create() -> None:
    assert SAMPLE["RequestType"] == "Create"
    assert SAMPLE["ResourceType"] == "Custom::SchemaMigration"
    assert SAMPLE["ResourceProperties"]["SchemaRevision"] == head_revision()
    assert os.path.basename(SAMPLE["ResponseURL"].split("?")[0]).endswith("SchemaMigration%7C" + SAMPLE["RequestId"])
