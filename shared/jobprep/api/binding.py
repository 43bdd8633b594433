"""A route's arguments from the HTTP API event, with the route's own declarations and Powertools'
own field models, worked out once when the route is registered (the function's INIT).

Powertools' validation middleware re-derives, on every request, how each parameter is read
(scalar or not, model or not, which source) and then runs the response body through its JSON
encoder. Here that analysis is done once, from the same Dependant Powertools builds for the
OpenAPI document (``openapi.dependant.get_dependant``), and each value is validated by the same
field (``ModelField.validate``), so values, error types, locations and messages are the ones
Powertools gives; the resolver runs with its validation middlewares off and still documents
the route from its signature.

What is read, as Powertools reads an HTTP API v2 event:
* path: the route's arguments as the resolver matched them;
* query: ``queryStringParameters`` (a repeated name, which API Gateway joins with commas, is
  validated as the list of its values, so a scalar refuses it);
* header: case-insensitively; API Gateway joins repeated headers with commas;
* body: JSON (no Content-Type, or application/json; anything else is 415), one model per route.
"""

from __future__ import annotations

import functools
import inspect
import re
import typing
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs

from aws_lambda_powertools.event_handler.openapi.compat import ModelField, get_missing_field_error
from aws_lambda_powertools.event_handler.openapi.dependant import get_dependant
from aws_lambda_powertools.event_handler.openapi.exceptions import (
    RequestUnsupportedContentType,
    RequestValidationError,
)
from aws_lambda_powertools.utilities.data_classes.common import BaseProxyEvent

_APPLICATION_JSON = "application/json"


@dataclass(frozen=True)
class _Param:
    """One parameter read from the path, the query string, a header or the body."""

    field: ModelField
    key: str  # the name in its source (headers lower-cased)
    loc: tuple[str, ...]  # where Powertools places its errors: (source, alias), or ("body",)

    def read(self, value: Any, values: dict[str, Any], errors: list[Any]) -> None:
        if value is None:
            if self.field.required:
                errors.append(get_missing_field_error(self.loc))
            else:
                values[self.field.name] = self.field.get_default()
            return
        validated, problems = self.field.validate(value, loc=self.loc)
        if problems:
            errors.extend(problems)
        else:
            values[self.field.name] = validated


def _params(fields: list[ModelField], source: str) -> tuple[_Param, ...]:
    return tuple(_Param(f, f.alias.lower() if source == "header" else f.alias, (source, f.alias)) for f in fields)


class Binding:
    """The arguments of one route function, read from a request."""

    def __init__(self, rule: str, func: Callable[..., Any]) -> None:
        dependant = get_dependant(path=re.sub(r"<(\w+)>", r"{\1}", rule), call=func)
        if dependant.cookie_params or len(dependant.body_params) > 1:
            raise TypeError(f"{func.__name__}: cookies and multi-part bodies are not read by jobprep.api.binding")
        self.path = _params(dependant.path_params, "path")
        self.query = _params(dependant.query_params, "query")
        self.headers = _params(dependant.header_params, "header")
        body = dependant.body_params[0] if dependant.body_params else None
        if body is not None and getattr(body.field_info, "embed", False):
            raise TypeError(f"{func.__name__}: an embedded body is not read by jobprep.api.binding")
        self.body = None if body is None else _Param(body, body.alias, ("body",))

    def arguments(self, event: BaseProxyEvent, path: Mapping[str, str]) -> dict[str, Any]:
        """The validated arguments, or RequestValidationError with every problem found."""
        values: dict[str, Any] = {}
        errors: list[Any] = []
        for param in self.path:
            param.read(path.get(param.key), values, errors)
        if self.query:
            self._read_query(event, values, errors)
        headers = _lower_cased(event.get("headers") or {}) if self.headers or self.body else {}
        for param in self.headers:
            param.read(headers.get(param.key), values, errors)
        if self.body is not None:
            self._read_body(self.body, event, headers, values, errors)
        if errors:
            raise RequestValidationError(errors)
        return values

    def _read_query(self, event: BaseProxyEvent, values: dict[str, Any], errors: list[Any]) -> None:
        query: Mapping[str, str] = event.get("queryStringParameters") or {}
        raw = event.get("rawQueryString") or ""
        repeated = {k for k, v in parse_qs(raw, keep_blank_values=True).items() if len(v) > 1} if "&" in raw else ()
        for param in self.query:
            value: Any = query.get(param.key)
            if value is not None and param.key in repeated:
                value = value.split(",")
            param.read(value, values, errors)

    @staticmethod
    def _read_body(
        param: _Param, event: BaseProxyEvent, headers: Mapping[str, Any], values: dict[str, Any], errors: list[Any]
    ) -> None:
        content_type = str(headers.get("content-type", "")).strip()
        if content_type and not content_type.startswith(_APPLICATION_JSON):
            raise RequestUnsupportedContentType(
                "Unsupported content type",
                errors=[{"type": "unsupported_content_type", "loc": ("body",), "msg": content_type, "input": {}}],
            )
        try:
            body = event.json_body
        except ValueError as exc:  # json.JSONDecodeError, and a body that is not UTF-8
            raise RequestValidationError(
                [{"type": "json_invalid", "loc": ("body",), "msg": "JSON decode error", "input": {}, "ctx": {}}]
            ) from exc
        if isinstance(body, list) and body:
            body = body[0]  # as Powertools hands a non-sequence body (api.request refuses arrays first)
        param.read(body, values, errors)


def _lower_cased(headers: Mapping[str, Any]) -> Mapping[str, Any]:
    # API Gateway's HTTP API sends header names in lower case; other senders may not.
    if all(k == k.lower() for k in headers):
        return headers
    return {str(k).lower(): v for k, v in headers.items()}


def bound(rule: str, func: Callable[..., Any], event: Callable[[], BaseProxyEvent]) -> Callable[..., Any]:
    """What the resolver calls for `func` (with the path arguments it matched): `func` with its
    arguments read by a Binding. It carries `func`'s signature (annotations evaluated), so
    Powertools documents the route from it exactly as before."""
    binding = Binding(rule, func)

    @functools.wraps(func)
    def call(**path: str) -> Any:
        return func(**binding.arguments(event(), path))

    hints = typing.get_type_hints(func, include_extras=True)
    signature = inspect.signature(func)
    call.__signature__ = signature.replace(  # type: ignore[attr-defined]
        parameters=[p.replace(annotation=hints.get(name, p.annotation)) for name, p in signature.parameters.items()],
        return_annotation=hints.get("return", signature.return_annotation),
    )
    return call
