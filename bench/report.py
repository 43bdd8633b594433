"""Targets, the printed table, results.json and the plot."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

RESULTS_DIR = Path(__file__).parent / "results"

TARGETS = {
    "cold init <= 1.1x floor (median, every function)": 1.1,
    "warm p50 <= 1.5x floor (create, update, get)": 1.5,
    "connect-per-invocation >= 5x slower than ours (p50)": 5.0,
}


def evaluate(results: dict[str, Any]) -> dict[str, Any]:
    cold, warm, conns = results["cold"], results["warm"], results["connections"]
    functions = {k: v for k, v in cold.items() if not k.startswith("peer:")}
    worst_cold = max(v["ratio_median"] for v in functions.values())
    peer_cold = cold["peer:CreateJobInfo"]["ours"]["median_ms"]
    warm_ratios = {op: warm["ours"][op]["p50_us"] / warm["floor"][op]["p50_us"] for op in ("create", "update", "get")}
    reuse = {
        op: warm["connect_per_invocation"][op]["p50_us"] / warm["ours"][op]["p50_us"]
        for op in ("create", "update", "get")
    }
    return {
        "cold_worst_ratio": {"value": worst_cold, "target": "<= 1.1", "ok": worst_cold <= 1.1},
        "cold_below_peer": {
            "value": functions["CreateJobInfoFunction"]["ours"]["median_ms"] / peer_cold,
            "target": "< 1.0 (create_job_info vs peer)",
            "ok": functions["CreateJobInfoFunction"]["ours"]["median_ms"] < peer_cold,
        },
        "warm_p50_ratio": {"value": warm_ratios, "target": "<= 1.5", "ok": all(r <= 1.5 for r in warm_ratios.values())},
        "connect_per_invocation_slowdown": {
            "value": reuse,
            "target": ">= 5",
            "ok": all(r >= 5 for r in reuse.values()),
        },
        "one_connection_per_container": {
            "value": [c["per_container"] for c in conns],
            "target": "== 1",
            "ok": all(c["distinct_backends"] == c["containers"] == c["peak_connections"] for c in conns),
        },
    }


def table(results: dict[str, Any]) -> str:
    lines = ["", "Cold init (fresh interpreter, import only; ms)", ""]
    lines.append(f"{'function':<26}{'ours med':>10}{'floor med':>11}{'ratio':>8}{'ours min':>10}{'floor min':>11}")
    for name, row in results["cold"].items():
        if name.startswith("peer:"):
            continue
        lines.append(
            f"{name:<26}{row['ours']['median_ms']:>10.1f}{row['floor']['median_ms']:>11.1f}"
            f"{row['ratio_median']:>8.2f}{row['ours']['min_ms']:>10.1f}{row['floor']['min_ms']:>11.1f}"
        )
    peer = results["cold"]["peer:CreateJobInfo"]["ours"]
    lines.append(f"{'peer (FastAPI+Mangum)':<26}{peer['median_ms']:>10.1f}{'':>11}{'':>8}{peer['min_ms']:>10.1f}")
    lines += ["", "Warm latency (one process, µs)", ""]
    lines.append(f"{'operation':<10}{'variant':<26}{'p50':>9}{'p99':>9}{'p50 / floor':>13}")
    warm = results["warm"]
    for op in ("create", "update", "get"):
        floor = warm["floor"][op]["p50_us"]
        for variant in ("floor", "ours", "peer", "connect_per_invocation"):
            row = warm.get(variant, {}).get(op)
            if row:
                lines.append(
                    f"{op:<10}{variant:<26}{row['p50_us']:>9.0f}{row['p99_us']:>9.0f}{row['p50_us'] / floor:>13.2f}"
                )
    lines += ["", "Server connections held", ""]
    for c in results["connections"]:
        lines.append(
            f"{c['containers']} container(s) x {c['invocations_per_container']} invocations: "
            f"peak {c['peak_connections']}, distinct backends {c['distinct_backends']}"
        )
    lines += ["", "Targets", ""]
    for name, verdict in results["targets"].items():
        lines.append(
            f"{'PASS' if verdict['ok'] else 'MISS'}  {name}: {_fmt(verdict['value'])} (target {verdict['target']})"
        )
    return "\n".join(lines)


def _fmt(value: Any) -> str:
    if isinstance(value, dict):
        return ", ".join(f"{k} {v:.2f}" for k, v in value.items())
    if isinstance(value, list):
        return ", ".join(f"{v:.2f}" for v in value)
    return f"{value:.2f}"


def write(results: dict[str, Any], directory: Path = RESULTS_DIR) -> tuple[Path, Path]:
    directory.mkdir(parents=True, exist_ok=True)
    json_path = directory / "results.json"
    json_path.write_text(json.dumps(results, indent=2) + "\n")
    png_path = directory / "results.png"
    plot(results, png_path)
    return json_path, png_path


def plot(results: dict[str, Any], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (left, right) = plt.subplots(1, 2, figsize=(13, 4.8))
    names = [n for n in results["cold"] if not n.startswith("peer:")]
    short = [n.removesuffix("Function") for n in names]
    xs = range(len(names))
    left.bar([x - 0.2 for x in xs], [results["cold"][n]["floor"]["median_ms"] for n in names], 0.4, label="floor")
    left.bar([x + 0.2 for x in xs], [results["cold"][n]["ours"]["median_ms"] for n in names], 0.4, label="ours")
    left.axhline(results["cold"]["peer:CreateJobInfo"]["ours"]["median_ms"], color="red", ls="--", label="peer create")
    left.set_xticks(list(xs), short, rotation=60, ha="right", fontsize=8)
    left.set_ylabel("cold init, median ms")
    left.set_title("Cold init vs dependency-import floor")
    left.legend(fontsize=8)

    ops = ["create", "update", "get"]
    variants = ["floor", "ours", "peer", "connect_per_invocation"]
    width = 0.2
    for i, variant in enumerate(variants):
        values = [results["warm"].get(variant, {}).get(op, {}).get("p50_us", 0) for op in ops]
        right.bar([x + (i - 1.5) * width for x in range(len(ops))], values, width, label=variant)
    right.set_xticks(range(len(ops)), ops)
    right.set_yscale("log")
    right.set_ylabel("warm p50, µs (log)")
    right.set_title("Warm latency")
    right.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
