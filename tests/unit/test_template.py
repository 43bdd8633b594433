"""template.yaml against DESIGN.md: routes, functions, build wiring, sample events. What the functions'
roles allow, what they reach and the deploy order are checked by behaviour on the SAM-translated
template (tests/integration/test_aws_behaviour.py, test_deploy_order.py)."""

import json
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest

from jobprep_local.template import PROJECT_ROOT, functions, load_module, load_template

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
    public = {r.route_key for spec in functions().values() for r in spec.routes if not r.needs_jwt}
    assert public == PUBLIC_ROUTES
    [event] = load_template()["Resources"]["ClerkWebhookFunction"]["Properties"]["Events"].values()
    assert event["Properties"]["Auth"] == {"Authorizer": "NONE"}


def test_relay_runs_on_request_with_a_slow_safety_net_and_a_dead_letter_queue() -> None:
    resources = load_template()["Resources"]
    relay = resources["RelayOutboxFunction"]["Properties"]
    assert [s.expression for s in functions()["RelayOutboxFunction"].schedules] == ["rate(1 hour)"]
    wakeup = relay["Events"]["Wakeup"]
    assert wakeup["Type"] == "SQS"
    assert wakeup["Properties"]["Queue"] == {"Fn::GetAtt": ["RelayWakeupQueue", "Arn"]}
    assert wakeup["Properties"]["ScalingConfig"]["MaximumConcurrency"] == 2
    on_failure = relay["EventInvokeConfig"]["DestinationConfig"]["OnFailure"]
    assert on_failure == {"Type": "SQS", "Destination": {"Fn::GetAtt": ["RelayDeadLetterQueue", "Arn"]}}
    redrive = resources["RelayWakeupQueue"]["Properties"]["RedrivePolicy"]
    assert redrive["deadLetterTargetArn"] == {"Fn::GetAtt": ["RelayDeadLetterQueue", "Arn"]}
    for queue in ("RelayWakeupQueue", "RelayDeadLetterQueue"):
        assert resources[queue]["Properties"]["SqsManagedSseEnabled"] is True


def test_keep_warm_is_off_by_default() -> None:
    assert load_template()["Parameters"]["KeepWarmState"]["Default"] == "DISABLED"
    assert all(
        not s.enabled_by_default for spec in functions().values() for s in spec.schedules if s.name == "KeepWarm"
    )


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


# --- deploy from zero -----------------------------------------------------------------------


def test_schema_revision_is_the_alembic_head() -> None:
    """Adding a migration fails this test until template.yaml names it, and naming it is what
    makes CloudFormation run the SchemaMigration custom resource on the next deploy."""
    from jobprep.migrations import head_revision

    migration = load_template()["Resources"]["SchemaMigration"]
    assert migration["Properties"]["SchemaRevision"] == head_revision()
    assert migration["Properties"]["ServiceToken"] == {"Fn::GetAtt": ["MigrateFunction", "Arn"]}


@pytest.mark.parametrize("logical_id", sorted(k for k, v in functions().items() if v.routes))
def test_api_functions_take_the_reserved_concurrency_parameter(logical_id: str) -> None:
    props = load_template()["Resources"][logical_id]["Properties"]
    assert props["ReservedConcurrentExecutions"] == {
        "Fn::If": ["ReservesApiConcurrency", {"Ref": "ApiReservedConcurrency"}, {"Ref": "AWS::NoValue"}]
    }
    assert load_template()["Parameters"]["ApiReservedConcurrency"]["Default"] == 0  # 10-concurrency accounts


def _resolve(node: Any, mode: str, values: dict[str, str]) -> Any:
    """Evaluate the template's !If / !Ref / !GetAtt for one DatabaseMode, as CloudFormation would."""
    if isinstance(node, dict):
        if "Fn::If" in node:
            condition, when_true, when_false = node["Fn::If"]
            is_true = {"IsAurora": mode == "aurora", "IsExternal": mode == "external"}[condition]
            return _resolve(when_true if is_true else when_false, mode, values)
        if "Ref" in node:
            return values.get(node["Ref"], f"<{node['Ref']}>")
        if "Fn::GetAtt" in node:
            return values.get(".".join(node["Fn::GetAtt"]), "<getatt>")
        return {k: _resolve(v, mode, values) for k, v in node.items()}
    if isinstance(node, list):
        return [_resolve(v, mode, values) for v in node]
    return node


@pytest.mark.parametrize("mode", ["aurora", "external"])
def test_function_environment_is_valid_in_both_database_modes(mode: str) -> None:
    from jobprep.config import Settings

    template = load_template()
    defaults = {name: str(p.get("Default", "")) for name, p in template["Parameters"].items()}
    values = {**defaults, "DatabaseMode": mode, "DatabaseProxy.Endpoint": "job-prep-dev.proxy-abc.rds.amazonaws.com"}
    if mode == "external":
        values["DatabaseUrlSecretName"] = "jobprep/dev/database-url"
        values["DatabaseDirectUrlSecretName"] = "jobprep/dev/database-direct-url"
    env = _resolve(template["Globals"]["Function"]["Environment"]["Variables"], mode, values)
    settings = Settings.model_validate(env)
    for spec in functions().values():  # with each function's own variables merged in, as SAM does
        Settings.model_validate(_resolve(spec.environment, mode, values))
    if mode == "aurora":
        assert (settings.db_host, settings.db_iam_auth, settings.database_url_secret) == (
            "job-prep-dev.proxy-abc.rds.amazonaws.com",
            True,
            None,
        )
    else:
        assert (settings.db_host, settings.db_iam_auth, settings.database_url_secret) == (
            None,
            False,
            "jobprep/dev/database-url",
        )
    vpc = _resolve(template["Globals"]["Function"]["VpcConfig"], mode, values)
    assert (vpc != "<AWS::NoValue>") == (mode == "aurora")


def test_aurora_resources_exist_only_in_aurora_mode() -> None:
    resources = load_template()["Resources"]
    aurora_only = {
        "AWS::EC2::VPC",
        "AWS::EC2::Subnet",
        "AWS::EC2::SecurityGroup",
        "AWS::EC2::VPCEndpoint",
        "AWS::RDS::DBCluster",
        "AWS::RDS::DBInstance",
        "AWS::RDS::DBProxy",
        "AWS::RDS::DBProxyTargetGroup",
    }
    found = {r["Type"] for r in resources.values() if r.get("Condition") == "IsAurora"}
    assert aurora_only <= found
    assert all(r.get("Condition") == "IsAurora" for r in resources.values() if r["Type"] in aurora_only)
    subnets = [r for r in resources.values() if r["Type"] == "AWS::EC2::Subnet"]
    assert [s["Properties"]["AvailabilityZone"]["Fn::Select"][0] for s in subnets] == [0, 1]  # two AZs
    assert not [r for r in resources.values() if r["Type"] in ("AWS::EC2::NatGateway", "AWS::EC2::InternetGateway")]


def test_database_scales_to_zero_behind_a_tls_iam_proxy() -> None:
    template = load_template()
    resources = template["Resources"]
    cluster = resources["DatabaseCluster"]["Properties"]
    scaling = cluster["ServerlessV2ScalingConfiguration"]
    assert scaling["MinCapacity"] == {"Ref": "AuroraMinCapacity"}
    assert template["Parameters"]["AuroraMinCapacity"]["Default"] == 0
    assert scaling["SecondsUntilAutoPause"] == {"Ref": "AuroraSecondsUntilAutoPause"}
    assert cluster["ManageMasterUserPassword"] is True  # generated and rotated by RDS
    assert cluster["StorageEncrypted"] is True
    assert resources["DatabaseCluster"]["DeletionPolicy"] == "Snapshot"
    proxy = resources["DatabaseProxy"]["Properties"]
    assert proxy["RequireTLS"] is True
    [auth] = proxy["Auth"]
    assert auth["IAMAuth"] == "REQUIRED"
    assert auth["SecretArn"] == {"Fn::GetAtt": ["DatabaseCluster", "MasterUserSecret.SecretArn"]}
    statement = resources["DatabaseAccessPolicy"]["Properties"]["PolicyDocument"]["Statement"][0]["Fn::If"]
    assert statement[1]["Action"] == "rds-db:connect"
    assert "dbuser:${ProxyId}/${DatabaseUser}" in statement[1]["Resource"]["Fn::Sub"][0]
    assert statement[2]["Action"] == "secretsmanager:GetSecretValue"


def test_security_groups_chain_functions_to_proxy_to_cluster() -> None:
    resources = load_template()["Resources"]
    ingress = {
        (
            r["Properties"]["GroupId"]["Ref"],
            r["Properties"]["SourceSecurityGroupId"]["Ref"],
            r["Properties"]["FromPort"],
        )
        for r in resources.values()
        if r["Type"] == "AWS::EC2::SecurityGroupIngress"
    }
    assert ingress == {
        ("ProxySecurityGroup", "FunctionSecurityGroup", 5432),
        ("DatabaseSecurityGroup", "ProxySecurityGroup", 5432),
        ("EndpointSecurityGroup", "ProxySecurityGroup", 443),
    }
    endpoint_in = resources["EndpointSecurityGroup"]["Properties"]["SecurityGroupIngress"]
    assert [(r["SourceSecurityGroupId"]["Ref"], r["FromPort"]) for r in endpoint_in] == [("FunctionSecurityGroup", 443)]
    for group in ("ProxySecurityGroup", "DatabaseSecurityGroup", "EndpointSecurityGroup"):
        # an explicit placeholder replaces the default allow-all egress
        assert resources[group]["Properties"]["SecurityGroupEgress"][0]["CidrIp"] == "127.0.0.1/32"


def test_rules_reject_an_incomplete_database_configuration() -> None:
    rules = load_template()["Rules"]
    external = rules["ExternalDatabaseNeedsItsUrlSecret"]
    assert external["RuleCondition"] == {"Fn::Equals": [{"Ref": "DatabaseMode"}, "external"]}
    assert external["Assertions"][0]["Assert"] == {"Fn::Not": [{"Fn::Equals": [{"Ref": "DatabaseUrlSecretName"}, ""]}]}
    direct = rules["ExternalDatabaseNeedsItsDirectUrlSecret"]
    assert direct["RuleCondition"] == external["RuleCondition"]
    assert direct["Assertions"][0]["Assert"] == {
        "Fn::Not": [{"Fn::Equals": [{"Ref": "DatabaseDirectUrlSecretName"}, ""]}]
    }
    aurora = rules["AuroraDatabaseTakesNoUrlSecret"]
    assert [a["Assert"] for a in aurora["Assertions"]] == [
        {"Fn::Equals": [{"Ref": "DatabaseUrlSecretName"}, ""]},
        {"Fn::Equals": [{"Ref": "DatabaseDirectUrlSecretName"}, ""]},
    ]
    assert "JwtAudienceIsSet" in rules


def _checkov_skips(node: Any) -> list[dict[str, Any]]:
    return [
        skip for resource in node.values() for skip in resource.get("Metadata", {}).get("checkov", {}).get("skip", [])
    ]


def test_every_checkov_suppression_says_why() -> None:
    skips = _checkov_skips(load_template()["Resources"])
    assert skips
    for skip in skips:
        assert re.fullmatch(r"CKV2?_AWS_\d+", skip["id"]), skip
        assert len(skip.get("comment", "")) > 20, skip


def test_the_migration_waits_for_every_network_path_in_aurora_mode() -> None:
    """DependsOn can't name resources that exist in one mode only, so SchemaMigration refers to
    them; every function depends on SchemaMigration, so nothing runs before the network is up."""
    resources = load_template()["Resources"]
    network = resources["SchemaMigration"]["Properties"]["Network"]["Fn::If"]
    assert network[0] == "IsAurora"
    referenced = {ref["Ref"] for ref in network[1]}
    needed = {
        logical_id
        for logical_id, r in resources.items()
        if r["Type"]
        in (
            "AWS::EC2::SecurityGroupIngress",
            "AWS::EC2::SecurityGroupEgress",
            "AWS::EC2::SubnetRouteTableAssociation",
            "AWS::EC2::VPCEndpoint",
        )
    }
    assert referenced == needed


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
    routes = [r for spec in specs.values() for r in spec.routes]
    assert all(r.needs_jwt for r in routes if r is not webhook and r.route_key not in PUBLIC_ROUTES)


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


# --- aurora mode: the RDS Proxy's path to its secret (issue 17) --------------------------------
# The functions' own calls are judged by behaviour, each call against the SAM-translated template's
# endpoints and security groups (tests/integration/test_aws_behaviour.py); the proxy is AWS's code,
# so its one call (the master secret) is checked here on the template.


def _egress(resources: dict[str, Any], group: str) -> list[dict[str, Any]]:
    inline = resources[group]["Properties"].get("SecurityGroupEgress", [])
    separate = [
        r["Properties"]
        for r in resources.values()
        if r["Type"] == "AWS::EC2::SecurityGroupEgress" and r["Properties"]["GroupId"] == {"Ref": group}
    ]
    return [*inline, *separate]


def _ingress(resources: dict[str, Any], group: str) -> list[dict[str, Any]]:
    inline = resources[group]["Properties"].get("SecurityGroupIngress", [])
    separate = [
        r["Properties"]
        for r in resources.values()
        if r["Type"] == "AWS::EC2::SecurityGroupIngress" and r["Properties"]["GroupId"] == {"Ref": group}
    ]
    return [*inline, *separate]


def _covers_443(rule: dict[str, Any]) -> bool:
    return rule["IpProtocol"] in ("tcp", "-1") and rule.get("FromPort", 0) <= 443 <= rule.get("ToPort", 65535)


def _reaches(resources: dict[str, Any], group: str, service: str) -> bool:
    """Whether a client in `group` can open HTTPS to `service` in the VPC: there is no NAT or
    internet gateway, so only through an interface endpoint whose group lets it in (or, for S3,
    the gateway endpoint on the route table)."""
    for endpoint in resources.values():
        if endpoint["Type"] != "AWS::EC2::VPCEndpoint":
            continue
        props = endpoint["Properties"]
        if props["ServiceName"]["Fn::Sub"].rsplit(".", 1)[1] != service:
            continue
        if props["VpcEndpointType"] == "Gateway":
            return True
        for endpoint_group in (ref["Ref"] for ref in props["SecurityGroupIds"]):
            out = any(
                _covers_443(r)
                and (r.get("CidrIp") == "0.0.0.0/0" or r.get("DestinationSecurityGroupId") == {"Ref": endpoint_group})
                for r in _egress(resources, group)
            )
            into = any(
                _covers_443(r) and r.get("SourceSecurityGroupId") == {"Ref": group}
                for r in _ingress(resources, endpoint_group)
            )
            if out and into:
                return True
    return False


def _proxy_caller(template: dict[str, Any]) -> tuple[str, set[str]]:
    """The RDS Proxy calls AWS from inside the VPC: (its security group, the services its role calls)."""
    resources = template["Resources"]
    proxy = resources["DatabaseProxy"]["Properties"]
    [proxy_group] = [ref["Ref"] for ref in proxy["VpcSecurityGroupIds"]]
    proxy_role = resources[proxy["RoleArn"]["Fn::GetAtt"][0]]["Properties"]
    actions = [
        a for p in proxy_role["Policies"] for st in p["PolicyDocument"]["Statement"] for a in _listed(st["Action"])
    ]
    return proxy_group, {a.split(":", 1)[0] for a in actions}


def _listed(actions: Any) -> list[str]:
    return [actions] if isinstance(actions, str) else list(actions)


def test_the_rds_proxy_has_a_path_to_its_secret() -> None:
    """aurora: no NAT, so the proxy reads the cluster's master secret through the secretsmanager
    endpoint, which its security group must reach on 443 (else the first deploy never finishes)."""
    template = load_template()
    group, services = _proxy_caller(template)
    assert services == {"secretsmanager"}
    assert _reaches(template["Resources"], group, "secretsmanager")


@pytest.mark.parametrize("planted", ["SecretsManagerEndpoint", "ProxyToEndpointsEgress", "EndpointsFromProxyIngress"])
def test_the_path_check_catches_a_removed_endpoint_or_rule(planted: str) -> None:
    template = load_template()
    del template["Resources"][planted]
    group, _ = _proxy_caller(template)
    assert not _reaches(template["Resources"], group, "secretsmanager")


def test_the_proxy_target_group_waits_for_the_path_to_its_secret() -> None:
    depends = load_template()["Resources"]["DatabaseProxyTargetGroup"]["DependsOn"]
    assert {"SecretsManagerEndpoint", "ProxyToEndpointsEgress", "EndpointsFromProxyIngress"} <= set(depends)


# --- deploy order (issue 17): tests/integration/test_deploy_order.py checks the translated graph ------


def test_custom_resources_invoke_the_unqualified_function() -> None:
    """CloudFormation calls the function itself, not an alias: an alias (and its canary alarms) on
    a custom resource's function would watch a version nobody calls."""
    resources = load_template()["Resources"]
    custom = {
        k: r
        for k, r in resources.items()
        if r["Type"].startswith("Custom::") or r["Type"] == "AWS::CloudFormation::CustomResource"
    }
    assert custom
    for resource in custom.values():
        function = resource["Properties"]["ServiceToken"]["Fn::GetAtt"][0]
        assert resources[function]["Properties"]["AutoPublishAlias"] == "", function


# --- external mode: the migrations use the direct URL; resuming databases (issue 17) ---------


def _function_env(logical_id: str, mode: str) -> dict[str, Any]:
    template = load_template()
    values = {name: str(p.get("Default", "")) for name, p in template["Parameters"].items()}
    values |= {"DatabaseMode": mode, "DatabaseUrlSecretName": "db-pooled", "DatabaseDirectUrlSecretName": "db-direct"}
    resolved: dict[str, Any] = _resolve(functions()[logical_id].environment, mode, values)
    return resolved


def test_in_external_mode_only_the_migrate_function_reads_the_direct_url() -> None:
    resources = load_template()["Resources"]
    for logical_id in functions():
        secret = _function_env(logical_id, "external")["DATABASE_URL_SECRET"]
        assert secret == ("db-direct" if logical_id == "MigrateFunction" else "db-pooled"), logical_id
        assert _function_env(logical_id, "aurora")["DATABASE_URL_SECRET"] == ""
    # and its role reads that secret alone (the shared policy grants the pooled one)
    assert resources["MigrateFunction"]["Properties"]["Policies"] == [
        {"Fn::If": ["IsAurora", {"Ref": "DatabaseAccessPolicy"}, {"Ref": "MigrationDatabaseAccessPolicy"}]}
    ]
    direct = resources["MigrationDatabaseAccessPolicy"]
    assert direct["Condition"] == "IsExternal"
    [statement] = direct["Properties"]["PolicyDocument"]["Statement"]
    assert statement["Action"] == "secretsmanager:GetSecretValue"
    assert statement["Resource"]["Fn::Sub"].endswith(":secret:${DatabaseDirectUrlSecretName}-??????")


@pytest.mark.parametrize("mode", ["aurora", "external"])
def test_connect_timeouts_fit_a_resume_where_waiting_is_right_and_the_lambda_timeout_everywhere(mode: str) -> None:
    """The migration and the relay wait out a resuming database (up to ~15 s): 30 s and one more
    attempt, inside their Lambda timeout. The API does not wait: it answers 503 + Retry-After
    well before its Lambda timeout would turn the request into API Gateway's bare 500."""
    from jobprep.config import Settings
    from jobprep.db.engine import CONNECT_RETRY_PAUSE_SECONDS

    for logical_id, spec in functions().items():
        settings = Settings.model_validate(_function_env(logical_id, mode))
        attempts = settings.db_connect_retries + 1
        worst = attempts * settings.db_connect_timeout + settings.db_connect_retries * CONNECT_RETRY_PAUSE_SECONDS
        if logical_id in ("MigrateFunction", "RelayOutboxFunction"):
            assert settings.db_connect_timeout >= 30, logical_id
            assert settings.db_connect_retries >= 1, logical_id
            assert worst + 10 <= spec.timeout, logical_id  # and time left for the work itself
        else:
            assert worst <= spec.timeout / 2, logical_id
    relay = functions()["RelayOutboxFunction"]
    visibility = load_template()["Resources"]["RelayWakeupQueue"]["Properties"]["VisibilityTimeout"]
    assert visibility >= 6 * relay.timeout  # Lambda's advice for SQS triggers
