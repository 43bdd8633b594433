from __future__ import annotations

import json
import time
import warnings
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import select, table, text
from sqlalchemy.engine import Engine

from jobprep_local import aws_model
from jobprep_local.aws_model import AwsModel, Harness
from jobprep_local.invoke import LambdaHttpResponse, LocalApi
from tests import aws_stacks
from tests.conftest import EventSink, app_tables

ALL_FEATURES = "u:unlimited_interviews,u:unlimited_questions"


class ApiClient:
    """Calls the functions exactly as API Gateway would after the JWT authorizer let a request in."""

    def __init__(self, api: LocalApi, engine: Engine) -> None:
        self.api = api
        self.engine = engine  # the test database's admin engine: to arrange or inspect rows directly

    def request(
        self,
        method: str,
        path: str,
        *,
        user: str | None = "alice",
        json_body: Any = None,
        body: str | bytes | None = None,
        headers: dict[str, str] | None = None,
        query: str = "",
        features: str = ALL_FEATURES,
    ) -> LambdaHttpResponse:
        match = self.api.match(method, path)
        assert match is not None, f"no route for {method} {path}"
        sent_headers = {"content-type": "application/json", **(headers or {})}
        if json_body is not None:
            body = json.dumps(json_body)
        claims = None if user is None else {"sub": user, "fea": features}
        return self.api.invoke(match, path, headers=sent_headers, query=query, body=body, claims=claims)

    def get(self, path: str, **kw: Any) -> LambdaHttpResponse:
        return self.request("GET", path, **kw)

    def post(self, path: str, json_body: Any = None, **kw: Any) -> LambdaHttpResponse:
        return self.request("POST", path, json_body=json_body, **kw)

    def patch(self, path: str, json_body: Any = None, **kw: Any) -> LambdaHttpResponse:
        return self.request("PATCH", path, json_body=json_body, **kw)

    def delete(self, path: str, **kw: Any) -> LambdaHttpResponse:
        return self.request("DELETE", path, **kw)

    # convenience for arranging state
    def create_job_info(self, user: str = "alice", **fields: Any) -> dict[str, Any]:
        body = {"name": "Backend role", "experienceLevel": "senior", "description": "Python, AWS", **fields}
        response = self.post("/job-infos", body, user=user)
        assert response.status == 201, response.body
        result: dict[str, Any] = response.json()
        return result

    def create_interview(self, job_info_id: str, user: str = "alice", **fields: Any) -> dict[str, Any]:
        response = self.post(f"/job-infos/{job_info_id}/interviews", fields, user=user)
        assert response.status == 201, response.body
        result: dict[str, Any] = response.json()
        return result


@pytest.fixture(scope="session")
def local_api() -> LocalApi:
    return LocalApi()


@pytest.fixture
def api(clean_db: Engine, event_sink: EventSink, local_api: LocalApi) -> ApiClient:
    return ApiClient(local_api, clean_db)


def snapshot(engine: Engine) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table, to prove a rejected request changed nothing. The sent marks of
    events published earlier go out first (as a keep-warm ping sends them): otherwise the
    next write, even a refused one, carries them (test_receipts.py), and they are bookkeeping
    of those earlier requests, not a change made by the one under test."""
    from jobprep import unit_of_work

    unit_of_work.flush_receipts()
    with engine.connect() as conn:
        return {
            t: sorted(map(tuple, conn.execute(select(text("*")).select_from(table(t)))), key=repr) for t in app_tables()
        }


def wait_for_lock_wait(admin: Engine, timeout: float = 10.0) -> int:
    """The app's backend pid once it is blocked on a lock."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with admin.connect() as conn:
            pid = conn.execute(
                text(
                    "SELECT pid FROM pg_stat_activity WHERE application_name = 'job-prep-functions'"
                    " AND datname = current_database() AND wait_event_type = 'Lock'"
                )
            ).scalar()
        if pid is not None:
            return int(pid)
        time.sleep(0.02)
    raise AssertionError("the request never blocked on a lock")


# --- AWS by behaviour: every AWS call a function makes here is judged as its own role's, in both
# DatabaseModes, with aurora's network (jobprep_local.aws_model); a refused call fails the test.


@pytest.fixture(scope="session", autouse=True)
def aws_behaviour() -> Iterator[Harness | None]:
    from jobprep_local.cfn import TranslatorMissing

    try:
        models = [AwsModel(stack) for stack in aws_stacks.mode_stacks()]
    except (TranslatorMissing, pytest.skip.Exception) as exc:
        warnings.warn(f"AWS calls are not judged: {exc}", stacklevel=1)
        yield None
        return
    harness = Harness(models)
    with aws_model.judging(harness):
        yield harness


@pytest.fixture(autouse=True)
def aws_calls_allowed(aws_behaviour: Harness | None) -> Iterator[None]:
    if aws_behaviour is None or aws_model.active() is not aws_behaviour:
        yield
        return
    since = len(aws_behaviour.calls)
    yield
    problems = aws_behaviour.problems(since)
    if problems:
        pytest.fail("AWS would refuse these calls:\n" + "\n".join(sorted({c.message for c in problems})))


@pytest.fixture
def sent_sql(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """Every SQL text the app sends, as the driver gets it: prebuilt statements through
    jobprep.db.run (psycopg.RawCursor) and anything still going through SQLAlchemy's execute."""
    import psycopg
    from sqlalchemy import event

    from jobprep.db import engine as db

    seen: list[str] = []
    raw_execute, raw_executemany = psycopg.RawCursor.execute, psycopg.RawCursor.executemany

    def execute(self: Any, query: Any, *args: Any, **kwargs: Any) -> Any:
        seen.append(str(query))
        return raw_execute(self, query, *args, **kwargs)

    def executemany(self: Any, query: Any, *args: Any, **kwargs: Any) -> Any:
        seen.append(str(query))
        return raw_executemany(self, query, *args, **kwargs)

    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        seen.append(statement)

    monkeypatch.setattr(psycopg.RawCursor, "execute", execute)
    monkeypatch.setattr(psycopg.RawCursor, "executemany", executemany)
    event.listen(db.engine, "before_cursor_execute", record)
    yield seen
    event.remove(db.engine, "before_cursor_execute", record)
