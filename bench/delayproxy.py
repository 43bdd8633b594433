"""A TCP proxy that adds a fixed round-trip time, and counts the round trips clients wait for.

It runs in a process of its own, so its CPU never shows up as the client's. Every chunk read
from one side is written to the other half the RTT later (per direction, order kept), which is
what a network link with that latency does; TLS passes through untouched (end to end).

Round trips: a client->server flight followed by the server's answer is one round trip the
client waited for. Counted just before the first answer byte is passed on, i.e. before the client
can see it: once a call has returned, its round trips are counted. A flight the client does not
wait for (pipelined behind others, or answered while the client is idle) merges with the next
one or falls between calls, so it is not counted against a call; nor is the answer to a client
that has hung up (the server's TLS close after a Terminate).
"""

from __future__ import annotations

import contextlib
import multiprocessing
import queue
import socket
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

TURNS, CONNECTIONS = 0, 1

# The last stretch of a delay is spun (yielding the GIL) rather than slept: a sleeping thread
# oversleeps by its timer slack (50 us), and a vCPU idle for a millisecond can take a few hundred
# microseconds to wake up; either would lengthen the RTT.
SPIN_SECONDS = 0.0003


def _sleep_until(due: float) -> None:
    clock = time.perf_counter
    if (wait := due - clock() - SPIN_SECONDS) > 0:
        time.sleep(wait)
    while clock() < due:
        time.sleep(0)


_COUNTING = threading.Lock()  # links run in threads; the shared counters are plain memory


def _nothing() -> None:
    pass


class _Link:
    """One proxied connection: two pumps, each a reader and a delayed writer."""

    def __init__(self, client: socket.socket, server: socket.socket, delay: Any, counters: Any) -> None:
        self.delay, self.counters = delay, counters
        self.awaiting_answer = False
        self.client_closed = False  # a client that hung up is not waiting for the answer to its last flight
        self.sockets, self.open_pumps = (client, server), 2
        for sock in (client, server):
            if sock.family != socket.AF_UNIX:
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self._pump(client, server, on_read=self._client_sent, on_eof=self._client_hung_up)
        self._pump(server, client, on_deliver=self._server_answered)

    def _client_sent(self) -> None:
        with _COUNTING:
            self.awaiting_answer = True

    def _client_hung_up(self) -> None:
        with _COUNTING:
            self.client_closed = True

    def _server_answered(self) -> None:
        with _COUNTING:
            if self.awaiting_answer and not self.client_closed:
                self.awaiting_answer = False
                self.counters[TURNS] += 1

    def _pump_done(self) -> None:
        with _COUNTING:
            self.open_pumps -= 1
            if self.open_pumps:
                return
        for sock in self.sockets:
            sock.close()

    def _pump(
        self,
        source: socket.socket,
        target: socket.socket,
        on_read: Callable[[], None] = _nothing,
        on_deliver: Callable[[], None] = _nothing,
        on_eof: Callable[[], None] = _nothing,
    ) -> None:
        pending: queue.SimpleQueue[tuple[float, bytes] | None] = queue.SimpleQueue()

        def read() -> None:
            try:
                while data := source.recv(65536):
                    on_read()
                    pending.put((time.perf_counter() + self.delay.value, data))
            except OSError:
                pass
            on_eof()
            pending.put(None)

        def write() -> None:
            try:
                while (item := pending.get()) is not None:
                    due, data = item
                    _sleep_until(due)
                    on_deliver()
                    target.sendall(data)
                target.shutdown(socket.SHUT_WR)
            except OSError:
                pass
            finally:
                with contextlib.suppress(OSError):
                    source.shutdown(socket.SHUT_RD)
                self._pump_done()

        threading.Thread(target=read, daemon=True).start()
        threading.Thread(target=write, daemon=True).start()


Upstream = tuple[str, int] | str  # (host, port), or the path of a Unix socket


def _connect(upstream: Upstream) -> socket.socket:
    if isinstance(upstream, str):
        server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        server.connect(upstream)
        return server
    return socket.create_connection(upstream)


def _serve(upstream: Upstream, delay: Any, counters: Any, port: Any, ready: Any) -> None:
    listener = socket.create_server(("127.0.0.1", 0))
    port.value = listener.getsockname()[1]
    ready.set()
    while True:
        client, _ = listener.accept()
        server = _connect(upstream)
        with _COUNTING:
            counters[CONNECTIONS] += 1
        _Link(client, server, delay, counters)


class DelayProxy:
    """proxy = DelayProxy(("127.0.0.1", pg_port)); proxy.rtt_ms = 0.5; connect to proxy.port."""

    def __init__(self, upstream: Upstream) -> None:
        ctx = multiprocessing.get_context("spawn")
        self._delay = ctx.RawValue("d", 0.0)  # one way, seconds; shared, so it can change between runs
        self._counters = ctx.RawArray("q", 2)
        self._port = ctx.RawValue("i", 0)
        ready = ctx.Event()
        self._process = ctx.Process(
            target=_serve, args=(upstream, self._delay, self._counters, self._port, ready), daemon=True
        )
        self._process.start()
        if not ready.wait(60):
            self.close()
            raise RuntimeError("the delay proxy did not start")

    @property
    def port(self) -> int:
        return int(self._port.value)

    @property
    def rtt_ms(self) -> float:
        return float(self._delay.value) * 2000

    @rtt_ms.setter
    def rtt_ms(self, value: float) -> None:
        self._delay.value = value / 2000

    def turns(self) -> int:
        """Round trips waited for so far, all connections together (shared memory: no syscall)."""
        return int(self._counters[TURNS])

    def connections(self) -> int:
        return int(self._counters[CONNECTIONS])

    def close(self) -> None:
        self._process.terminate()
        self._process.join(10)


@contextlib.contextmanager
def delay_proxy(upstream: Upstream) -> Iterator[DelayProxy]:
    proxy = DelayProxy(upstream)
    try:
        yield proxy
    finally:
        proxy.close()
