"""Cold init with the runtime's Python (3.13): a fresh interpreter per sample, timing only the
import of the handler module (the Lambda init phase).

- ours: the layer exactly as shared/Makefile builds it (for this machine's architecture, so its
  native extensions load here; the bytecode is the same as for arm64), zipped like SAM and
  unzipped like Lambda, on sys.path as /opt/python would be, nothing writable (no .pyc written).
- the floor: a fresh interpreter importing exactly the third-party modules that handler's import
  loaded, in the same order, from a plain install of the same pinned dependencies compiled by
  Python 3.13 (never zipped, so its timestamp-based .pyc are valid): the dependencies' own cost.
- the FastAPI + Mangum peer's create, from that same install plus FastAPI and Mangum.
- for reference, ours from the same layer with its .pyc removed (the layer before it shipped bytecode).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from importlib import metadata
from pathlib import Path
from typing import Any

from bench import layer
from jobprep_local.template import FunctionSpec

PROJECT_ROOT = Path(__file__).resolve().parents[1]
CHILD = Path(__file__).with_name("_cold_child.py")
PEER = Path(__file__).parent / "peer" / "app.py"
PEER_KEY = "peer:CreateJobInfo"
NO_BYTECODE_KEY = "CreateJobInfoFunction, layer without .pyc"
PEER_PACKAGES = ("fastapi", "starlette", "mangum")  # pinned to the versions in this venv
# What the Lambda runtime provides next to the layer (/var/runtime): boto3's closure, never in the layer.
RUNTIME_PACKAGES = ("boto3", "botocore", "s3transfer", "jmespath", "python-dateutil", "six", "urllib3")


def workdir() -> Path:
    """Per checkout, kept between runs: the reference install is reused when its inputs match."""
    digest = hashlib.sha256(str(PROJECT_ROOT).encode()).hexdigest()[:10]
    path = Path(tempfile.gettempdir()) / f"jobprep-bench-cold-{digest}"
    path.mkdir(exist_ok=True)
    return path


def _install(target: Path, python313: str, arguments: list[str], stamp_text: str, *, deps: bool = False) -> Path:
    """pip-installs wheels for Python 3.13 on this machine into `target`, compiled by Python 3.13
    the ordinary way; reused while its inputs are the same."""
    stamp = hashlib.sha256(f"{stamp_text}{python313}{layer.host_arch()}".encode()).hexdigest()
    if (target / ".stamp").is_file() and (target / ".stamp").read_text() == stamp:
        return target
    shutil.rmtree(target, ignore_errors=True)
    arch = layer.host_arch()
    platforms = [f"--platform={p}_{arch}" for p in ("manylinux2014", "manylinux_2_28", "manylinux_2_34")]
    install = [sys.executable, "-m", "pip", "install", "--quiet", "--no-compile", "--target", str(target)]
    if not deps:
        install.append("--no-deps")
    wheels = [*platforms, "--implementation=cp", "--python-version=3.13", "--only-binary=:all:"]
    for command in (
        [*install, *wheels, *arguments],
        [python313, "-m", "compileall", "-q", "-j", "0", str(target)],
    ):
        done = subprocess.run(command, capture_output=True, text=True, check=False, timeout=900)
        if done.returncode != 0:
            raise RuntimeError(f"reference install failed: {command[:4]}\n{done.stderr[-3000:]}")
    (target / ".stamp").write_text(stamp)
    return target


def build_reference(target: Path, python313: str) -> Path:
    """The pinned, hash-checked layer requirements plus the peer's FastAPI, Starlette and Mangum."""
    requirements = PROJECT_ROOT / "shared" / "requirements.txt"
    _install(
        target / "layer-deps",
        python313,
        ["--require-hashes", "--requirement", str(requirements)],
        requirements.read_text(),
    )
    pins = [f"{name}=={metadata.version(name)}" for name in PEER_PACKAGES]
    # with their dependencies: on sys.path after the layer's, so shared packages come from there
    _install(target / "peer", python313, pins, str(pins), deps=True)
    return target


def build_runtime(target: Path, python313: str) -> Path:
    """boto3 and its closure, as the Lambda runtime ships them beside the layer."""
    pins = [f"{name}=={metadata.version(name)}" for name in RUNTIME_PACKAGES]
    return _install(target, python313, pins, str(pins))


def _stats(samples: list[float]) -> dict[str, Any]:
    return {
        "min_ms": min(samples) * 1000,
        "median_ms": statistics.median(samples) * 1000,
        "runs": len(samples),
        "samples_ms": [round(x * 1000, 1) for x in samples],  # in run order (interleaved with the others)
    }


class _Child:
    def __init__(self, python313: str, function_env: dict[str, str]) -> None:
        self.python313 = python313
        self.env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), **function_env}
        self.env["PYTHONDONTWRITEBYTECODE"] = "1"  # /opt and /var/task are read-only in Lambda

    def run(self, path: list[Path], args: list[str], stdin: str = "") -> dict[str, Any]:
        env = {**self.env, "PYTHONPATH": os.pathsep.join(map(str, path))}
        # -s: no user site-packages; -P: the child's own directory is not on sys.path
        done = subprocess.run(
            [self.python313, "-s", "-P", str(CHILD), *args],
            input=stdin,
            capture_output=True,
            text=True,
            env=env,
            check=False,
            timeout=120,
        )
        if done.returncode != 0:
            raise RuntimeError(f"cold child {args} failed:\n{done.stderr[-3000:]}")
        result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
        return result


def _median_of(samples: list[dict[str, Any]], key: str, field: str = "seconds") -> float:
    return float(statistics.median(sample[key][field] for sample in samples)) * 1000


def _first_invocation(samples: list[dict[str, Any]], init_ms: float, floor_ms: float) -> dict[str, Any]:
    """The first invocation after INIT against a warm one and a warm one with a new connection
    (all three in the same fresh process, medians over the samples), and INIT + first against
    the floor's INIT + a warm invocation with a new connection."""
    first, warm, reconnect = (_median_of(samples, k) for k in ("first", "warm", "reconnect"))
    return {
        "first_ms": first,
        "warm_ms": warm,
        "reconnect_ms": reconnect,
        "first_cpu_ms": _median_of(samples, "first", "cpu_seconds"),
        "warm_cpu_ms": _median_of(samples, "warm", "cpu_seconds"),
        "reconnect_cpu_ms": _median_of(samples, "reconnect", "cpu_seconds"),
        "first_vs_reconnect": first / reconnect,
        "init_plus_first_ms": init_ms + first,
        "init_plus_first_vs_floor": (init_ms + first) / (floor_ms + reconnect),
        "samples_ms": [round(s["first"]["seconds"] * 1000, 1) for s in samples],
    }


def measure_cold(
    specs: dict[str, FunctionSpec],
    function_env: dict[str, str],
    runs: int,
    invocations: dict[str, list[list[dict[str, Any]]]] | None = None,
) -> dict[str, Any]:
    """`invocations`: per function, per run, three events for the first invocation after INIT,
    a warm one and a warm one after a new connection (_cold_child); none: INIT only."""
    python313 = layer.python313()
    work = workdir()
    print(
        "  building the layer (shared/Makefile, this machine's architecture), zip and unzip as SAM/Lambda", flush=True
    )
    opt_python = layer.as_lambda_sees_it(layer.build_layer(work / "artifacts", layer.host_arch()), work)
    bytecode = layer.check_bytecode(opt_python, python313)
    without_pyc = work / "opt-without-pyc" / "python"
    shutil.rmtree(without_pyc.parent, ignore_errors=True)
    shutil.copytree(opt_python, without_pyc, ignore=shutil.ignore_patterns("__pycache__"))
    print("  reference install for the floor and the peer (cached between runs)", flush=True)
    built = build_reference(work / "reference", python313)
    runtime = build_runtime(work / "runtime", python313)
    reference = [built / "layer-deps", built / "peer", runtime]  # the floor: dependencies only

    child = _Child(python313, function_env)
    floors: dict[str, list[str]] = {}
    for logical_id, spec in specs.items():
        # warm-up run (the OS file cache), recording which third-party modules the handler loads
        floors[logical_id] = child.run([opt_python, runtime], ["handler", str(spec.source_file)])["modules"]
    child.run([*reference, opt_python], ["handler", str(PEER)])
    create = specs["CreateJobInfoFunction"].source_file
    child.run([without_pyc, runtime], ["handler", str(create)])

    samples: dict[str, dict[str, list[float]]] = {lid: {"ours": [], "floor": []} for lid in specs}
    firsts: dict[str, list[dict[str, Any]]] = {lid: [] for lid in (invocations or {})}
    peer: list[float] = []
    before: list[float] = []
    for run in range(runs):  # interleaved, so drift in machine load hits every variant alike
        for logical_id, spec in specs.items():
            events = (invocations or {}).get(logical_id)
            stdin = json.dumps({"events": events[run]}) if events else ""
            ours = child.run([opt_python, runtime], ["handler", str(spec.source_file)], stdin)
            samples[logical_id]["ours"].append(ours["seconds"])
            if events:
                firsts[logical_id].append(ours["invocations"])
            floor = child.run(reference, ["modules"], json.dumps(floors[logical_id]))
            samples[logical_id]["floor"].append(floor["seconds"])
        peer.append(child.run([*reference, opt_python], ["handler", str(PEER)])["seconds"])
        before.append(child.run([without_pyc, runtime], ["handler", str(create)])["seconds"])

    version = subprocess.run(
        [python313, "-c", "import platform; print(platform.python_version())"],
        capture_output=True,
        text=True,
        check=True,
    )
    results: dict[str, Any] = {
        "setup": {
            "python": version.stdout.strip(),
            "arch": layer.host_arch(),
            "layer_sources": bytecode["sources"],
            "layer_bytecode_problems": len(bytecode["problems"]),  # type: ignore[arg-type]
            "layer_stray_pyc": len(bytecode["strays"]),  # type: ignore[arg-type]
        },
        "functions": {},
    }
    for logical_id, both in samples.items():
        ours_stats, floor_stats = _stats(both["ours"]), _stats(both["floor"])
        results["functions"][logical_id] = {
            "ours": ours_stats,
            "floor": floor_stats,
            "floor_modules": len(floors[logical_id]),
            "floor_packages": sorted({name.split(".")[0] for name in floors[logical_id]}),
            "ratio_median": ours_stats["median_ms"] / floor_stats["median_ms"],
            "ratio_min": ours_stats["min_ms"] / floor_stats["min_ms"],
        }
        if firsts.get(logical_id):
            results["functions"][logical_id]["first_invocation"] = _first_invocation(
                firsts[logical_id], ours_stats["median_ms"], floor_stats["median_ms"]
            )
    results[PEER_KEY] = _stats(peer)
    results[NO_BYTECODE_KEY] = _stats(before)
    for scratch in ("artifacts", "opt", "opt-without-pyc"):  # rebuilt every run; the reference install stays
        shutil.rmtree(work / scratch, ignore_errors=True)
    return results
