"""Function "containers" for the dev gateway, the way Lambda runs concurrent invocations.

Each container is one spawned Python process (a single-worker ProcessPoolExecutor) that imports
its function once (the INIT phase: its own jobprep engine, its own database connection) and then
serves one invocation at a time. A function gets a new container when all of its containers are
busy, up to `max_per_function`; after that, requests queue for the next free one. Idle containers
stay warm until the gateway stops.
"""

from __future__ import annotations

import io
import multiprocessing
import os
import signal
import sys
import threading
import time
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from jobprep_local import aws_model
from jobprep_local.apigw import LocalLambdaContext
from jobprep_local.template import FunctionSpec, functions, load_module

DEFAULT_MAX_PER_FUNCTION = 4

# -- in the container process -------------------------------------------------------------------


def _exit_with_parent(parent_pid: int) -> None:
    # A gateway killed without cleanup (SIGKILL) must not leave containers holding connections.
    while os.getppid() == parent_pid:
        time.sleep(1)
    os._exit(0)


class EmfRouter(io.TextIOBase):
    """A container's stdout: EMF metric lines (Powertools prints them as JSON with an "_aws" key)
    go to their own file; everything else to the terminal, a line at a time."""

    def __init__(self, terminal: TextIO, emf: TextIO) -> None:
        self._terminal = terminal
        self._emf = emf
        self._pending = ""

    def writable(self) -> bool:
        return True

    def write(self, text: str) -> int:
        self._pending += text
        *lines, self._pending = self._pending.split("\n")
        for line in lines:
            target = self._emf if line.startswith('{"_aws"') else self._terminal
            target.write(line + "\n")
            target.flush()
        return len(text)

    def flush(self) -> None:
        self._terminal.flush()
        self._emf.flush()


def _init_container(logical_id: str, parent_pid: int, emf_log: str | None) -> None:
    # Ctrl-C in the terminal reaches the whole process group; the gateway decides when we stop.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if emf_log is not None:
        sys.stdout = EmfRouter(sys.stdout, open(emf_log, "a", buffering=1))  # noqa: SIM115 - the process's lifetime
    threading.Thread(target=_exit_with_parent, args=(parent_pid,), name="parent-watch", daemon=True).start()
    os.environ[aws_model.FUNCTION_ENV] = logical_id  # INIT's AWS calls are the function's too
    aws_model.install_from_environment()  # the gateway's --database-mode: judge every AWS call
    load_module(functions()[logical_id])  # Lambda's INIT: module scope (engine, clients) runs once


def _invoke_in_container(logical_id: str, event: dict[str, Any]) -> Any:
    spec = functions()[logical_id]
    handler = getattr(load_module(spec), spec.handler_name)
    with aws_model.acting_as(logical_id):
        return handler(event, LocalLambdaContext(spec.logical_id, timeout_seconds=spec.timeout))


# -- in the gateway -------------------------------------------------------------------------------


class ContainerCrashed(RuntimeError):
    """The container process died mid-invocation (API Gateway would answer 500)."""


@dataclass(eq=False)
class Container:
    logical_id: str
    executor: ProcessPoolExecutor
    invocations: int = 0
    broken: bool = field(default=False)


class ContainerPool:
    def __init__(self, max_per_function: int = DEFAULT_MAX_PER_FUNCTION, emf_log: Path | None = None) -> None:
        self.max_per_function = max_per_function
        self.emf_log = emf_log  # None: EMF lines stay on the terminal
        self._context = multiprocessing.get_context("spawn")  # a fresh interpreter, as a new container
        self._idle: dict[str, list[Container]] = {}
        self._all: dict[str, list[Container]] = {}
        self._changed = threading.Condition()
        self._closed = False

    def invoke(self, spec: FunctionSpec, event: dict[str, Any]) -> Any:
        container = self._acquire(spec.logical_id)
        try:
            return container.executor.submit(_invoke_in_container, spec.logical_id, event).result()
        except BrokenProcessPool as exc:
            container.broken = True
            raise ContainerCrashed(f"{spec.logical_id} container exited") from exc
        finally:
            container.invocations += 1
            self._release(container)

    def sizes(self) -> dict[str, int]:
        with self._changed:
            return {logical_id: len(containers) for logical_id, containers in self._all.items()}

    def close(self) -> None:
        with self._changed:
            self._closed = True
            containers = [c for group in self._all.values() for c in group]
            self._all.clear()
            self._idle.clear()
            self._changed.notify_all()
        for container in containers:
            container.executor.shutdown(wait=True, cancel_futures=True)

    def _acquire(self, logical_id: str) -> Container:
        with self._changed:
            while True:
                if self._closed:
                    raise ContainerCrashed("the gateway is stopping")
                idle = self._idle.setdefault(logical_id, [])
                if idle:
                    return idle.pop()  # the most recently used: the warmest
                group = self._all.setdefault(logical_id, [])
                if len(group) < self.max_per_function:
                    container = Container(logical_id, self._new_executor(logical_id))
                    group.append(container)
                    return container
                self._changed.wait()

    def _release(self, container: Container) -> None:
        with self._changed:
            group = self._all.get(container.logical_id, [])
            if container.broken:
                if container in group:
                    group.remove(container)
                container.executor.shutdown(wait=False, cancel_futures=True)
            elif not self._closed:
                self._idle.setdefault(container.logical_id, []).append(container)
            self._changed.notify()

    def _new_executor(self, logical_id: str) -> ProcessPoolExecutor:
        return ProcessPoolExecutor(
            max_workers=1,
            mp_context=self._context,
            initializer=_init_container,
            initargs=(logical_id, os.getpid(), None if self.emf_log is None else str(self.emf_log)),
        )
