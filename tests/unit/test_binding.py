"""jobprep.api.binding against Powertools' own validation middleware, route by route.

For every route of every API function (as template.yaml lists them), the route's signature is
registered twice: on a Powertools resolver with its validation middleware on (the reference)
and on jobprep's resolver (validation off, arguments read by the binding). The same requests go
to both; the answers must be the same: the same status and body for a refusal, the same
validated arguments for an acceptance. The route itself is a probe that echoes its arguments,
so nothing but the reading and validation of the request is compared.
"""

from __future__ import annotations

import copy
import functools
import json
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import urlencode

import pytest
from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic_core import to_jsonable_python

from jobprep.api import binding
from jobprep.api.resolver import Resolver, add_error_handlers
from jobprep_local.apigw import LocalLambdaContext, http_api_event
from jobprep_local.template import Route, functions, load_module

CONTEXT: Any = LocalLambdaContext("binding")


def _registered() -> Iterator[tuple[str, str, Any, Callable[..., Any]]]:
    for spec in functions().values():
        app = getattr(load_module(spec), "app", None) if spec.routes else None
        if isinstance(app, Resolver):
            for rule, method, func in app.registered:
                yield spec.logical_id, rule, method, func


ROUTES = sorted(_registered(), key=lambda r: r[0])


def _probe(func: Callable[..., Any]) -> Callable[..., Any]:
    """`func`'s signature, answering with the arguments it was given."""

    @functools.wraps(func)
    def probe(**values: Any) -> Response[Any]:
        body = json.dumps(to_jsonable_python(values), sort_keys=True)
        return Response(status_code=200, content_type="application/json", body=body)

    return probe


def _resolvers(rule: str, method: str, func: Callable[..., Any]) -> tuple[APIGatewayHttpResolver, Resolver]:
    reference = APIGatewayHttpResolver(enable_validation=True)
    add_error_handlers(reference)
    reference.route(rule, method)(_probe(func))
    ours = Resolver(enable_validation=False)
    add_error_handlers(ours)
    ours.route(rule, method)(_probe(func))
    return reference, ours


def _answer(app: APIGatewayHttpResolver, event: dict[str, Any]) -> tuple[int, Any]:
    response = app.resolve(copy.deepcopy(event), CONTEXT)
    return response["statusCode"], json.loads(response["body"]) if response.get("body") else None


def _event(
    rule: str, method: str, path_value: str, query: list[tuple[str, str]], headers: dict[str, str], body: str | None
) -> dict[str, Any]:
    names = [part[1:-1] for part in rule.split("/") if part.startswith("<")]
    path = rule
    for name in names:
        path = path.replace(f"<{name}>", path_value)
    event = http_api_event(
        Route(method.upper(), rule.replace("<", "{").replace(">", "}")),
        path=path,
        path_parameters=dict.fromkeys(names, path_value) or None,
        query=urlencode(query),
        body=body,
        claims={"sub": "someone"},
    )
    event["headers"] = headers  # as given: other senders keep the case of header names
    return event


def differences(rule: str, method: str, func: Callable[..., Any], events: list[dict[str, Any]]) -> list[Any]:
    reference, ours = _resolvers(rule, method, func)
    found = []
    for event in events:
        expected, got = _answer(reference, event), _answer(ours, event)
        if expected != got:
            found.append({"event": event, "powertools": expected, "binding": got})
    return found


QUERY_NAMES = ["limit", "cursor", "completed", "other"]
QUERY_VALUES = ["", "0", "1", "20", "101", "-1", "abc", "true", "False", "1.5", "yes", "a,b"]
HEADER_NAMES = ["idempotency-key", "Idempotency-Key", "if-match", "IF-MATCH", "if-none-match", "x-other"]
HEADER_VALUES = ["", "k", '"1"', 'W/"2", "3"', "*", "é", "x" * 300, "\x01"]
VALID_BODIES = [  # one for each route that takes a body
    '{"name": "n", "experienceLevel": "junior", "description": "d"}',
    '{"duration": "00:10:00", "humeChatId": "chat"}',
    '{"feedback": "good"}',
    '{"text": "why?", "difficulty": "easy"}',
]
BODY_FIELDS = [
    "name",
    "title",
    "experienceLevel",
    "description",
    "duration",
    "humeChatId",
    "feedback",
    "text",
    "difficulty",
]
JSON_VALUES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-5, 5),
    st.floats(allow_nan=False, allow_infinity=False),
    st.sampled_from(["", "x", "junior", "senior", "00:10:00", "99:99:99", "x" * 300]),
    st.lists(st.integers(), max_size=2),
)
BODIES = st.one_of(
    st.none(),
    st.sampled_from(["", "null", "{}", "[]", "[{}]", '"x"', "1", "{bad", '[{"name": "a"}]', '{"a": {"b": []}}']),
    st.sampled_from(VALID_BODIES),
    st.dictionaries(st.sampled_from([*BODY_FIELDS, "other"]), JSON_VALUES, max_size=5).map(json.dumps),
)


@st.composite
def requests(draw: st.DrawFn) -> tuple[str, list[tuple[str, str]], dict[str, str], str | None]:
    path_value = draw(st.sampled_from(["00000000-0000-4000-8000-000000000001", "not-a-uuid", "x"]))
    query = draw(st.lists(st.tuples(st.sampled_from(QUERY_NAMES), st.sampled_from(QUERY_VALUES)), max_size=4))
    headers = draw(st.dictionaries(st.sampled_from(HEADER_NAMES), st.sampled_from(HEADER_VALUES), max_size=3))
    body = draw(BODIES)
    if body is not None:
        headers[draw(st.sampled_from(["content-type", "Content-Type"]))] = draw(
            st.sampled_from(["application/json", "application/json; charset=utf-8"])
        )
    return path_value, query, headers, body


@pytest.mark.parametrize(("function", "rule", "method", "func"), ROUTES, ids=[r[0] for r in ROUTES])
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(request=requests())
def test_the_binding_answers_as_powertools_validation_does(
    function: str, rule: str, method: str, func: Callable[..., Any], request: Any
) -> None:
    path_value, query, headers, body = request
    event = _event(rule, method, path_value, query, headers, body)
    assert differences(rule, method, func, [event]) == []


# Requests where a mistake in reading them would show: headers in any case, a repeated query
# name, bodies that are null, an array, not JSON, or missing.
TRICKY = [
    ("00000000-0000-4000-8000-000000000001", [], {"Idempotency-Key": "", "If-Match": "x" * 2000}, None),
    ("x", [("limit", "5"), ("limit", "5"), ("completed", "true")], {}, None),
    ("x", [("cursor", "a"), ("cursor", "b")], {}, None),
    ("x", [], {"content-type": "application/json"}, "null"),
    ("x", [], {"content-type": "application/json"}, '[{"name": ""}]'),
    ("x", [], {"content-type": "application/json"}, "{bad"),
    ("x", [], {}, None),
    ("x", [], {"content-type": "application/json"}, '{"name": "x", "experienceLevel": "guru", "feedback": 3}'),
]


def _tricky_differences(routes: list[tuple[str, str, str, Callable[..., Any]]]) -> list[Any]:
    found = []
    for _function, rule, method, func in routes:
        events = [_event(rule, method, *request) for request in TRICKY]
        found += differences(rule, method, func, events)
    return found


def test_the_tricky_requests_agree() -> None:
    assert _tricky_differences(ROUTES) == []


@pytest.mark.parametrize(
    "mistake",
    [
        "header names read case-sensitively",
        "a repeated query name read as its joined value",
        "a JSON null body read as a value",
        "a missing body not refused",
    ],
)
def test_a_planted_mistake_is_found(mistake: str, monkeypatch: pytest.MonkeyPatch) -> None:
    if mistake == "header names read case-sensitively":
        monkeypatch.setattr(binding, "_lower_cased", lambda headers: headers)
    elif mistake == "a repeated query name read as its joined value":
        monkeypatch.setattr(binding, "parse_qs", lambda *_a, **_k: {})
    else:
        skipped = "null" if mistake == "a JSON null body read as a value" else None
        original = binding.Binding._read_body

        def planted(param: Any, event: Any, headers: Any, values: dict[str, Any], errors: list[Any]) -> None:
            if event.get("body") == skipped:
                values[param.field.name] = None
                return
            original(param, event, headers, values, errors)

        monkeypatch.setattr(binding.Binding, "_read_body", staticmethod(planted))
    assert _tricky_differences(ROUTES), f"not found: {mistake}"


def test_a_body_with_another_media_type_is_refused_before_the_route() -> None:
    """Powertools would parse a form or multipart body; this API reads JSON only (415). With a
    body, api.request.body_problem answers 415 before routing; this is the empty-body case."""
    _function, rule, method, func = next(r for r in ROUTES if r[1] == "/job-infos" and r[2] == "POST")
    _, ours = _resolvers(rule, method, func)
    event = _event(rule, method, "x", [], {"content-type": "application/x-www-form-urlencoded"}, "")
    status, body = _answer(ours, event)
    assert status == 415, body


def test_every_api_function_is_compared() -> None:
    with_routes = {spec.logical_id for spec in functions().values() if spec.routes}
    assert {r[0] for r in ROUTES} == with_routes
