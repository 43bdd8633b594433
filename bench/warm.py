"""Warm latency in one process: our handlers vs raw psycopg running the same statements on one
reused connection (the floor), vs the FastAPI peer, vs ours connecting per invocation.

EventBridge is an in-process stand-in answering like PutEvents at zero latency, so every
variant is compared on the same work: the database path plus its own code.
"""

from __future__ import annotations

import contextlib
import json
import os
import statistics
import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import psycopg

JOB_COLUMNS = "id, name, title, experience_level, description, version, created_at, updated_at"
USER = "bench-user"
BODY = {"name": "Bench role", "experienceLevel": "senior", "description": "Python, AWS, PostgreSQL"}


class InstantEventBridge:
    def put_events(self, Entries: list[dict[str, Any]]) -> dict[str, Any]:  # noqa: N803 - boto3's name
        return {"FailedEntryCount": 0, "Entries": [{"EventId": str(uuid.uuid4())} for _ in Entries]}


def percentiles(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    return {
        "p50_us": statistics.median(ordered) * 1e6,
        "p99_us": ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] * 1e6,
        "n": len(ordered),
    }


def timed(n: int, call: Callable[[int], Any]) -> list[float]:
    samples = []
    for i in range(n):
        started = time.perf_counter()
        call(i)
        samples.append(time.perf_counter() - started)
    return samples


@contextlib.contextmanager
def quiet_stdout() -> Iterator[None]:
    # EMF metrics are printed per invocation; in Lambda that line goes to the log pipe.
    with open(os.devnull, "w") as sink, contextlib.redirect_stdout(sink):
        yield


class Ours:
    def __init__(self) -> None:
        from jobprep import events
        from jobprep_local.invoke import LocalApi

        events.events_client = InstantEventBridge  # type: ignore[assignment]
        self.api = LocalApi()

    def call(self, method: str, path: str, body: Any = None) -> dict[str, Any]:
        from jobprep_local.apigw import http_api_event

        match = self.api.match(method, path)
        assert match is not None
        event = http_api_event(
            match.route,
            path=path,
            path_parameters=match.path_parameters or None,
            headers={"content-type": "application/json"},
            body=None if body is None else json.dumps(body),
            claims={"sub": USER},
        )
        return {"spec": match.spec, "event": event}

    def invoker(self, method: str, path: str, body: Any = None) -> Callable[[], dict[str, Any]]:
        prepared = self.call(method, path, body)
        from jobprep_local.apigw import LocalLambdaContext
        from jobprep_local.template import load_module

        handler = load_module(prepared["spec"]).lambda_handler
        context = LocalLambdaContext(prepared["spec"].logical_id)
        event = prepared["event"]
        return lambda: handler(event, context)


def run_ours(ours: Ours, n: int) -> dict[str, Any]:
    create = ours.invoker("POST", "/job-infos", BODY)
    with quiet_stdout():
        job_id = json.loads(create()["body"])["id"]
        get = ours.invoker("GET", f"/job-infos/{job_id}")
        updates = [ours.invoker("PATCH", f"/job-infos/{job_id}", {"name": f"name {i % 7}"}) for i in range(7)]
        for warm in (create, get, updates[0]):  # first calls pay one-off costs (imports, caches)
            for _ in range(20):
                warm()
        results = {
            "create": timed(n, lambda _i: create()),
            "update": timed(n, lambda i: updates[i % 7]()),
            "get": timed(n, lambda _i: get()),
        }
        status = {"create": create()["statusCode"], "update": updates[1]()["statusCode"], "get": get()["statusCode"]}
    assert status == {"create": 201, "update": 200, "get": 200}, status
    return {op: percentiles(samples) for op, samples in results.items()} | {"_job_id": job_id}


def run_floor(url: str, job_id: str, n: int) -> dict[str, Any]:
    """The same statements our functions send, through psycopg, no framework at all."""
    conn = psycopg.connect(url, prepare_threshold=None)
    detail = json.dumps({"tags": ["global:jobInfos"]})
    insert_job = (
        "INSERT INTO job_infos (user_id, name, title, experience_level, description) "
        f"VALUES (%s, %s, %s, %s, %s) RETURNING {JOB_COLUMNS}"
    )
    insert_outbox = (
        "INSERT INTO outbox (id, source, detail_type, detail, next_attempt_at) "
        "VALUES (%s, 'job-prep.job-infos', %s, %s, now() + interval '30 seconds')"
    )
    mark_sent = "UPDATE outbox SET attempts = attempts + 1, sent_at = now() WHERE id IN (%s) AND sent_at IS NULL"
    update_job = (
        "UPDATE job_infos SET name = %s, version = version + 1, updated_at = now() "
        f"WHERE id = %s AND user_id = %s RETURNING {JOB_COLUMNS}"
    )

    def mutate(statement: str, params: tuple[Any, ...], detail_type: str) -> None:
        event_id = uuid.uuid4()
        with conn.transaction():
            conn.execute(statement, params).fetchone()
            conn.execute(insert_outbox, (event_id, detail_type, detail))
        conn.autocommit = True
        conn.execute(mark_sent, (event_id,))
        conn.autocommit = False

    def create(_i: int) -> None:
        mutate(insert_job, (USER, BODY["name"], None, "senior", BODY["description"]), "JobInfoCreated")

    def update(i: int) -> None:
        mutate(update_job, (f"name {i % 7}", job_id, USER), "JobInfoUpdated")

    def get(_i: int) -> None:
        conn.autocommit = True
        conn.execute(f"SELECT {JOB_COLUMNS} FROM job_infos WHERE id = %s AND user_id = %s", (job_id, USER)).fetchone()
        conn.autocommit = False

    for warm in (create, update, get):
        for i in range(20):
            warm(i)
    results = {"create": timed(n, create), "update": timed(n, update), "get": timed(n, get)}
    conn.close()
    return {op: percentiles(samples) for op, samples in results.items()}


def run_connect_per_invocation(ours: Ours, job_id: str, n: int) -> dict[str, Any]:
    """Ours, but every checkout opens a new server connection (what module-scope reuse avoids)."""
    from sqlalchemy import create_engine
    from sqlalchemy.pool import NullPool

    from jobprep import db

    reused = db.engine
    db.engine = create_engine(
        reused.url,
        poolclass=NullPool,
        connect_args={"prepare_threshold": None, "application_name": "job-prep-functions"},
    )
    try:
        return run_ours(ours, n) | {"_job_id": job_id}
    finally:
        db.engine.dispose()
        db.engine = reused


def run_peer(n: int) -> dict[str, Any]:
    from bench.peer import app as peer
    from jobprep_local.apigw import LocalLambdaContext, http_api_event
    from jobprep_local.template import Route

    peer.events_client = InstantEventBridge  # type: ignore[assignment]
    event = http_api_event(
        Route("POST", "/job-infos"),
        path="/job-infos",
        headers={"content-type": "application/json"},
        body=json.dumps(BODY),
        claims={"sub": USER},
    )
    context = LocalLambdaContext("PeerCreateJobInfo")
    first = peer.handler(event, context)  # type: ignore[arg-type]
    assert first["statusCode"] == 201, first
    for _ in range(20):
        peer.handler(event, context)  # type: ignore[arg-type]
    return {"create": percentiles(timed(n, lambda _i: peer.handler(event, context)))}  # type: ignore[arg-type]
