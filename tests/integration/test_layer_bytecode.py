"""The layer ships CPython 3.13 bytecode that survives SAM's zip and is what Lambda runs.

Built here for this machine's architecture (ARCH=host): the bytecode step is the same as in the
arm64 build `sam build` runs (test_sam.py checks that build's headers), and native extensions
for this machine let the handlers really be imported from it.
"""

from __future__ import annotations

import importlib.util
import json
import subprocess
from pathlib import Path

import pytest

from bench import layer
from jobprep_local.template import functions

# Runs under CPython 3.13 with the unzipped layer as /opt/python: imports every function's
# handler module the way the runtime does, watching which layer files get opened.
_IMPORT_HANDLERS = r"""
import importlib.util, json, sys

layer = sys.argv[1]
opened_sources = []
def watch(event, args):
    if event == "open" and isinstance(args[0], str) and args[0].startswith(layer) and args[0].endswith(".py"):
        opened_sources.append(args[0])
sys.addaudithook(watch)

for name, path in json.loads(sys.argv[2]).items():
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert callable(module.lambda_handler), name

from_layer = [m for m in list(sys.modules.values()) if (getattr(m, "__file__", None) or "").startswith(layer)]
print(json.dumps({
    "from_layer": len(from_layer),
    "packages": sorted({m.__name__.split(".")[0] for m in from_layer}),
    "without_cached": [m.__name__ for m in from_layer if m.__file__.endswith(".py") and not m.__cached__],
    "opened_sources": opened_sources,
}))
"""


@pytest.fixture(scope="module")
def python313() -> str:
    try:
        return layer.python313()
    except layer.NoPython313 as exc:
        pytest.skip(str(exc))


@pytest.mark.timeout(600)
def test_every_module_loads_from_hash_based_bytecode_after_sam_zip(tmp_path: Path, python313: str) -> None:
    built = layer.build_layer(tmp_path / "artifacts", arch=layer.host_arch())
    opt_python = layer.as_lambda_sees_it(built, tmp_path)
    # The round trip keeps SAM's 1980 dates: a timestamp-based .pyc would be stale here.
    assert (opt_python / "jobprep" / "db" / "engine.py").stat().st_mtime < 400_000_000

    report = layer.check_bytecode(opt_python, python313)
    assert report["magic"] == layer.MAGIC_313.hex()
    assert report["problems"] == []
    assert report["strays"] == []
    sources = list(opt_python.rglob("*.py"))
    assert report["sources"] == len(sources) > 500
    for pyc in opt_python.rglob("*.pyc"):  # the same header rule, checked from this side too
        header = pyc.read_bytes()[:8]
        assert header[:4] == layer.MAGIC_313, pyc
        assert int.from_bytes(header[4:8], "little") == layer.UNCHECKED_HASH, pyc

    # Every source now raises if executed: whatever imports fine ran from its .pyc.
    for source in sources:
        source.write_text(f"raise ImportError('{source.name} ran from source: its .pyc was not used')\n")
    handlers = {f"handler_{spec.logical_id}": str(spec.source_file) for spec in functions().values()}
    # What the Lambda runtime itself provides next to the layer (/var/runtime): boto3 and its
    # dependencies, pure Python, linked from this venv (the layer deliberately leaves them out).
    runtime = tmp_path / "var_runtime"
    runtime.mkdir()
    site = Path(importlib.util.find_spec("boto3").origin).parents[1]  # type: ignore[arg-type,union-attr]
    for name in ("boto3", "botocore", "s3transfer", "jmespath", "dateutil", "urllib3", "six.py"):
        (runtime / name).symlink_to(site / name)
    env = {
        "PATH": "/usr/bin:/bin",
        "PYTHONPATH": f"{opt_python}:{runtime}",
        "PYTHONDONTWRITEBYTECODE": "1",  # /opt is read-only in Lambda: nothing gets recompiled and kept
        "DATABASE_URL": "postgresql://jobprep:unused@127.0.0.1:9/jobprep",  # the engine connects lazily
        "EVENT_BUS_NAME": "bytecode-test",
        "AWS_DEFAULT_REGION": "us-east-1",
    }
    done = subprocess.run(
        [python313, "-c", _IMPORT_HANDLERS, str(opt_python), json.dumps(handlers)],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-4000:]
    loaded = json.loads(done.stdout)
    assert loaded["opened_sources"] == []
    assert loaded["without_cached"] == []
    assert {"jobprep", "sqlalchemy", "psycopg", "pydantic", "aws_lambda_powertools"} <= set(loaded["packages"])
    assert loaded["from_layer"] > 300
