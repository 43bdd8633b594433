"""Run in a fresh interpreter: time one import scenario and print the result as JSON.

argv: handler <path> (a function or the peer) | modules (names on stdin)

handler mode with a JSON list of invocations on stdin ({"events": [e1, e2, e3]}): after the
import (INIT), the first invocation (e1), a warm one (e2), and a warm one after the container's
engines were emptied (e3: warm + a new TLS + SCRAM connection), each timed: wall and CPU.
"""

import functools
import importlib
import importlib.util
import json
import sys
import time
import uuid
from collections.abc import Callable
from typing import Any

OWN = {"jobprep", "jobprep_local", "bench", "handler_under_test"}


class Context:
    """The attributes of Lambda's context object the handlers read."""

    function_name = "ColdBench"
    function_version = "$LATEST"
    memory_limit_in_mb = 512
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:ColdBench"
    log_group_name = "/aws/lambda/ColdBench"
    log_stream_name = "cold"

    def __init__(self) -> None:
        self.aws_request_id = str(uuid.uuid4())

    def get_remaining_time_in_millis(self) -> int:
        return 30_000


def third_party_loaded(before: set[str]) -> list[str]:
    """Modules that importing the handler pulled in, minus the standard library and our own code."""
    return [
        name
        for name in sys.modules
        if name not in before
        and name.split(".")[0] not in sys.stdlib_module_names
        and name.split(".")[0] not in OWN
        and not name.startswith("_")
    ]


def empty_engines() -> None:
    """Close the container's pooled connections (every SQLAlchemy Engine in jobprep's modules)."""
    from sqlalchemy.engine import Engine

    for name, module in list(sys.modules.items()):
        if name.split(".")[0] == "jobprep":
            for value in list(vars(module).values()):
                if isinstance(value, Engine):
                    value.dispose()


def timed(call: Callable[[], Any]) -> tuple[Any, float, float]:
    wall, cpu = time.perf_counter(), time.process_time()
    result = call()
    return result, time.perf_counter() - wall, time.process_time() - cpu


def invoke(handler: Callable[[Any, Any], Any], events: list[dict[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for label, event in zip(("first", "warm", "reconnect"), events, strict=True):
        if label == "reconnect":
            empty_engines()
        response, wall, cpu = timed(functools.partial(handler, event, Context()))
        if not 200 <= response.get("statusCode", 500) < 300:
            raise SystemExit(f"{label} invocation answered {response}")
        out[label] = {"seconds": wall, "cpu_seconds": cpu}
    return out


def main() -> None:
    mode = sys.argv[1]
    stdin = sys.stdin.read()
    names = json.loads(stdin) if mode == "modules" else []
    events = json.loads(stdin)["events"] if mode == "handler" and stdin.strip() else []
    before = set(sys.modules)
    started = time.perf_counter()
    module = None
    if mode == "handler":
        spec = importlib.util.spec_from_file_location("handler_under_test", sys.argv[2])
        assert spec is not None
        assert spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
    elif mode == "modules":
        for name in names:
            try:
                importlib.import_module(name)
            except ImportError:
                continue  # an alias some package registers in sys.modules, not importable by name
    elapsed = time.perf_counter() - started
    result: dict[str, Any] = {"seconds": elapsed, "modules": third_party_loaded(before) if mode == "handler" else []}
    if events:
        # EMF lines and logs go to stdout in Lambda; here they must not mix with the JSON answer
        real_stdout, sys.stdout = sys.stdout, sys.stderr
        assert module is not None
        try:
            result["invocations"] = invoke(module.lambda_handler, events)
        finally:
            sys.stdout = real_stdout
    print(json.dumps(result))


main()
