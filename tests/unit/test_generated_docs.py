"""The alarm table (docs/operate.md) and the idle cost (README.md, docs/deploy.md) are computed from
template.yaml by jobprep_local.docs; these fail while a committed copy differs (`make docs`)."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from jobprep_local import docs
from jobprep_local.template import PROJECT_ROOT, load_template


@pytest.mark.parametrize("name", docs.FILES)
def test_generated_sections_are_current(name: str) -> None:
    text = (PROJECT_ROOT / name).read_text()
    assert docs.sections(text), f"{name} has no generated section"
    assert docs.render(text) == text, f"{name} differs from template.yaml: run `make docs`"


def test_every_alarm_is_in_the_table() -> None:
    table = docs.alarm_table()
    alarms = [k for k, r in load_template()["Resources"].items() if r["Type"] == "AWS::CloudWatch::Alarm"]
    assert [line.split("`")[1] for line in table.splitlines()[2:]] == alarms


def test_a_template_change_shows_in_the_docs(monkeypatch: pytest.MonkeyPatch) -> None:
    """Planted: the OutboxAge alarm's missing data treated as breaching, and one endpoint more."""
    template = load_template()
    changed: dict[str, Any] = copy.deepcopy(template)
    changed["Resources"]["OutboxAgeAlarm"]["Properties"]["TreatMissingData"] = "breaching"
    changed["Resources"]["KmsEndpoint"] = copy.deepcopy(changed["Resources"]["SqsEndpoint"])
    changed["Resources"]["KmsEndpoint"]["Properties"]["ServiceName"] = {"Fn::Sub": "com.amazonaws.${AWS::Region}.kms"}
    monkeypatch.setattr(docs, "load_template", lambda: changed)
    for name in ("docs/operate.md", "docs/deploy.md", "README.md"):
        text = (PROJECT_ROOT / name).read_text()
        assert docs.render(text) != text, name


def per_hour(mode: str) -> dict[str, float]:
    return {item.what: item.per_hour for item in docs.idle_cost(mode)}


def test_idle_cost_follows_the_template() -> None:
    aurora, external = per_hour("aurora"), per_hour("external")
    # the proxy keeps the instance from pausing: its 8-ACU minimum plus a 0.5 ACU instance
    assert aurora["RDS Proxy"] == pytest.approx(8 * 0.015)
    assert aurora["Aurora Serverless v2"] == pytest.approx(0.5 * 0.12)
    assert aurora["Interface VPC endpoints"] == pytest.approx(3 * 2 * 0.01)  # events, sqs, secretsmanager
    assert "RDS Proxy" not in external
    assert "Interface VPC endpoints" not in external
    # external: the alarms and the dashboard cost more than anything else at rest (issue 17: ~$0.01/h)
    assert 0.005 < sum(external.values()) < 0.03  # grows with each function's alarms
    assert external["CloudWatch alarms"] + external["CloudWatch dashboard"] > sum(external.values()) / 2
    assert 0.2 < sum(aurora.values()) < 0.3


def test_idle_cost_sees_a_removed_resource() -> None:
    template = load_template()
    del template["Resources"]["DatabaseProxy"]
    items = {item.what: item.per_hour for item in docs.idle_cost("aurora", template)}
    assert "RDS Proxy" not in items
    assert items["Aurora Serverless v2"] == 0  # MinCapacity 0 and nothing keeps it awake: it pauses
