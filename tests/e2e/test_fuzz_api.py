"""Schemathesis against the dev gateway's /openapi.json: every check, every phase (examples, coverage,
fuzzing, stateful with inferred links), a fixed seed and bounded examples (tests/e2e/schemathesis.toml).
Zero failures: no 5xx, every status/body/header as documented, schema-valid input accepted,
schema-invalid input refused, auth enforced, deleted resources gone. A second run sends every
operation's requests to paths no route matches, where API Gateway answers with its own body."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest

from jobprep_local.template import PROJECT_ROOT, functions
from tests.e2e.conftest import HTTP_TIMEOUT, DevServer

pytestmark = pytest.mark.e2e

CONFIG = PROJECT_ROOT / "tests" / "e2e" / "schemathesis.toml"
# The unrouted run needs no stateful phase: its links would lead to paths no route matches.
UNROUTED_PHASES = "examples,coverage,fuzzing"
WITH_PATH_PARAMETERS = r"\{"


def schemathesis(dev_server: DevServer, schema: str, *options: str, env: dict[str, str] | None = None) -> str:
    """Run the Schemathesis CLI with the suite's config; return its output, failing on a non-zero exit."""
    output, returncode = schemathesis_run(dev_server, schema, *options, env=env)
    assert returncode == 0, output[-30_000:]
    return output


def schemathesis_run(
    dev_server: DevServer, schema: str, *options: str, env: dict[str, str] | None = None
) -> tuple[str, int]:
    environment = {
        **os.environ,
        "JOBPREP_FUZZ_TOKEN": dev_server.token(f"fuzz-{uuid.uuid4()}"),
        "NO_COLOR": "1",
        **(env or {}),
    }
    command = [sys.executable, "-m", "schemathesis.cli", "--config-file", str(CONFIG), "run", *options]
    if os.environ.get("JOBPREP_FUZZ_SEED"):  # to explore beyond the pinned cases
        command += ["--seed", os.environ["JOBPREP_FUZZ_SEED"]]
    examples = int(os.environ.get("JOBPREP_SCHEMATHESIS_EXAMPLES", "0"))  # `make fuzz`: a longer run
    if examples:
        command += ["--max-examples", str(examples)]
    command.append(schema)
    result = subprocess.run(command, cwd=PROJECT_ROOT, env=environment, capture_output=True, text=True, timeout=600)
    return result.stdout + result.stderr, result.returncode


def generated_and_passed(output: str) -> tuple[int, int]:
    summary = re.search(r"(\d+) generated, (\d+) passed", output)
    assert summary is not None, output[-5_000:]
    return int(summary[1]), int(summary[2])


def test_schemathesis_finds_nothing(dev_server: DevServer) -> None:
    output = schemathesis(dev_server, f"{dev_server.base_url}/openapi.json")

    generated, passed = generated_and_passed(output)
    assert generated == passed
    assert generated >= 200, "the run exercised too little of the API"
    routes = sum(len(spec.routes) for spec in functions().values())  # template.yaml: the one list of routes
    assert re.search(rf"Tested:\s+{routes}\b", output), "every operation in template.yaml was tested"
    for phase in ("Examples", "Coverage", "Fuzzing", "Stateful"):
        assert f"✅ {phase}" in output or f"✅  {phase}" in output, f"{phase} phase did not pass"
    links = re.search(r"API Links:\s+(\d+) covered / (\d+) selected", output)
    assert links is not None
    assert int(links[1]) > 0, "the stateful phase followed no link"
    print(f"schemathesis: {generated} generated, {passed} passed; {links[0]}")


def unrouted_run(dev_server: DevServer, schema: str, *options: str, log: Path) -> tuple[str, int]:
    return schemathesis_run(
        dev_server,
        schema,
        "--phases",
        UNROUTED_PHASES,
        "--include-path-regex",
        WITH_PATH_PARAMETERS,
        *options,
        env={"JOBPREP_FUZZ_UNROUTED_LOG": str(log)},
    )


def test_schemathesis_finds_nothing_on_paths_no_route_matches(dev_server: DevServer, tmp_path: Path) -> None:
    """Every check (status, content type, headers, body schema) holds for API Gateway's own 404."""
    log = tmp_path / "unrouted.jsonl"
    output, returncode = unrouted_run(dev_server, f"{dev_server.base_url}/openapi.json", log=log)
    assert returncode == 0, output[-30_000:]

    generated, passed = generated_and_passed(output)
    assert generated == passed
    operations = sum(1 for spec in functions().values() for route in spec.routes if "{" in route.path)
    assert re.search(rf"Tested:\s+{operations}\b", output), "every operation with a path parameter was tested"
    responses = [json.loads(line) for line in log.read_text().splitlines()]
    assert len(responses) >= generated
    # every request went to a path no route matches, and got the gateway's answer
    assert {(r["status"], r["body"]) for r in responses} == {(404, '{"message":"Not Found"}')}
    assert all("/unrouted/path" in r["path"] for r in responses)
    print(f"schemathesis, unrouted paths: {generated} generated, {passed} passed, {len(responses)} requests")


def test_the_unrouted_run_fails_when_404_declares_only_our_error_body(dev_server: DevServer, tmp_path: Path) -> None:
    """The mistake this run exists for: a 404 declared as ErrorBody alone (statusCode and code
    required) rejects API Gateway's {"message":"Not Found"}."""
    document: dict[str, Any] = httpx.get(f"{dev_server.base_url}/openapi.json", timeout=HTTP_TIMEOUT).json()
    for item in document["paths"].values():
        for operation in item.values():
            if "404" in operation["responses"]:
                content = operation["responses"]["404"]["content"]["application/json"]
                content["schema"] = {"$ref": "#/components/schemas/ErrorBody"}
    planted = tmp_path / "openapi-404-error-body-only.json"
    planted.write_text(json.dumps(document))

    output, returncode = unrouted_run(
        dev_server,
        str(planted),
        "--url",
        dev_server.base_url,
        "--checks",
        "response_schema_conformance",
        "--max-failures",
        "1",
        log=tmp_path / "unrouted.jsonl",
    )

    assert returncode != 0, output[-5_000:]
    assert "Response violates schema" in output, output[-5_000:]
    assert '"statusCode" is a required property' in output, output[-5_000:]
