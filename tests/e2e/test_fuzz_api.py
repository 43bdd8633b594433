"""Schemathesis against the dev gateway's /openapi.json: every check, every phase (examples, coverage,
fuzzing, stateful with inferred links), a fixed seed and bounded examples (tests/e2e/schemathesis.toml).
Zero failures: no 5xx, every status/body/header as documented, schema-valid input accepted,
schema-invalid input refused, auth enforced, deleted resources gone."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import uuid

import pytest

from jobprep_local.template import PROJECT_ROOT, functions
from tests.e2e.conftest import DevServer

pytestmark = pytest.mark.e2e

CONFIG = PROJECT_ROOT / "tests" / "e2e" / "schemathesis.toml"


def test_schemathesis_finds_nothing(dev_server: DevServer) -> None:
    env = {**os.environ, "JOBPREP_FUZZ_TOKEN": dev_server.token(f"fuzz-{uuid.uuid4()}"), "NO_COLOR": "1"}
    command = [sys.executable, "-m", "schemathesis.cli", "--config-file", str(CONFIG), "run"]
    if os.environ.get("JOBPREP_FUZZ_SEED"):  # to explore beyond the pinned cases
        command += ["--seed", os.environ["JOBPREP_FUZZ_SEED"]]
    examples = int(os.environ.get("JOBPREP_SCHEMATHESIS_EXAMPLES", "0"))  # `make fuzz`: a longer run
    if examples:
        command += ["--max-examples", str(examples)]
    command.append(f"{dev_server.base_url}/openapi.json")

    result = subprocess.run(command, cwd=PROJECT_ROOT, env=env, capture_output=True, text=True, timeout=600)

    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-30_000:]
    summary = re.search(r"(\d+) generated, (\d+) passed", output)
    assert summary is not None, output[-5_000:]
    assert summary[1] == summary[2]
    assert int(summary[1]) >= 200, "the run exercised too little of the API"
    routes = sum(len(spec.routes) for spec in functions().values())  # template.yaml: the one list of routes
    assert re.search(rf"Tested:\s+{routes}\b", output), "every operation in template.yaml was tested"
    for phase in ("Examples", "Coverage", "Fuzzing", "Stateful"):
        assert f"✅ {phase}" in output or f"✅  {phase}" in output, f"{phase} phase did not pass"
    links = re.search(r"API Links:\s+(\d+) covered / (\d+) selected", output)
    assert links is not None
    assert int(links[1]) > 0, "the stateful phase followed no link"
    print(f"schemathesis: {summary[0]}; {links[0]}")
