"""Function "containers" for the dev gateway, the way Lambda runs concurrent invocations.

Each container is one Python process that imports its function once (the INIT phase: its own
jobprep engine, its own database connection) and then serves one invocation at a time over a pipe.
A function gets a new container when all of its containers are busy, up to `max_per_function`;
after that, requests queue for the next free one. Idle containers stay warm until the gateway stops.

Containers are forked from a forkserver that ran every function's INIT once (snapshot.py), the way
SnapStart restores environments from one snapshot: each container runs the layer's after-restore
hook and opens its own database connection on its first request, so that request takes a fraction
of a second. A fresh interpreter spent 2 s of CPU importing a function, or 5.5 s when
PYTHONDONTWRITEBYTECODE=1 left every module to compile from source. docs/dev-server.md has the
timings. Stopping
closes each container's pipe: it drops its database connection and exits at once, as Lambda
discards an environment (no interpreter teardown to wait for).
"""

from __future__ import annotations

import contextlib
import io
import multiprocessing
import os
import signal
import sys
import threading
import time
import traceback
from multiprocessing import forkserver
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any, TextIO

import psutil

from jobprep_local import aws_model
from jobprep_local.apigw import LocalLambdaContext
from jobprep_local.template import FunctionSpec, functions, load_module

DEFAULT_MAX_PER_FUNCTION = 4
STOP_SECONDS = 1.0  # after that a container that has not exited is killed

# -- in the container process -------------------------------------------------------------------


def _exit_with_parent(parent_pid: int) -> None:
    # A gateway killed without cleanup (SIGKILL) must not leave containers holding connections: the
    # forkserver exits with it, and its containers are handed to another parent.
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


def _init_container(logical_id: str, emf_log: str | None) -> None:
    # Ctrl-C in the terminal reaches the whole process group; the gateway decides when we stop.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    if emf_log is not None:
        sys.stdout = EmfRouter(sys.stdout, open(emf_log, "a", buffering=1))  # noqa: SIM115 - the process's lifetime
    threading.Thread(target=_exit_with_parent, args=(os.getppid(),), name="parent-watch", daemon=True).start()
    os.environ[aws_model.FUNCTION_ENV] = logical_id  # from here on, AWS calls are the function's
    aws_model.install_from_environment()  # the gateway's --database-mode: judge every AWS call
    # Lambda's INIT (module scope: engine, clients), done in the forkserver unless it failed there
    load_module(functions()[logical_id])
    snapstart = sys.modules.get("jobprep.snapstart")
    if snapstart is not None:
        snapstart.after_restore()  # what a restored SnapStart environment runs: nothing shared survives


def _invoke_in_container(logical_id: str, event: dict[str, Any]) -> Any:
    spec = functions()[logical_id]
    handler = getattr(load_module(spec), spec.handler_name)
    with aws_model.acting_as(logical_id):
        return handler(event, LocalLambdaContext(spec.logical_id, timeout_seconds=spec.timeout))


def _serve(connection: Connection, logical_id: str, emf_log: str | None) -> None:
    """A container's life: INIT, then one invocation per message until the gateway hangs up."""
    try:
        _init_container(logical_id, emf_log)
    except BaseException:
        traceback.print_exc()  # the INIT failure, as Lambda logs it; the gateway sees the pipe close
        os._exit(1)
    while True:
        try:
            event = connection.recv()
        except (EOFError, OSError):
            break
        try:
            reply: tuple[bool, Any] = (True, _invoke_in_container(logical_id, event))
        except Exception:
            traceback.print_exc()  # Lambda logs an unhandled error; API Gateway answers 500
            reply = (False, traceback.format_exc(limit=-3))
        try:
            connection.send(reply)
        except OSError:  # the gateway hung up mid-invocation: it is stopping
            break
    engine = sys.modules.get("jobprep.db.engine")
    if engine is not None:
        engine.engine.dispose()  # the server sees a goodbye, not a dropped socket
    sys.stdout.flush()
    os._exit(0)


# -- in the gateway -------------------------------------------------------------------------------


class ContainerCrashed(RuntimeError):
    """The container process died mid-invocation, or the function raised (API Gateway answers 500)."""


class Container:
    """One container process and the gateway's end of its pipe."""

    def __init__(self, context: Any, logical_id: str, emf_log: Path | None) -> None:
        self.logical_id = logical_id
        self.invocations = 0
        self.broken = False
        self._connection, theirs = context.Pipe()
        self.process = context.Process(
            target=_serve,
            args=(theirs, logical_id, None if emf_log is None else str(emf_log)),
            name=f"container {logical_id}",
            daemon=True,
        )
        self._theirs: Connection | None = theirs

    def invoke(self, event: dict[str, Any]) -> Any:
        if self._theirs is not None:  # the first invocation starts it (outside the pool's lock)
            self.process.start()
            self._theirs.close()
            self._theirs = None
        try:
            self._connection.send(event)
            ok, value = self._connection.recv()
        except (EOFError, OSError) as exc:
            self.broken = True
            raise ContainerCrashed(f"{self.logical_id} container exited") from exc
        if not ok:
            raise ContainerCrashed(f"{self.logical_id} raised:\n{value}")
        return value

    def hang_up(self) -> None:
        """The container exits as soon as it reads the end of its pipe (after a running invocation)."""
        self._connection.close()

    def join(self, deadline: float) -> None:
        if self._theirs is not None:
            return  # never started
        self.process.join(max(0.0, deadline - time.monotonic()))
        if self.process.is_alive():
            self.process.kill()
            self.process.join(1)


class ContainerPool:
    def __init__(self, max_per_function: int = DEFAULT_MAX_PER_FUNCTION, emf_log: Path | None = None) -> None:
        self.max_per_function = max_per_function
        self.emf_log = emf_log  # None: EMF lines stay on the terminal
        self._idle: dict[str, list[Container]] = {}
        self._all: dict[str, list[Container]] = {}
        self._changed = threading.Condition()
        self._closed = False
        # Containers are forked from a server that ran every function's INIT once; it starts now
        # and runs them while the gateway goes on starting (ready() waits for it). It inherits the
        # environment as it is now: the functions' settings must be in place.
        self._context = multiprocessing.get_context("forkserver")
        self._context.set_forkserver_preload(["jobprep_local.containers", "jobprep_local.snapshot"])
        forkserver.ensure_running()

    def ready(self) -> None:
        """Wait until the forkserver can fork containers (every INIT done): from then on the first
        request to a function costs a fork and a database connection."""
        probe = self._context.Process(target=time.sleep, args=(0,), daemon=True)
        probe.start()
        probe.join()

    def invoke(self, spec: FunctionSpec, event: dict[str, Any]) -> Any:
        container = self._acquire(spec.logical_id)
        try:
            return container.invoke(event)
        finally:
            container.invocations += 1
            self._release(container)

    def sizes(self) -> dict[str, int]:
        with self._changed:
            return {logical_id: len(containers) for logical_id, containers in self._all.items()}

    def close(self) -> None:
        """Every container exits (a running invocation finishes first); waits STOP_SECONDS at most."""
        with self._changed:
            self._closed = True
            containers = [c for group in self._all.values() for c in group]
            self._all.clear()
            self._idle.clear()
            self._changed.notify_all()
        for container in containers:
            container.hang_up()
        deadline = time.monotonic() + STOP_SECONDS
        for container in containers:
            container.join(deadline)
        # The forkserver would exit after the gateway, tearing down every module it imported first
        # (seconds on a busy machine). It holds no connection: stop it now.
        for child in psutil.Process().children():
            with contextlib.suppress(psutil.Error):
                if "multiprocessing.forkserver" in " ".join(child.cmdline()):
                    child.terminate()

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
                    container = Container(self._context, logical_id, self.emf_log)
                    group.append(container)
                    return container
                self._changed.wait()

    def _release(self, container: Container) -> None:
        with self._changed:
            group = self._all.get(container.logical_id, [])
            if container.broken:
                if container in group:
                    group.remove(container)
                container.hang_up()
            elif not self._closed:
                self._idle.setdefault(container.logical_id, []).append(container)
            self._changed.notify()
