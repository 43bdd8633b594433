"""EventBridge for the bench: an in-process stand-in (the default, so the main comparison is
about the database path) or a moto server in its own process, reached over HTTP through boto3
exactly as in AWS (AWS_ENDPOINT_URL_EVENTBRIDGE)."""

from __future__ import annotations

import contextlib
import logging
import multiprocessing
import os
import uuid
from collections.abc import Iterator
from typing import Any

from jobprep_local.eventbus import free_port

REGION = "us-east-1"


class InstantEventBridge:
    """Answers PutEvents like EventBridge does on success, at zero latency."""

    def put_events(self, Entries: list[dict[str, Any]]) -> dict[str, Any]:  # noqa: N803 - boto3's name
        return {"FailedEntryCount": 0, "Entries": [{"EventId": str(uuid.uuid4())} for _ in Entries]}


STUB = InstantEventBridge()


def _serve(port: int, bus_name: str, ready: Any, stop: Any) -> None:
    import boto3
    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # moto's per-request access log
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    boto3.client(
        "events",
        endpoint_url=f"http://127.0.0.1:{port}",
        region_name=REGION,
        aws_access_key_id="bench",
        aws_secret_access_key="bench",  # noqa: S106 - moto accepts anything
    ).create_event_bus(Name=bus_name)
    ready.set()
    stop.wait()
    server.stop()


@contextlib.contextmanager
def moto_eventbridge(bus_name: str) -> Iterator[str]:
    """A moto server in a separate process (so its work does not compete for this process's GIL);
    sets AWS_ENDPOINT_URL_EVENTBRIDGE for boto3 while it runs."""
    ctx = multiprocessing.get_context("spawn")
    ready, stop = ctx.Event(), ctx.Event()
    port = free_port()
    process = ctx.Process(target=_serve, args=(port, bus_name, ready, stop), daemon=True)
    process.start()
    try:
        if not ready.wait(120):
            raise RuntimeError("the moto server did not start")
        endpoint = f"http://127.0.0.1:{port}"
        os.environ["AWS_ENDPOINT_URL_EVENTBRIDGE"] = endpoint
        yield endpoint
    finally:
        os.environ.pop("AWS_ENDPOINT_URL_EVENTBRIDGE", None)
        stop.set()
        process.join(10)
        if process.is_alive():
            process.terminate()
