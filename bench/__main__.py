"""python -m bench [--quick]: cold init, warm latency and connections held, each against a floor
measured in the same run on the same PostgreSQL; prints the tables, writes results.json and a plot."""

from __future__ import annotations

import argparse
import os
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench import report
from bench.environment import BENCH_DB, clean_process_env, function_env, machine, start_database


@dataclass(frozen=True)
class Config:
    cold_runs: int = 20  # the target reads the worst of 9 medians; on a noisy box that needs many samples
    warm_iterations: int = 1000
    block: int = 50
    publish_iterations: int = 300
    invocations: int = 1000
    containers: int = 8


QUICK = Config(cold_runs=2, warm_iterations=40, block=10, publish_iterations=20, invocations=40, containers=2)


def run(config: Config, database_name: str = BENCH_DB) -> dict[str, Any]:
    clean_process_env()
    database = start_database(database_name)
    try:
        os.environ.update(function_env(database.url))
        # After the environment: jobprep.db builds its engine at import.
        from bench.cold import measure_cold
        from bench.connections import measure_connections
        from bench.warm import run_connect, run_publishing, run_warm
        from jobprep.db import engine as db
        from jobprep_local.template import functions

        specs = {k: v for k, v in functions().items() if v.routes}
        results: dict[str, Any] = {
            "environment": {"machine": machine(), "database": database.describe()},
            "config": vars(config),
        }
        print(f"cold init: {len(specs)} functions + peer, {config.cold_runs} fresh processes each", flush=True)
        results["cold"] = measure_cold(specs, function_env(database.url), config.cold_runs)
        print(f"warm: {config.warm_iterations} invocations per operation and variant", flush=True)
        results["warm"] = run_warm(database.url, config.warm_iterations, config.block)
        results["connect"] = run_connect(database.url, max(20, config.warm_iterations // 10))
        print("publishing through a local moto EventBridge", flush=True)
        results["publishing"] = run_publishing(config.publish_iterations, config.block)
        db.engine.dispose()  # this process's own connection must not count as a container's
        from bench.peer import app as peer

        peer.engine.dispose()
        print("connections held", flush=True)
        results["connections"] = [
            measure_connections(database.url, 1, config.invocations),
            measure_connections(database.url, config.containers, config.invocations),
        ]
        results["targets"] = report.evaluate(results)
        return results
    finally:
        database.close()


def main() -> None:
    # Read routes emit no application metric; Powertools warns about that on every call.
    warnings.filterwarnings("ignore", message="No application metrics to publish")
    parser = argparse.ArgumentParser(prog="python -m bench")
    parser.add_argument("--quick", action="store_true", help="a few iterations: checks the harness, not the numbers")
    parser.add_argument("--output", type=Path, default=report.RESULTS_DIR, help="where results.json and the plot go")
    parser.add_argument("--database", default=BENCH_DB, help="database created (dropped first) for the run")
    args = parser.parse_args()
    results = run(QUICK if args.quick else Config(), args.database)
    print(report.table(results))
    json_path, png_path = report.write(results, args.output)
    print(f"\nwrote {json_path} and {png_path}")


if __name__ == "__main__":
    main()
