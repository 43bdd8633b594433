"""The alarms template.yaml defines on the functions' own EMF metrics, and the EMF the code prints:
the two sides the tests hold together so an alarm never watches a metric nobody emits."""

from __future__ import annotations

import json
import re
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
