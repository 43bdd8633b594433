"""The OpenAPI document: committed, equal to what the code declares, complete, and guarded against
breaking changes by api-smart-diff."""

from __future__ import annotations

import copy
import json
import subprocess
from pathlib import Path
from typing import Any

import pytest

from jobprep_local import breaking
from jobprep_local.openapi import COMMITTED_PATH, build_openapi, committed_document, render
from jobprep_local.template import functions


@pytest.fixture(scope="module")
def document() -> dict[str, Any]:
    return build_openapi(functions())


def operations(document: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [(path, method, op) for path, item in document["paths"].items() for method, op in item.items()]


def test_the_committed_document_is_what_the_code_declares(document: dict[str, Any]) -> None:
    assert COMMITTED_PATH.read_text() == render(document), (
        "openapi.json differs from the code's OpenAPI: run `make openapi` and commit openapi.json"
    )


def expected_statuses(path: str, method: str) -> set[int]:
    """What a route can answer, from its shape: so a new route needs no edit here."""
    statuses = {401, 422, 429, 503}  # no identity, a bad parameter, throttling, no database
    success = {"get": 200, "post": 201, "patch": 200, "delete": 204}[method]
    if path.startswith("/webhooks/"):
        success = 204  # acknowledged, nothing to return
        statuses.add(409)  # a delivery that depends on one not yet arrived: the sender retries it
    statuses.add(success)
    if method in ("post", "patch"):
        statuses |= {400, 415}  # the body: malformed / not JSON
    if "{" in path:
        statuses.add(404)  # missing or another user's
    if method in ("patch", "delete"):
        statuses.add(412)  # If-Match
    if method == "get" and (path.endswith("Id}") or path in ("/me", "/job-infos/{jobInfoId}/questions")):
        statuses.add(304)  # If-None-Match: a GET of one resource, or a page with a body-hash ETag
    if method == "post" and path in ("/job-infos/{jobInfoId}/interviews", "/job-infos/{jobInfoId}/questions"):
        statuses.add(403)  # the plan limit
    if (path, method) == ("/interviews/{interviewId}", "patch"):
        statuses.add(409)  # humeChatId set once, feedback only once it is set
    return statuses


def test_every_operation_declares_the_statuses_it_can_answer(document: dict[str, Any]) -> None:
    declared = {(path, method): {int(s) for s in op["responses"]} for path, method, op in operations(document)}
    assert declared == {key: expected_statuses(*key) for key in declared}
    routes = {(r.path, r.method.lower()) for spec in functions().values() for r in spec.routes}
    assert set(declared) == routes, "the document has exactly the template's routes"


def test_bodies_and_headers_are_declared(document: dict[str, Any]) -> None:
    ref = "#/components/schemas/"
    for path, method, op in operations(document):
        for status, response in op["responses"].items():
            if status in ("204", "304"):
                assert "content" not in response, f"{method} {path} {status} has no body"
                continue
            schema = response["content"]["application/json"]["schema"]
            refs = {s["$ref"] for s in schema.get("anyOf", [schema])}
            if status == "422":
                assert refs == {ref + "ValidationErrorBody"}
            elif status == "401" and op.get("security") == []:  # no authorizer: only the function answers 401
                assert refs == {ref + "ErrorBody"}
            elif status in ("401", "404", "429", "503"):  # API Gateway answers these too (404: no route matches)
                assert refs == {ref + "ErrorBody", ref + "GatewayErrorBody"}
            elif (path, method, status) == ("/interviews/{interviewId}", "patch", "409"):
                assert refs == {ref + "InterviewConflictBody"}  # its codes, as an enum
            elif int(status) >= 400:
                assert refs == {ref + "ErrorBody"}
        for status in ("200", "304"):
            if (path.endswith("Id}") or path == "/me") and method in ("get", "patch") and status in op["responses"]:
                assert op["responses"][status]["headers"]["ETag"]["required"] is True
        if "201" in op["responses"]:
            assert set(op["responses"]["201"]["headers"]) == {"Location", "ETag", "Idempotent-Replayed"}
        for status in ("429", "503"):
            assert "Retry-After" in op["responses"][status]["headers"]
    schemas = document["components"]["schemas"]
    assert set(schemas["ValidationErrorBody"]["required"]) == {"statusCode", "code", "message", "detail"}
    assert "HTTPValidationError" not in schemas  # Powertools' default 422 shape is not what we send


@pytest.mark.parametrize(
    ("schema", "fields"),
    [("JobInfoUpdate", ["name", "experienceLevel", "description"]), ("InterviewUpdate", ["duration"])],
)
def test_patch_fields_may_be_omitted_but_not_null(document: dict[str, Any], schema: str, fields: list[str]) -> None:
    model = document["components"]["schemas"][schema]
    assert "required" not in model
    assert model["minProperties"] == 1
    assert model["additionalProperties"] is False
    for field in fields:
        assert "anyOf" not in model["properties"][field], f"{schema}.{field} is not nullable"
        assert model["properties"][field]["type"] == "string"
    nullable = set(model["properties"]) - set(fields)
    for field in nullable:  # title, humeChatId, feedback: null clears them
        assert {"type": "null"} in model["properties"][field]["anyOf"]


def test_optional_parameters_are_not_nullable(document: dict[str, Any]) -> None:
    for _path, _method, op in operations(document):
        for parameter in op.get("parameters", []):
            assert "anyOf" not in parameter["schema"], parameter


# -- breaking changes ------------------------------------------------------------------------------


def _mutated(change: str) -> dict[str, Any]:
    doc = copy.deepcopy(committed_document())
    schemas = doc["components"]["schemas"]
    if change == "new required request field":
        schemas["JobInfoCreate"]["required"].append("title")
    elif change == "removed operation":
        del doc["paths"]["/interviews/{interviewId}"]["patch"]
    elif change == "narrower request field":
        schemas["JobInfoCreate"]["properties"]["name"]["maxLength"] = 10
    elif change == "removed response field":
        del schemas["JobInfoOut"]["properties"]["title"]
    elif change == "new optional response field":
        schemas["JobInfoOut"]["properties"]["archived"] = {"type": "boolean"}
    elif change == "new operation":
        doc["paths"]["/health"] = {"get": {"responses": {"200": {"description": "OK"}}}}
    elif change == "reworded description":
        doc["info"]["description"] = "Reworded."
    return doc


@pytest.mark.parametrize(
    ("change", "is_breaking"),
    [
        ("new required request field", True),
        ("removed operation", True),
        ("narrower request field", True),
        ("removed response field", True),
        ("new optional response field", False),
        ("new operation", False),
        ("reworded description", False),
    ],
)
def test_api_smart_diff_classifies_changes(change: str, is_breaking: bool) -> None:
    found, report = breaking.compare(COMMITTED_PATH.read_text(), json.dumps(_mutated(change)))
    assert found is is_breaking, report


def _commit(repo: Path, document: dict[str, Any], message: str) -> None:
    (repo / "openapi.json").write_text(json.dumps(document, indent=2))
    subprocess.run(["git", "-C", str(repo), "add", "openapi.json"], check=True)
    subprocess.run(
        ["git", "-C", str(repo), "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", message], check=True
    )


def test_a_breaking_change_fails_unless_the_major_version_is_bumped(tmp_path: Path) -> None:
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    path = tmp_path / "openapi.json"
    _commit(tmp_path, committed_document(), "v1")
    assert breaking.check(path).ok  # nothing to compare with yet

    changed = _mutated("removed operation")
    path.write_text(json.dumps(changed, indent=2))  # edited, not committed: compared with HEAD's
    verdict = breaking.check(path)
    assert not verdict.ok
    assert "breaking: remove at paths > /interviews/{interviewId} > patch" in verdict.report
    _commit(tmp_path, changed, "break it")  # committed: compared with the version before, still refused
    assert not breaking.check(path).ok

    subprocess.run(["git", "-C", str(tmp_path), "reset", "-q", "--hard", "HEAD~1"], check=True)
    before = breaking.major(json.dumps(committed_document()))
    changed["info"]["version"] = f"{before + 1}.0.0"  # the deliberate way: a new major version with the change
    _commit(tmp_path, changed, "break it, next major")
    verdict = breaking.check(path)
    assert verdict.ok
    assert f"accepted: info.version's major went {before} -> {before + 1}" in verdict.report

    additive = copy.deepcopy(changed)
    additive["components"]["schemas"]["JobInfoOut"]["properties"]["archived"] = {"type": "boolean"}
    _commit(tmp_path, additive, "additive")
    assert breaking.check(path).ok  # compared with the new major, not with the one before


def test_the_committed_document_has_no_unaccepted_breaking_change() -> None:
    verdict = breaking.check()
    assert verdict.ok, verdict.report
