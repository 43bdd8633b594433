"""The one place logging, metrics and tracing are set up (Powertools). Every function, HTTP or
not, imports its logger, metrics and tracer from here."""

from __future__ import annotations

import functools
import os
from collections.abc import Callable
from typing import Any, TypeVar

from aws_lambda_powertools import Logger, Metrics, Tracer

logger = Logger()
metrics = Metrics()
# X-Ray subsegments for the handler and for what waits on the network (the one SQL statement,
# PutEvents), placed by hand: patching libraries costs init time (every supported module +190-270 ms,
# botocore alone +70-130 ms) against +10-17 ms for this (bench/tracer_init.py, docs/operate.md).
# Disabled outside Lambda.
tracer = Tracer(auto_patch=False)

F = TypeVar("F", bound=Callable[..., Any])

# Lambda's X-Ray header for the current invocation (set per invocation by the runtime).
TRACE_HEADER_ENV = "_X_AMZN_TRACE_ID"


def sampled() -> bool:
    """This invocation is traced: the tracer is on and X-Ray sampled the request. An unsampled
    request's subsegments are never sent, so building them is wasted CPU."""
    return not tracer.disabled and "Sampled=1" in os.environ.get(TRACE_HEADER_ENV, "")


def traced(func: F) -> F:
    """A subsegment around `func` (named as Powertools' capture_method names it) for sampled
    invocations; with tracing off, `func` itself (no wrapper at all)."""
    if tracer.disabled:
        return func
    captured = tracer.capture_method(capture_response=False)(func)  # responses hold user data

    @functools.wraps(func)
    def either(*args: Any, **kwargs: Any) -> Any:
        return captured(*args, **kwargs) if sampled() else func(*args, **kwargs)

    return either  # type: ignore[return-value]
