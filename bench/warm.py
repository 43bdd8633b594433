"""Warm latency in one process: our handlers vs the floor (raw psycopg sending the same
statements on one reused connection), the FastAPI + Mangum peer, and ours opening a new server
connection per invocation.

Variants run in blocks of back-to-back invocations (a busy warm container), and the blocks of
all variants are interleaved in a shuffled order round after round: drift in machine load (this
is a shared, 2-CPU box) hits every variant alike, so their ratios stay meaningful.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import random
import statistics
import time
import uuid
from collections.abc import Callable, Collection, Iterator
from datetime import UTC, datetime
from typing import Any

import psycopg

from bench.eventbridge import STUB, moto_eventbridge

USER = "bench-user"
BODY = {"name": "Bench role", "experienceLevel": "senior", "description": "Python, AWS, PostgreSQL"}
RENAMES = 7  # updates cycle through a few names, as real edits would
OPS = ("create", "update", "get")

Call = Callable[[int], Any]


def stats(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    n = len(ordered)
    return {
        "p50_us": statistics.median(ordered) * 1e6,
        "p99_us": ordered[max(0, math.ceil(0.99 * n) - 1)] * 1e6,  # nearest rank
        "mean_us": statistics.fmean(ordered) * 1e6,
        "n": n,
    }


def interleaved(variants: dict[str, Call], n: int, block: int, seed: int = 5) -> dict[str, list[float]]:
    """n timed calls per variant, in blocks of `block`, variants shuffled every round."""
    rng = random.Random(seed)
    samples: dict[str, list[float]] = {name: [] for name in variants}
    names = list(variants)
    clock = time.perf_counter
    while any(len(s) < n for s in samples.values()):
        rng.shuffle(names)
        for name in names:
            call, out = variants[name], samples[name]
            for _ in range(min(block, n - len(out))):
                started = clock()
                call(len(out))
                out.append(clock() - started)
    return samples


@contextlib.contextmanager
def quiet_stdout() -> Iterator[None]:
    # EMF metrics are printed per invocation; in Lambda that line goes to the log pipe.
    with open(os.devnull, "w") as sink, contextlib.redirect_stdout(sink):
        yield


# --- EventBridge --------------------------------------------------------------------------


def _stub_client() -> Any:
    return STUB


def use_stub_eventbridge() -> None:
    """Ours and the peer publish to the in-process stand-in."""
    from bench.peer import app as peer
    from jobprep.events import publisher as events

    events.events_client = _stub_client  # type: ignore[assignment]
    peer.events_client = _stub_client  # type: ignore[assignment]


def use_real_eventbridge() -> None:
    """Ours and the peer create their boto3 clients again (honouring AWS_ENDPOINT_URL_EVENTBRIDGE)."""
    from bench.peer import app as peer
    from jobprep.events import publisher as events

    events.events_client = _ORIGINAL_CLIENTS["ours"]
    peer.events_client = _ORIGINAL_CLIENTS["peer"]
    events.events_client.cache_clear()
    peer.events_client.cache_clear()


def _remember_clients() -> dict[str, Any]:
    from bench.peer import app as peer
    from jobprep.events import publisher as events

    return {"ours": events.events_client, "peer": peer.events_client}


_ORIGINAL_CLIENTS: dict[str, Any] = {}


# --- the variants -------------------------------------------------------------------------


class Ours:
    """Our functions, loaded from template.yaml as Lambda loads them, called through their
    lambda_handler with real HTTP API v2 events (JWT claims as the authorizer passes them)."""

    def __init__(self) -> None:
        from jobprep_local.invoke import LocalApi

        self.api = LocalApi()

    def invoker(self, method: str, path: str, body: Any = None) -> Callable[[], dict[str, Any]]:
        from jobprep_local.apigw import LocalLambdaContext, http_api_event
        from jobprep_local.template import load_module

        match = self.api.match(method, path)
        assert match is not None, (method, path)
        event = http_api_event(
            match.route,
            path=path,
            path_parameters=match.path_parameters or None,
            headers={"content-type": "application/json"},
            body=None if body is None else json.dumps(body),
            claims={"sub": USER},
        )
        handler = load_module(match.spec).lambda_handler
        context = LocalLambdaContext(match.spec.logical_id)
        return lambda: handler(event, context)

    def calls(self) -> tuple[dict[str, Call], str]:
        """The three operations, and the id of the job info that update and get work on."""
        create = self.invoker("POST", "/job-infos", BODY)
        created = create()
        assert created["statusCode"] == 201, created
        job_id = json.loads(created["body"])["id"]
        get = self.invoker("GET", f"/job-infos/{job_id}")
        updates = [self.invoker("PATCH", f"/job-infos/{job_id}", {"name": f"name {i}"}) for i in range(RENAMES)]
        calls = {
            "create": _expect(201, lambda _i: create()),
            "update": _expect(200, lambda i: updates[i % RENAMES]()),
            "get": _expect(200, lambda _i: get()),
        }
        return calls, job_id


def _expect(status: int, call: Callable[[int], dict[str, Any]]) -> Call:
    """Checked only every 100th call: the check itself stays out of the timings."""

    def checked(i: int) -> Any:
        response = call(i)
        if i % 100 == 0 and response["statusCode"] != status:
            raise AssertionError(f"expected {status}, got {response}")
        return response

    return checked


class ConnectPerInvocation:
    """Ours, with an engine configured exactly like jobprep.db's but emptied after every
    invocation: each invocation opens (and at its end closes) one server connection, which is
    what keeping the engine at module scope avoids."""

    def __init__(self) -> None:
        from jobprep.config import get_settings
        from jobprep.db import engine as db

        self.engine = db.build_engine(get_settings())

    def wrap(self, call: Call) -> Call:
        from jobprep.db import engine as db

        def per_invocation(i: int) -> Any:
            pooled, db.engine = db.engine, self.engine
            try:
                return call(i)
            finally:
                db.engine = pooled
                self.engine.dispose()

        return per_invocation


class Floor:
    """Raw psycopg, one reused connection, the same statements and round trips as ours:
    create/update = BEGIN; INSERT|UPDATE ... RETURNING; INSERT INTO outbox; COMMIT; then the
    autocommit UPDATE that marks the event sent. get = one autocommit SELECT. Nothing else:
    no validation, no framework, no JSON response."""

    COLUMNS = "id, name, title, experience_level, description, version, created_at, updated_at"
    INSERT = (
        "INSERT INTO job_infos (user_id, name, title, experience_level, description)"
        f" VALUES (%s, %s, %s, %s, %s) RETURNING {COLUMNS}"
    )
    UPDATE = (
        "UPDATE job_infos SET name = %s, version = version + 1, updated_at = now()"
        f" WHERE id = %s AND user_id = %s RETURNING {COLUMNS}"
    )
    SELECT = f"SELECT {COLUMNS} FROM job_infos WHERE id = %s AND user_id = %s"
    OUTBOX = (
        "INSERT INTO outbox (id, source, detail_type, detail, next_attempt_at)"
        " VALUES (%s, 'job-prep.job-infos', %s, %s, now() + interval '30 seconds')"
    )
    MARK_SENT = "UPDATE outbox SET sent_at = now(), attempts = attempts + 1 WHERE id IN (%s) AND sent_at IS NULL"

    def __init__(self, url: str) -> None:
        self.conn = psycopg.connect(url, prepare_threshold=None)  # no server-side prepares, as ours

    def close(self) -> None:
        self.conn.close()

    def _mutate(self, statement: str, params: tuple[Any, ...], detail_type: str) -> Any:
        conn = self.conn
        event_id = uuid.uuid4()
        with conn.transaction():
            row = conn.execute(statement, params).fetchone()
            assert row is not None
            detail = {
                "eventId": str(event_id),
                "occurredAt": datetime.now(UTC).isoformat(),
                "id": str(row[0]),
                "userId": USER,
                "tags": ["global:jobInfos", f"user:{USER}:jobInfos", f"id:{row[0]}:jobInfos"],
            }
            conn.execute(self.OUTBOX, (event_id, detail_type, json.dumps(detail)))
        conn.autocommit = True
        conn.execute(self.MARK_SENT, (event_id,))
        conn.autocommit = False
        return row

    def calls(self, job_id: str) -> dict[str, Call]:
        conn = self.conn
        create_params = (USER, BODY["name"], None, BODY["experienceLevel"], BODY["description"])

        def get(_i: int) -> Any:
            conn.autocommit = True
            row = conn.execute(self.SELECT, (job_id, USER)).fetchone()
            conn.autocommit = False
            return row

        return {
            "create": lambda _i: self._mutate(self.INSERT, create_params, "JobInfoCreated"),
            "update": lambda i: self._mutate(self.UPDATE, (f"name {i % RENAMES}", job_id, USER), "JobInfoUpdated"),
            "get": get,
        }


def peer_create() -> Call:
    """The FastAPI + Mangum peer's create, through Mangum with the same HTTP API v2 event."""
    from bench.peer import app as peer
    from jobprep_local.apigw import LocalLambdaContext, http_api_event
    from jobprep_local.template import Route

    event = http_api_event(
        Route("POST", "/job-infos"),
        path="/job-infos",
        headers={"content-type": "application/json"},
        body=json.dumps(BODY),
        claims={"sub": USER},
    )
    context = LocalLambdaContext("PeerCreateJobInfo")
    return _expect(201, lambda _i: peer.handler(event, context))  # type: ignore[arg-type]


# --- the runs -----------------------------------------------------------------------------


def _warm_up(calls: dict[str, Call], times: int) -> None:
    # First calls pay one-off costs (lazy imports, statement compilation, pydantic schemas).
    for call in calls.values():
        for i in range(times):
            call(i)


def run_warm(
    database_url: str, n: int, block: int, only: Collection[str] | None = None
) -> dict[str, dict[str, dict[str, float]]]:
    """{op: {variant: stats}} for create/update/get; the peer implements create only.
    `only` restricts the variants (e.g. floor and ours, to compare two versions of the code)."""
    if not _ORIGINAL_CLIENTS:
        _ORIGINAL_CLIENTS.update(_remember_clients())
    use_stub_eventbridge()
    floor = Floor(database_url)
    per_invocation = ConnectPerInvocation()
    results: dict[str, dict[str, dict[str, float]]] = {}
    try:
        with quiet_stdout():
            ours, job_id = Ours().calls()
            floors = floor.calls(job_id)
            for op in OPS:
                variants = {
                    "floor": floors[op],
                    "ours": ours[op],
                    "connect_per_invocation": per_invocation.wrap(ours[op]),
                }
                if op == "create":
                    variants["peer"] = peer_create()
                if only is not None:
                    variants = {k: v for k, v in variants.items() if k in only}
                _warm_up(variants, 30)
                samples = interleaved(variants, n, block)
                results[op] = {name: stats(s) for name, s in samples.items()}
    finally:
        floor.close()
        per_invocation.engine.dispose()
    return results


def run_connect(database_url: str, n: int) -> dict[str, float]:
    """What one new server connection costs on this setup (psycopg connect + close): the price
    connect-per-invocation pays on every call."""
    from bench.environment import APP_NAME

    def connect(_i: int) -> None:
        psycopg.connect(database_url, prepare_threshold=None, application_name=APP_NAME).close()

    _warm_up({"connect": connect}, 5)
    return stats(interleaved({"connect": connect}, n, n)["connect"])


def run_publishing(n: int, block: int) -> dict[str, dict[str, dict[str, float]]]:
    """Ours and the peer publishing for real: boto3 PutEvents over HTTP to a local moto server,
    interleaved with ours on the stand-in, so the difference is the cost of publishing."""
    if not _ORIGINAL_CLIENTS:
        _ORIGINAL_CLIENTS.update(_remember_clients())
    results: dict[str, dict[str, dict[str, float]]] = {}
    bus = os.environ["EVENT_BUS_NAME"]
    with moto_eventbridge(bus), quiet_stdout():
        use_real_eventbridge()
        ours, _ = Ours().calls()
        peer = peer_create()

        def on_stub(call: Call) -> Call:
            from jobprep.events import publisher as events

            def stubbed(i: int) -> Any:
                real, events.events_client = events.events_client, _stub_client  # type: ignore[assignment]
                try:
                    return call(i)
                finally:
                    events.events_client = real

            return stubbed

        for op in ("create", "update"):
            variants = {"ours, stand-in": on_stub(ours[op]), "ours, moto": ours[op]}
            if op == "create":
                variants["peer, moto"] = peer
            _warm_up(variants, 20)
            samples = interleaved(variants, n, block)
            results[op] = {name: stats(s) for name, s in samples.items()}
    use_stub_eventbridge()
    return results
