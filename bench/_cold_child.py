"""Run in a fresh interpreter: time one import scenario and print the result as JSON.

argv: handler <path> (a function or the peer) | modules (names on stdin)
"""

import importlib
import importlib.util
import json
import sys
import time

OWN = {"jobprep", "jobprep_local", "bench", "handler_under_test"}


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


def main() -> None:
    mode = sys.argv[1]
    names = json.loads(sys.stdin.read()) if mode == "modules" else []
    before = set(sys.modules)
    started = time.perf_counter()
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
    print(json.dumps({"seconds": elapsed, "modules": third_party_loaded(before) if mode == "handler" else []}))


main()
