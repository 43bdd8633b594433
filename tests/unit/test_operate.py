"""template.yaml's operate block (issue 11): alias and deployment preference on every function,
rollback alarms on each function's new version, alarms on the code's own metrics, dashboard."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from jobprep_local.template import functions, load_template
from tests.alarms import custom_metric_alarms, metric_names_in_code

TEMPLATE = load_template()
RESOURCES: dict[str, Any] = TEMPLATE["Resources"]
GLOBAL_ENV: dict[str, Any] = TEMPLATE["Globals"]["Function"]["Environment"]["Variables"]
API_FUNCTIONS = {logical_id for logical_id, spec in functions().items() if spec.routes}
ALARMS = {k: v["Properties"] for k, v in RESOURCES.items() if v["Type"] == "AWS::CloudWatch::Alarm"}


def short(logical_id: str) -> str:
    return logical_id.removesuffix("Function")


def dimensions(alarm: dict[str, Any]) -> dict[str, Any]:
    return {d["Name"]: d["Value"] for d in alarm["Dimensions"]}


def test_every_function_is_published_behind_an_alias_and_deployed_per_stage() -> None:
    fn = TEMPLATE["Globals"]["Function"]
    assert fn["AutoPublishAlias"] == "live"
    assert fn["DeploymentPreference"] == {"Type": {"Fn::If": ["IsProd", "Canary10Percent5Minutes", "AllAtOnce"]}}
    assert TEMPLATE["Conditions"]["IsProd"] == {"Fn::Equals": [{"Ref": "Stage"}, "prod"]}


# CloudFormation invokes the migrate function unqualified (the custom resource's ServiceToken):
# no alias, no canary, and its alarm watches the function name alone.
ALIASED = sorted(set(functions()) - {"MigrateFunction"})


def test_a_new_layer_publishes_new_function_versions() -> None:
    # The handlers are thin: most changes are to the layer alone. Without these two, SAM hashes only
    # the function's own code, and the alias would keep running the old layer (test_sam checks the effect).
    assert RESOURCES["SharedLayer"]["Properties"]["PublishLambdaVersion"] is True
    for logical_id in ALIASED:
        assert RESOURCES[logical_id]["Properties"]["AutoPublishAliasAllProperties"] is True, logical_id


@pytest.mark.parametrize("logical_id", ALIASED)
def test_rollback_alarms_watch_the_new_version_of_their_own_function(logical_id: str) -> None:
    listed = [ref["Ref"] for ref in RESOURCES[logical_id]["Properties"]["DeploymentPreference"]["Alarms"]]
    own = [f"{short(logical_id)}ErrorsAlarm"]
    if logical_id in API_FUNCTIONS:
        own.append(f"{short(logical_id)}DurationAlarm")
    assert listed == own + (["Api5xxAlarm"] if logical_id in API_FUNCTIONS else [])

    for name in own:
        alarm = ALARMS[name]
        assert alarm["Namespace"] == "AWS/Lambda"
        # by ExecutedVersion: during a canary, the new version's own numbers, not diluted by the old one's traffic
        assert dimensions(alarm) == {
            "FunctionName": {"Ref": logical_id},
            "Resource": {"Fn::Sub": f"${{{logical_id}}}:live"},
            "ExecutedVersion": {"Fn::GetAtt": [logical_id, "Version.Version"]},
        }
    errors = ALARMS[own[0]]
    assert (errors["MetricName"], errors["Statistic"], errors["Threshold"]) == ("Errors", "Sum", 0)
    if logical_id in API_FUNCTIONS:
        duration = ALARMS[own[1]]
        assert (duration["MetricName"], duration["ExtendedStatistic"]) == ("Duration", "p99")
        assert duration["Threshold"] == {"Ref": "FunctionP99DurationAlarmMs"}


def test_the_migrate_function_deploys_all_at_once_and_its_alarm_sees_the_unqualified_function() -> None:
    """The custom resource's ServiceToken is the function's plain ARN: invocations never go through
    an alias, so Lambda publishes their Errors under FunctionName alone (and ExecutedVersion
    $LATEST), never under Resource=<name>:live. An alarm with those dimensions can never fire."""
    migrate = RESOURCES["MigrateFunction"]["Properties"]
    assert RESOURCES["SchemaMigration"]["Properties"]["ServiceToken"] == {"Fn::GetAtt": ["MigrateFunction", "Arn"]}
    assert migrate["AutoPublishAlias"] == ""  # overrides the Globals alias: no version, no alias
    assert migrate["DeploymentPreference"] == {"Enabled": False}
    assert "AutoPublishAliasAllProperties" not in migrate
    alarm = ALARMS["MigrateErrorsAlarm"]
    assert (alarm["MetricName"], alarm["Statistic"], alarm["Threshold"]) == ("Errors", "Sum", 0)
    # what Lambda publishes for an unqualified invocation: the alarm's dimensions must be a subset
    name = {"FunctionName": {"Ref": "MigrateFunction"}}
    assert dimensions(alarm) in [name, {**name, "ExecutedVersion": "$LATEST"}]


def test_api_alarms_use_the_http_api_dimension() -> None:
    latency = ALARMS["ApiLatencyAlarm"]
    assert (latency["Namespace"], latency["MetricName"]) == ("AWS/ApiGateway", "Latency")
    assert dimensions(latency) == {"ApiId": {"Ref": "HttpApi"}}
    assert latency["ExtendedStatistic"] == "p99"
    # the 5xx rate: 5xx over Count (tests/unit/test_alarm_behaviour.py evaluates it)
    stats = [m["MetricStat"]["Metric"] for m in ALARMS["Api5xxAlarm"]["Metrics"] if "MetricStat" in m]
    assert sorted(m["MetricName"] for m in stats) == ["5xx", "Count"]
    for metric in stats:
        assert metric["Namespace"] == "AWS/ApiGateway"
        assert dimensions(metric) == {"ApiId": {"Ref": "HttpApi"}}


def test_throttles_alarms_sum_every_function() -> None:
    watched: list[str] = []
    throttles_alarms = [name for name in ALARMS if re.fullmatch(r"Throttles\d*Alarm", name)]
    assert len(throttles_alarms) >= 2
    for name in throttles_alarms:
        metrics = ALARMS[name]["Metrics"]
        stats = [m["MetricStat"] for m in metrics if "MetricStat" in m]
        assert len(stats) <= 10, "CloudWatch: at most 10 metrics in a metric math alarm"
        assert all(s["Metric"]["MetricName"] == "Throttles" for s in stats)
        watched += [s["Metric"]["Dimensions"][0]["Value"]["Ref"] for s in stats]
        [total] = [m for m in metrics if m.get("ReturnData", True)]
        assert total["Expression"] == "SUM(FILL(METRICS(), 0))"
    assert sorted(watched) == sorted(functions())


def test_alarms_on_the_codes_own_metrics_watch_what_it_emits() -> None:
    alarms = custom_metric_alarms()
    assert {a.metric for a in alarms} == {"OutboxEventsFailed", "OutboxOldestPendingAge", "DatabaseUnavailable"}
    emitted = metric_names_in_code()
    for alarm in alarms:
        assert alarm.metric in emitted, f"{alarm.logical_id}: nothing emits {alarm.metric}"
        assert alarm.namespace == GLOBAL_ENV["POWERTOOLS_METRICS_NAMESPACE"]
        assert alarm.dimensions == {"service": GLOBAL_ENV["POWERTOOLS_SERVICE_NAME"]}  # Powertools' only dimension
    # the relay runs only while something is pending (plus an hourly safety net): no data = nothing pending
    assert ALARMS["OutboxAgeAlarm"]["TreatMissingData"] == "notBreaching"
    assert ALARMS["OutboxAgeAlarm"]["Threshold"] == {"Ref": "OutboxAgeAlarmSeconds"}


def test_every_alarm_notifies_the_topic() -> None:
    for name, alarm in ALARMS.items():
        assert alarm["AlarmActions"] == [{"Ref": "AlarmTopic"}], name
    subscription = RESOURCES["AlarmEmailSubscription"]
    assert subscription["Condition"] == "HasAlarmEmail"
    assert subscription["Properties"]["Endpoint"] == {"Ref": "AlarmEmail"}


def test_snapstart_is_an_option_on_published_versions() -> None:
    assert TEMPLATE["Parameters"]["SnapStart"]["Default"] == "false"
    assert TEMPLATE["Globals"]["Function"]["SnapStart"] == {
        "Fn::If": ["SnapStartOn", {"ApplyOn": "PublishedVersions"}, {"Ref": "AWS::NoValue"}]
    }
    assert TEMPLATE["Conditions"]["SnapStartOn"] == {"Fn::Equals": [{"Ref": "SnapStart"}, "true"]}


def rendered_dashboard() -> dict[str, Any]:
    """The DashboardBody as CloudFormation would render it, with logical ids for resource names."""
    body: str = RESOURCES["Dashboard"]["Properties"]["DashboardBody"]["Fn::Sub"]
    parameters = TEMPLATE["Parameters"]

    def substitute(match: re.Match[str]) -> str:
        name = match.group(1)
        if name in parameters:
            assert parameters[name]["Type"] == "Number", name  # written unquoted in the JSON
            return str(parameters[name]["Default"])
        if name.endswith(".Arn"):
            assert name.removesuffix(".Arn") in ALARMS, name
            return name.removesuffix(".Arn")
        assert name in RESOURCES or name == "AWS::Region", name
        return name

    rendered: dict[str, Any] = json.loads(re.sub(r"\$\{([^}]+)\}", substitute, body))
    return rendered


def test_dashboard_covers_every_function_alarm_and_emitted_metric() -> None:
    widgets = rendered_dashboard()["widgets"]
    [alarm_widget] = [w for w in widgets if w["type"] == "alarm"]
    # every alarm but the optional revalidation one (a conditional resource cannot be in the body)
    unconditional = {name for name in ALARMS if "Condition" not in RESOURCES[name]}
    assert set(alarm_widget["properties"]["alarms"]) == unconditional

    rows = [row for w in widgets if w["type"] == "metric" for row in w["properties"]["metrics"]]
    per_lambda_metric: dict[str, set[str]] = {}
    for namespace, metric, dimension, value, _options in rows:
        if namespace == "AWS/Lambda":
            assert dimension == "FunctionName"
            per_lambda_metric.setdefault(metric, set()).add(value)
        elif namespace == "AWS/ApiGateway":
            assert (dimension, value) == ("ApiId", "HttpApi")
        else:
            assert namespace == GLOBAL_ENV["POWERTOOLS_METRICS_NAMESPACE"]
            assert (dimension, value) == ("service", GLOBAL_ENV["POWERTOOLS_SERVICE_NAME"])
            assert metric in metric_names_in_code(), metric
    for metric in ("Errors", "Throttles", "Duration"):
        assert per_lambda_metric[metric] == set(functions()), metric
    dashboard_metrics = {row[1] for row in rows}
    assert {a.metric for a in custom_metric_alarms()} <= dashboard_metrics
    assert {"5xx", "Latency"} <= dashboard_metrics
