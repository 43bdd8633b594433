"""Targets, the printed tables (Markdown, as in bench/README.md), results.json and the plot."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from bench.cold import NO_BYTECODE_KEY, PEER_KEY
from bench.warm import OPS

RESULTS_DIR = Path(__file__).parent / "results"
VARIANT_LABELS = {
    "limit": "limit (raw psycopg, 1 statement)",
    "ours": "ours",
    "peer": "FastAPI + Mangum peer",
    "connect_per_invocation": "ours, connect per invocation",
}
TARGET_RTT = "0.5"
COLD_TARGET, LIMIT_TARGET, CONNECT_TARGET, PEER_TARGET, CPU_TARGET = 1.1, 1.5, 10.0, 3.0, 3.0
FIRST_TARGET = 1.1  # first invocation / (warm + a new connection): "no more than", with 10% for noise


def _unmeasured(target: str, reason: str) -> dict[str, Any]:
    return {"value": None, "target": target, "ok": None, "detail": reason}


def evaluate(results: dict[str, Any]) -> dict[str, Any]:
    """Every target, computed as ratios within this run; ok=None when its section did not run."""
    targets: dict[str, Any] = {}
    limit_t = f"<= {LIMIT_TARGET} (ours / limit, p50, RTT {TARGET_RTT} ms)"
    connect_t = f">= {CONNECT_TARGET} (connect per invocation / ours, p50, RTT {TARGET_RTT} ms)"
    peer_t = f">= {PEER_TARGET} (peer / ours, create, p50, RTT {TARGET_RTT} ms)"
    cpu_t = f"<= {CPU_TARGET} (client CPU per invocation, ours / limit, mean, RTT {TARGET_RTT} ms)"
    warm = results.get("warm", {}).get(TARGET_RTT)
    if warm:
        cpu = {op: warm[op]["ours"]["cpu_mean_us"] / warm[op]["limit"]["cpu_mean_us"] for op in OPS}
        targets["cpu_vs_limit"] = {"value": cpu, "target": cpu_t, "ok": all(r <= CPU_TARGET for r in cpu.values())}
        ratios = {op: warm[op]["ours"]["p50_us"] / warm[op]["limit"]["p50_us"] for op in OPS}
        slowdown = {op: warm[op]["connect_per_invocation"]["p50_us"] / warm[op]["ours"]["p50_us"] for op in OPS}
        peer = warm["create"]["peer"]["p50_us"] / warm["create"]["ours"]["p50_us"]
        targets["ours_vs_limit"] = {
            "value": ratios,
            "target": limit_t,
            "ok": all(r <= LIMIT_TARGET for r in ratios.values()),
        }
        targets["connect_per_invocation_vs_ours"] = {
            "value": slowdown,
            "target": connect_t,
            "ok": all(r >= CONNECT_TARGET for r in slowdown.values()),
        }
        targets["peer_vs_ours_create"] = {"value": peer, "target": peer_t, "ok": peer >= PEER_TARGET}
    else:
        reason = results.get("network_skipped") or f"warm section not run at RTT {TARGET_RTT} ms"
        targets["cpu_vs_limit"] = _unmeasured(cpu_t, reason)
        targets["ours_vs_limit"] = _unmeasured(limit_t, reason)
        targets["connect_per_invocation_vs_ours"] = _unmeasured(connect_t, reason)
        targets["peer_vs_ours_create"] = _unmeasured(peer_t, reason)
    cold_t = f"<= {COLD_TARGET} (ours / floor, median, every function)"
    cold = results.get("cold", {}).get("functions")
    if cold:
        worst = max(cold, key=lambda k: cold[k]["ratio_median"])
        targets["cold_vs_floor"] = {
            "value": cold[worst]["ratio_median"],
            "detail": worst,
            "target": cold_t,
            "ok": cold[worst]["ratio_median"] <= COLD_TARGET,
        }
    else:
        targets["cold_vs_floor"] = _unmeasured(cold_t, results.get("cold", {}).get("skipped", "cold not run"))
    first_t = f"<= {FIRST_TARGET} (first invocation after INIT / (warm + a new connection), median)"
    firsts = {k: v["first_invocation"] for k, v in (cold or {}).items() if "first_invocation" in v}
    if firsts:
        ratios = {k.removesuffix("Function"): v["first_vs_reconnect"] for k, v in firsts.items()}
        targets["first_invocation"] = {
            "value": ratios,
            "target": first_t,
            "ok": all(r <= FIRST_TARGET for r in ratios.values()),
        }
    else:
        targets["first_invocation"] = _unmeasured(first_t, "cold section not run with the database")
    conns = results.get("connections")
    if conns:
        targets["one_connection_per_container"] = {
            "value": [c["connects_per_container"] for c in conns],
            "target": "each container opens exactly 1; peak = distinct backends = containers",
            "ok": all(
                set(c["connects_per_container"]) == {1}
                and c["peak_connections"] == c["distinct_backends"] == c["containers"]
                and c["first_connection_kept"]
                for c in conns
            ),
        }
    return targets


def _fmt(value: Any) -> str:
    if isinstance(value, dict):
        return ", ".join(f"{k} {v:.2f}" for k, v in value.items())
    if isinstance(value, list):
        return "; ".join(str(v) for v in value)
    return f"{value:.2f}"


def cold_table(cold: dict[str, Any]) -> list[str]:
    setup = cold["setup"]
    lines = [
        f"Python {setup['python']} ({setup['arch']} build of the layer); layer bytecode after the SAM zip round trip:"
        f" {setup['layer_sources'] - setup['layer_bytecode_problems']}/{setup['layer_sources']} modules with a valid"
        f" unchecked-hash .pyc, {setup['layer_stray_pyc']} stray .pyc.",
        "",
        "| function | floor median ms | ours median ms | ours / floor (median) | (min) |",
        "|---|---:|---:|---:|---:|",
    ]
    for name, row in cold["functions"].items():
        lines.append(
            f"| {name.removesuffix('Function')} | {row['floor']['median_ms']:.0f} | {row['ours']['median_ms']:.0f}"
            f" | {row['ratio_median']:.2f} | {row['ratio_min']:.2f} |"
        )
    create = cold["functions"].get("CreateJobInfoFunction")
    for key, label in (
        (PEER_KEY, "FastAPI + Mangum peer (create)"),
        (NO_BYTECODE_KEY, "CreateJobInfo, layer without .pyc"),
    ):
        row = cold[key]
        ratio = f"ours create / this = {create['ours']['median_ms'] / row['median_ms']:.2f}" if create else ""
        lines.append(f"| {label} | | {row['median_ms']:.0f} | {ratio} | |")
    return lines


def first_table(functions: dict[str, Any]) -> list[str]:
    lines = [
        "| function | INIT ms | first invocation ms | warm ms | warm + new connection ms | first / (warm + connection)"
        " | first CPU ms | warm CPU ms | INIT + first ms | (INIT + first) / (floor INIT + warm + connection) |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for name, row in functions.items():
        first = row.get("first_invocation")
        if first:
            lines.append(
                f"| {name.removesuffix('Function')} | {row['ours']['median_ms']:.0f} | {first['first_ms']:.1f}"
                f" | {first['warm_ms']:.1f} | {first['reconnect_ms']:.1f} | {first['first_vs_reconnect']:.2f}"
                f" | {first['first_cpu_ms']:.1f} | {first['warm_cpu_ms']:.1f} | {first['init_plus_first_ms']:.0f}"
                f" | {first['init_plus_first_vs_floor']:.2f} |"
            )
    return lines


def warm_table(per_op: dict[str, Any]) -> list[str]:
    lines = [
        "| op | variant | p50 µs | p99 µs | p50 / limit | round trips waited | client CPU µs |",
        "|---|---|---:|---:|---:|---:|---:|",
    ]
    for op in OPS:
        limit = per_op[op]["limit"]["p50_us"]
        for variant, label in VARIANT_LABELS.items():
            row = per_op[op].get(variant)
            if row:
                lines.append(
                    f"| {op} | {label} | {row['p50_us']:.0f} | {row['p99_us']:.0f} | {row['p50_us'] / limit:.2f}"
                    f" | {row['round_trips']:.2f} | {row['cpu_mean_us']:.0f} |"
                )
    return lines


def cpu_table(warm: dict[str, Any]) -> list[str]:
    """Client CPU per invocation (this process's CPU time: PostgreSQL and the proxy are other processes)."""
    rtts = list(warm)
    head = " | ".join(f"ours µs @{r} | limit µs @{r} | ours / limit @{r}" for r in rtts)
    lines = [f"| op | {head} |", "|---|" + "---:|" * (3 * len(rtts))]
    for op in OPS:
        cells = []
        for rtt in rtts:
            ours, limit = warm[rtt][op]["ours"]["cpu_mean_us"], warm[rtt][op]["limit"]["cpu_mean_us"]
            cells.append(f"{ours:.0f} | {limit:.0f} | {ours / limit:.2f}")
        lines.append(f"| {op} | {' | '.join(cells)} |")
    return lines


def profile_table(profiles: dict[str, Any], top: int = 6) -> list[str]:
    from bench.profile import LIBRARIES

    lines = [
        f"| op | variant | profiled µs / invocation | {' | '.join(LIBRARIES)} |",
        "|---|---|---:|" + "---:|" * len(LIBRARIES),
    ]
    for op, variants in profiles.items():
        for variant, summary in variants.items():
            shares = " | ".join(f"{summary['shares'][lib] * 100:.0f}%" for lib in LIBRARIES)
            lines.append(f"| {op} | {variant} | {summary['profiled_us_per_invocation']:.0f} | {shares} |")
    lines += ["", f"Top {top} frames of ours by self time (share of the profiled CPU):", ""]
    lines += ["| op | share | library | frame |", "|---|---:|---|---|"]
    for op, variants in profiles.items():
        for frame in variants["ours"]["top"][:top]:
            lines.append(f"| {op} | {frame['share'] * 100:.1f}% | {frame['library']} | `{frame['frame']}` |")
    return lines


def connect_table(connect: dict[str, Any]) -> list[str]:
    base = connect["0"]["select_one"]["p50_us"]
    lines = [
        "| RTT ms | SELECT 1 p50 µs | added by the proxy µs | new TLS + SCRAM connection p50 µs | its round trips |"
        " its client CPU µs |",
        "|---:|---:|---:|---:|---:|---:|",
    ]
    for rtt, rows in connect.items():
        one = rows["select_one"]
        new = rows.get("connect")
        tail = f"{new['p50_us']:.0f} | {new['round_trips']:.2f} | {new['cpu_mean_us']:.0f}" if new else " | | "
        lines.append(f"| {rtt} | {one['p50_us']:.0f} | {one['p50_us'] - base:.0f} | {tail} |")
    return lines


def markdown(results: dict[str, Any]) -> str:
    lines: list[str] = []
    cold = results.get("cold", {})
    lines += ["### Cold init", ""]
    lines += cold_table(cold) if "functions" in cold else [f"Not measured: {cold.get('skipped', 'not run')}"]
    if any("first_invocation" in row for row in cold.get("functions", {}).values()):
        lines += ["", "### First invocation after INIT (RTT 0.5 ms; PutEvents to a local moto EventBridge)", ""]
        lines += first_table(cold["functions"])
    if results.get("network_skipped"):
        lines += ["", "### Network", "", f"Not measured: {results['network_skipped']}"]
    if results.get("connect"):
        lines += ["", "### The path itself", "", *connect_table(results["connect"])]
    for rtt, per_op in results.get("warm", {}).items():
        lines += ["", f"### Warm, RTT {rtt} ms", "", *warm_table(per_op)]
    if results.get("warm"):
        lines += ["", "### Client CPU per invocation (mean; CPU time, not distorted by waiting)", ""]
        lines += cpu_table(results["warm"])
    if results.get("profile"):
        n = next(iter(next(iter(results["profile"].values())).values()))["invocations"]
        title = f"### Where the client CPU goes (cProfile, {n} warm invocations per op; self time by library)"
        lines += ["", title, ""]
        lines += profile_table(results["profile"])
    if results.get("publishing"):
        lines += ["", "### Publishing to a local moto EventBridge (RTT 0.5 ms)", ""]
        lines += ["| op | variant | p50 µs | p99 µs | client CPU µs |", "|---|---|---:|---:|---:|"]
        for op, variants in results["publishing"].items():
            for variant, row in variants.items():
                lines.append(
                    f"| {op} | {variant} | {row['p50_us']:.0f} | {row['p99_us']:.0f} | {row['cpu_mean_us']:.0f} |"
                )
    if results.get("connections"):
        lines += [
            "",
            "### Connections held",
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
    lines += ["", "### Targets", "", "| target | result |", "|---|---|"]
    for name, verdict in results["targets"].items():
        if verdict["ok"] is None:
            outcome = f"NOT MEASURED: {verdict['detail']}"
        else:
            outcome = f"{'PASS' if verdict['ok'] else 'MISS'}: {_fmt(verdict['value'])}"
            if verdict.get("detail"):
                outcome += f" ({verdict['detail']})"
        lines.append(f"| {name}: {verdict['target']} | {outcome} |")
    return "\n".join(lines)


def header(results: dict[str, Any]) -> str:
    env = results["environment"]
    machine = env["machine"]
    text = f"Bench process: Python {machine['python']}, {machine['cpus']} CPUs ({machine['cpu']})."
    database = env.get("database")
    if database:
        text += f" PostgreSQL {database['version']} ({database['server']}; {database['transport']};"
        text += (
            f" synchronous_commit={database.get('synchronous_commit')}), through the delay proxy (a separate process)."
        )
    return text


def table(results: dict[str, Any]) -> str:
    return f"{header(results)}\n\n{markdown(results)}"


def write(results: dict[str, Any], directory: Path = RESULTS_DIR) -> tuple[Path, Path | None]:
    directory.mkdir(parents=True, exist_ok=True)
    json_path = directory / "results.json"
    json_path.write_text(json.dumps(results, indent=2) + "\n")
    if not results.get("warm") and "functions" not in results.get("cold", {}):
        return json_path, None
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
    cold = results.get("cold", {})
    if "functions" in cold:
        functions = cold["functions"]
        names = list(functions)
        xs = range(len(names))
        left.bar([x - 0.2 for x in xs], [functions[n]["floor"]["median_ms"] for n in names], 0.4, label="floor")
        ours = [functions[n]["ours"]["median_ms"] for n in names]
        left.bar([x + 0.2 for x in xs], ours, 0.4, label="ours (built layer)")
        for x, n in zip(xs, names, strict=True):
            left.annotate(
                f"{functions[n]['ratio_median']:.2f}", (x + 0.2, ours[x]), ha="center", va="bottom", fontsize=7
            )
        left.axhline(cold[PEER_KEY]["median_ms"], color="red", ls="--", label="FastAPI peer (create)")
        left.axhline(cold[NO_BYTECODE_KEY]["median_ms"], color="grey", ls=":", label="create, layer without .pyc")
        left.set_xticks(list(xs), [n.removesuffix("Function") for n in names], rotation=60, ha="right", fontsize=8)
        left.set_ylabel("cold init, median ms (labels: ours / floor)")
        left.set_title(f"Cold init, Python {cold['setup']['python']}, vs the dependency floor")
        left.legend(fontsize=8, loc="upper left", ncol=2)

    warm = results.get("warm", {})
    rtt = TARGET_RTT if TARGET_RTT in warm else next(iter(warm), None)
    if rtt is not None:
        width = 0.2
        colors = dict(zip(VARIANT_LABELS, ("tab:blue", "tab:orange", "tab:green", "tab:red"), strict=True))
        for x, op in enumerate(OPS):
            rows = {v: warm[rtt][op][v] for v in VARIANT_LABELS if v in warm[rtt][op]}
            limit = rows["limit"]["p50_us"]
            for i, (variant, row) in enumerate(rows.items()):
                position = x + (i - (len(rows) - 1) / 2) * width
                right.bar(position, row["p50_us"], width, color=colors[variant])
                right.scatter([position], [row["p99_us"]], marker="_", color="black", s=80, zorder=3)
                label = f"{row['p50_us'] / limit:.2f}"
                right.annotate(label, (position, row["p50_us"]), ha="center", va="bottom", fontsize=7)
        handles: list[Any] = [Patch(color=colors[v], label=label) for v, label in VARIANT_LABELS.items()]
        handles.append(Line2D([], [], marker="_", color="black", linestyle="none", markersize=10, label="p99"))
        right.set_xticks(range(len(OPS)), OPS)
        right.set_yscale("log")
        right.set_ylabel("warm latency, p50 µs (log; labels: p50 / limit)")
        right.set_title(f"Warm invocations, TLS + SCRAM, RTT {rtt} ms")
        right.legend(handles=handles, fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.07), ncol=3)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
