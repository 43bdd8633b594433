"""Where a warm invocation's client CPU goes: cProfile over a batch of back-to-back invocations,
self time grouped by library (psycopg, sqlalchemy, powertools, pydantic, jobprep, other) plus the
top frames by self time. Timed by CPU time (process_time), so a frame that waits on the socket
shows only its CPU, and other processes competing for the cores do not inflate it.

C functions (a builtin, psycopg_binary's or pydantic-core's methods) have no file of their own:
their self time is charged to the library of whoever called them, split by caller as cProfile
records it, so a `dict.get` inside SQLAlchemy counts as SQLAlchemy. cProfile's own overhead
inflates frames that make many small calls; the shares are a map, the CPU column is the measure.
"""

from __future__ import annotations

import cProfile
import pstats
import time
from collections import defaultdict
from collections.abc import Callable
from typing import Any

LIBRARIES = ("psycopg", "sqlalchemy", "powertools", "pydantic", "jobprep", "other")
# path fragment -> library, first match wins
_PATHS = (
    ("/psycopg", "psycopg"),  # psycopg, psycopg_binary
    ("/sqlalchemy/", "sqlalchemy"),
    ("/aws_lambda_powertools/", "powertools"),
    ("/pydantic", "pydantic"),  # pydantic, pydantic_core
    ("/jobprep/", "jobprep"),
    ("/functions/", "jobprep"),  # the handlers themselves
)

Func = tuple[str, int, str]


def library(filename: str) -> str | None:
    """The library a frame's file belongs to; None for C functions (no file)."""
    if filename == "~" or filename.startswith("<"):
        return None
    for fragment, name in _PATHS:
        if fragment in filename:
            return name
    return "other"


def _label(func: Func) -> str:
    filename, line, name = func
    if filename == "~":
        return name
    for marker in ("site-packages/", "/shared/", "/functions/", "/lib/python"):
        if marker in filename:
            filename = filename.split(marker, 1)[1]
            break
    return f"{filename}:{line}({name})"


def summarise(stats: pstats.Stats, invocations: int, top: int = 40) -> dict[str, Any]:
    raw: dict[Func, Any] = stats.stats  # type: ignore[attr-defined]  # pstats' documented table
    by_library: dict[str, float] = defaultdict(float)
    frames: list[tuple[float, str, str]] = []

    def owner(func: Func, seen: frozenset[Func] = frozenset()) -> dict[str, float]:
        """Library -> fraction of this function's self time (C functions: by caller)."""
        lib = library(func[0])
        if lib is not None:
            return {lib: 1.0}
        callers = raw[func][4]
        total = sum(entry[2] for entry in callers.values())
        if not callers or total <= 0 or func in seen:
            return {"other": 1.0}
        shares: dict[str, float] = defaultdict(float)
        for caller, entry in callers.items():
            if caller not in raw:
                shares["other"] += entry[2] / total
                continue
            for name, share in owner(caller, seen | {func}).items():
                shares[name] += share * entry[2] / total
        return shares

    for func, (_cc, _nc, tottime, _ct, _callers) in raw.items():
        if tottime <= 0:
            continue
        shares = owner(func)
        for name, share in shares.items():
            by_library[name] += tottime * share
        main = max(shares, key=lambda k: shares[k])
        frames.append((tottime, main, _label(func)))
    total = sum(by_library.values()) or 1.0
    frames.sort(reverse=True)
    return {
        "invocations": invocations,
        "profiled_us_per_invocation": total / invocations * 1e6,
        "shares": {name: by_library.get(name, 0.0) / total for name in LIBRARIES},
        "top": [
            {"share": seconds / total, "library": lib, "frame": label, "us_per_invocation": seconds / invocations * 1e6}
            for seconds, lib, label in frames[:top]
        ],
    }


def profile(call: Callable[[int], Any], invocations: int) -> dict[str, Any]:
    """`invocations` back-to-back calls under cProfile (warm: the caller has warmed them up)."""
    # CPU time, not wall time: waiting on the socket is the round trip, not client work
    profiler = cProfile.Profile(time.process_time)
    profiler.enable()
    for i in range(invocations):
        call(i)
    profiler.disable()
    return summarise(pstats.Stats(profiler), invocations)
