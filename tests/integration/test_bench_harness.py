"""The benchmark harness: the delay proxy's round-trip count and delay, and a bounded run of the
network mode end to end (structure and round-trip counts, never timings; the numbers come from
`make bench`). Needs the machine's PostgreSQL binaries (TLS), skipped without them."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import psycopg
import pytest

from bench.delayproxy import delay_proxy
from bench.netpg import ABSENT, create_database, machine_pg_bin, tls_postgres
from jobprep_local.template import PROJECT_ROOT

PG_BIN = machine_pg_bin()
pytestmark = pytest.mark.skipif(PG_BIN is None, reason=ABSENT)


def test_proxy_counts_waited_round_trips_and_delays_each(tmp_path: Path) -> None:
    assert PG_BIN is not None
    with tls_postgres(PG_BIN) as server, delay_proxy((server.host, server.port)) as proxy:
        create_database(server, "proxy_check")
        with psycopg.connect(server.url("proxy_check", proxy.port), autocommit=True) as conn:
            assert conn.execute("SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()").fetchone() == (True,)
            proxy.rtt_ms = 2.0

            before = proxy.turns()
            started = time.perf_counter()
            for _ in range(3):
                conn.execute("SELECT 1").fetchone()
            sequential = time.perf_counter() - started
            assert proxy.turns() - before == 3
            # a lower bound, not a timing: the proxy must really hold every flight for the RTT
            assert sequential >= 3 * 0.002

            before = proxy.turns()
            with conn.pipeline():
                cursors = [conn.execute("SELECT %s::int", (i,)) for i in range(3)]
            assert [c.fetchone() for c in cursors] == [(0,), (1,), (2,)]
            assert proxy.turns() - before == 1  # three statements, one wait
        # a plain-TCP (no TLS) connection is refused by pg_hba
        with pytest.raises(psycopg.OperationalError, match="no encryption"):
            psycopg.connect(server.url("proxy_check").replace("sslmode=require", "sslmode=disable")).close()


@pytest.mark.timeout(300)
def test_quick_network_bench_runs_every_variant(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "POWERTOOLS_", "DATABASE_URL"))}
    done = subprocess.run(
        [sys.executable, "-m", "bench", "--quick", "--sections", "warm,connect", "--rtt", "0.5", "--output", tmp_path],
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-4000:]
    results = json.loads((tmp_path / "results.json").read_text())
    assert (tmp_path / "results.png").read_bytes().startswith(b"\x89PNG")
    assert "TLSv1.3" in results["environment"]["database"]["transport"]

    warm = results["warm"]["0.5"]
    assert set(warm) == {"create", "update", "get", "create_interview"}
    for op, rows in warm.items():
        variants = {"limit", "ours", "connect_per_invocation"} | ({"peer"} if op == "create" else set())
        assert set(rows) == variants
        for row in rows.values():
            assert 0 < row["p50_us"] <= row["p99_us"]
            assert row["cpu_mean_us"] > 0
        # round trips are counts, not timings: the limit is one statement, so exactly one wait
        assert rows["limit"]["round_trips"] == rows["limit"]["round_trips_max"] == 1
        assert rows["ours"]["round_trips"] >= 1
        # a new connection adds the TLS handshake and the SCRAM exchange to every invocation
        assert rows["connect_per_invocation"]["round_trips"] >= rows["ours"]["round_trips"] + 4
    connect = results["connect"]
    assert set(connect) == {"0", "0.5"}
    assert connect["0.5"]["connect"]["round_trips"] >= 4
    assert connect["0.5"]["select_one"]["round_trips_max"] == 1

    # where the client CPU goes: every op profiled, ours and the limit, shares of the whole
    profiles = results["profile"]
    assert set(profiles) == set(warm)
    for variants in profiles.values():
        assert set(variants) == {"ours", "limit"}
        for summary in variants.values():
            assert abs(sum(summary["shares"].values()) - 1) < 1e-6
            assert summary["top"]
            assert summary["profiled_us_per_invocation"] > 0
        assert variants["ours"]["shares"]["powertools"] > 0  # ours goes through the resolver
        assert variants["limit"]["shares"]["powertools"] == variants["limit"]["shares"]["jobprep"] == 0
    assert "| op | ours µs @0.5 | limit µs @0.5 | ours / limit @0.5 |" in done.stdout

    targets = results["targets"]
    for name in ("cpu_vs_limit", "ours_vs_limit", "connect_per_invocation_vs_ours", "peer_vs_ours_create"):
        assert isinstance(targets[name]["ok"], bool), targets[name]
    assert targets["cold_vs_floor"]["ok"] is None  # not run here
    assert "| target | result |" in done.stdout
