"""The benchmark harness runs end to end (tiny configuration): structure and sanity, never timings."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import make_url, text
from sqlalchemy.engine import Engine

from jobprep_local.template import PROJECT_ROOT
from jobprep_local.template import functions as template_functions
from tests import pg

BENCH_DB = "jobprep_bench_smoke"  # its own database on the tests' server, never the developer's bench data


@pytest.mark.timeout(600)
def test_quick_bench_produces_every_section(tmp_path: Path, database: Engine) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "POWERTOOLS_"))}
    done = subprocess.run(
        [sys.executable, "-m", "bench", "--quick", "--output", str(tmp_path), "--database", BENCH_DB],
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    admin = pg.admin_engine(make_url(os.environ["DATABASE_URL"]))
    try:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{BENCH_DB}" WITH (FORCE)'))
    finally:
        admin.dispose()
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-4000:]
    results = json.loads((tmp_path / "results.json").read_text())
    assert (tmp_path / "results.png").read_bytes().startswith(b"\x89PNG")

    functions = [name for name in results["cold"] if not name.startswith("peer:")]
    assert len(functions) == len([s for s in template_functions().values() if s.routes])  # every API function
    for row in results["cold"].values():
        assert row["ours"]["runs"] == 2
        assert 0 < row["ours"]["min_ms"] <= row["ours"]["median_ms"]
    for name in functions:
        # the floor really imports the handler's third-party dependencies
        assert results["cold"][name]["floor_modules"] > 50
        assert {"sqlalchemy", "psycopg", "pydantic", "aws_lambda_powertools"} <= set(
            results["cold"][name]["floor_packages"]
        )
    variants = {"floor", "ours", "connect_per_invocation"}
    assert set(results["warm"]) == {"create", "update", "get"}
    for op, rows in results["warm"].items():
        assert set(rows) == (variants | {"peer"} if op == "create" else variants)
        for row in rows.values():
            assert row["n"] == 40
            assert 0 < row["p50_us"] <= row["p99_us"]
    assert results["connect"]["p50_us"] > 0
    assert set(results["publishing"]["create"]) == {"ours, stand-in", "ours, moto", "peer, moto"}

    single, many = results["connections"]
    # one server connection per simulated container is a property, not a timing: assert it
    assert single["connects_per_container"] == [1]
    assert many["connects_per_container"] == [1, 1]
    assert (single["peak_connections"], single["distinct_backends"]) == (1, 1)
    assert (many["peak_connections"], many["distinct_backends"]) == (2, 2)
    assert single["first_connection_kept"]
    assert many["first_connection_kept"]
    assert results["targets"]["one_connection_per_container"]["ok"]
    assert set(results["targets"]) == {
        "cold_worst_ratio",
        "cold_below_peer",
        "warm_p50_ratio",
        "connect_per_invocation_slowdown",
        "one_connection_per_container",
    }
    assert "| target | result |" in done.stdout
