"""One OpenAPI document for the whole API, merged from each function's Powertools resolver."""

from __future__ import annotations

import json
from typing import Any

from jobprep_local.template import FunctionSpec, load_module

TITLE = "job-prep API"
VERSION = "1.0.0"


def build_openapi(specs: dict[str, FunctionSpec], server_url: str | None = None) -> dict[str, Any]:
    document: dict[str, Any] = {
        "openapi": "3.1.0",
        "info": {
            "title": TITLE,
            "version": VERSION,
            "description": "Job infos and practice interviews. Every route needs a JWT (Bearer), except the "
            "identity provider's webhook, which is authenticated by its Svix signature.",
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
            if operation is not None and not route.jwt:
                operation["security"] = []  # `Authorizer: NONE` in the template: no JWT
    return document
