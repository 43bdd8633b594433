"""Warm invocations over the network path (TLS + SCRAM through the delay proxy), in one process:
ours, the limit (bench/limit.py), ours opening a new connection per invocation, and the FastAPI +
Mangum peer. Per invocation: latency, round trips waited (counted by the proxy) and client CPU
(this process's CPU time: the proxy and PostgreSQL run in other processes).

Variants run in blocks of back-to-back invocations (a busy warm container), and the blocks of
all variants are interleaved in a shuffled order round after round: drift in machine load (this
is a shared, 2-CPU box) hits every variant alike, so their ratios stay meaningful.

Ours is reached only through template.yaml (jobprep_local loads each function's handler as
Lambda does) and real HTTP API v2 events; two seams are found rather than imported, so the
harness survives jobprep's modules moving: the EventBridge client factory (any jobprep module's
`events_client`) and the container's engines (any jobprep module's SQLAlchemy Engine).
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import random
import statistics
import sys
import time
from collections.abc import Callable, Iterator, Mapping
from typing import Any

import psycopg

from bench.delayproxy import DelayProxy
from bench.environment import RATE_LIMIT_CAPACITY, RATE_LIMIT_REFILL_PER_DAY
from bench.eventbridge import STUB, moto_eventbridge

USER = "bench-user"
CLAIMS = {"sub": USER, "fea": "u:unlimited_interviews"}  # the plan that skips the completed-interviews count
BODY = {"name": "Bench role", "experienceLevel": "senior", "description": "Python, AWS, PostgreSQL"}
RENAMES = [f"name {i}" for i in range(7)]  # updates cycle through a few names, as real edits would
OPS = ("create", "update", "get", "create_interview")

Call = Callable[[int], Any]


def stats(latency: list[float], turns: list[int], cpu: list[float]) -> dict[str, float]:
    ordered = sorted(latency)
    n = len(ordered)
    return {
        "p50_us": statistics.median(ordered) * 1e6,
        "p99_us": ordered[max(0, math.ceil(0.99 * n) - 1)] * 1e6,  # nearest rank
        "mean_us": statistics.fmean(ordered) * 1e6,
        "n": n,
        "round_trips": statistics.fmean(turns),
        "round_trips_p50": statistics.median(turns),
        "round_trips_max": max(turns),
        "cpu_mean_us": statistics.fmean(cpu) * 1e6,
        "cpu_p50_us": statistics.median(cpu) * 1e6,
    }


def measure(
    variants: Mapping[str, Call], counts: dict[str, int], block: int, proxy: DelayProxy | None, seed: int = 5
) -> dict[str, dict[str, float]]:
    """counts[name] timed calls per variant, in blocks of `block`, variants shuffled every round."""
    rng = random.Random(seed)
    latency: dict[str, list[float]] = {name: [] for name in variants}
    turns: dict[str, list[int]] = {name: [] for name in variants}
    cpu: dict[str, list[float]] = {name: [] for name in variants}
    names = list(variants)
    clock, cpu_clock = time.perf_counter, time.process_time
    round_trips = proxy.turns if proxy is not None else (lambda: 0)
    while any(len(latency[name]) < counts[name] for name in names):
        rng.shuffle(names)
        for name in names:
            call, out = variants[name], latency[name]
            for _ in range(min(block, counts[name] - len(out))):
                turns_before = round_trips()
                cpu_before = cpu_clock()
                started = clock()
                call(len(out))
                ended = clock()
                cpu_after = cpu_clock()
                turns[name].append(round_trips() - turns_before)
                cpu[name].append(cpu_after - cpu_before)
                out.append(ended - started)
    return {name: stats(latency[name], turns[name], cpu[name]) for name in variants}


@contextlib.contextmanager
def quiet_stdout() -> Iterator[None]:
    # EMF metrics are printed per invocation; in Lambda that line goes to the log pipe.
    with open(os.devnull, "w") as sink, contextlib.redirect_stdout(sink):
        yield


# --- seams: EventBridge client factories, container engines -------------------------------


def _ours_and_peer_modules() -> list[Any]:
    return [m for name, m in list(sys.modules.items()) if name.split(".")[0] == "jobprep" or name == "bench.peer.app"]


_REAL_CLIENTS: dict[str, Any] = {}


def _stub_client() -> Any:
    return STUB


def use_stub_eventbridge() -> None:
    """Every events_client factory (ours, the peer) hands out the in-process stand-in."""
    patched = 0
    for module in _ours_and_peer_modules():
        factory = getattr(module, "events_client", None)
        if callable(factory):
            _REAL_CLIENTS.setdefault(module.__name__, factory)
            module.events_client = _stub_client
            patched += 1
    if not patched:
        raise RuntimeError("no events_client factory found in jobprep: update bench.warm's EventBridge seam")


def use_real_eventbridge() -> None:
    """The original factories again, with fresh clients (honouring AWS_ENDPOINT_URL_EVENTBRIDGE)."""
    for module in _ours_and_peer_modules():
        real = _REAL_CLIENTS.get(module.__name__)
        if real is not None:
            module.events_client = real
            if hasattr(real, "cache_clear"):
                real.cache_clear()


def container_engines() -> list[Any]:
    """The engines jobprep keeps at module scope (the container's connection pool)."""
    from sqlalchemy.engine import Engine

    found = {
        id(value): value
        for module in _ours_and_peer_modules()
        if module.__name__ != "bench.peer.app"
        for value in vars(module).values()
        if isinstance(value, Engine)
    }
    if not found:
        raise RuntimeError("no SQLAlchemy Engine found in jobprep: update bench.warm.container_engines")
    return list(found.values())


def dispose_container_engines() -> None:
    """Close every pooled connection this process holds (ours and the peer's)."""
    from sqlalchemy.engine import Engine

    for module in _ours_and_peer_modules():
        for value in list(vars(module).values()):
            if isinstance(value, Engine):
                value.dispose()


# --- the variants -------------------------------------------------------------------------


class Ours:
    """Our functions, loaded from template.yaml as Lambda loads them, called through their
    lambda_handler with real HTTP API v2 events (JWT claims as the authorizer passes them)."""

    def __init__(self) -> None:
        from jobprep_local.invoke import LocalApi
        from jobprep_local.template import load_handler

        self.api = LocalApi()
        for spec in self.api.specs.values():  # imported up front, so the seams below can be found
            if spec.routes:
                load_handler(spec.logical_id)

    def event(self, method: str, path: str, body: Any = None) -> tuple[str, dict[str, Any]]:
        """The function's logical id and the HTTP API v2 event API Gateway would send it."""
        from jobprep_local.apigw import http_api_event

        match = self.api.match(method, path)
        assert match is not None, (method, path)
        return match.spec.logical_id, http_api_event(
            match.route,
            path=path,
            path_parameters=match.path_parameters or None,
            headers={"content-type": "application/json"},
            body=None if body is None else json.dumps(body),
            claims=CLAIMS,
        )

    def invoker(self, method: str, path: str, body: Any = None) -> Callable[[], dict[str, Any]]:
        from jobprep_local.apigw import LocalLambdaContext
        from jobprep_local.template import load_handler

        logical_id, event = self.event(method, path, body)
        match = self.api.match(method, path)
        assert match is not None, (method, path)
        handler = load_handler(logical_id)
        context = LocalLambdaContext(match.spec.logical_id)
        return lambda: handler(event, context)

    def calls(self) -> tuple[dict[str, Call], str]:
        """The four operations, and the id of the job info that update, get and create interview use."""
        create = self.invoker("POST", "/job-infos", BODY)
        created = create()
        assert created["statusCode"] == 201, created
        job_id = json.loads(created["body"])["id"]
        get = self.invoker("GET", f"/job-infos/{job_id}")
        updates = [self.invoker("PATCH", f"/job-infos/{job_id}", {"name": name}) for name in RENAMES]
        interview = self.invoker("POST", f"/job-infos/{job_id}/interviews", {})
        calls = {
            "create": _expect(201, lambda _i: create()),
            "update": _expect(200, lambda i: updates[i % len(updates)]()),
            "get": _expect(200, lambda _i: get()),
            "create_interview": _expect(201, lambda _i: interview()),
        }
        return calls, job_id


def cold_invocations(runs: int) -> dict[str, list[list[dict[str, Any]]]]:
    """For the cold section: per function of the four operations, per run, the events of its
    first invocation after INIT, a warm one and a warm one after a new connection. Updates
    rename (each one changes the row, as a warm update here does)."""
    functions = Ours()
    use_stub_eventbridge()
    created = functions.invoker("POST", "/job-infos", BODY)()
    assert created["statusCode"] == 201, created
    job_id = json.loads(created["body"])["id"]
    plans: dict[str, list[list[dict[str, Any]]]] = {}
    for run in range(runs):
        for k in range(3):
            for method, path, body in (
                ("POST", "/job-infos", BODY),
                ("PATCH", f"/job-infos/{job_id}", {"name": f"cold {run}.{k}"}),
                ("GET", f"/job-infos/{job_id}", None),
                ("POST", f"/job-infos/{job_id}/interviews", {}),
            ):
                logical_id, event = functions.event(method, path, body)
                runs_of = plans.setdefault(logical_id, [[] for _ in range(runs)])
                runs_of[run].append(event)
    use_real_eventbridge()
    return plans


def _expect(status: int, call: Callable[[int], dict[str, Any]]) -> Call:
    """Checked only every 50th call: the check itself stays out of the timings."""

    def checked(i: int) -> Any:
        response = call(i)
        if i % 50 == 0 and response["statusCode"] != status:
            raise AssertionError(f"expected {status}, got {response}")
        return response

    return checked


def connect_per_invocation(call: Call) -> Call:
    """Ours, with the container's engines emptied at the start of every invocation: each
    invocation closes the previous connection and opens its own (TLS handshake, SCRAM exchange),
    which is what keeping the engine at module scope avoids. Emptied before rather than after the
    call, so the connection it opened serves the other variants' next block as a warm one."""
    engines = container_engines()

    def per_invocation(i: int) -> Any:
        for engine in engines:
            engine.dispose()
        return call(i)

    return per_invocation


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
        claims=CLAIMS,
    )
    context = LocalLambdaContext("PeerCreateJobInfo")
    return _expect(201, lambda _i: peer.handler(event, context))  # type: ignore[arg-type]


# --- the runs -----------------------------------------------------------------------------


def _warm_up(calls: Mapping[str, Call], times: int, cold_ones: tuple[str, ...] = ()) -> None:
    # First calls pay one-off costs (lazy imports, statement compilation, pydantic schemas).
    # `cold_ones` connect on every call anyway: twice is enough for them.
    for name, call in calls.items():
        for i in range(min(2, times) if name in cold_ones else times):
            call(i)


def run_warm(
    proxy: DelayProxy,
    url: str,
    rtts: list[float],
    n: int,
    n_connect: int,
    block: int,
    profiles: dict[str, Any] | None = None,
    n_profile: int = 0,
) -> dict[str, dict[str, dict[str, dict[str, float]]]]:
    """{rtt: {op: {variant: stats}}}; `url` goes through the proxy. The peer implements create only.
    With `profiles`, also {op: {"ours"|"limit": profile summary}} of `n_profile` warm invocations
    each (bench.profile), taken at the first RTT after its timed runs."""
    from bench.limit import Limit
    from bench.profile import profile

    limit = Limit(url, USER, RATE_LIMIT_CAPACITY, RATE_LIMIT_REFILL_PER_DAY)
    results: dict[str, dict[str, dict[str, dict[str, float]]]] = {}
    try:
        with quiet_stdout():
            functions = Ours()
            peer = peer_create()
            use_stub_eventbridge()
            ours, job_id = functions.calls()
            limits = limit.calls(BODY, job_id, RENAMES)
            for rtt in rtts:
                proxy.rtt_ms = rtt
                per_rtt = results[f"{rtt:g}"] = {}
                for op in OPS:
                    variants = {
                        "limit": limits[op],
                        "ours": ours[op],
                        "connect_per_invocation": connect_per_invocation(ours[op]),
                    }
                    if op == "create":
                        variants["peer"] = peer
                    counts = {name: n_connect if name == "connect_per_invocation" else n for name in variants}
                    _warm_up(variants, min(20, n // 2), cold_ones=("connect_per_invocation",))
                    per_rtt[op] = measure(variants, counts, block, proxy)
                    if profiles is not None and n_profile and rtt == rtts[0]:
                        profiles[op] = {name: profile(variants[name], n_profile) for name in ("ours", "limit")}
    finally:
        limit.close()
    return results


def run_connect(proxy: DelayProxy, url: str, rtts: list[float], n: int) -> dict[str, dict[str, dict[str, float]]]:
    """Per RTT: one new TLS + SCRAM connection (psycopg connect + close), and one `SELECT 1` on an
    open connection, with RTT 0 as the proxy's own cost: what the proxy really added."""

    def connect(_i: int) -> None:
        psycopg.connect(url, prepare_threshold=None).close()

    results: dict[str, dict[str, dict[str, float]]] = {}
    with psycopg.connect(url, autocommit=True, prepare_threshold=None) as conn:

        def select_one(_i: int) -> None:
            conn.execute("SELECT 1").fetchone()

        for rtt in [0.0, *rtts]:
            proxy.rtt_ms = rtt
            _warm_up({"connect": connect, "select_one": select_one}, 3)
            variants = {"select_one": select_one} if rtt == 0 else {"connect": connect, "select_one": select_one}
            results[f"{rtt:g}"] = measure(variants, {"connect": n, "select_one": 10 * n}, n, proxy)
    return results


def run_publishing(proxy: DelayProxy, rtt: float, n: int, block: int) -> dict[str, dict[str, dict[str, float]]]:
    """Ours and the peer publishing for real: boto3 PutEvents over HTTP to a local moto server,
    interleaved with ours on the stand-in, so the difference is the cost of publishing."""
    results: dict[str, dict[str, dict[str, float]]] = {}
    bus = os.environ["EVENT_BUS_NAME"]
    proxy.rtt_ms = rtt
    with moto_eventbridge(bus), quiet_stdout():
        functions = Ours()
        peer = peer_create()
        use_real_eventbridge()
        ours, _ = functions.calls()

        factories = [
            (m, m.events_client) for m in _ours_and_peer_modules() if callable(getattr(m, "events_client", None))
        ]

        def on_stub(call: Call) -> Call:
            def stubbed(i: int) -> Any:
                for module, _ in factories:
                    module.events_client = _stub_client
                try:
                    return call(i)
                finally:
                    for module, real in factories:
                        module.events_client = real

            return stubbed

        try:
            for op in ("create", "update"):
                variants = {"ours, stand-in": on_stub(ours[op]), "ours, moto": ours[op]}
                if op == "create":
                    variants["peer, moto"] = peer
                _warm_up(variants, min(20, n))
                results[op] = measure(variants, dict.fromkeys(variants, n), block, proxy)
        finally:
            use_stub_eventbridge()
    return results
