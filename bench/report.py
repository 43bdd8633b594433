"""Targets, the printed tables (Markdown, as in the README), results.json and the plot."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from bench.cold import PEER_KEY

RESULTS_DIR = Path(__file__).parent / "results"
OPS = ("create", "update", "get")
VARIANT_LABELS = {
    "floor": "raw psycopg (floor)",
    "ours": "ours",
    "peer": "FastAPI + Mangum peer",
    "connect_per_invocation": "ours, connect per invocation",
}
COLD_TARGET, WARM_TARGET, REUSE_TARGET = 1.1, 1.5, 5.0


def _functions(cold: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in cold.items() if k != PEER_KEY}


def evaluate(results: dict[str, Any]) -> dict[str, Any]:
    cold, warm, conns = results["cold"], results["warm"], results["connections"]
    functions = _functions(cold)
    worst = max(functions, key=lambda k: functions[k]["ratio_median"])
    create_cold = functions["CreateJobInfoFunction"]["ours"]["median_ms"]
    peer_cold = cold[PEER_KEY]["ours"]["median_ms"]
    warm_ratios = {op: warm[op]["ours"]["p50_us"] / warm[op]["floor"]["p50_us"] for op in OPS}
    slowdown = {op: warm[op]["connect_per_invocation"]["p50_us"] / warm[op]["ours"]["p50_us"] for op in OPS}
    return {
        "cold_worst_ratio": {
            "value": functions[worst]["ratio_median"],
            "detail": worst,
            "target": f"<= {COLD_TARGET} (median, every function)",
            "ok": functions[worst]["ratio_median"] <= COLD_TARGET,
        },
        "cold_below_peer": {
            "value": create_cold / peer_cold,
            "target": "< 1.0 (CreateJobInfo / peer, medians)",
            "ok": create_cold < peer_cold,
        },
        "warm_p50_ratio": {
            "value": warm_ratios,
            "target": f"<= {WARM_TARGET} (ours / floor, p50)",
            "ok": all(r <= WARM_TARGET for r in warm_ratios.values()),
        },
        "connect_per_invocation_slowdown": {
            "value": slowdown,
            "target": f">= {REUSE_TARGET} (connect per invocation / ours, p50)",
            "ok": all(r >= REUSE_TARGET for r in slowdown.values()),
        },
        "one_connection_per_container": {
            "value": [c["connects_per_container"] for c in conns],
            "target": "each container opens exactly 1; peak = distinct backends = containers",
            "ok": all(
                set(c["connects_per_container"]) == {1}
                and c["peak_connections"] == c["distinct_backends"] == c["containers"]
                and c["first_connection_kept"]
                for c in conns
            ),
        },
    }


def _ms(value: float) -> str:
    return f"{value:.0f}"


def markdown(results: dict[str, Any]) -> str:
    """The README's tables."""
    cold, warm = results["cold"], results["warm"]
    lines = [
        "| function | floor median ms | ours median ms | ours / floor (median) | (min) |",
        "|---|---:|---:|---:|---:|",
    ]
    for name, row in _functions(cold).items():
        lines.append(
            f"| {name.removesuffix('Function')} | {_ms(row['floor']['median_ms'])} | {_ms(row['ours']['median_ms'])}"
            f" | {row['ratio_median']:.2f} | {row['ratio_min']:.2f} |"
        )
    peer = cold[PEER_KEY]["ours"]
    create = cold["CreateJobInfoFunction"]["ours"]["median_ms"]
    lines.append(
        f"| FastAPI + Mangum peer (create) | | {_ms(peer['median_ms'])}"
        f" | ours create / peer = {create / peer['median_ms']:.2f} | |"
    )
    lines += [
        "",
        "| op | variant | p50 µs | p99 µs | p50 / floor |",
        "|---|---|---:|---:|---:|",
    ]
    for op in OPS:
        floor = warm[op]["floor"]["p50_us"]
        for variant, label in VARIANT_LABELS.items():
            row = warm[op].get(variant)
            if row:
                lines.append(
                    f"| {op} | {label} | {row['p50_us']:.0f} | {row['p99_us']:.0f} | {row['p50_us'] / floor:.2f} |"
                )
    if results.get("connect"):
        connect = results["connect"]
        lines += ["", f"One new server connection (psycopg connect + close): p50 {connect['p50_us']:.0f} µs."]
    if results.get("publishing"):
        lines += ["", "| op | variant | p50 µs | p99 µs |", "|---|---|---:|---:|"]
        for op, variants in results["publishing"].items():
            for variant, row in variants.items():
                lines.append(f"| {op} | {variant} | {row['p50_us']:.0f} | {row['p99_us']:.0f} |")
    lines += [
        "",
        "| containers | invocations each | connections opened per container | peak held | distinct backends |",
        "|---:|---:|---|---:|---:|",
    ]
    for c in results["connections"]:
        opened = ", ".join(map(str, c["connects_per_container"]))
        lines.append(
            f"| {c['containers']} | {c['invocations_per_container']} | {opened}"
            f" | {c['peak_connections']} | {c['distinct_backends']} |"
        )
    lines += ["", "| target | result |", "|---|---|"]
    for name, verdict in results["targets"].items():
        outcome = "PASS" if verdict["ok"] else "MISS"
        lines.append(f"| {name}: {verdict['target']} | {outcome}: {_fmt(verdict['value'])} |")
    return "\n".join(lines)


def table(results: dict[str, Any]) -> str:
    env = results["environment"]
    header = (
        f"Python {env['machine']['python']}, {env['machine']['cpus']} CPUs ({env['machine']['cpu']}); "
        f"PostgreSQL {env['database']['version']} ({env['database']['server']}, {env['database']['transport']})"
    )
    return f"{header}\n\n{markdown(results)}"


def _fmt(value: Any) -> str:
    if isinstance(value, dict):
        return ", ".join(f"{k} {v:.2f}" for k, v in value.items())
    if isinstance(value, list):
        return "; ".join(str(v) for v in value)
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

    matplotlib.use("Agg")  # no display needed
    import matplotlib.pyplot as plt
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    fig, (left, right) = plt.subplots(1, 2, figsize=(14, 5.6))
    functions = _functions(results["cold"])
    names = list(functions)
    xs = range(len(names))
    left.bar([x - 0.2 for x in xs], [functions[n]["floor"]["median_ms"] for n in names], 0.4, label="floor")
    ours = [functions[n]["ours"]["median_ms"] for n in names]
    left.bar([x + 0.2 for x in xs], ours, 0.4, label="ours")
    for x, n in zip(xs, names, strict=True):
        left.annotate(f"{functions[n]['ratio_median']:.2f}", (x + 0.2, ours[x]), ha="center", va="bottom", fontsize=7)
    left.axhline(results["cold"][PEER_KEY]["ours"]["median_ms"], color="red", ls="--", label="FastAPI peer (create)")
    left.set_xticks(list(xs), [n.removesuffix("Function") for n in names], rotation=60, ha="right", fontsize=8)
    left.set_ylabel("cold init, median ms (labels: ours / floor)")
    left.set_title("Cold init vs dependency-import floor")
    left.set_ylim(top=results["cold"][PEER_KEY]["ours"]["median_ms"] * 1.2)
    left.legend(fontsize=8, loc="upper left", ncol=3)

    width = 0.2
    colors = dict(zip(VARIANT_LABELS, ("tab:blue", "tab:orange", "tab:green", "tab:red"), strict=True))
    for x, op in enumerate(OPS):
        rows = {v: results["warm"][op][v] for v in VARIANT_LABELS if v in results["warm"][op]}
        floor = rows["floor"]["p50_us"]
        for i, (variant, row) in enumerate(rows.items()):
            position = x + (i - (len(rows) - 1) / 2) * width
            right.bar(position, row["p50_us"], width, color=colors[variant])
            right.scatter([position], [row["p99_us"]], marker="_", color="black", s=80, zorder=3)
            label = f"{row['p50_us'] / floor:.2f}"
            right.annotate(label, (position, row["p50_us"]), ha="center", va="bottom", fontsize=7)
    handles: list[Any] = [Patch(color=colors[variant], label=label) for variant, label in VARIANT_LABELS.items()]
    handles.append(Line2D([], [], marker="_", color="black", linestyle="none", markersize=10, label="p99"))
    right.set_xticks(range(len(OPS)), OPS)
    right.set_yscale("log")
    right.set_ylim(bottom=50)
    right.set_ylabel("warm latency, p50 µs (log; labels: p50 / floor)")
    right.set_title("Warm invocations (same PostgreSQL, same run)")
    right.legend(handles=handles, fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.07), ncol=3)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
