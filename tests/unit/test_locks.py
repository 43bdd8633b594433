"""Every environment installs from a lock: uv.lock (the layer and the dev venv), the layer's
hash-pinned export (shared/requirements.txt) and the tools' (tools/*.txt). `make lock` refreshes
them; these tests fail while one is stale."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tomllib
from pathlib import Path

import pytest

from jobprep_local.template import PROJECT_ROOT

MAKEFILE = (PROJECT_ROOT / "Makefile").read_text()


def uv() -> str:
    found = os.environ.get("UV_BIN") or shutil.which("uv")
    if not found or not Path(found).exists():
        pytest.skip("uv not found: `make test` passes UV_BIN")
    return found


def runtime_provided() -> list[str]:
    [line] = re.findall(r"^RUNTIME_PROVIDED := (.+)$", MAKEFILE, re.MULTILINE)
    return str(line).split()


def test_uv_lock_matches_pyproject() -> None:
    done = subprocess.run([uv(), "lock", "--check"], cwd=PROJECT_ROOT, capture_output=True, text=True, check=False)
    assert done.returncode == 0, "uv.lock is stale: run `make lock`\n" + done.stderr


def test_layer_requirements_are_the_locks_export_with_hashes() -> None:
    command = [uv(), "export", "--frozen", "--no-dev", "--no-emit-project", "--format", "requirements-txt", "--quiet"]
    for package in runtime_provided():
        command += ["--no-emit-package", package]
    exported = subprocess.run(command, cwd=PROJECT_ROOT, capture_output=True, text=True, check=True).stdout
    committed = (PROJECT_ROOT / "shared" / "requirements.txt").read_text()
    body = [line for line in committed.splitlines() if not line.startswith("#")]
    assert body == [line for line in exported.splitlines() if not line.startswith("#")], "run `make lock`"
    pins = re.findall(r"^([a-z0-9-]+)==", committed, re.MULTILINE)
    assert all(f"{name}==" in committed for name in pins)
    assert committed.count("--hash=sha256:") >= len(pins), "every pin carries its hashes"


def test_the_layer_has_the_projects_dependencies_and_not_what_lambda_provides() -> None:
    project = tomllib.loads((PROJECT_ROOT / "pyproject.toml").read_text())["project"]
    declared = {re.split(r"[\[<>=~!; ]", d, maxsplit=1)[0].lower() for d in project["dependencies"]}
    pinned = set(re.findall(r"^([a-z0-9-]+)==", (PROJECT_ROOT / "shared" / "requirements.txt").read_text(), re.M))
    assert declared <= pinned
    assert not pinned & set(runtime_provided())


@pytest.mark.parametrize("name", ["sam", "checkov"])
def test_tool_requirements_are_compiled_with_hashes(name: str) -> None:
    wanted = [
        re.split(r"[\[<>=~!; ]", line, maxsplit=1)[0].lower()
        for line in (PROJECT_ROOT / "tools" / f"{name}.in").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    compiled = (PROJECT_ROOT / "tools" / f"{name}.txt").read_text()
    for package in wanted:
        assert re.search(rf"^{package}==.+\\\n\s+--hash=sha256:", compiled, re.MULTILINE), (package, "run `make lock`")
