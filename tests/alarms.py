"""The alarms template.yaml defines on the functions' own EMF metrics, and the EMF the code prints:
the two sides the tests hold together so an alarm never watches a metric nobody emits."""

from __future__ import annotations

import ast
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from jobprep_local.template import PROJECT_ROOT, load_template

# add_metric(name="X", ...) anywhere in the package or the handlers
_ADD_METRIC = re.compile(r"add_metric\(\s*name=\"(\w+)\"")


@dataclass(frozen=True)
class EmfAlarm:
    logical_id: str
    namespace: str
    metric: str
    dimensions: dict[str, str]


def custom_metric_alarms() -> list[EmfAlarm]:
    """Alarms on metrics that are not AWS's own (AWS/...): the ones the code must emit."""
    alarms = []
    for logical_id, resource in load_template()["Resources"].items():
        props = resource.get("Properties", {})
        if resource["Type"] != "AWS::CloudWatch::Alarm" or props.get("Namespace", "AWS/").startswith("AWS/"):
            continue
        dimensions = {d["Name"]: d["Value"] for d in props.get("Dimensions", [])}
        alarms.append(EmfAlarm(logical_id, props["Namespace"], props["MetricName"], dimensions))
    return alarms


def metric_names_in_code() -> set[str]:
    sources = [*(PROJECT_ROOT / "shared" / "jobprep").rglob("*.py"), *(PROJECT_ROOT / "functions").rglob("*.py")]
    return {name for path in sources for name in _ADD_METRIC.findall(path.read_text())}


@dataclass(frozen=True)
class EmfRecord:
    namespace: str
    dimensions: dict[str, str]
    values: dict[str, list[float]]


def emf_records(stdout: str) -> list[EmfRecord]:
    """The CloudWatch embedded-metric-format blobs Powertools printed."""
    records = []
    for line in stdout.splitlines():
        if not line.startswith("{"):
            continue
        blob: dict[str, Any] = json.loads(line)
        for directive in blob.get("_aws", {}).get("CloudWatchMetrics", []):
            [dimension_set] = directive["Dimensions"]
            values = {}
            for metric in directive["Metrics"]:
                value = blob[metric["Name"]]
                values[metric["Name"]] = [float(v) for v in value] if isinstance(value, list) else [float(value)]
            records.append(EmfRecord(directive["Namespace"], {d: str(blob[d]) for d in dimension_set}, values))
    return records


# --- CloudWatch alarm evaluation, emulated -------------------------------------------------
# What CloudWatch does with an alarm's definition and a run of one-minute datapoints: the metric
# (or metric-math expression) per period, then "M of N" over the last EvaluationPeriods with
# TreatMissingData. Enough metric math for this template: FILL, IF, SUM, METRICS(), + - * /,
# comparisons; a missing datapoint is None and propagates through arithmetic.

Series = list[float | None]
MetricData = Callable[[dict[str, Any]], Series]  # a MetricStat's Metric -> its datapoints


def _lift(fn: Callable[..., float | None]) -> Callable[..., Any]:
    def apply(*args: Any) -> Any:
        lists = [a for a in args if isinstance(a, list)]
        if lists:
            return [apply(*(a[i] if isinstance(a, list) else a for a in args)) for i in range(len(lists[0]))]
        return fn(*args)

    return apply


def _arith(op: Callable[[float, float], float]) -> Callable[..., Any]:
    def run(a: float | None, b: float | None) -> float | None:
        if a is None or b is None:
            return None
        try:
            return op(a, b)
        except ZeroDivisionError:
            return None  # CloudWatch drops the datapoint

    return _lift(run)


_OPERATORS: dict[type, Callable[..., Any]] = {
    ast.Add: _arith(lambda a, b: a + b),
    ast.Sub: _arith(lambda a, b: a - b),
    ast.Mult: _arith(lambda a, b: a * b),
    ast.Div: _arith(lambda a, b: a / b),
    ast.GtE: _arith(lambda a, b: float(a >= b)),
    ast.Gt: _arith(lambda a, b: float(a > b)),
    ast.LtE: _arith(lambda a, b: float(a <= b)),
    ast.Lt: _arith(lambda a, b: float(a < b)),
}


def _fill(values: Any, filler: float) -> Any:
    if isinstance(values, list) and values and isinstance(values[0], list):
        return [_fill(v, filler) for v in values]  # FILL over METRICS(): each series
    return _lift(lambda v: filler if v is None else v)(values)


def _if(condition: float | None, yes: float | None, no: float | None) -> float | None:
    return None if condition is None else (yes if condition else no)


def _sum(series: list[Series]) -> Series:
    points = zip(*series, strict=True)
    return [None if all(v is None for v in p) else sum(v for v in p if v is not None) for p in points]


def _evaluate(node: ast.AST, values: dict[str, Series]) -> Any:
    if isinstance(node, ast.Expression):
        return _evaluate(node.body, values)
    if isinstance(node, ast.Constant) and isinstance(node.value, int | float):
        return float(node.value)
    if isinstance(node, ast.Name):
        return values[node.id]
    if isinstance(node, ast.BinOp):
        return _OPERATORS[type(node.op)](_evaluate(node.left, values), _evaluate(node.right, values))
    if isinstance(node, ast.Compare) and len(node.ops) == 1:
        left, right = _evaluate(node.left, values), _evaluate(node.comparators[0], values)
        return _OPERATORS[type(node.ops[0])](left, right)
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
        args = [_evaluate(a, values) for a in node.args]
        match node.func.id:
            case "FILL":
                return _fill(args[0], args[1])
            case "IF":
                return _lift(_if)(*args)
            case "SUM":
                return _sum(args[0])
            case "METRICS":
                return list(values.values())
    raise ValueError(f"metric math not emulated: {ast.dump(node)}")


def alarm_series(alarm: dict[str, Any], data: MetricData) -> Series:
    """The datapoints the alarm compares with its threshold."""
    if "Metrics" not in alarm:
        return data({k: alarm[k] for k in ("Namespace", "MetricName", "Dimensions") if k in alarm})
    values = {m["Id"]: data(m["MetricStat"]["Metric"]) for m in alarm["Metrics"] if "MetricStat" in m}
    [returned] = [m for m in alarm["Metrics"] if m.get("ReturnData", True)]
    if "MetricStat" in returned:
        return values[returned["Id"]]
    # CloudWatch's function names and operators are Python's too (IF/FILL/SUM are calls)
    tree = ast.parse(returned["Expression"], mode="eval")
    result: Series = _evaluate(tree, values)
    return result


def alarm_state(alarm: dict[str, Any], data: MetricData, threshold: float) -> str:
    """OK, ALARM or INSUFFICIENT_DATA after the last datapoint (threshold resolved by the caller)."""
    periods = int(alarm["EvaluationPeriods"])
    needed = int(alarm.get("DatapointsToAlarm", periods))
    window = alarm_series(alarm, data)[-periods:]
    operators: dict[str, Callable[[float], bool]] = {
        "GreaterThanThreshold": lambda v: v > threshold,
        "GreaterThanOrEqualToThreshold": lambda v: v >= threshold,
        "LessThanThreshold": lambda v: v < threshold,
    }
    compare = operators[alarm["ComparisonOperator"]]
    missing = alarm.get("TreatMissingData", "missing")
    if all(v is None for v in window) and missing in ("missing", "ignore"):
        return "INSUFFICIENT_DATA"
    breaching = sum(1 for v in window if (v is None and missing == "breaching") or (v is not None and compare(v)))
    return "ALARM" if breaching >= needed else "OK"
