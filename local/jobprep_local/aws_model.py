"""What AWS would do with each function's AWS calls, from the SAM-translated template (jobprep_local.cfn).

* IAM: a call is made as the function's own execution role. It is refused, as AWS would with
  AccessDenied, unless a statement of that role allows the action on that resource.
* Reachability: in DatabaseMode=aurora the functions run in private subnets with no NAT, so a call
  reaches a service only through a VPC endpoint of the template (an Interface endpoint with private
  DNS whose security group admits 443 from the function's group, or a Gateway endpoint on the
  function's route table). Any other call fails at once, naming the endpoint that is missing.

The harness installs itself as a botocore `before-parameter-build` handler (it sees the API's own
parameters) for every session (boto3's own and
Powertools'), knows which function is running (`acting_as`, set by the local invoker and by each
dev-server container) and records every call with its verdict. Calls made outside a function (test
setup) are not judged. The database connection is a call too: rds-db:connect on the proxy's database
user (aurora) or GetSecretValue on the URL secret (external), made when a function checks out a
connection (a Lambda container opens its own).

Why not moto's IAM enforcement (INITIAL_NO_AUTH_ACTION_COUNT): moto 5 checks a statement's Resource
only for SQS and S3; for EventBridge or Secrets Manager it matches the statement against "*", so every
statement scoped to an ARN (all of SAM's policy templates) is denied. Conditions it checks only in
trust policies. The evaluator here covers what the template uses: Allow and Deny (an explicit Deny
wins), Action/NotAction and Resource/NotResource with * and ? wildcards. A statement with a Condition
is refused when the model is built, so nothing is ever allowed by a condition left unread.
"""

from __future__ import annotations

import json
import os
import re
import sys
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import asdict, dataclass
from functools import cache
from pathlib import Path
from typing import Any

from jobprep_local.cfn import ACCOUNT, REGION, Physical, Stack, evaluate, references

FUNCTION_ENV = "JOBPREP_LOCAL_FUNCTION"  # a dev-server container's function
LOG_ENV = "JOBPREP_LOCAL_AWS_LOG"  # where containers append their calls (JSON lines)
MODEL_ENV = "JOBPREP_LOCAL_AWS_MODEL"  # the models a container judges by (a JSON file)

_acting: ContextVar[str | None] = ContextVar("jobprep_local_function", default=None)


@contextmanager
def acting_as(function: str) -> Iterator[None]:
    """AWS calls made inside are the function's (its role, its network)."""
    token = _acting.set(function)
    try:
        if _harness is not None:
            _harness.watch_database()
        yield
    finally:
        _acting.reset(token)


def current_function() -> str | None:
    return _acting.get() or os.environ.get(FUNCTION_ENV)


# --- IAM -----------------------------------------------------------------------------------------


@cache
def _pattern(text: str, ignore_case: bool) -> re.Pattern[str]:
    body = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in text)
    return re.compile(f"^{body}$", re.IGNORECASE if ignore_case else 0)


def _listed(value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    return tuple(str(v) for v in (value if isinstance(value, list) else [value]))


@dataclass(frozen=True)
class Statement:
    policy: str  # the policy it is in (inline policy name or managed policy logical id)
    effect: str
    actions: tuple[str, ...] = ()
    not_actions: tuple[str, ...] = ()
    resources: tuple[str, ...] = ()
    not_resources: tuple[str, ...] = ()
    authored: bool = True  # from the template's Policies; False: SAM's own, for Lambda to use
    key: str = ""  # policy[index]: the same statement whatever the resources are called

    def concerns(self, action: str, resource: str) -> bool:
        def any_match(patterns: tuple[str, ...], value: str, ignore_case: bool) -> bool:
            return any(_pattern(p, ignore_case).match(value) for p in patterns)

        if self.actions and not any_match(self.actions, action, True):
            return False
        if self.not_actions and any_match(self.not_actions, action, True):
            return False
        if self.resources and not any_match(self.resources, resource, False):
            return False
        return not (self.not_resources and any_match(self.not_resources, resource, False))

    def describe(self) -> str:
        what = ",".join(self.actions) or f"NotAction {','.join(self.not_actions)}"
        where = ",".join(self.resources) or f"NotResource {','.join(self.not_resources)}"
        return f"{self.effect} {what} on {where} ({self.policy})"


class UnsupportedPolicy(ValueError):
    pass


def _statements(document: Any, policy: str, authored: bool) -> list[Statement]:
    found = document.get("Statement", [])
    out = []
    for index, s in enumerate(found if isinstance(found, list) else [found]):
        if "Condition" in s:
            raise UnsupportedPolicy(f"{policy}: a statement with a Condition is not modelled: {json.dumps(s)}")
        out.append(
            Statement(
                policy,
                s["Effect"],
                _listed(s.get("Action")),
                _listed(s.get("NotAction")),
                _listed(s.get("Resource")),
                _listed(s.get("NotResource")),
                authored,
                f"{policy}[{index}]",
            )
        )
    return out


@dataclass(frozen=True)
class Role:
    function: str
    statements: tuple[Statement, ...]
    aws_managed: tuple[str, ...]  # AWS managed policy ARNs (logs, X-Ray, VPC access): not modelled

    def decide(self, action: str, resource: str) -> tuple[bool, Statement | None]:
        allowed: Statement | None = None
        for statement in self.statements:
            if statement.concerns(action, resource):
                if statement.effect == "Deny":
                    return False, statement
                allowed = allowed or statement
        return allowed is not None, allowed


# --- network ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Network:
    in_vpc: bool
    endpoints: dict[str, str]  # service (events, sqs, ...) -> the endpoint resource that reaches it
    blocked: dict[str, str]  # service -> why its endpoint does not answer this function


def _security_rules(stack: Stack, group: str, direction: str) -> list[dict[str, Any]]:
    inline_key = "SecurityGroupIngress" if direction == "in" else "SecurityGroupEgress"
    kind = "AWS::EC2::SecurityGroupIngress" if direction == "in" else "AWS::EC2::SecurityGroupEgress"
    rules = list(stack.resources.get(group, {}).get("Properties", {}).get(inline_key, []))
    rules += [r["Properties"] for r in stack.of_type(kind).values() if r["Properties"].get("GroupId") == {"Ref": group}]
    return rules


def _admits_443(rule: dict[str, Any], peers: set[str], peer_key: str) -> bool:
    if str(rule.get("IpProtocol")) not in ("tcp", "-1", "6"):
        return False
    if str(rule.get("IpProtocol")) != "-1" and not int(rule.get("FromPort", 0)) <= 443 <= int(rule.get("ToPort", 0)):
        return False
    peer = rule.get(peer_key)
    return (isinstance(peer, dict) and peer.get("Ref") in peers) or rule.get("CidrIp") == "0.0.0.0/0"


def network_of(stack: Stack, function: str) -> Network:
    config = stack.resources[function].get("Properties", {}).get("VpcConfig")
    if not config:
        return Network(False, {}, {})
    groups = set(references(config.get("SecurityGroupIds", [])))
    subnets = set(references(config.get("SubnetIds", [])))
    route_tables = {
        a["Properties"]["RouteTableId"]["Ref"]
        for a in stack.of_type("AWS::EC2::SubnetRouteTableAssociation").values()
        if a["Properties"].get("SubnetId", {}).get("Ref") in subnets
    }
    endpoints: dict[str, str] = {}
    blocked: dict[str, str] = {}
    for logical_id, endpoint in stack.of_type("AWS::EC2::VPCEndpoint").items():
        props = endpoint["Properties"]
        service = str(evaluate(props["ServiceName"], stack, Physical())).rsplit(".", 1)[-1]
        if props.get("VpcEndpointType", "Gateway") == "Gateway":
            if route_tables & set(references(props.get("RouteTableIds", []))):
                endpoints[service] = logical_id
            else:
                blocked[service] = f"{logical_id} is not on the route table of {function}'s subnets"
            continue
        endpoint_groups = set(references(props.get("SecurityGroupIds", [])))
        admitted = [r for g in endpoint_groups for r in _security_rules(stack, g, "in")]
        let_out = [r for g in groups for r in _security_rules(stack, g, "out")]
        if not props.get("PrivateDnsEnabled", False):
            blocked[service] = f"{logical_id} has no private DNS: the SDK's {service} hostname does not resolve to it"
        elif not any(_admits_443(r, groups, "SourceSecurityGroupId") for r in admitted):
            blocked[service] = f"{logical_id}'s security groups do not admit 443 from {sorted(groups)}"
        elif not any(_admits_443(r, endpoint_groups, "DestinationSecurityGroupId") for r in let_out):
            blocked[service] = f"{function}'s security groups {sorted(groups)} do not allow 443 out to {logical_id}"
        else:
            endpoints[service] = logical_id
    return Network(True, endpoints, blocked)


# --- the model of one stack ----------------------------------------------------------------------


@dataclass(frozen=True)
class Call:
    function: str
    stack: str
    action: str
    resource: str
    service: str
    verdict: str  # allowed | denied | unreachable
    message: str = ""
    statement: str = ""  # the statement that allowed it


def physical_from_environment(stack: Stack, environment: dict[str, str]) -> Physical:
    """The stack's resources are what the functions' environment names: the template passes each as
    !Ref (EVENT_BUS_NAME: !Ref InvalidationBus, ...), so the running value is that resource's Ref."""
    physical = Physical()
    for function in stack.of_type("AWS::Lambda::Function").values():
        for name, value in function["Properties"].get("Environment", {}).get("Variables", {}).items():
            if isinstance(value, dict) and value.get("Ref") in stack.resources and environment.get(name):
                physical.refs[value["Ref"]] = environment[name]
    for logical_id, ref in list(physical.refs.items()):
        kind = stack.resources[logical_id]["Type"]
        if kind == "AWS::Events::EventBus":
            physical.attributes[f"{logical_id}.Arn"] = f"arn:aws:events:{REGION}:{ACCOUNT}:event-bus/{ref}"
            physical.attributes[f"{logical_id}.Name"] = ref
        elif kind == "AWS::SQS::Queue":
            name = ref.rstrip("/").rsplit("/", 1)[-1]
            physical.attributes[f"{logical_id}.Arn"] = f"arn:aws:sqs:{REGION}:{ACCOUNT}:{name}"
            physical.attributes[f"{logical_id}.QueueName"] = name
    physical.attributes.setdefault("DatabaseProxy.DBProxyArn", f"arn:aws:rds:{REGION}:{ACCOUNT}:db-proxy:prx-0local")
    return physical


class AwsModel:
    """One translated stack (a DatabaseMode, or a planted mistake) as AWS would enforce it."""

    def __init__(self, stack: Stack) -> None:
        self.stack = stack
        self.functions = sorted(stack.of_type("AWS::Lambda::Function"))
        self.networks = {f: network_of(stack, f) for f in self.functions}
        self._roles: dict[tuple[str, tuple[tuple[str, str], ...]], Role] = {}
        self._lock = threading.Lock()
        for function in self.functions:  # fail now, not mid-test, on a policy the evaluator cannot read
            self.role(function, physical_from_environment(stack, {}))

    @property
    def name(self) -> str:
        return self.stack.name

    def role(self, function: str, physical: Physical) -> Role:
        key = (function, tuple(sorted(physical.refs.items())))
        with self._lock:
            if key not in self._roles:
                self._roles[key] = self._build_role(function, physical)
            return self._roles[key]

    def _build_role(self, function: str, physical: Physical) -> Role:
        resources = self.stack.resources
        role_id = next(iter(references(resources[function]["Properties"].get("Role"))), "")
        role = resources.get(role_id, {}).get("Properties", {})
        statements: list[Statement] = []
        aws_managed: list[str] = []
        for policy in role.get("Policies", []):
            name = policy["PolicyName"]
            # SAM names the policies it writes from the template's Policies <Function>RolePolicy<N>;
            # the rest (event destinations, pollers) are for Lambda itself, not the function's code.
            authored = re.fullmatch(rf"{function}RolePolicy\d+", name) is not None
            statements += _statements(evaluate(policy["PolicyDocument"], self.stack, physical), name, authored)
        for arn in role.get("ManagedPolicyArns", []):
            ref = arn.get("Ref") if isinstance(arn, dict) else None
            if ref in resources and resources[ref]["Type"] == "AWS::IAM::ManagedPolicy":
                document = evaluate(resources[ref]["Properties"]["PolicyDocument"], self.stack, physical)
                statements += _statements(document, ref, True)
            else:
                aws_managed.append(str(evaluate(arn, self.stack, physical)))
        for logical_id, policy in self.stack.of_type("AWS::IAM::Policy").items():
            if role_id in references(policy["Properties"].get("Roles", [])):
                document = evaluate(policy["Properties"]["PolicyDocument"], self.stack, physical)
                statements += _statements(document, logical_id, True)
        return Role(function, tuple(statements), tuple(aws_managed))

    def database_call(self, function: str, physical: Physical) -> tuple[str, str, str]:
        """(action, resource, service) of a new database connection of the function, as the template
        configures it: an IAM token for DB_USER at DB_HOST (aurora), or the DATABASE_URL_SECRET read."""
        env = self.stack.resources[function]["Properties"].get("Environment", {}).get("Variables", {})
        if self.stack.mode == "aurora":
            proxy_id = physical.attribute("DatabaseProxy", "DBProxyArn").split(":")[6]
            user = evaluate(env.get("DB_USER", ""), self.stack, physical)
            return "rds-db:connect", f"arn:aws:rds-db:{REGION}:{ACCOUNT}:dbuser:{proxy_id}/{user}", "rds-db"
        name = str(evaluate(env.get("DATABASE_URL_SECRET", ""), self.stack, physical))
        return "secretsmanager:GetSecretValue", secret_arn(name), "secretsmanager"

    def judge(self, function: str, action: str, resource: str, service: str, physical: Physical) -> Call:
        network = self.networks[function]
        if network.in_vpc and service not in ("rds-db",) and service not in network.endpoints:
            why = network.blocked.get(service) or (
                f"the template has no VPC endpoint for {service} (com.amazonaws.{REGION}.{service}) and the"
                " private subnets have no NAT"
            )
            message = f"{function} runs in the VPC ({self.name}) and cannot reach {service} for {action}: {why}"
            return Call(function, self.name, action, resource, service, "unreachable", message)
        allowed, statement = self.role(function, physical).decide(action, resource)
        if not allowed:
            reason = f"denied by {statement.describe()}" if statement else "no statement of its role allows it"
            message = f"{function}'s role ({self.name}) is not authorized to perform {action} on {resource}: {reason}"
            return Call(function, self.name, action, resource, service, "denied", message)
        assert statement is not None
        return Call(function, self.name, action, resource, service, "allowed", statement=statement.key)

    def unused(self, calls: list[Call]) -> list[str]:
        """Statements written in the template's Policies that no allowed call of the function went
        through (SAM's own statements for Lambda, and AWS managed policies, are not the code's)."""
        problems = []
        for function in self.functions:
            used = {c.statement for c in calls if c.function == function and c.stack == self.name}
            for statement in self.role(function, physical_from_environment(self.stack, dict(os.environ))).statements:
                if statement.authored and statement.effect == "Allow" and statement.key not in used:
                    problems.append(f"{function} ({self.name}) never used: {statement.describe()}")
        return problems


@cache
def secret_arn(name: str) -> str:
    """A secret's ARN: its name, a hyphen and six characters Secrets Manager picks."""
    return f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:{name}-AbCdEf"


# --- the botocore hook ----------------------------------------------------------------------------


def resources_of(service: str, operation: str, params: dict[str, Any]) -> list[str]:
    """The resources IAM evaluates a call against (one per PutEvents entry)."""
    if service == "events" and operation == "PutEvents":
        buses = {str(e.get("EventBusName") or "default") for e in params.get("Entries", [])}
        return sorted(b if b.startswith("arn:") else f"arn:aws:events:{REGION}:{ACCOUNT}:event-bus/{b}" for b in buses)
    if service == "sqs" and "QueueUrl" in params:
        return [f"arn:aws:sqs:{REGION}:{ACCOUNT}:{str(params['QueueUrl']).rstrip('/').rsplit('/', 1)[-1]}"]
    if service == "secretsmanager" and "SecretId" in params:
        secret = str(params["SecretId"])
        return [secret if secret.startswith("arn:") else secret_arn(secret)]
    return ["*"]


class Harness:
    """Judges each call with every model; only `models` answer the function as AWS would (AccessDenied,
    no route), `observers` (planted mistakes) are judged and recorded alongside."""

    def __init__(self, models: list[AwsModel], log: Path | None = None, observers: Sequence[AwsModel] = ()) -> None:
        self.models = models
        self.observers = list(observers)
        self.enforcing = {m.name for m in models}
        self.log = log
        self.calls: list[Call] = []
        self._lock = threading.Lock()

    def physical(self, model: AwsModel) -> Physical:
        return physical_from_environment(model.stack, dict(os.environ))

    def record(self, call: Call) -> None:
        with self._lock:
            self.calls.append(call)
            if self.log is not None:
                with self.log.open("a") as fh:
                    fh.write(json.dumps(asdict(call)) + "\n")
                if call.verdict != "allowed":  # make dev: say so where the developer looks
                    print(f"[aws] {call.verdict}: {call.message}", file=sys.stderr, flush=True)

    def problems(self, since: int = 0, stack: str | None = None) -> list[Call]:
        return [
            c
            for c in self.calls[since:]
            if c.verdict != "allowed" and (c.stack == stack if stack else c.stack in self.enforcing)
        ]

    def applicable(self) -> list[AwsModel]:
        """The models whose DatabaseMode the function's settings are in: a URL secret is external's
        path, IAM tokens aurora's; a plain DATABASE_URL (tests, make dev) stands in for either."""
        every = self.models + self.observers
        if os.environ.get("DATABASE_URL_SECRET"):
            return [m for m in every if m.stack.mode == "external"]
        if os.environ.get("DB_IAM_AUTH", "").lower() == "true":
            return [m for m in every if m.stack.mode == "aurora"]
        return every

    def judge_all(self, function: str, action_of: Any) -> list[Call]:
        out = []
        for model in self.applicable():
            if function not in model.networks:
                continue
            physical = self.physical(model)
            for action, resource, service in action_of(model, physical):
                call = model.judge(function, action, resource, service, physical)
                self.record(call)
                out.append(call)
        return out

    def before_call(self, model: Any, params: dict[str, Any], **_kwargs: Any) -> None:
        function = current_function()
        if function is None:
            return  # the harness's own calls, test setup
        service = model.service_model.endpoint_prefix
        prefix = model.service_model.signing_name
        resources = resources_of(service, model.name, params) or ["*"]
        calls = self.judge_all(
            function, lambda _m, _p: [(f"{prefix}:{model.name}", resource, service) for resource in resources]
        )
        failed = next((c for c in calls if c.verdict != "allowed" and c.stack in self.enforcing), None)
        if failed is None:
            return
        import botocore.exceptions

        if failed.verdict == "unreachable":
            raise NoVpcEndpoint(endpoint_url=f"https://{service}.{REGION}.amazonaws.com", reason=failed.message)
        error = {"Error": {"Code": "AccessDeniedException", "Message": failed.message}}
        raise botocore.exceptions.ClientError(error, model.name)  # type: ignore[arg-type]

    def database_checkout(self, *_args: Any) -> None:
        function = current_function()
        if function is not None:
            self.judge_all(function, lambda model, physical: [model.database_call(function, physical)])

    def watch_database(self) -> None:
        """Judge every connection checkout of the function's engine as the connection it stands for."""
        engine_module = sys.modules.get("jobprep.db.engine")
        if engine_module is None:
            return
        from sqlalchemy import event

        engine = engine_module.engine
        if not event.contains(engine, "checkout", self.database_checkout):
            event.listen(engine, "checkout", self.database_checkout)


def _no_vpc_endpoint() -> type[Exception]:
    import botocore.exceptions

    class NoVpcEndpointError(botocore.exceptions.EndpointConnectionError):
        fmt = "Could not connect to the endpoint URL: {endpoint_url}: {reason}"

    return NoVpcEndpointError


NoVpcEndpoint: Any = None
_harness: Harness | None = None
_installed = False


def _dispatch(**kwargs: Any) -> None:
    if _harness is not None:
        _harness.before_call(**kwargs)


def install(harness: Harness | None) -> Harness | None:
    """Judge every AWS call made from now on with `harness` (None: stop judging); returns the previous
    one. botocore sessions created afterwards carry the handler (boto3's default, Powertools')."""
    global _harness, _installed, NoVpcEndpoint
    if not _installed:
        from botocore.handlers import BUILTIN_HANDLERS

        NoVpcEndpoint = _no_vpc_endpoint()
        BUILTIN_HANDLERS.append(("before-parameter-build", _dispatch))
        _installed = True
    previous, _harness = _harness, harness
    if harness is not None:
        harness.watch_database()
    return previous


@contextmanager
def judging(harness: Harness) -> Iterator[Harness]:
    previous = install(harness)
    try:
        yield harness
    finally:
        install(previous)


def active() -> Harness | None:
    return _harness


# --- containers (the dev server): the models travel as the translated stacks, in a file ------------


def save_models(stacks: list[Stack], path: Path) -> None:
    path.write_text(json.dumps([asdict(s) for s in stacks]))


def load_models(path: Path) -> list[AwsModel]:
    return [AwsModel(Stack(**s)) for s in json.loads(path.read_text())]


def install_from_environment() -> Harness | None:
    """In a dev-server container: judge its calls if the gateway says so (MODEL_ENV, LOG_ENV)."""
    model_file = os.environ.get(MODEL_ENV)
    if not model_file:
        return None
    harness = Harness(load_models(Path(model_file)), Path(os.environ[LOG_ENV]) if os.environ.get(LOG_ENV) else None)
    install(harness)
    return harness
