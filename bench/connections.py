"""Server connections held: one simulated container (a fresh process, as a Lambda execution
environment) over many invocations, then several containers at once.

Two independent views: each container counts the connections its pools opened (SQLAlchemy's
pool "connect" event, on every pool), and the parent samples pg_stat_activity for our
application_name every 10 ms while the containers run.
"""

from __future__ import annotations

import multiprocessing
import os
import time
import warnings
from typing import Any

import psycopg

from bench.environment import APP_NAME


def _container(database_url: str, invocations: int, ready: Any, go: Any, report: Any) -> None:
    from bench.environment import function_env

    os.environ.update(function_env(database_url))
    warnings.filterwarnings("ignore", message="No application metrics to publish")
    from sqlalchemy import event
    from sqlalchemy.pool import Pool

    from bench.warm import Ours, quiet_stdout, use_stub_eventbridge

    opened: list[int] = []
    used: list[int] = []
    event.listen(Pool, "connect", lambda dbapi_conn, _record: opened.append(dbapi_conn.info.backend_pid))
    event.listen(Pool, "checkout", lambda dbapi_conn, _record, _proxy: used.append(dbapi_conn.info.backend_pid))
    with quiet_stdout():
        functions = Ours()
        use_stub_eventbridge()
        calls, _ = functions.calls()  # already one create: the container's first connection
        ready.set()
        go.wait()
        mix = (calls["create"], calls["update"], calls["get"], calls["get"], calls["create_interview"])
        for i in range(invocations):
            mix[i % len(mix)](i)
    report.put({"connects": len(opened), "backend_pids": opened, "final_pid": used[-1] if used else None})


def measure_connections(database_url: str, sampler_url: str, containers: int, invocations: int) -> dict[str, Any]:
    """`database_url` is what the containers use (through the proxy); `sampler_url` goes direct."""
    ctx = multiprocessing.get_context("spawn")  # a fresh interpreter per container, like Lambda
    readies = [ctx.Event() for _ in range(containers)]
    go = ctx.Event()
    report = ctx.Queue()
    processes = [
        ctx.Process(target=_container, args=(database_url, invocations, readies[i], go, report))
        for i in range(containers)
    ]
    for process in processes:
        process.start()
    for ready in readies:
        if not ready.wait(180):
            for process in processes:
                process.terminate()
            raise RuntimeError("a container did not start")
    peak, seen, samples = 0, set(), 0
    with psycopg.connect(sampler_url, autocommit=True, application_name="job-prep-bench-sampler") as sampler:
        go.set()
        while any(p.is_alive() for p in processes) or samples == 0:
            pids = [
                row[0]
                for row in sampler.execute(
                    "SELECT pid FROM pg_stat_activity WHERE application_name = %s AND datname = current_database()",
                    (APP_NAME,),
                )
            ]
            peak = max(peak, len(pids))
            seen.update(pids)
            samples += 1
            if report.qsize() == containers:
                break
            time.sleep(0.01)
    per_container = [report.get(timeout=60) for _ in processes]
    for process in processes:
        process.join(60)
        if process.exitcode != 0:
            raise RuntimeError(f"a container exited with {process.exitcode}")
    return {
        "containers": containers,
        "invocations_per_container": invocations,
        "peak_connections": peak,
        "distinct_backends": len(seen),
        "connects_per_container": sorted(c["connects"] for c in per_container),
        # the connection opened first is still the one serving the last invocation
        "first_connection_kept": all(c["backend_pids"][:1] == [c["final_pid"]] for c in per_container),
        "samples": samples,
    }
