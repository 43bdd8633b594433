"""The template as CloudFormation gets it (SAM-translated, per DatabaseMode) and the planted mistakes
the behaviour checks must catch, translated once per session in one run of the SAM translator."""

from __future__ import annotations

from functools import cache

import pytest

from jobprep_local.cfn import MODES, Plant, Stack, TranslatorMissing, planted_stacks
from jobprep_local.template import load_template

PUT_EVENTS = {"EventBridgePutEventsPolicy": {"EventBusName": {"Ref": "InvalidationBus"}}}


def endpoint_for(service: str) -> str | None:
    """The template's VPC endpoint resource for a service, if it has one."""
    for logical_id, resource in load_template()["Resources"].items():
        name = resource.get("Properties", {}).get("ServiceName", {})
        if resource["Type"] == "AWS::EC2::VPCEndpoint" and str(name.get("Fn::Sub", "")).endswith(f".{service}"):
            return str(logical_id)
    return None


def plants() -> dict[str, Plant]:
    found: dict[str, Plant] = {
        # IAM: a statement the function needs, removed; one it never uses, added
        "CreateJobInfo without PutEvents": Plant(
            "external", delete=(("Resources", "CreateJobInfoFunction", "Properties", "Policies", PUT_EVENTS),)
        ),
        "GetJobInfo with PutEvents": Plant(
            "external", append=(("Resources", "GetJobInfoFunction", "Properties", "Policies", PUT_EVENTS),)
        ),
        # deploy order: a function that no longer waits for the migration
        "CreateJobInfo without DependsOn": Plant(
            "external", delete=(("Resources", "CreateJobInfoFunction", "DependsOn"),)
        ),
    }
    events = endpoint_for("events")
    if events:  # reachability: the publishers' endpoint removed
        found["no events endpoint"] = Plant("aurora", delete=(("Resources", events),))
    secrets = endpoint_for("secretsmanager")
    if secrets:
        found["no secretsmanager endpoint"] = Plant("aurora", delete=(("Resources", secrets),))
    # deploy order: a function writing to a group it does not name, so nothing waits for its log
    # group (the custom resource's function in both modes; the relay has an ESM and a schedule)
    for function in ("MigrateFunction", "RelayOutboxFunction"):
        for mode in MODES:
            found[f"{function} without LoggingConfig ({mode})"] = Plant(
                mode, delete=(("Resources", function, "Properties", "LoggingConfig"),)
            )
    return found


@cache
def _all() -> dict[str, Stack]:
    return planted_stacks(plants())


def all_stacks() -> dict[str, Stack]:
    """Both modes (named aurora, external) and every planted mistake; skips without the SAM CLI."""
    try:
        return _all()
    except TranslatorMissing as exc:
        pytest.skip(str(exc))


def mode_stacks() -> list[Stack]:
    stacks = all_stacks()
    return [stacks[mode] for mode in MODES]
