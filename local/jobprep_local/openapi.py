"""One OpenAPI document for the whole API, merged from each function's Powertools resolver.

The committed copy is openapi.json at the repository root (`make openapi` rewrites it); the
tests fail when it and the code disagree, and `make openapi-breaking` compares it with the
previous committed version."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from jobprep_local.template import PROJECT_ROOT, FunctionSpec, load_module

TITLE = "job-prep API"
# Semantic version of the contract. A breaking change (see docs/api-contract.md) is accepted only
# with a new major version here. 2.0.0: a 404 may also be API Gateway's own {"message"} body.
# 2.1.0: DELETE /interviews/{interviewId}, PATCH /interviews/{interviewId}'s 409, ?completed on its list.
# 2.2.0: questions (POST/GET /job-infos/{jobInfoId}/questions, GET /questions/{questionId}).
VERSION = "2.2.0"
COMMITTED_PATH = PROJECT_ROOT / "openapi.json"
_REF_PREFIX = "#/components/schemas/"


def build_openapi(specs: dict[str, FunctionSpec], server_url: str | None = None) -> dict[str, Any]:
    document: dict[str, Any] = {
        "openapi": "3.1.0",
        "info": {
            "title": TITLE,
            "version": VERSION,
            "description": "Job infos and practice interviews. Every route needs a JWT (Bearer), except the "
            "identity provider's webhook, which is authenticated by its Svix signature. Errors share one "
            "body, ErrorBody {statusCode, code, message}; a 422 adds detail[] (ValidationErrorBody).",
        },
        "paths": {},
        "components": {
            "schemas": {},
            "securitySchemes": {"bearerAuth": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}},
        },
        "security": [{"bearerAuth": []}],
    }
    if server_url:
        document["servers"] = [{"url": server_url}]
    for spec in specs.values():
        if not spec.routes:
            continue
        app = getattr(load_module(spec), "app", None)
        if app is None:
            continue
        part = json.loads(app.get_openapi_json_schema(title=TITLE, version=VERSION))
        for path, operations in part.get("paths", {}).items():
            document["paths"].setdefault(path, {}).update(operations)
        document["components"]["schemas"].update(part.get("components", {}).get("schemas", {}))
        for route in spec.routes:
            operation = document["paths"].get(route.path, {}).get(route.method.lower())
            if operation is not None and not route.needs_jwt:
                operation["security"] = []  # `Authorizer: NONE` in the template: no JWT
    for item in document["paths"].values():
        for operation in item.values():
            _tidy_operation(operation)
    _drop_unreferenced_schemas(document)
    return document


def _tidy_operation(operation: dict[str, Any]) -> None:
    """What the per-function documents say loosely, said exactly for the published one."""
    for parameter in operation.get("parameters", []):
        # An optional parameter is absent or a string: a query string or header cannot carry null.
        schema = parameter.get("schema", {})
        options = schema.get("anyOf")
        if not parameter.get("required") and options and {"type": "null"} in options:
            rest = [o for o in options if o != {"type": "null"}]
            del schema["anyOf"]
            schema.update(rest[0] if len(rest) == 1 else {"anyOf": rest})
    responses = operation.get("responses", {})
    for response in responses.values():
        if response.get("content") == {}:
            del response["content"]  # no body (204, 304)
    operation["responses"] = {code: responses[code] for code in sorted(responses, key=int)}


def _drop_unreferenced_schemas(document: dict[str, Any]) -> None:
    # Powertools registers its default validation-error schemas on every resolver; ours replace them.
    schemas: dict[str, Any] = document["components"]["schemas"]
    reachable: set[str] = set()
    pending = [document["paths"]]
    while pending:
        node = pending.pop()
        if isinstance(node, dict):
            ref = node.get("$ref")
            if isinstance(ref, str) and ref.startswith(_REF_PREFIX) and ref[len(_REF_PREFIX) :] not in reachable:
                name = ref[len(_REF_PREFIX) :]
                reachable.add(name)
                pending.append(schemas.get(name))
            pending.extend(node.values())
        elif isinstance(node, list):
            pending.extend(node)
    document["components"]["schemas"] = {name: schemas[name] for name in sorted(reachable)}


def render(document: dict[str, Any]) -> str:
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


def committed_document(path: Path = COMMITTED_PATH) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(path.read_text())
    return loaded
