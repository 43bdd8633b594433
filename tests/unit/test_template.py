"""template.yaml against DESIGN.md: routes, functions, policies, build wiring, sample events."""

import json
import re
import subprocess
import tomllib
from pathlib import Path
from typing import Any

import pytest

from jobprep_local.template import PROJECT_ROOT, functions, load_template

DESIGN_ROUTES = {
    "POST /job-infos": "CreateJobInfoFunction",
    "GET /job-infos": "ListJobInfosFunction",
    "GET /job-infos/{jobInfoId}": "GetJobInfoFunction",
    "PATCH /job-infos/{jobInfoId}": "UpdateJobInfoFunction",
    "DELETE /job-infos/{jobInfoId}": "DeleteJobInfoFunction",
    "POST /job-infos/{jobInfoId}/interviews": "CreateInterviewFunction",
    "GET /job-infos/{jobInfoId}/interviews": "ListInterviewsFunction",
    "GET /interviews/{interviewId}": "GetInterviewFunction",
    "PATCH /interviews/{interviewId}": "UpdateInterviewFunction",
}
MUTATIONS = {
    "CreateJobInfoFunction",
    "UpdateJobInfoFunction",
    "DeleteJobInfoFunction",
    "CreateInterviewFunction",
    "UpdateInterviewFunction",
    "RelayOutboxFunction",
}


def test_one_function_per_route() -> None:
    routes = {r.route_key: spec.logical_id for spec in functions().values() for r in spec.routes}
    assert routes == DESIGN_ROUTES


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


def _policies(logical_id: str) -> list[Any]:
    policies: list[Any] = load_template()["Resources"][logical_id]["Properties"]["Policies"]
    return policies


@pytest.mark.parametrize("logical_id", sorted(functions()))
def test_put_events_only_for_mutations_and_only_on_the_bus(logical_id: str) -> None:
    put_events = [p for p in _policies(logical_id) if isinstance(p, dict) and "EventBridgePutEventsPolicy" in p]
    if logical_id in MUTATIONS:
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


def test_routes_declared_without_an_authorizer_skip_the_jwt_check(tmp_path: Path) -> None:
    # SAM's per-route opt-out (e.g. a webhook signed by its sender): the dev gateway must honour it.
    template = load_template()
    public = {
        "Type": "AWS::Serverless::Function",
        "Properties": {
            "CodeUri": "functions/",
            "Handler": "webhook/app.lambda_handler",
            "Events": {
                "Api": {
                    "Type": "HttpApi",
                    "Properties": {
                        "ApiId": {"Ref": "HttpApi"},
                        "Method": "POST",
                        "Path": "/webhooks/clerk",
                        "Auth": {"Authorizer": "NONE"},
                    },
                }
            },
        },
    }
    template["Resources"]["WebhookFunction"] = public
    path = tmp_path / "template.yaml"
    path.write_text(json.dumps(template))  # JSON is YAML
    specs = functions(path)
    [webhook] = specs["WebhookFunction"].routes
    assert not webhook.needs_jwt
    assert all(route.needs_jwt for spec in specs.values() for route in spec.routes if route is not webhook)


def test_cors_is_read_from_the_http_api_with_parameter_defaults() -> None:
    from jobprep_local.template import http_api_cors

    cors = http_api_cors()
    assert cors is not None
    config = load_template()["Resources"]["HttpApi"]["Properties"]["CorsConfiguration"]
    assert cors.allow_origins == ("http://localhost:3000",)  # the CorsAllowOrigins default
    assert list(cors.allow_methods) == config["AllowMethods"]
    assert list(cors.allow_headers) == config["AllowHeaders"]
    assert list(cors.expose_headers) == config["ExposeHeaders"]
    assert cors.max_age == config["MaxAge"]
    assert "if-none-match" in cors.allow_headers  # GETs answer it with 304
