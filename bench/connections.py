"""Server connections held: one simulated container (a process) over many invocations, then
eight containers at once. Sampled from pg_stat_activity while they run."""

from __future__ import annotations

import multiprocessing
import os
import time
from typing import Any

import psycopg

APP_NAME = "job-prep-functions"


def _container(database_url: str, invocations: int, ready: Any, go: Any) -> None:
    from bench.environment import function_env

    os.environ.update(function_env(database_url))
    from bench.warm import BODY, Ours, quiet_stdout

    ours = Ours()
    create = ours.invoker("POST", "/job-infos", BODY)
    with quiet_stdout():
        import json

        job_id = json.loads(create()["body"])["id"]
        get = ours.invoker("GET", f"/job-infos/{job_id}")
        update = ours.invoker("PATCH", f"/job-infos/{job_id}", {"name": "renamed"})
        ready.set()
        go.wait()
        for i in range(invocations):
            (create, update, get, get)[i % 4]()


def _sample(url: str) -> list[int]:
    with psycopg.connect(url, autocommit=True) as conn:
        rows = conn.execute(
            "SELECT pid FROM pg_stat_activity WHERE application_name = %s AND datname = current_database()",
            (APP_NAME,),
        ).fetchall()
    return [r[0] for r in rows]


def measure_connections(database_url: str, containers: int, invocations: int) -> dict[str, Any]:
    ctx = multiprocessing.get_context("spawn")  # a fresh interpreter per container, like Lambda
    readies = [ctx.Event() for _ in range(containers)]
    go = ctx.Event()
    processes = [
        ctx.Process(target=_container, args=(database_url, invocations, readies[i], go)) for i in range(containers)
    ]
    for process in processes:
        process.start()
    for ready in readies:
        if not ready.wait(120):
            raise RuntimeError("a container did not start")
    go.set()
    peak, seen, samples = 0, set(), 0
    while any(p.is_alive() for p in processes):
        pids = _sample(database_url)
        peak = max(peak, len(pids))
        seen.update(pids)
        samples += 1
        time.sleep(0.02)
    for process in processes:
        process.join()
        if process.exitcode != 0:
            raise RuntimeError(f"container exited with {process.exitcode}")
    return {
        "containers": containers,
        "invocations_per_container": invocations,
        "peak_connections": peak,
        "distinct_backends": len(seen),
        "per_container": len(seen) / containers,
        "samples": samples,
    }
