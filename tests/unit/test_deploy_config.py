"""samconfig.toml, the Makefile's deploy target and the CI workflow agree with the template."""

import subprocess
import tomllib
from typing import Any

import pytest
import yaml

from jobprep_local.template import PROJECT_ROOT, load_template

WORKFLOW = PROJECT_ROOT / ".github" / "workflows" / "ci.yml"
SAMCONFIG = tomllib.loads((PROJECT_ROOT / "samconfig.toml").read_text())


def workflow() -> dict[Any, Any]:
    loaded: dict[Any, Any] = yaml.safe_load(WORKFLOW.read_text())
    return loaded


def overrides(env: str) -> dict[str, str]:
    pairs = SAMCONFIG[env]["deploy"]["parameters"]["parameter_overrides"]
    return dict(pair.split("=", 1) for pair in pairs)


@pytest.mark.parametrize("env", ["dev", "prod"])
def test_each_environment_sets_every_required_parameter_and_nothing_unknown(env: str) -> None:
    parameters = load_template()["Parameters"]
    given = overrides(env)
    assert set(given) <= set(parameters)
    assert {name for name, p in parameters.items() if "Default" not in p} <= set(given)
    assert given["Stage"] == env
    deploy = SAMCONFIG[env]["deploy"]["parameters"]
    assert deploy["stack_name"] == f"job-prep-{env}"
    assert "CAPABILITY_IAM" in deploy["capabilities"]
    assert deploy["confirm_changeset"] is False  # CI has no terminal; prod approval is GitHub's
    if given.get("DatabaseMode", "aurora") == "external":
        assert given.get("DatabaseUrlSecretName")
        assert given.get("DatabaseDirectUrlSecretName")


def test_prod_keeps_its_database() -> None:
    assert overrides("prod")["DatabaseDeletionProtection"] == "true"


@pytest.mark.parametrize("env", ["dev", "prod"])
def test_make_deploy_builds_then_deploys_the_environment(env: str) -> None:
    dry_run = subprocess.run(
        ["make", "-n", "-C", str(PROJECT_ROOT), "deploy", f"ENV={env}"], capture_output=True, text=True, check=True
    ).stdout
    lines = [line for line in dry_run.splitlines() if "/sam " in line]
    assert lines[-2].endswith("sam build")
    assert lines[-1].endswith(f"sam deploy --config-env {env}")


def test_ci_tests_every_push_and_pull_request() -> None:
    doc = workflow()
    triggers = doc[True]  # YAML 1.1 reads the key `on` as a boolean
    assert {"push", "pull_request"} <= set(triggers)
    assert triggers["push"] is None  # every branch
    steps = doc["jobs"]["test"]["steps"]
    assert any(step.get("run") == "make test" for step in steps)


@pytest.mark.parametrize(("job", "env"), [("deploy-dev", "dev"), ("deploy-prod", "prod")])
def test_deploys_use_oidc_and_the_role_variable(job: str, env: str) -> None:
    spec = workflow()["jobs"][job]
    assert spec["environment"] == env
    assert spec["permissions"]["id-token"] == "write"
    assert "refs/heads/main" in spec["if"]
    [credentials] = [
        s for s in spec["steps"] if str(s.get("uses", "")).startswith("aws-actions/configure-aws-credentials@")
    ]
    assert credentials["with"]["role-to-assume"] == "${{ vars.AWS_DEPLOY_ROLE_ARN }}"
    assert not any("aws-access-key-id" in s.get("with", {}) for s in spec["steps"])  # no long-lived keys
    assert spec["steps"][-1]["run"] == f"make deploy ENV={env}"


def test_prod_waits_for_dev_and_for_approval() -> None:
    jobs = workflow()["jobs"]
    assert jobs["deploy-dev"]["needs"] == "test"
    assert jobs["deploy-prod"]["needs"] == "deploy-dev"
    assert jobs["deploy-prod"]["environment"] == "prod"  # its required reviewers are the manual gate


def test_workflow_pins_major_versions_of_actions() -> None:
    uses = [s["uses"] for job in workflow()["jobs"].values() for s in job["steps"] if "uses" in s]
    assert uses
    assert all("@v" in u for u in uses)


def test_placeholder_issuer_is_rejected_by_a_template_rule() -> None:
    rule = load_template()["Rules"]["JwtIssuerIsSet"]["Assertions"][0]["Assert"]
    placeholders = rule["Fn::Not"][0]["Fn::Contains"][0]
    assert {overrides(env)["JwtIssuer"] for env in ("dev", "prod")} <= set(placeholders)
