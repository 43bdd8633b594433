"""The benchmark harness runs end to end (tiny configuration): structure and sanity, never timings."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from jobprep_local.template import PROJECT_ROOT


@pytest.mark.timeout(600)
def test_quick_bench_produces_every_section(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "POWERTOOLS_"))}
    env.pop("DATABASE_URL", None)  # the bench makes its own database on its own embedded server
    done = subprocess.run(
        [sys.executable, "-m", "bench", "--quick", "--output", str(tmp_path)],
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-4000:]
    results = json.loads((tmp_path / "results.json").read_text())
    assert (tmp_path / "results.png").read_bytes().startswith(b"\x89PNG")

    functions = [name for name in results["cold"] if not name.startswith("peer:")]
    assert len(functions) == 9
    for row in results["cold"].values():
        assert row["ours"]["runs"] == 2
        assert 0 < row["ours"]["min_ms"] <= row["ours"]["median_ms"]
    for name in functions:
        # the floor really imports the handler's third-party dependencies
        assert results["cold"][name]["floor_modules"] > 50
    for variant, ops in {
        "ours": ("create", "update", "get"),
        "floor": ("create", "update", "get"),
        "connect_per_invocation": ("create", "update", "get"),
        "peer": ("create",),
    }.items():
        for op in ops:
            row = results["warm"][variant][op]
            assert row["n"] >= 20
            assert 0 < row["p50_us"] <= row["p99_us"]
    single, many = results["connections"]
    # one server connection per simulated container is a property, not a timing: assert it
    assert (single["containers"], single["peak_connections"], single["distinct_backends"]) == (1, 1, 1)
    assert (many["containers"], many["peak_connections"], many["distinct_backends"]) == (2, 2, 2)
    assert set(results["targets"]) == {
        "cold_worst_ratio",
        "cold_below_peer",
        "warm_p50_ratio",
        "connect_per_invocation_slowdown",
        "one_connection_per_container",
    }
    assert "Targets" in done.stdout
