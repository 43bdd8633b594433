"""The template passes `sam validate --lint` and `sam build` works here without Docker (a local
CPython 3.13 compiles the layer's bytecode; without one the build stops, and so is skipped here)."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from bench import layer as layer_tools
from jobprep_local.template import PROJECT_ROOT, functions

SAM = Path(os.environ.get("SAM_BIN") or PROJECT_ROOT / ".tools" / "bin" / "sam")
pytestmark = pytest.mark.skipif(not SAM.exists(), reason="SAM CLI not installed: `make test` installs it into .tools/")


def run_sam(*args: str, cwd: Path = PROJECT_ROOT) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "SAM_CLI_TELEMETRY": "0", "AWS_DEFAULT_REGION": "us-east-1"}
    env.pop("DATABASE_URL", None)
    return subprocess.run([str(SAM), *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=900, check=False)


def test_sam_validate_lint() -> None:
    result = run_sam("validate", "--lint")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "is a valid SAM Template" in result.stdout + result.stderr


def test_sam_build_without_docker(tmp_path: Path) -> None:
    try:
        python313 = layer_tools.python313()
    except layer_tools.NoPython313 as exc:
        pytest.skip(str(exc))
    build = tmp_path / "build"
    result = run_sam("build", "--build-dir", str(build), "--cache-dir", str(tmp_path / "cache"))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Build Succeeded" in result.stdout + result.stderr

    layer = build / "SharedLayer" / "python"
    assert (layer / "jobprep" / "db.py").is_file()
    assert (layer / "jobprep" / "migrations" / "versions" / "0001_initial.py").is_file()
    assert not (layer / "boto3").exists(), "boto3 comes from the Lambda runtime"
    # binary wheels for the Lambda platform, not for this machine
    assert list((layer / "pydantic_core").glob("*cpython-313-aarch64-linux-gnu.so"))
    assert list((layer / "psycopg_binary").glob("*cpython-313-aarch64-linux-gnu.so"))
    assert not list(layer.rglob("*x86_64*.so"))

    # Packaged by SAM's own zip code (entries dated 1980) and unzipped: every module keeps a
    # valid unchecked-hash .pyc for Python 3.13 (tests/integration/test_layer_bytecode.py loads them).
    sam_python = SAM.parent / "python"
    make_zip = "import sys; from samcli.lib.package.utils import make_zip; make_zip(*sys.argv[1:])"
    zipped = subprocess.run(
        [str(sam_python), "-c", make_zip, str(tmp_path / "layer"), str(layer.parent)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert zipped.returncode == 0, zipped.stderr
    unzipped = layer_tools.lambda_unzip(tmp_path / "layer.zip", tmp_path / "opt") / "python"
    report = layer_tools.check_bytecode(unzipped, python313)
    assert (report["problems"], report["strays"]) == ([], [])
    assert report["sources"] == len(list(layer.rglob("*.py"))) > 500

    for spec in functions().values():
        directory = spec.handler.split("/")[0]
        artifact = build / spec.logical_id
        assert sorted(p.name for p in artifact.iterdir()) == [directory], "only its own code"
        assert (artifact / directory / "app.py").read_text() == spec.source_file.read_text()
    shutil.rmtree(build)
