"""Schemathesis hooks for tests/e2e/test_fuzz_api.py (loaded through tests/e2e/schemathesis.toml)."""

from __future__ import annotations

import itertools
from typing import Any

import schemathesis

_calls = itertools.count()


@schemathesis.hook
def before_call(context: schemathesis.HookContext, case: schemathesis.Case[Any], kwargs: dict[str, Any]) -> None:
    """Generated cases are unrelated requests, but short generated Idempotency-Keys repeat ("0"),
    which makes a later case a *reuse* with another body: 422 IDEMPOTENCY_KEY_REUSED, as the IETF
    draft prescribes, and not a schema-valid request rejected. A per-call prefix keeps each key the
    generated one (same characters, still within the schema's 255) while making it new."""
    headers = kwargs.get("headers") or {}
    for name in list(headers):
        if name.lower() == "idempotency-key" and isinstance(headers[name], str):
            headers[name] = f"{next(_calls)}-{headers[name]}"[:255]
