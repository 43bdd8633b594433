"""The files in sql/ are what runs: PostgreSQL accepts each one exactly as committed, and every
statement the app sends is one of them (or one of them carrying the sent marks)."""

from __future__ import annotations

import re

import psycopg
import pytest
from sqlalchemy.engine import Engine

from jobprep import prebuilt
from jobprep.relay import relay_pending
from jobprep_local.clerk import signed, user_deleted, user_profile
from jobprep_local.sql import SQL_DIR, rendered
from tests.conftest import WEBHOOK_SECRET, EventSink
from tests.integration.conftest import ApiClient


def without_comments(sql: str) -> str:
    return " ".join(re.sub(r"--[^\n]*", "", sql).split())


def test_postgresql_plans_every_committed_file_as_it_is(database: Engine) -> None:
    """Through the driver, with its placeholders, each bind NULL: EXPLAIN parses, type-checks and
    plans the statement without running it; and the text the app executes (jobprep.db.run: the
    file with psycopg's numbering done once) is what psycopg sends for the file, as PostgreSQL's
    pg_stat_activity shows it (its first track_activity_query_size bytes)."""
    files = sorted(SQL_DIR.glob("*.sql"))
    assert len(files) == len(rendered())
    with database.connect() as conn, database.connect() as watcher:
        dbapi = conn.connection.dbapi_connection
        assert isinstance(dbapi, psycopg.Connection)
        pid = dbapi.info.backend_pid
        for path in files:
            text = path.read_text()
            nulls = dict.fromkeys(prebuilt.placeholders(text))
            plan = conn.exec_driver_sql("EXPLAIN\n" + text, nulls).all()
            assert plan, path.name
            seen = watcher.exec_driver_sql("SELECT query FROM pg_stat_activity WHERE pid = %(pid)s", {"pid": pid})
            received = seen.scalar_one()
            numbered, names = prebuilt.numbered(text)
            expected = "EXPLAIN\n" + numbered
            assert expected.startswith(received), path.name
            assert len(received) >= min(len(expected), 1000), "the whole text or its first KB"
            raw = psycopg.RawCursor(dbapi)
            raw.execute("EXPLAIN\n" + numbered, [None] * len(names))
            assert raw.fetchall(), path.name


def test_the_numbering_is_psycopgs() -> None:
    """A repeated name keeps its number, %% is a plain %, a lone % is refused."""
    text, names = prebuilt.numbered("SELECT %(a)s, %(b)s, %(a)s, '100%%' -- x\n")
    assert (text, names) == ("SELECT $1, $2, $1, '100%' -- x\n", ("a", "b"))
    with pytest.raises(ValueError, match="lone %"):
        prebuilt.numbered("SELECT 5 % 2")


def test_every_statement_the_app_sends_is_in_sql(
    api: ApiClient, event_sink: EventSink, clean_db: Engine, sent_sql: list[str]
) -> None:
    """Exactly the committed text, placeholders numbered as psycopg numbers them (or that text
    carrying the sent marks): not merely the same statement modulo comments."""
    sent = sent_sql
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
    api.get(f"/job-infos/{job['id']}/interviews", query="completed=true")
    api.delete(f"/interviews/{api.create_interview(job['id'])['id']}")
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

    files = {prebuilt.numbered(path.read_text())[0] for path in SQL_DIR.glob("*.sql")}
    app_statements = [s for s in sent if s != "SELECT 1"]  # the pool's liveness check
    assert len(app_statements) > 12
    for statement in app_statements:
        assert statement in files, statement[:200]
    assert any("sent_receipts AS" in s for s in app_statements), "change statements carry the marks"
