"""The template passes `sam validate --lint` and `sam build` works here without Docker (a local
CPython 3.13 compiles the layer's bytecode; without one the build stops, and so is skipped here)."""

from __future__ import annotations

import functools
import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

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
    assert (layer / "jobprep" / "db" / "engine.py").is_file()
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


# --- what SAM generates for the rollout (issue 11), read from the SAM translator's own output ---

TRANSFORM = """
import json, sys
from samtranslator.translator.transform import transform
from samtranslator.yaml_helper import yaml_parse

class NoManagedPolicies:
    def load(self):
        return {}

template = yaml_parse(open(sys.argv[1]).read())
for resource in template["Resources"].values():  # as after `sam package`: artifacts in S3
    props = resource.get("Properties", {})
    if "CodeUri" in props:
        props["CodeUri"] = "s3://artifacts/functions"
    if "ContentUri" in props:
        props["ContentUri"] = sys.argv[2]
print(json.dumps(transform(template, {}, NoManagedPolicies())))
"""


@functools.cache
def transformed(layer_uri: str = "s3://artifacts/layer-1") -> dict[str, Any]:
    """template.yaml through the SAM translator that `sam` itself uses (in the SAM CLI's venv)."""
    python = SAM.parent / "python"
    env = {**os.environ, "AWS_DEFAULT_REGION": "us-east-1"}
    done = subprocess.run(
        [str(python), "-c", TRANSFORM, str(PROJECT_ROOT / "template.yaml"), layer_uri],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    result: dict[str, Any] = json.loads(done.stdout)
    return result


def of_type(resources: dict[str, Any], kind: str) -> dict[str, Any]:
    return {k: v for k, v in resources.items() if v["Type"] == kind}


def aliased() -> list[Any]:
    """Every function but MigrateFunction, which CloudFormation invokes unqualified (no alias)."""
    return [spec for spec in functions().values() if spec.logical_id != "MigrateFunction"]


def test_the_migrate_function_has_no_alias_version_or_deployment_group() -> None:
    resources = transformed()["Resources"]
    assert not [
        k for k in resources if k.startswith("MigrateFunction") and k not in ("MigrateFunction", "MigrateFunctionRole")
    ]
    assert not [
        k
        for k, v in of_type(resources, "AWS::Lambda::Version").items()
        if v["Properties"]["FunctionName"] == {"Ref": "MigrateFunction"}
    ]


def test_the_api_and_every_schedule_invoke_the_alias() -> None:
    resources = transformed()["Resources"]
    [api] = of_type(resources, "AWS::ApiGatewayV2::Api").values()
    paths = api["Properties"]["Body"]["paths"]
    for spec in aliased():
        alias = f"{spec.logical_id}Aliaslive"
        assert resources[alias]["Properties"]["Name"] == "live"
        for route in spec.routes:
            uri = paths[route.path][route.method.lower()]["x-amazon-apigateway-integration"]["uri"]["Fn::Sub"]
            assert f"/functions/${{{alias}}}/invocations" in uri, "the canary shifts only traffic sent to the alias"
        for schedule in spec.schedules:
            [target] = resources[f"{spec.logical_id}{schedule.name}"]["Properties"]["Targets"]
            assert target["Arn"] == {"Ref": alias}
    for name, permission in of_type(resources, "AWS::Lambda::Permission").items():
        assert permission["Properties"]["FunctionName"]["Ref"].endswith("Aliaslive"), f"{name}: rights on $LATEST"


def test_each_deployment_group_rolls_back_on_its_alarms() -> None:
    resources = transformed()["Resources"]
    for spec in aliased():
        group = resources[f"{spec.logical_id}DeploymentGroup"]["Properties"]
        alarms = [a["Name"]["Ref"] for a in group["AlarmConfiguration"]["Alarms"]]
        assert group["AlarmConfiguration"]["Enabled"] is True
        assert alarms
        assert all(a in resources for a in alarms)
        assert "DEPLOYMENT_STOP_ON_ALARM" in group["AutoRollbackConfiguration"]["Events"]
        canary, all_at_once = group["DeploymentConfigName"]["Fn::If"][1:]
        assert group["DeploymentConfigName"]["Fn::If"][0] == "IsProd"
        assert canary["Fn::Sub"][1] == {"ConfigName": "Canary10Percent5Minutes"}
        assert all_at_once["Fn::Sub"][1] == {"ConfigName": "AllAtOnce"}
        # the version the alias moves to is the one the ExecutedVersion alarms watch
        alias_version = resources[f"{spec.logical_id}Aliaslive"]["Properties"]["FunctionVersion"]
        errors = resources[alarms[0]]["Properties"]["Dimensions"]
        assert {"Name": "ExecutedVersion", "Value": alias_version} in errors


def test_a_layer_only_change_publishes_a_new_version_of_every_function() -> None:
    def versions(layer_uri: str) -> dict[str, str]:
        resources = transformed(layer_uri)["Resources"]
        return {
            v["Properties"]["FunctionName"]["Ref"]: k for k, v in of_type(resources, "AWS::Lambda::Version").items()
        }

    before, after = versions("s3://artifacts/layer-1"), versions("s3://artifacts/layer-2")
    assert set(before) == set(after) == {spec.logical_id for spec in aliased()}
    for logical_id in before:
        assert before[logical_id] != after[logical_id], f"{logical_id} would keep running the old layer"
