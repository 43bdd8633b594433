"""Fire the template's scheduled events (outbox relay, keep-warm) on their rate() expressions."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

from jobprep_local.template import FunctionSpec, Schedule


class LocalScheduler:
    def __init__(
        self,
        specs: dict[str, FunctionSpec],
        fire: Callable[[str], Any],
        scale: float = 1.0,
    ) -> None:
        # scale < 1 runs schedules faster (tests); only schedules enabled by default are fired.
        self.jobs: list[tuple[FunctionSpec, Schedule, float]] = [
            (spec, schedule, schedule.interval_seconds * scale)
            for spec in specs.values()
            for schedule in spec.schedules
            if schedule.enabled_by_default
        ]
        self._fire = fire
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="scheduler", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self, wait: bool = True) -> None:
        """No schedule fires after this; wait: until a run in progress has ended (5 s at most)."""
        self._stop.set()
        if wait and self._thread.is_alive():
            self._thread.join(5)

    def _run(self) -> None:
        due = {i: time.monotonic() + interval for i, (_, _, interval) in enumerate(self.jobs)}
        while not self._stop.is_set():
            now = time.monotonic()
            for i, (spec, schedule, interval) in enumerate(self.jobs):
                if now >= due[i]:
                    due[i] = now + interval
                    try:
                        result = self._fire(spec.logical_id)
                        print(
                            f"[schedule] {spec.logical_id}.{schedule.name} ({schedule.expression}): {result}",
                            flush=True,
                        )
                    except Exception as exc:  # a failing run is logged, the next one still happens
                        print(f"[schedule] {spec.logical_id}.{schedule.name} failed: {exc!r}", flush=True)
            self._stop.wait(min([*due.values(), now + 1]) - now if due else 1)
