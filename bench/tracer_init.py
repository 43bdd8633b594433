"""python -m bench.tracer_init [runs]: what Powertools Tracer adds to a function's init with Lambda
tracing enabled. Each sample is a fresh interpreter that imports one handler with jobprep's tracer
swapped for a stand-in whose decorators do nothing (timed: the init without tracing; the X-Ray SDK
is not loaded), then builds the real Tracer (timed: its marginal cost, the X-Ray SDK import and
any patching) in one of three ways:

* no patching: as jobprep.observability has it (Tracer(auto_patch=False));
* botocore: patching botocore (boto3) calls;
* everything: patching every library the X-Ray SDK supports (Tracer's default).

Timing the Tracer alone, rather than two whole inits against each other, keeps the machine's
noise (tens of ms per init on a shared box) out of a difference of a few ms. Medians; no database."""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[1]
FUNCTIONS = ("get_job_info", "create_job_info")
VARIANTS = {
    "no patching": "Tracer(auto_patch=False)",
    "botocore": "Tracer(patch_modules=('botocore',))",
    "everything": "Tracer()",
}
CHILD = """
import importlib.util, json, sys, time
import aws_lambda_powertools
from aws_lambda_powertools import Tracer

class NoTracer:
    def __init__(self, **_):
        pass
    def capture_lambda_handler(self, fn=None, **_):
        return fn if fn is not None else (lambda f: f)
    def capture_method(self, fn=None, **_):
        return fn if fn is not None else (lambda f: f)

aws_lambda_powertools.Tracer = NoTracer
started = time.perf_counter()
spec = importlib.util.spec_from_file_location("handler", sys.argv[1])
spec.loader.exec_module(importlib.util.module_from_spec(spec))
imported = time.perf_counter()
assert "aws_xray_sdk" not in sys.modules
{variant}
print(json.dumps({{"init": imported - started, "tracer": time.perf_counter() - imported}}))
"""


def environment() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONDONTWRITEBYTECODE", "POWERTOOLS_TRACE_DISABLED")}
    env.update(
        {
            "PYTHONPATH": str(PROJECT_ROOT / "shared"),  # the layer's layout
            "DATABASE_URL": "postgresql://bench@127.0.0.1/unused",  # the engine is built, never connected
            "EVENT_BUS_NAME": "bench",
            "AWS_DEFAULT_REGION": "us-east-1",
            "POWERTOOLS_SERVICE_NAME": "job-prep",
            "LAMBDA_TASK_ROOT": "/var/task",  # tracing enabled, as in Lambda
        }
    )
    return env


def sample(function: str, variant: str, env: dict[str, str]) -> dict[str, float]:
    source = str(PROJECT_ROOT / "functions" / function / "app.py")
    code = CHILD.format(variant=VARIANTS[variant])
    done = subprocess.run([sys.executable, "-c", code, source], env=env, capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(done.stderr[-2000:])
    result: dict[str, float] = json.loads(done.stdout.splitlines()[-1])
    return {part: seconds * 1000 for part, seconds in result.items()}


def main(runs: int) -> None:
    env = environment()
    samples: dict[tuple[str, str], dict[str, list[float]]] = {
        (f, v): {"init": [], "tracer": []} for f in FUNCTIONS for v in VARIANTS
    }
    for run in range(runs + 1):  # run 0 warms the bytecode cache; interleaved so load drifts hit all alike
        for key, parts in samples.items():
            result = sample(*key, env)
            if run:
                for part, ms in result.items():
                    parts[part].append(ms)
    print(f"{'function':16} {'Tracer':12} {'init':>10} {'+ Tracer':>9} {'share':>6}  (medians of {runs} interpreters)")
    for (function, variant), parts in samples.items():
        init, tracer = statistics.median(parts["init"]), statistics.median(parts["tracer"])
        print(f"{function:16} {variant:12} {init:7.1f} ms {tracer:6.1f} ms {100 * tracer / init:5.1f}%")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 21)
