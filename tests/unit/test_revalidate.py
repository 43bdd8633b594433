"""template.yaml's revalidation webhook (rule -> API destination -> the web app) and the request
the dev server derives from it (jobprep_local.webhook)."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any
from uuid import uuid4

import boto3
import pytest

from jobprep_local.template import load_template
from jobprep_local.webhook import (
    API_DESTINATION_HEADERS,
    minified,
    request_headers,
    retried_by_eventbridge,
    revalidate_target,
)

REVALIDATE_RESOURCES = {
    "RevalidateApiKeySecret": "AWS::SecretsManager::Secret",
    "RevalidateConnection": "AWS::Events::Connection",
    "RevalidateApiDestination": "AWS::Events::ApiDestination",
    "RevalidateInvokeRole": "AWS::IAM::Role",
    "RevalidateDeadLetterQueue": "AWS::SQS::Queue",
    "RevalidateDeadLetterQueuePolicy": "AWS::SQS::QueuePolicy",
    "RevalidateRule": "AWS::Events::Rule",
    "RevalidateDeadLetterAlarm": "AWS::CloudWatch::Alarm",
}
BODY_KEYS = ["eventId", "detailType", "tags"]


def get_att(logical_id: str, attribute: str) -> dict[str, Any]:
    return {"Fn::GetAtt": [logical_id, attribute]}


@pytest.fixture(scope="module")
def template() -> dict[str, Any]:
    return load_template()


@pytest.fixture(scope="module")
def resources(template: dict[str, Any]) -> dict[str, Any]:
    found: dict[str, Any] = template["Resources"]
    return found


def props(resources: dict[str, Any], logical_id: str) -> dict[str, Any]:
    properties: dict[str, Any] = resources[logical_id]["Properties"]
    return properties


def target(resources: dict[str, Any]) -> dict[str, Any]:
    (only,) = props(resources, "RevalidateRule")["Targets"]
    found: dict[str, Any] = only
    return found


def test_everything_hangs_on_the_revalidate_url(template: dict[str, Any], resources: dict[str, Any]) -> None:
    parameter = template["Parameters"]["RevalidateUrl"]
    assert parameter["Default"] == ""
    pattern = re.compile(parameter["AllowedPattern"])
    assert pattern.fullmatch("")
    assert pattern.fullmatch("https://app.example.com/api/revalidate")
    assert not pattern.fullmatch("http://app.example.com/api/revalidate")  # API destinations need HTTPS
    assert template["Conditions"]["RevalidateEnabled"] == {"Fn::Not": [{"Fn::Equals": [{"Ref": "RevalidateUrl"}, ""]}]}
    created = {logical_id: r["Type"] for logical_id, r in resources.items() if logical_id.startswith("Revalidate")}
    assert created == REVALIDATE_RESOURCES
    assert {r.get("Condition") for logical_id, r in resources.items() if logical_id in created} == {"RevalidateEnabled"}
    outputs = {k: v for k, v in template["Outputs"].items() if k.startswith("Revalidate")}
    assert outputs
    assert {o.get("Condition") for o in outputs.values()} == {"RevalidateEnabled"}
    # nothing outside the block refers to it, so an empty URL leaves a valid stack (a reference from
    # outside, e.g. a dashboard, must sit behind the same condition: adapt this check then)
    outside = json.dumps({k: v for k, v in resources.items() if k not in created})
    assert "Revalidate" not in outside


def test_the_rule_sends_every_job_prep_event_on_the_bus_to_the_api_destination(resources: dict[str, Any]) -> None:
    rule = props(resources, "RevalidateRule")
    assert rule["EventBusName"] == {"Ref": "InvalidationBus"}
    assert rule["EventPattern"] == {"source": [{"prefix": "job-prep."}]}
    assert rule["State"] == "ENABLED"
    sent = target(resources)
    assert sent["Arn"] == get_att("RevalidateApiDestination", "Arn")
    assert sent["RoleArn"] == get_att("RevalidateInvokeRole", "Arn")
    destination = props(resources, "RevalidateApiDestination")
    assert destination["ConnectionArn"] == get_att("RevalidateConnection", "Arn")
    assert destination["InvocationEndpoint"] == {"Ref": "RevalidateUrl"}
    assert destination["HttpMethod"] == "POST"
    assert destination["InvocationRateLimitPerSecond"] == {"Ref": "RevalidateRateLimitPerSecond"}


def test_the_invoke_role_may_only_invoke_that_destination(resources: dict[str, Any]) -> None:
    role = props(resources, "RevalidateInvokeRole")
    (trust,) = role["AssumeRolePolicyDocument"]["Statement"]
    assert trust["Principal"] == {"Service": "events.amazonaws.com"}
    assert trust["Condition"] == {"StringEquals": {"aws:SourceAccount": {"Ref": "AWS::AccountId"}}}
    (policy,) = role["Policies"]
    (statement,) = policy["PolicyDocument"]["Statement"]
    assert statement == {
        "Effect": "Allow",
        "Action": "events:InvokeApiDestination",
        "Resource": get_att("RevalidateApiDestination", "Arn"),
    }


def test_the_api_key_is_a_generated_secret_never_a_literal(resources: dict[str, Any]) -> None:
    generated = props(resources, "RevalidateApiKeySecret")["GenerateSecretString"]
    assert generated["PasswordLength"] >= 32
    assert generated["ExcludePunctuation"] is True  # header-safe
    auth = props(resources, "RevalidateConnection")
    assert auth["AuthorizationType"] == "API_KEY"
    key = auth["AuthParameters"]["ApiKeyAuthParameters"]
    assert key["ApiKeyName"] == "x-revalidate-key"
    assert key["ApiKeyValue"] == {"Fn::Sub": "{{resolve:secretsmanager:${RevalidateApiKeySecret}:SecretString}}"}


def test_retries_then_an_encrypted_dead_letter_queue_only_the_rule_can_write(resources: dict[str, Any]) -> None:
    sent = target(resources)
    # EventBridge's limits: 0-185 attempts, 60-86400 s
    assert 0 < sent["RetryPolicy"]["MaximumRetryAttempts"] <= 185
    assert 60 <= sent["RetryPolicy"]["MaximumEventAgeInSeconds"] <= 86400
    assert sent["DeadLetterConfig"] == {"Arn": get_att("RevalidateDeadLetterQueue", "Arn")}
    queue = props(resources, "RevalidateDeadLetterQueue")
    assert queue["SqsManagedSseEnabled"] is True
    assert queue["MessageRetentionPeriod"] == 14 * 24 * 3600
    policy = props(resources, "RevalidateDeadLetterQueuePolicy")
    assert policy["Queues"] == [{"Ref": "RevalidateDeadLetterQueue"}]
    (statement,) = policy["PolicyDocument"]["Statement"]
    assert statement["Principal"] == {"Service": "events.amazonaws.com"}
    assert statement["Action"] == "sqs:SendMessage"
    assert statement["Resource"] == get_att("RevalidateDeadLetterQueue", "Arn")
    assert statement["Condition"] == {"ArnEquals": {"aws:SourceArn": get_att("RevalidateRule", "Arn")}}


def test_any_dead_letter_raises_the_alarm(resources: dict[str, Any]) -> None:
    alarm = props(resources, "RevalidateDeadLetterAlarm")
    assert (alarm["Namespace"], alarm["MetricName"]) == ("AWS/SQS", "ApproximateNumberOfMessagesVisible")
    assert alarm["Dimensions"] == [{"Name": "QueueName", "Value": get_att("RevalidateDeadLetterQueue", "QueueName")}]
    assert (alarm["ComparisonOperator"], alarm["Threshold"]) == ("GreaterThanThreshold", 0)
    assert alarm["TreatMissingData"] == "notBreaching"


# --- the body: the template's input transformer applied to real-shaped events -------------------------

SAMPLE_EVENTS = [
    ("job-prep.job-infos", "JobInfoCreated", ["global:jobInfos", "user:user_2abc:jobInfos", "id:1:jobInfos"]),
    ("job-prep.interviews", "InterviewUpdated", ["global:interviews", "jobInfo:1:interviews", "id:2:interviews"]),
    ("job-prep.users", "UserDataDeleted", []),
    ("job-prep.users", "UserUpserted", ["global:users", "id:user_2abc:users"]),
]


def documented_transform(transformer: dict[str, Any], event: dict[str, Any]) -> Any:
    """The EventBridge user guide's rules for a JSON input template: a quoted placeholder takes the
    value's text verbatim, an unquoted one the value as JSON. Paths here are plain dot paths."""
    values: dict[str, Any] = {}
    for name, path in transformer["InputPathsMap"].items():
        value: Any = event
        for key in path.removeprefix("$.").split("."):
            value = value[key]
        values[name] = value
    text = re.sub(r'"<([\w.-]+)>"', lambda m: '"' + str(values[m[1]]) + '"', transformer["InputTemplate"])
    text = re.sub(r"<([\w.-]+)>", lambda m: json.dumps(values[m[1]]), text)
    return json.loads(text)


@pytest.mark.parametrize(("source", "detail_type", "tags"), SAMPLE_EVENTS)
def test_the_documented_transformer_rules_give_exactly_the_body(
    resources: dict[str, Any], source: str, detail_type: str, tags: list[str]
) -> None:
    event_id = str(uuid4())
    event = {
        "version": "0",
        "id": str(uuid4()),
        "detail-type": detail_type,
        "source": source,
        "account": "123456789012",
        "time": "2026-01-01T00:00:00Z",
        "region": "us-east-1",
        "resources": [],
        "detail": {"eventId": event_id, "occurredAt": "2026-01-01T00:00:00+00:00", "id": "1", "tags": tags},
    }
    body = documented_transform(target(resources)["InputTransformer"], event)
    assert body == {"eventId": event_id, "detailType": detail_type, "tags": tags}
    assert list(body) == BODY_KEYS


@pytest.fixture
def local_rule() -> Iterator[tuple[Any, Any, str]]:
    """The template's rule on a moto bus, its target a queue: what the dev server runs."""
    from moto import mock_aws

    with mock_aws():
        events, sqs = boto3.client("events", region_name="us-east-1"), boto3.client("sqs", region_name="us-east-1")
        events.create_event_bus(Name="bus")
        queue_url = sqs.create_queue(QueueName="webhook")["QueueUrl"]
        arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        spec = revalidate_target()
        events.put_rule(Name="revalidate", EventBusName="bus", EventPattern=json.dumps(spec.event_pattern))
        events.put_targets(
            Rule="revalidate",
            EventBusName="bus",
            Targets=[{"Id": "webhook", "Arn": arn, "InputTransformer": spec.input_transformer}],
        )
        yield events, sqs, queue_url


def test_the_dev_servers_transformer_gives_exactly_the_body_and_filters_other_sources(
    local_rule: tuple[Any, Any, str],
) -> None:
    events, sqs, queue_url = local_rule
    sent = []
    for source, detail_type, tags in [*SAMPLE_EVENTS, ("someone-else", "JobInfoCreated", ["x"])]:
        detail = {"eventId": str(uuid4()), "occurredAt": "2026-01-01T00:00:00+00:00", "id": "1", "tags": tags}
        entry = {"EventBusName": "bus", "Source": source, "DetailType": detail_type, "Detail": json.dumps(detail)}
        assert events.put_events(Entries=[entry])["FailedEntryCount"] == 0
        sent.append({"eventId": detail["eventId"], "detailType": detail_type, "tags": tags})
    messages = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10)["Messages"]
    bodies = [minified(m["Body"]) for m in messages]
    assert [json.loads(b) for b in bodies] == sent[:-1]  # not the event from another source
    for body in bodies:
        assert list(json.loads(body)) == BODY_KEYS
        assert b" " not in body  # minified, as EventBridge sends it


def test_the_dev_request_uses_the_templates_method_header_name_and_eventbridges_headers() -> None:
    spec = revalidate_target()
    assert spec.http_method == "POST"
    assert spec.api_key_header == "x-revalidate-key"
    headers = request_headers(spec, "dev-key")
    assert headers == {
        "User-Agent": "Amazon/EventBridge/ApiDestinations",
        "Content-Type": "application/json; charset=utf-8",
        "Range": "bytes=0-1048575",
        "Accept-Encoding": "gzip,deflate",
        "Connection": "close",
        "x-revalidate-key": "dev-key",
    }
    assert API_DESTINATION_HEADERS.items() <= headers.items()


def test_minified_keeps_utf8() -> None:
    assert minified('{"tags": ["user:zoë:jobInfos"]}') == '{"tags":["user:zoë:jobInfos"]}'.encode()


@pytest.mark.parametrize(
    ("status", "retried"),
    [(200, False), (204, False), (400, False), (401, False), (429, True), (500, True), (503, True)],
)
def test_which_answers_eventbridge_retries(status: int, retried: bool) -> None:
    assert retried_by_eventbridge(status) is retried
