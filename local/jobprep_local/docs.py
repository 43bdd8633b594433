"""Doc sections computed from template.yaml, so the prose cannot drift from it: the alarm table in
docs/operate.md and the idle cost in README.md and docs/deploy.md, each between markers.

`make docs` (python -m jobprep_local.docs) rewrites them; tests/unit/test_generated_docs.py fails
while a committed copy differs.
"""

from __future__ import annotations

import argparse
import re
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from jobprep_local.template import PROJECT_ROOT, load_template

MODES = ("aurora", "external")

# us-east-1 list prices (USD), checked 2026-12; free tiers ignored. A month is 730 hours.
HOURS_PER_MONTH = 730
ALARM_METRIC_PER_MONTH = 0.10  # standard resolution, per metric an alarm evaluates (metric math: each)
DASHBOARD_PER_MONTH = 3.00  # the first 3 of an account are free
INTERFACE_ENDPOINT_PER_AZ_HOUR = 0.01  # gateway endpoints (S3) are free
PROXY_PER_ACU_HOUR = 0.015  # RDS Proxy on Aurora Serverless v2, billed for at least 8 ACUs
PROXY_MINIMUM_ACUS = 8
AURORA_PER_ACU_HOUR = 0.12  # Aurora Serverless v2, I/O standard
AURORA_LOWEST_RUNNING_ACUS = 0.5  # an instance that does not pause runs at least this
SECRET_PER_MONTH = 0.40
SQS_PER_REQUEST = 0.40 / 1_000_000
SQS_POLLERS, SQS_LONG_POLL_SECONDS = 5, 20  # Lambda's idle pollers on an SQS trigger


# --- conditions, per DatabaseMode, with every other parameter at its default ------------------


def _value(node: Any, parameters: dict[str, Any]) -> Any:
    if isinstance(node, dict) and "Ref" in node:
        return str(parameters[node["Ref"]])
    return node


def _holds(node: Any, conditions: dict[str, Any], parameters: dict[str, Any]) -> bool:
    if "Condition" in node:
        return _holds(conditions[node["Condition"]], conditions, parameters)
    if "Fn::Equals" in node:
        left, right = (_value(v, parameters) for v in node["Fn::Equals"])
        return bool(str(left) == str(right))
    if "Fn::Not" in node:
        return not _holds(node["Fn::Not"][0], conditions, parameters)
    if "Fn::And" in node:
        return all(_holds(c, conditions, parameters) for c in node["Fn::And"])
    if "Fn::Or" in node:
        return any(_holds(c, conditions, parameters) for c in node["Fn::Or"])
    raise ValueError(f"condition not understood: {node}")


def resources_in(template: dict[str, Any], mode: str) -> dict[str, Any]:
    """The resources CloudFormation creates for `mode` with default parameters."""
    parameters = {name: p.get("Default", "") for name, p in template["Parameters"].items()}
    parameters["DatabaseMode"] = mode
    conditions = template.get("Conditions", {})
    return {
        logical_id: resource
        for logical_id, resource in template["Resources"].items()
        if "Condition" not in resource or _holds({"Condition": resource["Condition"]}, conditions, parameters)
    }


# --- idle cost ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Item:
    what: str
    detail: str
    per_hour: float


def _alarm_metrics(alarm: dict[str, Any]) -> int:
    props = alarm["Properties"]
    return sum(1 for m in props["Metrics"] if "MetricStat" in m) if "Metrics" in props else 1


def idle_cost(mode: str, template: dict[str, Any] | None = None) -> list[Item]:
    """What an hour with no traffic costs in `mode`: what bills by the hour or month, not per request."""
    template = template or load_template()
    resources = resources_in(template, mode)

    def of_type(kind: str) -> dict[str, Any]:
        return {k: r for k, r in resources.items() if r["Type"] == kind}

    items: list[Item] = []

    alarms = of_type("AWS::CloudWatch::Alarm")
    metrics = sum(_alarm_metrics(a) for a in alarms.values())
    items.append(
        Item(
            "CloudWatch alarms",
            f"{len(alarms)} alarms, {metrics} metrics",
            metrics * ALARM_METRIC_PER_MONTH / HOURS_PER_MONTH,
        )
    )
    dashboards = of_type("AWS::CloudWatch::Dashboard")
    if dashboards:
        items.append(
            Item("CloudWatch dashboard", f"{len(dashboards)}", len(dashboards) * DASHBOARD_PER_MONTH / HOURS_PER_MONTH)
        )

    interface = [
        r for r in of_type("AWS::EC2::VPCEndpoint").values() if r["Properties"]["VpcEndpointType"] == "Interface"
    ]
    if interface:
        azs = sum(len(r["Properties"]["SubnetIds"]) for r in interface)
        names = ", ".join(r["Properties"]["ServiceName"]["Fn::Sub"].rsplit(".", 1)[1] for r in interface)
        items.append(
            Item("Interface VPC endpoints", f"{names}: {azs} endpoint-AZs", azs * INTERFACE_ENDPOINT_PER_AZ_HOUR)
        )

    proxies = of_type("AWS::RDS::DBProxy")
    if proxies:
        items.append(
            Item(
                "RDS Proxy", f"{PROXY_MINIMUM_ACUS}-ACU minimum", len(proxies) * PROXY_MINIMUM_ACUS * PROXY_PER_ACU_HOUR
            )
        )
    for cluster in of_type("AWS::RDS::DBCluster").values():
        scaling = cluster["Properties"]["ServerlessV2ScalingConfiguration"]
        minimum = float(template["Parameters"][scaling["MinCapacity"]["Ref"]]["Default"])
        instances = [
            r for r in of_type("AWS::RDS::DBInstance").values() if r["Properties"]["DBInstanceClass"] == "db.serverless"
        ]
        # AWS lists RDS Proxy among what keeps a Serverless v2 instance from auto-pausing
        floor = max(minimum, AURORA_LOWEST_RUNNING_ACUS) if proxies or minimum > 0 else 0.0
        detail = f"{floor:g} ACU x {len(instances)} instance" + (
            " (the proxy keeps it from pausing)" if proxies else ""
        )
        items.append(Item("Aurora Serverless v2", detail, floor * len(instances) * AURORA_PER_ACU_HOUR))

    secrets = len(of_type("AWS::SecretsManager::Secret"))
    secrets += sum(
        1 for c in of_type("AWS::RDS::DBCluster").values() if c["Properties"].get("ManageMasterUserPassword")
    )
    yours = [name for name in ("DatabaseUrlSecretName", "DatabaseDirectUrlSecretName") if mode == "external"]
    detail = f"{secrets} in the stack" + (f", {len(yours)} you create ({', '.join(yours)})" if yours else "")
    items.append(Item("Secrets Manager", detail, (secrets + len(yours)) * SECRET_PER_MONTH / HOURS_PER_MONTH))

    triggers = sum(
        1
        for r in of_type("AWS::Serverless::Function").values()
        for event in (r["Properties"].get("Events") or {}).values()
        if event["Type"] == "SQS"
    )
    if triggers:
        polls = triggers * SQS_POLLERS * 3600 / SQS_LONG_POLL_SECONDS
        items.append(Item("SQS trigger polling", f"{polls:.0f} empty receives", polls * SQS_PER_REQUEST))
    return items


def _usd(value: float) -> str:
    return f"${value:.4f}" if value < 0.01 else f"${value:.3f}"


def cost_table() -> str:
    lines = [
        "| mode | item | detail | per hour |",
        "|---|---|---|---|",
    ]
    totals = []
    for mode in MODES:
        items = idle_cost(mode)
        lines += [f"| {mode} | {i.what} | {i.detail} | {_usd(i.per_hour)} |" for i in items]
        total = sum(i.per_hour for i in items)
        totals.append(f"| {mode} | **idle hour** | ≈ ${total * HOURS_PER_MONTH:.0f} a month | **{_usd(total)}** |")
    return "\n".join([*lines, *totals])


def cost_summary() -> str:
    parts = [f"`{mode}` {_usd(sum(i.per_hour for i in idle_cost(mode)))}" for mode in MODES]
    return f"An idle hour costs about {' and '.join(parts)} (us-east-1 list prices, computed from `template.yaml`)."


# --- alarm table ---------------------------------------------------------------------------------

COMPARISONS = {
    "GreaterThanThreshold": ">",
    "GreaterThanOrEqualToThreshold": ">=",
    "LessThanThreshold": "<",
    "LessThanOrEqualToThreshold": "<=",
}


def _name(value: Any) -> str:
    if isinstance(value, dict) and "Ref" in value:
        return str(value["Ref"]).removesuffix("Function")
    if isinstance(value, dict) and "Fn::Sub" in value:
        return re.sub(r"\$\{(\w+?)(Function)?\}", r"\1", value["Fn::Sub"])
    if isinstance(value, dict) and "Fn::GetAtt" in value:
        return "new version" if value["Fn::GetAtt"][1] == "Version.Version" else ".".join(value["Fn::GetAtt"])
    return str(value)


def _metric(metric: dict[str, Any], stat: str) -> str:
    dimensions = ", ".join(f"{d['Name']}={_name(d['Value'])}" for d in metric.get("Dimensions", []))
    return f"`{metric['Namespace']} {metric['MetricName']}` {stat}" + (f" ({dimensions})" if dimensions else "")


def _watches(props: dict[str, Any]) -> str:
    if "Metrics" not in props:
        stat = props.get("Statistic") or props["ExtendedStatistic"]
        return _metric(props, stat)
    stats = [m for m in props["Metrics"] if "MetricStat" in m]
    [returned] = [m for m in props["Metrics"] if m.get("ReturnData", True)]
    groups: dict[tuple[str, str, str], list[str]] = {}
    for m in stats:
        metric = m["MetricStat"]["Metric"]
        key = (metric["Namespace"], metric["MetricName"], m["MetricStat"]["Stat"])
        functions = [_name(d["Value"]) for d in metric.get("Dimensions", []) if d["Name"] == "FunctionName"]
        groups.setdefault(key, []).append(functions[0] if functions else m["Id"])
    parts = [f"`{ns} {name}` {stat} of {', '.join(ids)}" for (ns, name, stat), ids in groups.items()]
    return f"`{returned['Expression']}`; " + "; ".join(parts)


def _threshold(props: dict[str, Any], parameters: dict[str, Any]) -> str:
    value = props["Threshold"]
    if isinstance(value, dict):
        value = f"`{value['Ref']}` ({parameters[value['Ref']]['Default']})"
    periods = props["EvaluationPeriods"]
    needed = props.get("DatapointsToAlarm", periods)
    window = f"{needed} of {periods} periods" if periods > 1 else "1 period"
    period = props.get("Period") or props["Metrics"][-1]["MetricStat"]["Period"]
    return f"{COMPARISONS[props['ComparisonOperator']]} {value}, {window} of {period} s"


def _actions(logical_id: str, resource: dict[str, Any], resources: dict[str, Any]) -> str:
    props = resource["Properties"]
    notify = sorted({_name(a) for key in ("AlarmActions", "OKActions") for a in props.get(key, [])})
    which = [k for k in ("AlarmActions", "OKActions") if props.get(k)]
    parts = (
        [f"{', '.join(notify)} ({' and '.join(w.removesuffix('Actions').replace('Alarm', 'ALARM') for w in which)})"]
        if notify
        else ["none"]
    )
    rolls_back = [
        f.removesuffix("Function")
        for f, r in resources.items()
        if r["Type"] == "AWS::Serverless::Function"
        and {"Ref": logical_id} in (r["Properties"].get("DeploymentPreference") or {}).get("Alarms", [])
    ]
    if len(rolls_back) > 1:
        parts.append(f"rolls back {len(rolls_back)} functions")
    elif rolls_back:
        parts.append(f"rolls back {rolls_back[0]}")
    return "; ".join(parts)


def alarm_table() -> str:
    template = load_template()
    resources = template["Resources"]
    lines = [
        "| alarm | watches | goes off when | missing data | actions |",
        "|---|---|---|---|---|",
    ]
    for logical_id, resource in resources.items():
        if resource["Type"] != "AWS::CloudWatch::Alarm":
            continue
        props = resource["Properties"]
        name = f"`{logical_id}`" + (f" (if `{resource['Condition']}`)" if "Condition" in resource else "")
        lines.append(
            f"| {name} | {_watches(props)} | {_threshold(props, template['Parameters'])} "
            f"| {props.get('TreatMissingData', 'missing')} | {_actions(logical_id, resource, resources)} |"
        )
    return "\n".join(lines)


# --- the marked sections ---------------------------------------------------------------------------

SECTIONS = {
    "alarms": alarm_table,
    "idle-cost": cost_table,
    "idle-cost-summary": cost_summary,
}
FILES = ("README.md", "docs/deploy.md", "docs/operate.md")
_MARKED = re.compile(
    r"(<!-- generated: (?P<name>[\w-]+) \(make docs\) -->\n)(?P<body>.*?)(<!-- end generated -->)", re.DOTALL
)


def render(text: str) -> str:
    return _MARKED.sub(lambda m: m.group(1) + SECTIONS[m.group("name")]() + "\n" + m.group(4), text)


def sections(text: str) -> list[str]:
    return [m.group("name") for m in _MARKED.finditer(text)]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--check", action="store_true", help="fail if a committed section differs")
    args = parser.parse_args(argv)
    stale = []
    for name in FILES:
        path: Path = PROJECT_ROOT / name
        text = path.read_text()
        fresh = render(text)
        if fresh != text:
            stale.append(name)
            if not args.check:
                path.write_text(fresh)
    if args.check and stale:
        print(f"stale generated sections in {', '.join(stale)}: run `make docs`", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
