"""Cold init: a fresh interpreter per sample, timing only the import of the handler module (the
Lambda init phase), against the floor: a fresh interpreter importing exactly the third-party
modules that handler's import loaded, in the same order."""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
from pathlib import Path
from typing import Any

from jobprep_local.template import FunctionSpec

PROJECT_ROOT = Path(__file__).resolve().parents[1]
CHILD = Path(__file__).with_name("_cold_child.py")
PEER = Path(__file__).parent / "peer" / "app.py"
PEER_KEY = "peer:CreateJobInfo"


def _run(args: list[str], env: dict[str, str], stdin: str = "") -> dict[str, Any]:
    done = subprocess.run(
        [sys.executable, str(CHILD), *args], input=stdin, capture_output=True, text=True, env=env, check=False
    )
    if done.returncode != 0:
        raise RuntimeError(f"cold child {args} failed:\n{done.stderr[-3000:]}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def _stats(samples: list[float]) -> dict[str, Any]:
    return {
        "min_ms": min(samples) * 1000,
        "median_ms": statistics.median(samples) * 1000,
        "runs": len(samples),
        "samples_ms": [round(x * 1000, 1) for x in samples],  # in run order (interleaved with the floor)
    }


def child_env(function_env: dict[str, str]) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}  # use cached bytecode
    env.update(function_env)
    # The layer's layout: jobprep found on sys.path (/opt/python in Lambda), not via the editable-install hook.
    env["PYTHONPATH"] = str(PROJECT_ROOT / "shared")
    return env


def measure_cold(specs: dict[str, FunctionSpec], function_env: dict[str, str], runs: int) -> dict[str, Any]:
    env = child_env(function_env)
    floors: dict[str, list[str]] = {}
    for logical_id, spec in specs.items():
        # warm-up run: writes __pycache__ and records which third-party modules the handler loads
        floors[logical_id] = _run(["handler", str(spec.source_file)], env)["modules"]
    _run(["handler", str(PEER)], env)
    samples: dict[str, dict[str, list[float]]] = {lid: {"ours": [], "floor": []} for lid in specs}
    peer: list[float] = []
    for _ in range(runs):  # interleaved, so drift in machine load hits every variant alike
        for logical_id, spec in specs.items():
            samples[logical_id]["ours"].append(_run(["handler", str(spec.source_file)], env)["seconds"])
            floor = _run(["modules"], env, json.dumps(floors[logical_id]))
            samples[logical_id]["floor"].append(floor["seconds"])
        peer.append(_run(["handler", str(PEER)], env)["seconds"])
    results: dict[str, Any] = {}
    for logical_id, both in samples.items():
        ours, floor = _stats(both["ours"]), _stats(both["floor"])
        results[logical_id] = {
            "ours": ours,
            "floor": floor,
            "floor_modules": len(floors[logical_id]),
            "floor_packages": sorted({name.split(".")[0] for name in floors[logical_id]}),
            "ratio_median": ours["median_ms"] / floor["median_ms"],
            "ratio_min": ours["min_ms"] / floor["min_ms"],
        }
    results[PEER_KEY] = {"ours": _stats(peer)}
    return results
