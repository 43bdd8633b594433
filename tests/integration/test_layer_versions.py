"""The layer's third-party packages are the ones uv.lock pins for the Lambda runtime (CPython 3.13
on Linux arm64): installed by shared/Makefile's `layer-packages` step, the one `sam build` runs,
not resolved for the Python that happens to run the build."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from packaging.markers import Marker
from packaging.utils import canonicalize_name

from jobprep_local.template import PROJECT_ROOT
from tests.unit.test_locks import runtime_provided

# python3.13 on arm64, as Lambda runs it
TARGET = {
    "implementation_name": "cpython",
    "platform_python_implementation": "CPython",
    "python_version": "3.13",
    "python_full_version": "3.13.0",
    "sys_platform": "linux",
    "platform_system": "Linux",
    "platform_machine": "aarch64",
    "os_name": "posix",
}


def uv() -> str:
    found = os.environ.get("UV_BIN") or shutil.which("uv") or str(PROJECT_ROOT / ".tools" / "uv" / "bin" / "uv")
    if not Path(found).exists():
        pytest.skip("uv not found: `make test` passes UV_BIN")
    return found


def locked_for_the_target() -> dict[str, str]:
    """uv.lock's pins whose environment markers hold on the target (uv export writes them)."""
    command = [uv(), "export", "--frozen", "--no-dev", "--no-emit-project", "--no-hashes"]
    command += ["--format", "requirements-txt"]
    for package in runtime_provided():
        command += ["--no-emit-package", package]
    exported = subprocess.run(command, cwd=PROJECT_ROOT, capture_output=True, text=True, check=True).stdout
    pins: dict[str, str] = {}
    for line in exported.splitlines():
        found = re.match(r"^([A-Za-z0-9._-]+)==([^\s;]+)\s*(?:;\s*(.+))?$", line)
        if found and (found.group(3) is None or Marker(found.group(3)).evaluate(TARGET)):
            pins[canonicalize_name(found.group(1))] = found.group(2)
    return pins


def installed(target: Path) -> dict[str, str]:
    versions: dict[str, str] = {}
    for dist_info in target.glob("*.dist-info"):
        name, version = dist_info.name.removesuffix(".dist-info").rsplit("-", 1)
        versions[canonicalize_name(name)] = version
    return versions


def test_the_layer_has_exactly_the_locked_versions_for_the_runtime(tmp_path: Path) -> None:
    done = subprocess.run(
        ["make", "-s", "-C", str(PROJECT_ROOT / "shared"), "layer-packages", f"ARTIFACTS_DIR={tmp_path}", f"UV={uv()}"],
        capture_output=True,
        text=True,
        check=False,
        timeout=600,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    expected = locked_for_the_target()
    assert expected["deprecated"] == "3.0.1"  # the pin a 3.11 build machine used to get wrong (1.3.1)
    assert installed(tmp_path / "python") == expected
    # wheels for the runtime, not for this machine
    assert list((tmp_path / "python" / "pydantic_core").glob("*cpython-313-aarch64-linux-gnu.so"))
