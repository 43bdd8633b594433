"""Route HTTP requests to the template's functions and invoke their real lambda_handler."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from jobprep_local.apigw import LocalLambdaContext, http_api_event, scheduled_event
from jobprep_local.aws_model import acting_as
from jobprep_local.template import FunctionSpec, Route, functions, load_module


@dataclass(frozen=True)
class LambdaHttpResponse:
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body) if self.body else None


@dataclass(frozen=True)
class Match:
    spec: FunctionSpec
    route: Route
    path_parameters: dict[str, str]


class LocalApi:
    """What API Gateway does between the client and the functions: route, build the event, invoke.

    By default functions run in this process (the tests); the dev gateway passes `invoker`, a
    pool of container processes (jobprep_local.containers)."""

    def __init__(
        self,
        specs: dict[str, FunctionSpec] | None = None,
        invoker: Callable[[FunctionSpec, dict[str, Any]], Any] | None = None,
    ) -> None:
        self.specs = specs if specs is not None else functions()
        self.routes = [(route, spec) for spec in self.specs.values() for route in spec.routes]
        self._invoker = invoker

    def match(self, method: str, path: str) -> Match | None:
        for route, spec in self.routes:
            params = route.match(method, path)
            if params is not None:
                return Match(spec, route, params)
        return None

    def invoke_function(self, spec: FunctionSpec, event: dict[str, Any]) -> Any:
        if self._invoker is not None:
            return self._invoker(spec, event)
        handler = getattr(load_module(spec), spec.handler_name)
        with acting_as(spec.logical_id):  # its AWS calls are judged as its role's (aws_model)
            return handler(event, LocalLambdaContext(spec.logical_id, timeout_seconds=spec.timeout))

    def invoke(
        self,
        match: Match,
        path: str,
        *,
        headers: dict[str, str] | None = None,
        query: str = "",
        body: bytes | str | None = None,
        claims: dict[str, Any] | None = None,
    ) -> LambdaHttpResponse:
        event = http_api_event(
            match.route,
            path=path,
            path_parameters=match.path_parameters,
            headers=headers,
            query=query,
            body=body,
            claims=claims,
        )
        result = self.invoke_function(match.spec, event)
        raw = result.get("body") or ""
        payload = base64.b64decode(raw) if result.get("isBase64Encoded") else raw.encode()
        response_headers = {k.lower(): str(v) for k, v in (result.get("headers") or {}).items()}
        return LambdaHttpResponse(int(result["statusCode"]), response_headers, payload)

    def fire_schedule(self, logical_id: str) -> Any:
        return self.invoke_function(self.specs[logical_id], scheduled_event(logical_id))
