"""python -m bench [--quick]: cold init, warm latency and connections, with targets, table, JSON and plot."""

from __future__ import annotations

import argparse
import os
import platform
import warnings
from pathlib import Path
from typing import Any

from bench import report
from bench.environment import function_env, start_database


def run(
    cold_runs: int = 10, warm_iterations: int = 1000, invocations: int = 1000, containers: int = 8
) -> dict[str, Any]:
    database = start_database()
    try:
        os.environ.update(function_env(database.url))
        from bench.cold import measure_cold
        from bench.connections import measure_connections
        from bench.warm import Ours, run_connect_per_invocation, run_floor, run_ours, run_peer
        from jobprep_local.template import functions

        specs = {k: v for k, v in functions().items() if v.routes}
        results: dict[str, Any] = {
            "environment": {
                "python": platform.python_version(),
                "machine": platform.machine(),
                "cpus": os.cpu_count(),
                "database": "embedded pgserver" if database.server else "DATABASE_URL",
            },
            "cold": measure_cold(specs, function_env(database.url), cold_runs),
        }
        ours = Ours()
        warm_ours = run_ours(ours, warm_iterations)
        job_id = warm_ours.pop("_job_id")
        per_call = run_connect_per_invocation(ours, job_id, max(20, warm_iterations // 5))
        per_call.pop("_job_id")
        results["warm"] = {
            "ours": warm_ours,
            "floor": run_floor(database.url, job_id, warm_iterations),
            "peer": run_peer(warm_iterations),
            "connect_per_invocation": per_call,
        }
        from jobprep import db

        db.engine.dispose()  # this process's own connection must not count as a container's
        results["connections"] = [
            measure_connections(database.url, 1, invocations),
            measure_connections(database.url, containers, max(50, invocations // containers)),
        ]
        results["targets"] = report.evaluate(results)
        return results
    finally:
        database.close()


def main() -> None:
    # Read routes emit no application metric; Powertools warns about that on every call.
    warnings.filterwarnings("ignore", message="No application metrics to publish")
    parser = argparse.ArgumentParser(prog="python -m bench")
    parser.add_argument("--quick", action="store_true", help="few iterations: checks the harness, not the numbers")
    parser.add_argument("--output", type=Path, default=report.RESULTS_DIR)
    args = parser.parse_args()
    results = run(cold_runs=2, warm_iterations=50, invocations=40, containers=2) if args.quick else run()
    print(report.table(results))
    json_path, png_path = report.write(results, args.output)
    print(f"\nwrote {json_path} and {png_path}")


if __name__ == "__main__":
    main()
