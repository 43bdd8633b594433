"""python -m bench [--quick] [--sections ...] [--rtt ...]: what AWS would see, each number against
a yardstick measured in the same run; prints the tables, writes results.json and a plot.

- cold: init of every function with Python 3.13 from the layer as built, vs the dependency floor
- network (warm, connect, publishing, connections): PostgreSQL over TCP with TLS and SCRAM,
  through a delay proxy adding a fixed round-trip time (0.5 ms and 2 ms by default)
"""

from __future__ import annotations

import argparse
import os
import warnings
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

from bench import report
from bench.environment import BENCH_DB, clean_process_env, function_env, machine, migrate

SECTIONS = ("cold", "warm", "connect", "publishing", "connections")


@dataclass(frozen=True)
class Config:
    cold_runs: int = 20  # the target reads the worst of 9 medians; on a noisy box that needs many samples
    warm_iterations: int = 1000
    connect_iterations: int = 200  # connect per invocation: ~15-25 ms each
    profile_iterations: int = 300  # warm invocations per op and variant under cProfile
    block: int = 50
    publish_iterations: int = 300
    invocations: int = 1000
    containers: int = 8


QUICK = Config(
    cold_runs=2,
    warm_iterations=12,
    connect_iterations=4,
    profile_iterations=5,
    block=4,
    publish_iterations=10,
    invocations=20,
    containers=2,
)


def run(config: Config, sections: set[str], rtts: list[float], durable: bool = False) -> dict[str, Any]:
    clean_process_env()
    results: dict[str, Any] = {
        "environment": {"machine": machine()},
        "config": {**asdict(config), "sections": sorted(sections), "rtts_ms": rtts, "durable_commits": durable},
    }
    from bench.netpg import machine_pg_bin

    network = machine_pg_bin() is not None
    if "cold" in sections and not network:  # INIT only: the first invocations need the database
        results["cold"] = _cold(config)
    if sections - {"cold"} or ("cold" in sections and network):
        _network(config, sections, rtts, durable, results)
    results["targets"] = report.evaluate(results)
    return results


def _cold(
    config: Config, invocations: dict[str, Any] | None = None, env: dict[str, str] | None = None
) -> dict[str, Any]:
    from bench.cold import measure_cold
    from bench.layer import NoPython313
    from jobprep_local.template import functions

    specs = {k: v for k, v in functions().items() if v.routes}
    print(f"cold init: {len(specs)} functions + peer, Python 3.13, {config.cold_runs} fresh processes each", flush=True)
    if env is None:
        # The URL is never used: the engine connects lazily, and init must not touch the database.
        env = function_env("postgresql://jobprep:unused@127.0.0.1:9/jobprep?sslmode=require")
    try:
        return measure_cold(specs, env, config.cold_runs, invocations)
    except NoPython313 as exc:
        print(f"cold init skipped: {exc}", flush=True)
        return {"skipped": str(exc)}


def _network(config: Config, sections: set[str], rtts: list[float], durable: bool, results: dict[str, Any]) -> None:
    from bench import warm
    from bench.delayproxy import delay_proxy
    from bench.netpg import ABSENT, create_database, machine_pg_bin, tls_postgres

    pg_bin = machine_pg_bin()
    if pg_bin is None:
        print(f"network sections skipped: {ABSENT}", flush=True)
        results["network_skipped"] = ABSENT
        return
    # Commits do not wait for this VM's shared disk by default: its flush time (0.2-4 ms, moving
    # with other tenants' I/O) is neither client work nor network, and would swamp both.
    settings = {} if durable else {"synchronous_commit": "off"}
    with tls_postgres(pg_bin, settings) as server, delay_proxy((server.host, server.port)) as proxy:
        direct = create_database(server, BENCH_DB)
        results["environment"]["database"] = server.describe(BENCH_DB)
        url = server.url(BENCH_DB, proxy.port)
        # Before jobprep is imported: it builds its engine from DATABASE_URL at import.
        os.environ.update(function_env(url))
        with warm.quiet_stdout():
            migrate()

        if "cold" in sections:
            from bench.eventbridge import moto_eventbridge

            # INIT, then the first invocation (a new TLS + SCRAM connection through the proxy,
            # PutEvents to a local moto EventBridge), a warm one and a warm one reconnecting
            proxy.rtt_ms = 0.5
            with warm.quiet_stdout():
                invocations = warm.cold_invocations(config.cold_runs)
            with moto_eventbridge(os.environ["EVENT_BUS_NAME"]) as endpoint:
                env = {**function_env(url), "AWS_ENDPOINT_URL_EVENTBRIDGE": endpoint}
                results["cold"] = _cold(config, invocations, env)
        if "connect" in sections:
            print("the path: SELECT 1 and a new TLS + SCRAM connection, per RTT", flush=True)
            results["connect"] = warm.run_connect(proxy, url, rtts, max(4, config.connect_iterations // 4))
        if "warm" in sections:
            print(f"warm: {config.warm_iterations} invocations per operation and variant, RTT {rtts} ms", flush=True)
            results["profile"] = {}
            results["warm"] = warm.run_warm(
                proxy,
                url,
                rtts,
                config.warm_iterations,
                config.connect_iterations,
                config.block,
                results["profile"],
                config.profile_iterations,
            )
        if "publishing" in sections:
            print("publishing through a local moto EventBridge", flush=True)
            results["publishing"] = warm.run_publishing(proxy, 0.5, config.publish_iterations, config.block)
        if "connections" in sections:
            from bench.connections import measure_connections

            warm.dispose_container_engines()  # this process's connections must not count as a container's
            proxy.rtt_ms = 0.5
            print("connections held", flush=True)
            results["connections"] = [
                measure_connections(url, direct, 1, config.invocations),
                measure_connections(url, direct, config.containers, config.invocations),
            ]


def main() -> None:
    # Read routes emit no application metric; Powertools warns about that on every call.
    warnings.filterwarnings("ignore", message="No application metrics to publish")
    parser = argparse.ArgumentParser(prog="python -m bench")
    parser.add_argument("--quick", action="store_true", help="a few iterations: checks the harness, not the numbers")
    parser.add_argument("--output", type=Path, default=report.RESULTS_DIR, help="where results.json and the plot go")
    parser.add_argument("--sections", default=",".join(SECTIONS), help=f"comma-separated subset of {SECTIONS}")
    parser.add_argument("--rtt", default="0.5,2", help="round-trip times (ms) the proxy adds, comma-separated")
    parser.add_argument("--cold-runs", type=int, help="fresh processes per function in the cold section")
    parser.add_argument("--warm-iterations", type=int, help="timed warm invocations per operation and variant")
    parser.add_argument("--durable", action="store_true", help="commits wait for the disk (synchronous_commit=on)")
    args = parser.parse_args()
    sections = {s.strip() for s in args.sections.split(",") if s.strip()}
    if unknown := sections - set(SECTIONS):
        parser.error(f"unknown sections: {sorted(unknown)}")
    rtts = [float(r) for r in args.rtt.split(",")]
    config = QUICK if args.quick else Config()
    if args.cold_runs:
        config = replace(config, cold_runs=args.cold_runs)
    if args.warm_iterations:
        config = replace(config, warm_iterations=args.warm_iterations)
    results = run(config, sections, rtts, args.durable)
    print(report.table(results))
    json_path, png_path = report.write(results, args.output)
    print(f"\nwrote {json_path}" + (f" and {png_path}" if png_path else ""))


if __name__ == "__main__":
    main()
