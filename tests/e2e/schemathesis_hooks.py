"""Schemathesis hooks for tests/e2e/test_fuzz_api.py (loaded through tests/e2e/schemathesis.toml)."""

from __future__ import annotations

import itertools
import json
import os
from typing import Any

import schemathesis

_calls = itertools.count()

# Set by the unrouted-paths run to a file: every response is appended there as a JSON line.
UNROUTED_LOG = os.environ.get("JOBPREP_FUZZ_UNROUTED_LOG")
# Appended to every path parameter in that run: two more segments, a shape no route in
# template.yaml has, so API Gateway (and the dev gateway) answers the request itself.
UNROUTED_SUFFIX = "/unrouted/path"


@schemathesis.hook
def before_call(context: schemathesis.HookContext, case: schemathesis.Case[Any], kwargs: dict[str, Any]) -> None:
    """Generated cases are unrelated requests, but short generated Idempotency-Keys repeat ("0"),
    which makes a later case a *reuse* with another body: 422 IDEMPOTENCY_KEY_REUSED, as the IETF
    draft prescribes, and not a schema-valid request rejected. A per-call prefix keeps each key the
    generated one (same characters, still within the schema's 255) while making it new."""
    # The generated headers are the case's (`kwargs` holds only transport overrides, usually none).
    for headers in (case.headers or {}, kwargs.get("headers") or {}):
        for name in list(headers):
            if name.lower() == "idempotency-key" and isinstance(headers[name], str):
                headers[name] = f"{next(_calls)}-{headers[name]}"[:255]
    if UNROUTED_LOG and case.path_parameters:
        # An id holding a slash, as a client that forgets to encode one sends it: every phase's
        # requests (examples, coverage, fuzzing) land on a path no route matches.
        for name, value in list(case.path_parameters.items()):
            case.path_parameters[name] = f"{value}{UNROUTED_SUFFIX}"


@schemathesis.hook
def after_call(context: schemathesis.HookContext, case: schemathesis.Case[Any], response: Any) -> None:
    if UNROUTED_LOG:
        record = {"path": case.formatted_path, "status": response.status_code, "body": response.text}
        with open(UNROUTED_LOG, "a") as log:
            log.write(json.dumps(record) + "\n")
