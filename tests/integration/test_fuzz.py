"""Hypothesis-driven bad input over every route: never a 5xx, and a rejected request changes no row."""

from __future__ import annotations

import json
import os
import uuid
from collections import Counter
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy.engine import Engine

from jobprep_local.openapi import build_openapi
from jobprep_local.template import PROJECT_ROOT, functions
from tests.conftest import EventSink
from tests.integration.conftest import ALL_FEATURES, ApiClient, snapshot

# Bounded in `make test`; `make fuzz` runs many more (JOBPREP_FUZZ_EXAMPLES).
EXAMPLES_PER_ROUTE = int(os.environ.get("JOBPREP_FUZZ_EXAMPLES", "60"))
TALLY: Counter[str] = Counter()

text_any = st.text(st.characters(codec=None, exclude_categories=()), max_size=40)  # NUL and lone surrogates too
scalars = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | text_any
json_values = st.recursive(
    scalars, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(text_any, inner, max_size=4), max_leaves=8
)
junk = json_values | st.text(max_size=300).map(lambda s: s * 100)  # includes over-long strings


def _routes() -> dict[str, dict[str, Any] | None]:
    """Every route in template.yaml, with the body of its sample event in events/."""
    routes: dict[str, dict[str, Any] | None] = {}
    for spec in functions().values():
        sample_file = PROJECT_ROOT / "events" / f"{spec.handler.split('/')[0]}.json"
        for route in (r for r in spec.routes if r.needs_jwt):  # the public webhook has its own tests
            sample = json.loads(sample_file.read_text())
            routes[route.route_key] = json.loads(sample["body"]) if sample.get("body") else None
    return routes


def _body_fields(route_key: str) -> list[str]:
    """The request body's fields, as the OpenAPI document (built from the handlers) declares them."""
    method, path = route_key.split(" ")
    operation = API_DOC["paths"][path][method.lower()]
    schema = operation["requestBody"]["content"]["application/json"]["schema"]
    refs = [s["$ref"] for s in [schema, *schema.get("anyOf", [])] if "$ref" in s]
    return list(API_DOC["components"]["schemas"][refs[0].rsplit("/", 1)[1]]["properties"])


API_DOC = build_openapi(functions())
SAMPLE_BODIES = _routes()
ROUTES = sorted(SAMPLE_BODIES)
VALID_BODIES = {route: body for route, body in SAMPLE_BODIES.items() if body is not None}
FIELDS = {route: _body_fields(route) for route in VALID_BODIES}


@st.composite
def bad_body(draw: st.DrawFn, route: str) -> str | None:
    if route not in VALID_BODIES:
        return draw(st.none() | json_values.map(json.dumps))
    valid = dict(VALID_BODIES[route])
    kind = draw(st.sampled_from(["replace", "extra", "drop", "json", "raw"]))
    if kind == "replace":
        valid[draw(st.sampled_from(FIELDS[route]))] = draw(junk)
    elif kind == "extra":
        valid[draw(text_any.filter(lambda k: k not in FIELDS[route]))] = draw(junk)
    elif kind == "drop":
        return json.dumps({k: v for k, v in valid.items() if k != draw(st.sampled_from(list(valid)))})
    elif kind == "json":
        return json.dumps(draw(json_values))
    else:
        return draw(st.text(max_size=60))
    return json.dumps(valid)


path_segment = st.text(st.characters(exclude_characters="/?#"), min_size=1, max_size=60)


@pytest.mark.parametrize("route", ROUTES)
@settings(
    max_examples=EXAMPLES_PER_ROUTE,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
def test_no_input_breaks_a_route(
    api: ApiClient, event_sink: EventSink, clean_db: Engine, route: str, data: st.DataObject
) -> None:
    if not hasattr(api, "world"):
        job = api.create_job_info()
        question = api.post(f"/job-infos/{job['id']}/questions", {"text": "q", "difficulty": "easy"}).json()
        api.world = {  # type: ignore[attr-defined]
            "jobInfoId": job["id"],
            "interviewId": api.create_interview(job["id"])["id"],
            "questionId": question["id"],
        }
    world: dict[str, str] = api.world  # type: ignore[attr-defined]
    method, template = route.split(" ")
    user = data.draw(st.sampled_from(["alice", "bob"]))
    ids = {name: data.draw(st.sampled_from([value, str(uuid.uuid4())]) | path_segment) for name, value in world.items()}
    if method == "DELETE" and user == "alice":  # keep the fixture rows alive for the other examples
        ids = {name: data.draw(path_segment) for name in ids}
    path = template.format(**ids)
    headers = {"content-type": "application/json"}
    if data.draw(st.booleans()):
        headers["if-match"] = data.draw(text_any)
    if data.draw(st.booleans()):
        headers["idempotency-key"] = data.draw(text_any)
    query = ""
    if method == "GET" and data.draw(st.booleans()):
        query = f"limit={data.draw(text_any)}&cursor={data.draw(text_any)}"
    body = data.draw(bad_body(route))

    match = api.api.match(method, path)
    if match is None:  # API Gateway itself would answer 404 for a path that matches no route
        TALLY["unroutable"] += 1
        return
    before = snapshot(clean_db)
    response = api.api.invoke(
        match, path, headers=headers, query=query, body=body, claims={"sub": user, "fea": ALL_FEATURES}
    )
    TALLY[f"{route} -> {response.status}"] += 1
    TALLY["inputs"] += 1
    assert response.status < 500, (route, path, headers, query, body, response.body)
    assert "Traceback" not in response.body.decode("utf-8", "replace")
    if response.status >= 400:
        assert snapshot(clean_db) == before, (route, response.status, body)
        TALLY["rejected, nothing changed"] += 1
    event_sink.drain()


def test_fuzz_tally() -> None:
    """Runs after the fuzz cases (file order): the figures for the closing note."""
    print("\nfuzz tally:", json.dumps(dict(sorted(TALLY.items())), indent=1))
    if TALLY:
        assert TALLY["inputs"] >= len(ROUTES) * EXAMPLES_PER_ROUTE * 0.8
        assert not any(key.endswith(("-> 500", "-> 502", "-> 503")) for key in TALLY)
