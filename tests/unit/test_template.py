"""template.yaml against DESIGN.md: routes, functions, policies, build wiring, sample events."""

import json
import re
import subprocess
import tomllib
from pathlib import Path
from typing import Any

import pytest

from jobprep_local.template import PROJECT_ROOT, functions, load_module, load_template

# Functions that publish invalidation events: every non-GET route, and the relay.
PUBLISHERS = {"RelayOutboxFunction"} | {
    spec.logical_id for spec in functions().values() if any(r.method != "GET" for r in spec.routes)
}


# Routes authenticated otherwise than by the JWT authorizer (a security allowlist: keep it short).
PUBLIC_ROUTES = {"POST /webhooks/clerk"}  # the identity provider's Svix signature


def test_one_function_per_route() -> None:
    keys = [r.route_key for spec in functions().values() for r in spec.routes]
    assert len(keys) == len(set(keys))
    assert all(len(spec.routes) <= 1 for spec in functions().values())
    assert len(keys) >= 9


@pytest.mark.parametrize("logical_id", sorted(k for k, v in functions().items() if v.routes))
def test_each_handler_serves_exactly_its_template_route(logical_id: str) -> None:
    """The resolver's route (from the handler's own OpenAPI) is the template's: one list of routes."""
    spec = functions()[logical_id]
    [route] = spec.routes
    paths = load_module(spec).app.get_openapi_schema().paths or {}
    served = {
        (m.upper(), p)
        for p, item in paths.items()
        for m in ("get", "post", "patch", "delete", "put")
        if getattr(item, m, None) is not None
    }
    assert served == {(route.method, route.path)}


def test_globals_and_layer() -> None:
    template = load_template()
    fn = template["Globals"]["Function"]
    assert fn["Runtime"] == "python3.13"
    assert fn["Architectures"] == ["arm64"]
    assert fn["Tracing"] == "Active"
    assert fn["Layers"] == [{"Ref": "SharedLayer"}]
    assert fn["Environment"]["Variables"]["EVENT_BUS_NAME"] == {"Ref": "InvalidationBus"}
    layer = template["Resources"]["SharedLayer"]
    assert layer["Metadata"]["BuildMethod"] == "makefile"
    assert template["Resources"]["InvalidationBus"]["Type"] == "AWS::Events::EventBus"


def test_http_api_uses_a_jwt_authorizer_from_parameters() -> None:
    api = load_template()["Resources"]["HttpApi"]["Properties"]
    jwt = api["Auth"]["Authorizers"][api["Auth"]["DefaultAuthorizer"]]["JwtConfiguration"]
    assert jwt == {"issuer": {"Ref": "JwtIssuer"}, "audience": {"Ref": "JwtAudience"}}


def test_only_the_webhook_route_skips_the_jwt_authorizer() -> None:
    public = {r.route_key for spec in functions().values() for r in spec.routes if not r.jwt}
    assert public == PUBLIC_ROUTES
    [event] = load_template()["Resources"]["ClerkWebhookFunction"]["Properties"]["Events"].values()
    assert event["Properties"]["Auth"] == {"Authorizer": "NONE"}


def test_webhook_secret_comes_from_secrets_manager_and_only_that_secret_is_readable() -> None:
    template = load_template()
    function = template["Resources"]["ClerkWebhookFunction"]["Properties"]
    assert function["Environment"]["Variables"] == {"CLERK_WEBHOOK_SECRET_ARN": {"Ref": "ClerkWebhookSecretArn"}}
    secret_policies = [
        p for p in function["Policies"] if isinstance(p, dict) and "AWSSecretsManagerGetSecretValuePolicy" in p
    ]
    assert secret_policies == [
        {"AWSSecretsManagerGetSecretValuePolicy": {"SecretArn": {"Ref": "ClerkWebhookSecretArn"}}}
    ]
    assert "Default" not in template["Parameters"]["ClerkWebhookSecretArn"]  # required at deploy
    others = [
        logical_id
        for logical_id, resource in template["Resources"].items()
        if logical_id != "ClerkWebhookFunction" and "ClerkWebhookSecretArn" in json.dumps(resource)
    ]
    assert others == []


def _policies(logical_id: str) -> list[Any]:
    policies: list[Any] = load_template()["Resources"][logical_id]["Properties"]["Policies"]
    return policies


@pytest.mark.parametrize("logical_id", sorted(functions()))
def test_put_events_only_for_mutations_and_only_on_the_bus(logical_id: str) -> None:
    put_events = [p for p in _policies(logical_id) if isinstance(p, dict) and "EventBridgePutEventsPolicy" in p]
    if logical_id in PUBLISHERS:
        assert put_events == [{"EventBridgePutEventsPolicy": {"EventBusName": {"Ref": "InvalidationBus"}}}]
    else:
        assert put_events == []
    # nothing broader than the policy templates and the conditional database policy
    for policy in _policies(logical_id):
        assert not isinstance(policy, str), f"managed policy {policy} on {logical_id}"


def test_relay_runs_every_minute() -> None:
    relay = functions()["RelayOutboxFunction"]
    assert [s.expression for s in relay.schedules] == ["rate(1 minute)"]


def test_every_function_has_a_makefile_target_and_a_sample_event() -> None:
    for spec in functions().values():
        directory = spec.handler.split("/")[0]
        assert spec.source_file.is_file(), spec.source_file
        assert (PROJECT_ROOT / "events" / f"{directory}.json").is_file(), directory
        dry_run = subprocess.run(
            ["make", "-n", "-C", str(spec.code_uri), f"build-{spec.logical_id}", "ARTIFACTS_DIR=/x"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        assert f"{directory}/*.py" in dry_run


@pytest.mark.parametrize("event_file", sorted((PROJECT_ROOT / "events").glob("*.json")), ids=lambda p: p.name)
def test_sample_api_events_match_their_route(event_file: Path) -> None:
    event = json.loads(event_file.read_text())
    if "routeKey" not in event:
        return
    spec = next(s for s in functions().values() if s.handler.startswith(f"{event_file.stem}/"))
    route = spec.routes[0]
    assert event["routeKey"] == route.route_key
    assert route.match(event["requestContext"]["http"]["method"], event["rawPath"]) == event.get("pathParameters", {})


def _name(requirement: str) -> str:
    return re.split(r"[\[<>=~!; ]", requirement, maxsplit=1)[0].lower().replace("_", "-")


def test_layer_requirements_match_the_package_dependencies() -> None:
    project = tomllib.loads((PROJECT_ROOT / "pyproject.toml").read_text())["project"]
    declared = {_name(r) for r in project["dependencies"]} - {"boto3"}  # the Lambda runtime provides boto3
    layer = {
        _name(line)
        for line in (PROJECT_ROOT / "shared" / "requirements.txt").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    }
    assert layer == declared
