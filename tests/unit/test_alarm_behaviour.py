"""The template's alarms evaluated the way CloudWatch would (tests/alarms.py emulates metric math and
M-of-N evaluation) on runs of one-minute datapoints: what sets them off, and what must not."""

from __future__ import annotations

from typing import Any

import pytest

from jobprep_local.template import load_template
from tests.alarms import MetricData, Series, alarm_state

TEMPLATE = load_template()
RESOURCES: dict[str, Any] = TEMPLATE["Resources"]


def alarm(name: str) -> dict[str, Any]:
    props: dict[str, Any] = RESOURCES[name]["Properties"]
    return props


def threshold(name: str) -> float:
    value = alarm(name)["Threshold"]
    if isinstance(value, dict):
        return float(TEMPLATE["Parameters"][value["Ref"]]["Default"])
    return float(value)


def api_traffic(requests: Series, errors: Series) -> MetricData:
    def data(metric: dict[str, Any]) -> Series:
        assert metric["Namespace"] == "AWS/ApiGateway"
        assert metric["Dimensions"] == [{"Name": "ApiId", "Value": {"Ref": "HttpApi"}}]
        return {"Count": requests, "5xx": errors}[metric["MetricName"]]

    return data


def state(name: str, data: MetricData) -> str:
    return alarm_state(alarm(name), data, threshold(name))


QUIET: Series = [None, None, None, None, None]


@pytest.mark.parametrize(
    ("requests", "errors"),
    [
        pytest.param(
            [None, None, None, None, 1], [None, None, None, None, 1], id="the-one-request-of-a-quiet-hour-503"
        ),
        pytest.param([2, 3, 1, 2, 3], [0, 1, 0, 0, 1], id="a-503-now-and-then-at-low-traffic"),
        pytest.param([900, 1000, 1100, 950, 1000], [3, 4, 2, 5, 3], id="under-1%-at-high-traffic"),
        pytest.param([20, 30, 25, 20, 30], [0, 0, 0, 0, 30], id="one-bad-minute"),
        pytest.param(QUIET, QUIET, id="no-traffic"),
    ],
)
def test_the_api_5xx_alarm_ignores_an_occasional_503(requests: Series, errors: Series) -> None:
    """A 503 while the database resumes (or one bug hit once) must not roll back every function's
    deployment: the alarm that CodeDeploy watches stays OK."""
    assert state("Api5xxAlarm", api_traffic(requests, errors)) == "OK"


@pytest.mark.parametrize(
    ("requests", "errors"),
    [
        pytest.param([100, 100, 100, 100, 100], [0, 0, 0, 10, 12], id="10%-for-two-minutes"),
        pytest.param([10, 10, 10, 10, 10], [0, 0, 10, 10, 10], id="everything-fails-at-low-traffic"),
        pytest.param([1000, 1000, 1000, 1000, 1000], [0, 0, 80, 0, 90], id="8%-in-2-of-3-minutes"),
    ],
)
def test_the_api_5xx_alarm_goes_off_on_a_real_error_rate(requests: Series, errors: Series) -> None:
    assert state("Api5xxAlarm", api_traffic(requests, errors)) == "ALARM"


def test_the_api_5xx_alarm_rolls_deployments_back() -> None:
    for logical_id, resource in RESOURCES.items():
        if resource["Type"] == "AWS::Serverless::Function" and "Events" in resource["Properties"]:
            events = resource["Properties"]["Events"].values()
            if any(e["Type"] == "HttpApi" for e in events):
                assert {"Ref": "Api5xxAlarm"} in resource["Properties"]["DeploymentPreference"]["Alarms"], logical_id


def relay_age(points: Series) -> MetricData:
    def data(metric: dict[str, Any]) -> Series:
        assert (metric["Namespace"], metric["MetricName"]) == ("JobPrep", "OutboxOldestPendingAge")
        return points

    return data


def test_outbox_age_alarm_no_data_means_nothing_pending() -> None:
    """The relay reports only when it runs, and it runs only while something is pending: silence is
    the normal state, not a breach (docs/operate.md says so too)."""
    assert state("OutboxAgeAlarm", relay_age(QUIET)) == "OK"
    assert state("OutboxAgeAlarm", relay_age([None, 30, None, 45, None])) == "OK"
    assert state("OutboxAgeAlarm", relay_age([None, 700, 760, 820, None])) == "ALARM"


def test_the_throttles_alarms_see_one_throttle_of_any_function_they_sum() -> None:
    names = [n for n, r in RESOURCES.items() if r["Type"] == "AWS::CloudWatch::Alarm" and "Throttles" in n]
    assert len(names) >= 2
    for name in names:
        watched = [m["MetricStat"]["Metric"] for m in alarm(name)["Metrics"] if "MetricStat" in m]
        for throttled in watched:

            def data(metric: dict[str, Any], throttled: dict[str, Any] = throttled) -> Series:
                return [None, None, None, None, 1] if metric == throttled else QUIET

            assert state(name, data) == "ALARM", (name, throttled)
        assert state(name, lambda _metric: QUIET) == "OK"
