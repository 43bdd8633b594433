"""The files in sql/ are what runs: PostgreSQL accepts each one exactly as committed, and every
statement the app sends is one of them (or one of them carrying the sent marks)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import event
from sqlalchemy.engine import Engine

from jobprep import prebuilt
from jobprep.db import engine as db
from jobprep.events.outbox import SENT_RECEIPTS
from jobprep.relay import relay_pending
from jobprep_local.clerk import signed, user_deleted, user_profile
from jobprep_local.sql import SQL_DIR, rendered
from tests.conftest import WEBHOOK_SECRET, EventSink
from tests.integration.conftest import ApiClient


def without_comments(sql: str) -> str:
    return " ".join(re.sub(r"--[^\n]*", "", sql).split())


def test_postgresql_plans_every_committed_file_as_it_is(database: Engine) -> None:
    """Through the driver, with its placeholders, each bind NULL: EXPLAIN parses, type-checks and
    plans the statement without running it."""
    files = sorted(SQL_DIR.glob("*.sql"))
    assert len(files) == len(rendered())
    with database.connect() as conn:
        for path in files:
            text = path.read_text()
            nulls = dict.fromkeys(prebuilt.placeholders(text))
            plan = conn.exec_driver_sql("EXPLAIN\n" + text, nulls).all()
            assert plan, path.name


@pytest.fixture
def sent() -> Iterator[list[str]]:
    seen: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        seen.append(statement)

    event.listen(db.engine, "before_cursor_execute", record)
    yield seen
    event.remove(db.engine, "before_cursor_execute", record)


def test_every_statement_the_app_sends_is_in_sql(
    api: ApiClient, event_sink: EventSink, clean_db: Engine, sent: list[str]
) -> None:
    job = api.create_job_info()
    api.post(
        "/job-infos", {"name": "n", "experienceLevel": "junior", "description": "d"}, headers={"idempotency-key": "k"}
    )
    interview = api.create_interview(job["id"])
    api.get(f"/job-infos/{job['id']}")
    api.get("/job-infos", query="limit=1")
    api.get(f"/interviews/{interview['id']}")
    api.get(f"/job-infos/{job['id']}/interviews")
    api.patch(f"/job-infos/{job['id']}", {"title": "t"}, headers={"if-match": '"1"'})
    api.patch(f"/interviews/{interview['id']}", {"humeChatId": "h", "feedback": "f"})
    question = api.post(f"/job-infos/{job['id']}/questions", {"text": "q", "difficulty": "easy"}).json()
    api.get(f"/questions/{question['id']}")
    api.get(f"/job-infos/{job['id']}/questions")
    api.delete(f"/job-infos/{job['id']}")
    match = api.api.match("POST", "/webhooks/clerk")
    assert match is not None
    for payload in (user_profile("user.created", "alice"), user_deleted("alice")):
        body, headers = signed(payload, WEBHOOK_SECRET)
        api.api.invoke(match, "/webhooks/clerk", headers=headers, body=body)
    api.get("/me")
    relay_pending(lambda: 60_000)

    files = {without_comments(text) for text in rendered().values()}
    with_marks = {
        without_comments(prebuilt.compiled_text(p.plus(SENT_RECEIPTS)))
        for p in prebuilt.catalog()
        if p.kind == "change"
    }
    app_statements = [s for s in sent if s != "SELECT 1"]  # the pool's liveness check
    assert len(app_statements) > 12
    for statement in app_statements:
        assert without_comments(statement) in files | with_marks, statement[:200]
    assert any(without_comments(s) in with_marks for s in app_statements), "the marks rode along at least once"
