"""python -m bench.duplicates [--quick]: how often the deferred "sent" marks cost a duplicate.

A published event's outbox row is marked sent by the container's *next* statement (receipts).
A container that is reclaimed, or idle for longer than the grace period, leaves its last marks
unsent, and the relay publishes those events again (same eventId). This runs the real handlers
and the real relay against PostgreSQL with time compressed 60x (1 s here = 1 min in AWS):

* containers are processes serving mutations at exponential intervals; each lives for a fixed
  time and then exits without warning, as a reclaimed Lambda container does; keep-warm pings
  reach each container at the template's rate spread over the function's containers;
* the relay runs on its schedule (every minute = 1 s) with the default grace (120 s = 2 s);
* EventBridge is a stand-in that records every eventId it accepts.

Reported per traffic level: events committed, deliveries, duplicates, and that none was lost.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import random
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from bench.environment import clean_process_env, function_env, migrate

SCALE = 60  # AWS seconds per bench second
GRACE = 2.0  # OUTBOX_INLINE_GRACE_SECONDS default (120 s) / SCALE
RELAY_EVERY = 1.0  # rate(1 minute) / SCALE: DESIGN's scheduled relay, the worst case for duplicates
KEEP_WARM_EVERY = 5.0  # rate(5 minutes) / SCALE, per function (spread over its containers)
RESULTS = Path(__file__).resolve().parent / "results" / "duplicates.json"


@dataclass(frozen=True)
class Scenario:
    name: str
    request_gap: float  # mean seconds between one container's requests (bench time)
    relay_every: float = RELAY_EVERY
    lifetime: float = 30.0  # a container is reclaimed after this long (30 min in AWS)
    containers: int = 4


SCENARIOS = (
    Scenario("busy: a request every 15 s per container", 0.25),
    Scenario("moderate: a request every minute per container", 1.0),
    Scenario("sparse: a request every 5 minutes per container", 5.0),
    # The template's relay: on demand after a failed publish, else an hourly safety net.
    Scenario("sparse, hourly relay (the template's)", 5.0, relay_every=60.0),
)


@dataclass
class Outcome:
    scenario: str
    committed: int
    deliveries: int
    unique_delivered: int
    duplicates: int
    lost: int
    duplicate_rate: float


def _recording_eventbridge(delivered: Path) -> Any:
    """Accepts every entry and appends its eventId to a file of this process's own (a file, not a
    queue: a reclaimed container is killed mid-flight, and what it had delivered must survive)."""
    log = (delivered / f"{os.getpid()}.ids").open("a", buffering=1)

    class StandIn:
        def put_events(self, Entries: list[dict[str, Any]]) -> dict[str, Any]:  # noqa: N803 - boto3's name
            for entry in Entries:
                log.write(json.loads(entry["Detail"])["eventId"] + "\n")
            return {"FailedEntryCount": 0, "Entries": [{"EventId": "x"} for _ in Entries]}

    return StandIn()


def _setup(database_url: str, delivered: Path) -> None:
    os.environ.update(function_env(database_url))
    os.environ["OUTBOX_INLINE_GRACE_SECONDS"] = str(int(GRACE))
    os.environ["POWERTOOLS_LOG_LEVEL"] = "ERROR"
    os.environ["POWERTOOLS_METRICS_DISABLED"] = "true"
    from jobprep.events import publisher

    stand_in = _recording_eventbridge(delivered)
    publisher.events_client = lambda: stand_in  # type: ignore[assignment]


def _container(
    database_url: str, delivered: Path, gap: float, lifetime: float, keep_warm_gap: float, seed: int
) -> None:
    _setup(database_url, delivered)
    from jobprep_local.apigw import LocalLambdaContext, http_api_event, scheduled_event
    from jobprep_local.template import functions, load_handler

    rng = random.Random(seed)
    specs = functions()
    create, update = load_handler("CreateJobInfoFunction"), load_handler("UpdateJobInfoFunction")
    claims = {"sub": f"user-{seed}", "fea": "u:unlimited_interviews"}
    body = json.dumps({"name": "n", "experienceLevel": "junior", "description": "d"})
    route = specs["CreateJobInfoFunction"].routes[0]
    json_headers = {"content-type": "application/json"}
    event = http_api_event(route, path="/job-infos", headers=json_headers, body=body, claims=claims)
    created = create(event, LocalLambdaContext("c"))
    job_id = json.loads(created["body"])["id"]
    update_route = specs["UpdateJobInfoFunction"].routes[0]
    end = time.monotonic() + lifetime
    next_request = time.monotonic() + rng.expovariate(1 / gap)
    next_ping = time.monotonic() + rng.expovariate(1 / keep_warm_gap)
    i = 0
    while True:
        now = time.monotonic()
        wake = min(next_request, next_ping)
        if wake >= end:
            return  # reclaimed: whatever marks are pending die with the container
        time.sleep(max(0.0, wake - now))
        if next_request <= next_ping:
            i += 1
            event = http_api_event(
                update_route,
                path=f"/job-infos/{job_id}",
                path_parameters={"jobInfoId": job_id},
                headers=json_headers,
                body=json.dumps({"name": f"n{i}"}),
                claims=claims,
            )
            update(event, LocalLambdaContext("u"))
            next_request = time.monotonic() + rng.expovariate(1 / gap)
        else:
            update(scheduled_event("keep-warm"), LocalLambdaContext("u"))
            next_ping = time.monotonic() + rng.expovariate(1 / keep_warm_gap)


def _relay(database_url: str, delivered: Path, stop: Any, every: float) -> None:
    _setup(database_url, delivered)
    from jobprep.relay import relay_pending

    while not stop.is_set():
        relay_pending(lambda: 60_000)
        stop.wait(every)
    time.sleep(GRACE + 0.5)  # then one last run: every event still pending is due by now
    relay_pending(lambda: 60_000)


def run_scenario(database_url: str, scenario: Scenario, duration: float) -> Outcome:
    import psycopg

    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute("TRUNCATE job_infos, interviews, outbox, idempotency_keys, rate_limit_buckets CASCADE")
    ctx = mp.get_context("spawn")
    delivered = Path(tempfile.mkdtemp(prefix="jp-delivered-"))
    stop = ctx.Event()
    relay = ctx.Process(target=_relay, args=(database_url, delivered, stop, scenario.relay_every))
    relay.start()
    keep_warm_gap = KEEP_WARM_EVERY * scenario.containers
    # Containers start staggered and are replaced when reclaimed, so reclaims are spread out.
    live: list[Any] = []
    seed = 0
    end = time.monotonic() + duration
    while time.monotonic() < end:
        live = [p for p in live if p.is_alive()]
        while len(live) < scenario.containers:
            seed += 1
            lifetime = (
                scenario.lifetime * (0.5 + random.Random(seed).random())
                if seed > scenario.containers
                else (scenario.lifetime * seed / scenario.containers)
            )
            p = ctx.Process(
                target=_container,
                args=(database_url, delivered, scenario.request_gap, lifetime, keep_warm_gap, seed),
            )
            p.start()
            live.append(p)
        time.sleep(0.1)
    for p in live:
        p.terminate()  # reclaimed mid-flight, like the others
        p.join()
    stop.set()
    relay.join()
    ids = [line for f in delivered.glob("*.ids") for line in f.read_text().splitlines() if line]
    with psycopg.connect(database_url, autocommit=True) as conn:
        committed = {str(r[0]) for r in conn.execute("SELECT id FROM outbox")}
    unique = set(ids)
    return Outcome(
        scenario=scenario.name,
        committed=len(committed),
        deliveries=len(ids),
        unique_delivered=len(unique & committed),
        duplicates=len(ids) - len(unique),
        lost=len(committed - unique),
        duplicate_rate=round((len(ids) - len(unique)) / max(1, len(unique)), 4),
    )


def table(outcomes: list[Outcome]) -> str:
    lines = [
        "| traffic (relay every minute unless said) | events committed | deliveries | duplicates"
        " | duplicate rate | lost |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    lines += [
        f"| {o.scenario} | {o.committed} | {o.deliveries} | {o.duplicates} | {o.duplicate_rate:.1%} | {o.lost} |"
        for o in outcomes
    ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.duplicates")
    parser.add_argument("--quick", action="store_true", help="a few seconds per scenario: checks the harness")
    parser.add_argument("--output", type=Path, default=RESULTS)
    args = parser.parse_args()
    clean_process_env()
    import pgserver  # the network does not matter here, only who marks what: the embedded server will do

    server = pgserver.get_server(Path(tempfile.mkdtemp(prefix="jp-dup-")), cleanup_mode="delete")  # type: ignore[attr-defined]
    try:
        server.psql("CREATE DATABASE jobprep_duplicates;")
        url = str(server.get_uri("jobprep_duplicates"))
        os.environ.update(function_env(url))
        migrate()
        duration = 15.0 if args.quick else 90.0
        outcomes = [run_scenario(url, s, duration) for s in SCENARIOS]
    finally:
        server.cleanup()
    print(table(outcomes))
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps([asdict(o) for o in outcomes], indent=2) + "\n")


if __name__ == "__main__":
    main()
