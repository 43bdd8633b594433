"""template.yaml as CloudFormation gets it: run through the SAM translator the SAM CLI ships (in
the SAM CLI's venv, .tools/, so its pinned pydantic stays out of the layer's lock), once per
DatabaseMode, with the template's Conditions resolved for that mode.

The result feeds the behaviour checks (jobprep_local.aws_model: IAM and reachability; the
deploy-order graph below). A translation costs seconds, so it is cached on disk, keyed by the
template, the variants asked for and the translator's version.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from jobprep_local.template import PROJECT_ROOT, TEMPLATE_PATH

MODES = ("aurora", "external")
REGION = "us-east-1"
ACCOUNT = "123456789012"  # moto's account
# Parameters without a default, and the URL secret external mode requires (its Rules say so).
REQUIRED_PARAMETERS: dict[str, Any] = {"JwtIssuer": "https://example.clerk.accounts.dev", "JwtAudience": ["job-prep"]}
MODE_PARAMETERS: dict[str, dict[str, Any]] = {
    "aurora": {"DatabaseMode": "aurora"},
    "external": {
        "DatabaseMode": "external",
        "DatabaseUrlSecretName": "job-prep-dev/database-url",
        "DatabaseDirectUrlSecretName": "job-prep-dev/database-direct-url",  # migrations (not the pooler)
    },
}

# Runs in the SAM CLI's Python: yaml_parse and transform are what `sam validate/build/deploy` use.
# argv: template path, variants {name: {"parameters": {...}, "delete": [[key, ..., key or list item]],
# "append": [[key, ..., value]]}}: a planted mistake is a key or list item removed, or a list item added.
_TRANSLATE = """
import json, sys
from samtranslator.translator.transform import transform
from samtranslator.yaml_helper import yaml_parse

class NoManagedPolicies:  # AWS managed policy names stay ARNs; nothing is looked up in an account
    def load(self):
        return {}

source = open(sys.argv[1]).read()
out = {}
for name, variant in json.loads(sys.argv[2]).items():
    template = yaml_parse(source)
    for path in variant.get("delete", []):  # a planted mistake: remove one key before translating
        node = template
        for key in path[:-1]:
            node = node[key]
        if isinstance(node, list):
            node.remove(path[-1])
        else:
            del node[path[-1]]
    for path in variant.get("append", []):
        node = template
        for key in path[:-1]:
            node = node[key]
        node.append(path[-1])
    for resource in template["Resources"].values():  # as after `sam package`: artifacts in S3
        props = resource.get("Properties", {})
        if "CodeUri" in props:
            props["CodeUri"] = "s3://artifacts/functions"
        if "ContentUri" in props:
            props["ContentUri"] = "s3://artifacts/layer"
    out[name] = transform(template, variant["parameters"], NoManagedPolicies())
print(json.dumps(out))
"""


class TranslatorMissing(RuntimeError):
    """The SAM CLI's venv (.tools/, `make tools`) is not installed."""


def sam_python() -> Path:
    sam = os.environ.get("SAM_BIN")
    return (Path(sam).parent if sam else PROJECT_ROOT / ".tools" / "bin") / "python"


def translator_version() -> str:
    found = re.search(r"^aws-sam-translator==(\S+)", (PROJECT_ROOT / "tools" / "sam.txt").read_text(), re.M)
    return found.group(1) if found else "unknown"


def parameters_for(mode: str) -> dict[str, Any]:
    return {**REQUIRED_PARAMETERS, **MODE_PARAMETERS[mode]}


def translate_variants(variants: dict[str, dict[str, Any]], template: Path = TEMPLATE_PATH) -> dict[str, Any]:
    """Translate template variants in one run of the SAM translator (its import is most of the cost)."""
    key = hashlib.sha256(
        json.dumps([template.read_text(), variants, _TRANSLATE, translator_version()], sort_keys=True).encode()
    ).hexdigest()[:20]
    cached = PROJECT_ROOT / ".local" / "translated" / f"{key}.json"
    if cached.exists():
        result: dict[str, Any] = json.loads(cached.read_text())
        return result
    python = sam_python()
    if not python.exists():
        raise TranslatorMissing(f"{python} not found: `make tools` installs the SAM CLI and its translator")
    done = subprocess.run(  # noqa: S603 - the SAM CLI's own Python, our script
        [str(python), "-c", _TRANSLATE, str(template), json.dumps(variants)],
        env={**os.environ, "AWS_DEFAULT_REGION": REGION},
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"the SAM translator failed:\n{done.stderr[-4000:]}")
    result = json.loads(done.stdout)
    cached.parent.mkdir(parents=True, exist_ok=True)
    tmp = cached.with_suffix(".tmp")
    tmp.write_text(json.dumps(result))
    tmp.replace(cached)
    return result


# --- one DatabaseMode: Conditions resolved ------------------------------------------------------

PSEUDO = {
    "AWS::Region": REGION,
    "AWS::AccountId": ACCOUNT,
    "AWS::Partition": "aws",
    "AWS::URLSuffix": "amazonaws.com",
    "AWS::StackName": "job-prep-dev",
}
NO_VALUE = object()


@dataclass
class Stack:
    """A translated template for one set of parameter values: only the resources that exist, every
    Fn::If taken, AWS::NoValue dropped; Ref/GetAtt/Sub left for the checks to follow or evaluate."""

    name: str
    mode: str
    parameters: dict[str, Any]
    resources: dict[str, dict[str, Any]]
    conditions: dict[str, bool] = field(default_factory=dict)

    def of_type(self, kind: str) -> dict[str, dict[str, Any]]:
        return {k: v for k, v in self.resources.items() if v["Type"] == kind}


def resolve_stack(name: str, translated: dict[str, Any], mode: str, parameters: dict[str, Any]) -> Stack:
    values = {p: spec.get("Default") for p, spec in translated.get("Parameters", {}).items()}
    values.update(parameters)
    conditions: dict[str, bool] = {}
    definitions = translated.get("Conditions", {})

    def condition(cond_name: str) -> bool:
        if cond_name not in conditions:
            conditions[cond_name] = bool(_evaluate_condition(definitions[cond_name], values, condition))
        return conditions[cond_name]

    for cond_name in definitions:
        condition(cond_name)

    def take_ifs(node: Any) -> Any:
        if isinstance(node, dict):
            if set(node) == {"Fn::If"}:
                cond_name, when_true, when_false = node["Fn::If"]
                return take_ifs(when_true if condition(cond_name) else when_false)
            if node == {"Ref": "AWS::NoValue"}:
                return NO_VALUE
            out = {k: take_ifs(v) for k, v in node.items()}
            return {k: v for k, v in out.items() if v is not NO_VALUE}
        if isinstance(node, list):
            return [v for v in (take_ifs(v) for v in node) if v is not NO_VALUE]
        return node

    resources = {
        logical_id: take_ifs(resource)
        for logical_id, resource in translated["Resources"].items()
        if "Condition" not in resource or condition(resource["Condition"])
    }
    return Stack(name, mode, values, resources, conditions)


def _evaluate_condition(node: Any, values: dict[str, Any], condition: Any) -> Any:
    if isinstance(node, dict):
        [(fn, arg)] = node.items()
        if fn == "Fn::Equals":
            left, right = (_evaluate_condition(a, values, condition) for a in arg)
            return str(left) == str(right)
        if fn == "Fn::Not":
            return not _evaluate_condition(arg[0], values, condition)
        if fn == "Fn::And":
            return all(_evaluate_condition(a, values, condition) for a in arg)
        if fn == "Fn::Or":
            return any(_evaluate_condition(a, values, condition) for a in arg)
        if fn == "Condition":
            return condition(arg)
        if fn == "Ref":
            return values.get(arg, PSEUDO.get(arg))
        raise ValueError(f"condition function {fn} not modelled")
    return node


@cache
def stacks(template: Path = TEMPLATE_PATH) -> dict[str, Stack]:
    """The template as CloudFormation creates it in each DatabaseMode."""
    return planted_stacks({}, template)


@dataclass(frozen=True)
class Plant:
    """A mistake planted in the source template (before translation), in one DatabaseMode."""

    mode: str
    delete: tuple[tuple[Any, ...], ...] = ()
    append: tuple[tuple[Any, ...], ...] = ()


def planted_stacks(planted: dict[str, Plant], template: Path = TEMPLATE_PATH) -> dict[str, Stack]:
    """Each DatabaseMode's stack (named by the mode), plus one per planted mistake, translated together."""
    variants: dict[str, dict[str, Any]] = {mode: {"parameters": parameters_for(mode)} for mode in MODES}
    for name, plant in planted.items():
        variants[name] = {
            "parameters": parameters_for(plant.mode),
            "delete": [list(p) for p in plant.delete],
            "append": [list(p) for p in plant.append],
        }
    translated = translate_variants(variants, template)
    out = {mode: resolve_stack(mode, translated[mode], mode, parameters_for(mode)) for mode in MODES}
    for name, plant in planted.items():
        out[name] = resolve_stack(name, translated[name], plant.mode, parameters_for(plant.mode))
    return out


# --- intrinsic functions, evaluated against the names the resources have where they run --------


@dataclass
class Physical:
    """What the stack's resources are called in the environment under test (moto, the dev server):
    a Ref or GetAtt of anything not listed evaluates to a placeholder no real ARN matches."""

    refs: dict[str, str] = field(default_factory=dict)
    attributes: dict[str, str] = field(default_factory=dict)  # "Logical.Attr" -> value

    def ref(self, logical_id: str) -> str:
        return self.refs.get(logical_id, f"<{logical_id}>")

    def attribute(self, logical_id: str, attr: str) -> str:
        return self.attributes.get(f"{logical_id}.{attr}", f"<{logical_id}.{attr}>")


def evaluate(node: Any, stack: Stack, physical: Physical) -> Any:
    """Ref, GetAtt, Sub, Join, Select, Split and GetAZs to plain values."""
    if isinstance(node, list):
        return [evaluate(v, stack, physical) for v in node]
    if not isinstance(node, dict):
        return node
    if len(node) == 1:
        [(fn, arg)] = node.items()
        if fn == "Ref":
            if arg in PSEUDO:
                return PSEUDO[arg]
            if arg in stack.parameters:
                value = stack.parameters[arg]
                return ",".join(value) if isinstance(value, list) else str(value)
            return physical.ref(arg)
        if fn == "Fn::GetAtt":
            logical_id, attr = arg if isinstance(arg, list) else arg.split(".", 1)
            return physical.attribute(logical_id, attr)
        if fn == "Fn::Sub":
            text, variables = (arg, {}) if isinstance(arg, str) else arg
            variables = {k: evaluate(v, stack, physical) for k, v in variables.items()}

            def substitute(found: re.Match[str]) -> str:
                name = found.group(1)
                if name in variables:
                    return str(variables[name])
                if "." in name and not name.startswith("AWS::"):
                    return str(evaluate({"Fn::GetAtt": name.split(".", 1)}, stack, physical))
                return str(evaluate({"Ref": name}, stack, physical))

            return re.sub(r"\$\{([^!}][^}]*)\}", substitute, text)
        if fn == "Fn::Join":
            separator, items = arg
            return separator.join(str(v) for v in evaluate(items, stack, physical))
        if fn == "Fn::Select":
            index, items = evaluate(arg, stack, physical)
            return items[int(index)] if int(index) < len(items) else f"<{index} of {items}>"
        if fn == "Fn::Split":
            separator, text = evaluate(arg, stack, physical)
            return str(text).split(separator)
        if fn == "Fn::GetAZs":
            return [f"{REGION}a", f"{REGION}b", f"{REGION}c"]
    return {k: evaluate(v, stack, physical) for k, v in node.items()}


# --- the dependency graph CloudFormation orders the creation by --------------------------------


def references(node: Any) -> Iterator[str]:
    """Logical ids a property value refers to (Ref, GetAtt, ${Name} in Sub), pseudo parameters excluded."""
    if isinstance(node, list):
        for v in node:
            yield from references(v)
    elif isinstance(node, dict):
        for fn, arg in node.items():
            if fn == "Ref" and isinstance(arg, str):
                if not arg.startswith("AWS::"):
                    yield arg
            elif fn == "Fn::GetAtt":
                yield (arg[0] if isinstance(arg, list) else arg.split(".", 1)[0])
            elif fn == "Fn::Sub":
                text, variables = (arg, {}) if isinstance(arg, str) else arg
                for name in re.findall(r"\$\{([^!}][^}]*)\}", text):
                    if name not in variables and not name.startswith("AWS::"):
                        yield name.split(".", 1)[0]
                yield from references(variables)
            else:
                yield from references(arg)


def dependencies(stack: Stack) -> dict[str, set[str]]:
    """Resource -> the resources CloudFormation creates before it (references and DependsOn)."""
    graph: dict[str, set[str]] = {}
    for logical_id, resource in stack.resources.items():
        depends_on = resource.get("DependsOn", [])
        edges = set(references(resource.get("Properties", {}))) | set(
            [depends_on] if isinstance(depends_on, str) else depends_on
        )
        graph[logical_id] = {e for e in edges if e in stack.resources}
    return graph


def created_before(graph: dict[str, set[str]], logical_id: str) -> set[str]:
    seen: set[str] = set()
    stack_ = [logical_id]
    while stack_:
        for dep in graph.get(stack_.pop(), ()):
            if dep not in seen:
                seen.add(dep)
                stack_.append(dep)
    return seen


# --- deploy order: nothing invokes a function before what that invocation needs exists ----------

INVOKER_PRINCIPALS = {
    "AWS::Events::Rule": "events.amazonaws.com",
    "AWS::ApiGatewayV2::Stage": "apigateway.amazonaws.com",
}


@dataclass(frozen=True)
class Invocation:
    invoker: str  # the resource that invokes (custom resource, event source mapping, rule, API stage)
    kind: str
    function: str
    alias: str | None  # the alias it invokes through, None for the unqualified function


def invocations(stack: Stack) -> list[Invocation]:
    resources = stack.resources

    def enabled(props: dict[str, Any]) -> bool:  # a disabled rule (KeepWarmState's default) never fires
        return bool(evaluate(props.get("State", "ENABLED"), stack, Physical()) != "DISABLED")

    functions = stack.of_type("AWS::Lambda::Function")
    aliases = {
        logical_id: alias["Properties"]["FunctionName"]["Ref"]
        for logical_id, alias in stack.of_type("AWS::Lambda::Alias").items()
    }

    def targets(node: Any) -> set[tuple[str, str | None]]:
        found: set[tuple[str, str | None]] = set()
        for ref in references(node):
            if ref in functions:
                found.add((ref, None))
            elif ref in aliases:
                found.add((aliases[ref], ref))
        return found

    out: list[Invocation] = []
    for logical_id, resource in resources.items():
        kind, props = resource["Type"], resource.get("Properties", {})
        nodes: list[Any] = []
        if kind.startswith("Custom::") or kind == "AWS::CloudFormation::CustomResource":
            nodes = [props.get("ServiceToken")]
        elif kind == "AWS::Lambda::EventSourceMapping" and props.get("Enabled", True) is not False:
            nodes = [props.get("FunctionName")]
        elif kind == "AWS::Events::Rule" and enabled(props):
            nodes = [t.get("Arn") for t in props.get("Targets", [])]
        elif kind == "AWS::Scheduler::Schedule" and enabled(props):
            nodes = [props.get("Target", {}).get("Arn")]
        elif kind == "AWS::ApiGatewayV2::Stage":
            # callable once its stage exists: every integration of its API
            api = props.get("ApiId", {}).get("Ref")
            nodes = [resources.get(api, {}).get("Properties", {}).get("Body")]
            nodes += [
                r["Properties"].get("IntegrationUri")
                for r in stack.of_type("AWS::ApiGatewayV2::Integration").values()
                if r["Properties"].get("ApiId") == {"Ref": api}
            ]
        for function, alias in sorted(targets(nodes)):
            out.append(Invocation(logical_id, kind, function, alias))
    return out


def log_group_of(stack: Stack, function: str) -> str | None:
    """The log group the function writes to: its LoggingConfig's, or the one named /aws/lambda/<it>."""
    config = stack.resources[function].get("Properties", {}).get("LoggingConfig", {}).get("LogGroup")
    if isinstance(config, dict) and config.get("Ref") in stack.resources:
        return str(config["Ref"])
    for logical_id, group in stack.of_type("AWS::Logs::LogGroup").items():
        name = group.get("Properties", {}).get("LogGroupName")
        if isinstance(name, dict) and "Fn::Sub" in name and f"${{{function}}}" in str(name["Fn::Sub"]):
            return logical_id
    return None


MIGRATION = "SchemaMigration"
DATABASE_POLICY = "DatabaseAccessPolicy"


def deploy_order_violations(stack: Stack) -> list[str]:
    """Every invocation the stack sets up, against what must exist when it first fires: the function's
    log group (else Lambda creates it first and the stack's LogGroup fails with AlreadyExists), the
    alias it goes through, the execution role and its policies (else the first run is AccessDenied);
    for a service that invokes through a resource policy (rules, API stages), that permission (it
    names the invoker's ARN, so it cannot precede it: it must exist); and for a function that uses
    the database, the migration that brings the schema to what its code expects."""
    graph = dependencies(stack)
    problems: list[str] = []
    for inv in invocations(stack):
        before = created_before(graph, inv.invoker)
        function = stack.resources[inv.function]
        role_id = next(iter(references(function.get("Properties", {}).get("Role"))), "")
        role = stack.resources.get(role_id, {})
        uses_database = DATABASE_POLICY in references(role.get("Properties", {}).get("ManagedPolicyArns", []))
        # On an update the invoker already exists: what must wait is the code it reaches (the
        # function, and the version its alias moves to).
        target = inv.alias or inv.function
        reached = created_before(graph, target) | {target}
        if uses_database and inv.invoker != MIGRATION and MIGRATION in stack.resources and MIGRATION not in reached:
            problems.append(
                f"{inv.invoker} ({inv.kind}) can invoke new code of {inv.function} before {MIGRATION} migrated "
                f"the schema that code expects: add DependsOn: {MIGRATION} to {inv.function}"
            )
        log_group = log_group_of(stack, inv.function)
        if log_group is None:
            problems.append(f"{inv.invoker} invokes {inv.function}, which has no AWS::Logs::LogGroup in the template")
        elif log_group not in before:
            problems.append(
                f"{inv.invoker} ({inv.kind}) can invoke {inv.function} before its log group {log_group} exists: "
                f"add DependsOn: {log_group} (or a reference to it) to {inv.invoker}"
            )
        if inv.alias is not None and inv.alias not in before:
            problems.append(f"{inv.invoker} invokes {inv.alias} before that alias exists")
        needed = {role_id} if role_id in stack.resources else set()
        needed |= {
            logical_id
            for logical_id, policy in stack.of_type("AWS::IAM::Policy").items()
            if role_id in set(references(policy["Properties"].get("Roles", [])))
        }
        for missing in sorted(needed - before):
            problems.append(f"{inv.invoker} can invoke {inv.function} before its permissions ({missing}) exist")
        principal = INVOKER_PRINCIPALS.get(inv.kind)
        if principal is not None:
            target = inv.alias or inv.function
            granted = [
                p
                for p in stack.of_type("AWS::Lambda::Permission").values()
                if target in references(p["Properties"].get("FunctionName"))
                and p["Properties"].get("Principal") == principal
            ]
            if not granted:
                problems.append(f"{inv.invoker} invokes {target} with no AWS::Lambda::Permission for {principal}")
    return problems
