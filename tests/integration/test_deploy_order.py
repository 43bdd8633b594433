"""Deploy order on the SAM-translated template, in both DatabaseModes: nothing invokes a function
(custom resource, event source mapping, enabled schedule, API stage) before that function's log
group, its alias, its role and, for database functions, the schema migration exist
(jobprep_local.cfn.deploy_order_violations follows Ref, GetAtt, Sub and DependsOn edges)."""

from __future__ import annotations

import re

import pytest

from jobprep_local.cfn import MODES, deploy_order_violations, invocations
from tests.aws_stacks import all_stacks, plants

# Violations still on main, as (invoker, function); "*" is any function. Each is a real race on a
# first deploy: fix it in template.yaml, then delete its line here (the test fails until you do).
# Empty since every function's LoggingConfig.LogGroup names its generated log group (whose name does
# not reference the function), so every invoker follows the log group (jobprep_local.blocks).
KNOWN_ON_MAIN: set[tuple[str, str]] = set()


def known(problem: str) -> tuple[str, str] | None:
    invoker = problem.split(" ", 1)[0]
    function = re.search(r"invoke (\w+)", problem)
    for key in ((invoker, function.group(1) if function else ""), (invoker, "*")):
        if key in KNOWN_ON_MAIN:
            return key
    return None


@pytest.mark.parametrize("mode", MODES)
def test_nothing_is_invoked_before_what_it_needs_exists(mode: str) -> None:
    stack = all_stacks()[mode]
    kinds = {i.kind for i in invocations(stack)}
    # the check sees every kind of invoker this template has (a disabled keep-warm rule invokes nothing)
    assert {"Custom::SchemaMigration", "AWS::Lambda::EventSourceMapping", "AWS::ApiGatewayV2::Stage"} <= kinds
    assert "AWS::Events::Rule" in kinds
    problems = deploy_order_violations(stack)
    new = [p for p in problems if known(p) is None]
    assert not new, "\n".join(new)


def test_the_ledger_of_known_violations_is_current() -> None:
    seen = {known(p) for mode in MODES for p in deploy_order_violations(all_stacks()[mode])}
    fixed = KNOWN_ON_MAIN - seen
    assert not fixed, f"fixed on main, delete from KNOWN_ON_MAIN: {sorted(fixed)}"  # noqa: S608 - not SQL


@pytest.mark.parametrize("planted", sorted(p for p in plants() if "DependsOn" in p or "LoggingConfig" in p))
def test_a_removed_depends_on_is_caught(planted: str) -> None:
    """A DependsOn (or a LoggingConfig, the reference that orders a function after its log group) removed
    from the source template shows up as an invocation that can come too early."""
    stack = all_stacks()[planted]
    original = set(deploy_order_violations(all_stacks()[stack.mode]))
    caught = [p for p in deploy_order_violations(stack) if p not in original]
    assert caught, f"removing a DependsOn ({planted}) went unnoticed"
    if planted.startswith("CreateJobInfo"):
        assert all("of CreateJobInfoFunction before SchemaMigration" in p for p in caught), caught
    elif "LoggingConfig" in planted:
        function = planted.split(" ", 1)[0]
        invokers = {p.split(" ", 1)[0] for p in caught if f"invokes {function}, which has no" in p}
        relay = {f"{function}Wakeup", f"{function}SafetyNet"}  # its ESM and its schedule
        expected = {"SchemaMigration"} if function == "MigrateFunction" else relay
        assert invokers == expected, caught
