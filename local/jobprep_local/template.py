"""Read template.yaml the way SAM does: CloudFormation short tags, Globals merged into functions."""

from __future__ import annotations

import importlib.util
import re
import sys
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from types import ModuleType
from typing import Any

import yaml

PROJECT_ROOT = Path(__file__).resolve().parents[2]
TEMPLATE_PATH = PROJECT_ROOT / "template.yaml"


class CfnLoader(yaml.SafeLoader):
    """SafeLoader that accepts CloudFormation's short-form tags instead of failing on them."""


def _construct_tag(loader: CfnLoader, tag_suffix: str, node: yaml.Node) -> dict[str, Any]:
    if isinstance(node, yaml.ScalarNode):
        value: Any = loader.construct_scalar(node)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)  # type: ignore[arg-type]
    if tag_suffix == "Ref":
        return {"Ref": value}
    if tag_suffix == "GetAtt" and isinstance(value, str):
        value = value.split(".", 1)
    return {f"Fn::{tag_suffix}": value}


CfnLoader.add_multi_constructor("!", _construct_tag)


NO_AUTHORIZER = "NONE"  # SAM's spelling for a route that skips the API's DefaultAuthorizer


@dataclass(frozen=True)
class Route:
    method: str
    path: str  # API Gateway form: /job-infos/{jobInfoId}
    authorizer: str | None = None  # None: the HttpApi's DefaultAuthorizer; "NONE": public route

    @property
    def needs_jwt(self) -> bool:
        return self.authorizer != NO_AUTHORIZER

    @property
    def route_key(self) -> str:
        return f"{self.method} {self.path}"

    def match(self, method: str, path: str) -> dict[str, str] | None:
        if method.upper() != self.method:
            return None
        pattern = "^" + re.sub(r"\\\{(\w+)\\\}", r"(?P<\1>[^/]+)", re.escape(self.path)) + "$"
        found = re.match(pattern, path)
        return found.groupdict() if found else None


@dataclass(frozen=True)
class Schedule:
    name: str
    expression: str  # rate(1 minute) / rate(5 minutes)
    enabled_by_default: bool

    @property
    def interval_seconds(self) -> float:
        found = re.fullmatch(r"rate\((\d+) (minute|minutes|hour|hours|day|days)\)", self.expression)
        if not found:
            raise ValueError(f"unsupported schedule expression {self.expression!r}")
        unit = {"minute": 60, "hour": 3600, "day": 86400}[found.group(2).rstrip("s")]
        return int(found.group(1)) * unit


@dataclass(frozen=True)
class FunctionSpec:
    logical_id: str
    code_uri: Path
    handler: str
    timeout: int
    environment: dict[str, Any]
    routes: tuple[Route, ...] = field(default_factory=tuple)
    schedules: tuple[Schedule, ...] = field(default_factory=tuple)

    @property
    def source_file(self) -> Path:
        module_path, _, _ = self.handler.rpartition(".")
        return self.code_uri / f"{module_path}.py"

    @property
    def handler_name(self) -> str:
        return self.handler.rpartition(".")[2]


def load_template(path: Path = TEMPLATE_PATH) -> dict[str, Any]:
    with path.open() as fh:
        loaded: dict[str, Any] = yaml.load(fh, Loader=CfnLoader)  # noqa: S506 - CfnLoader extends SafeLoader
    return loaded


def _schedule_enabled(props: dict[str, Any], parameters: dict[str, Any]) -> bool:
    state = props.get("State", props.get("Enabled", True))
    if isinstance(state, dict) and "Ref" in state:
        state = parameters.get(state["Ref"], {}).get("Default", "ENABLED")
    return state in (True, "ENABLED")


@cache
def functions(path: Path = TEMPLATE_PATH) -> dict[str, FunctionSpec]:
    template = load_template(path)
    globals_ = template.get("Globals", {}).get("Function", {})
    parameters = template.get("Parameters", {})
    specs: dict[str, FunctionSpec] = {}
    for logical_id, resource in template["Resources"].items():
        if resource["Type"] != "AWS::Serverless::Function":
            continue
        props = {**globals_, **resource["Properties"]}
        routes, schedules = [], []
        for name, event in (props.get("Events") or {}).items():
            ev_props = event.get("Properties", {})
            if event["Type"] == "HttpApi":
                authorizer = (ev_props.get("Auth") or {}).get("Authorizer")
                routes.append(Route(ev_props["Method"].upper(), ev_props["Path"], authorizer))
            elif event["Type"] in ("Schedule", "ScheduleV2"):
                expression = ev_props.get("Schedule") or ev_props["ScheduleExpression"]
                schedules.append(Schedule(name, expression, _schedule_enabled(ev_props, parameters)))
        specs[logical_id] = FunctionSpec(
            logical_id=logical_id,
            code_uri=(path.parent / props["CodeUri"]).resolve(),
            handler=props["Handler"],
            timeout=int(props.get("Timeout", 3)),
            # SAM merges a function's variables into the Globals' ones
            environment={
                **globals_.get("Environment", {}).get("Variables", {}),
                **resource["Properties"].get("Environment", {}).get("Variables", {}),
            },
            routes=tuple(routes),
            schedules=tuple(schedules),
        )
    return specs


def load_module(spec: FunctionSpec) -> ModuleType:
    """Import the handler module from its file, under a name of its own, as the Lambda runtime would
    import it from the function's code directory (no sys.path changes)."""
    name = f"lambda_functions.{spec.logical_id}"
    if name in sys.modules:
        return sys.modules[name]
    module_spec = importlib.util.spec_from_file_location(name, spec.source_file)
    if module_spec is None or module_spec.loader is None:
        raise ImportError(f"cannot load {spec.source_file}")
    module = importlib.util.module_from_spec(module_spec)
    sys.modules[name] = module
    try:
        module_spec.loader.exec_module(module)
    except BaseException:
        del sys.modules[name]
        raise
    return module


def load_handler(logical_id: str) -> Any:
    """The function's handler; its AWS calls are judged as its role's (jobprep_local.aws_model)."""
    from jobprep_local.aws_model import acting_as

    spec = functions()[logical_id]
    handler = getattr(load_module(spec), spec.handler_name)

    def as_the_function(event: Any, context: Any) -> Any:
        with acting_as(logical_id):
            return handler(event, context)

    return as_the_function


@dataclass(frozen=True)
class Cors:
    """An HttpApi's CorsConfiguration, parameters resolved to their defaults."""

    allow_origins: tuple[str, ...] = ()
    allow_methods: tuple[str, ...] = ()
    allow_headers: tuple[str, ...] = ()
    expose_headers: tuple[str, ...] = ()
    max_age: int = 0
    allow_credentials: bool = False


def _resolve_list(value: Any, parameters: dict[str, Any]) -> tuple[str, ...]:
    if isinstance(value, dict) and "Ref" in value:
        value = parameters.get(value["Ref"], {}).get("Default", "")
    if isinstance(value, str):  # a CommaDelimitedList default
        value = [v.strip() for v in value.split(",") if v.strip()]
    return tuple(str(v) for v in value or ())


def http_api_cors(path: Path = TEMPLATE_PATH) -> Cors | None:
    """The CORS settings of the template's HttpApi, as API Gateway would apply them (None: no CORS)."""
    template = load_template(path)
    parameters = template.get("Parameters", {})
    for resource in template["Resources"].values():
        if resource["Type"] != "AWS::Serverless::HttpApi":
            continue
        config = resource.get("Properties", {}).get("CorsConfiguration")
        if not config:
            return None
        return Cors(
            allow_origins=_resolve_list(config.get("AllowOrigins"), parameters),
            allow_methods=_resolve_list(config.get("AllowMethods"), parameters),
            allow_headers=_resolve_list(config.get("AllowHeaders"), parameters),
            expose_headers=_resolve_list(config.get("ExposeHeaders"), parameters),
            max_age=int(config.get("MaxAge", 0)),
            allow_credentials=bool(config.get("AllowCredentials", False)),
        )
    return None
