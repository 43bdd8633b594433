"""Local EventBridge: a moto server the functions reach through boto3 (AWS_ENDPOINT_URL_EVENTBRIDGE,
the same code path as in AWS), a rule forwarding job-prep events to an SQS queue, and a
consumer that prints each event and keeps the recent ones.

Where moto runs (`DEV_EVENTBRIDGE=... make dev`, docs/dev-server.md): `process` (the default) is
moto's server in a process of its own, so EventBridge is a network endpoint that can be down
while the API is up (tests/e2e/test_eventbridge_outage.py stops it); `thread` is moto inside the
gateway's process; a URL is an endpoint somebody else runs (`python -m moto.server -p 5000`),
on which the bus, rules and queues are created if missing.

With a webhook URL, a second rule mirrors template.yaml's RevalidateRule: its event pattern and
its input transformer (applied by moto) put the request body on a queue, and a forwarder sends it
as EventBridge's API destination would (webhook.py), retrying 429/5xx answers a few times."""

from __future__ import annotations

import contextlib
import json
import logging
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import deque
from typing import TYPE_CHECKING, Any, Protocol

import boto3
import httpx

from jobprep_local.webhook import (
    DEFAULT_DEV_API_KEY,
    TIMEOUT_SECONDS,
    RevalidateTarget,
    retried_by_eventbridge,
    revalidate_target,
    send,
)

if TYPE_CHECKING:
    from mypy_boto3_events import EventBridgeClient
    from mypy_boto3_sqs import SQSClient
    from mypy_boto3_sqs.type_defs import MessageTypeDef

REGION = "us-east-1"
RULE = "job-prep-invalidations"
WEBHOOK_RULE = "job-prep-revalidate"
# AWS retries for up to a day; locally a few attempts (about 15 s) tell the developer enough.
WEBHOOK_ATTEMPTS = 4
WEBHOOK_FORWARDERS = 4
PROCESS, THREAD = "process", "thread"
DEFAULT_EVENTBRIDGE = PROCESS
READY_SECONDS = 30


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as sock:
        sock.bind((host, 0))
        port: int = sock.getsockname()[1]
        return port


class MotoServer(Protocol):
    endpoint: str
    pid: int | None  # of the process it runs in, when that is not this one

    def start(self) -> None: ...
    def stop(self) -> None: ...


class MotoThread:
    """moto inside this process (a thread of the gateway)."""

    def __init__(self) -> None:
        from moto.server import ThreadedMotoServer  # imported only in this mode

        port = free_port()
        self.endpoint = f"http://127.0.0.1:{port}"
        self.pid: int | None = None
        self._server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)

    def start(self) -> None:
        logging.getLogger("werkzeug").setLevel(logging.ERROR)  # moto's per-request access log
        self._server.start()

    def stop(self) -> None:
        self._server.stop()


class MotoProcess:
    """moto's server in a child process (jobprep_local.moto_process), ready once it accepts connections."""

    def __init__(self) -> None:
        self.port = free_port()
        self.endpoint = f"http://127.0.0.1:{self.port}"
        self.pid: int | None = None
        self._process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        command = [sys.executable, "-m", "jobprep_local.moto_process", str(os.getpid()), "-H", "127.0.0.1"]
        # A session of its own: Ctrl-C in the terminal stops the gateway, which then stops this.
        self._process = subprocess.Popen(  # noqa: S603 - our own interpreter and module
            [*command, "-p", str(self.port)], stdin=subprocess.DEVNULL, start_new_session=True
        )
        self.pid = self._process.pid
        deadline = time.monotonic() + READY_SECONDS
        while True:
            if self._process.poll() is not None:
                raise RuntimeError(f"the EventBridge (moto) process exited with {self._process.returncode}")
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.5).close()
                return
            except OSError as exc:
                if time.monotonic() > deadline:
                    raise RuntimeError(
                        f"the EventBridge (moto) process is not listening after {READY_SECONDS} s"
                    ) from exc
                time.sleep(0.05)

    def stop(self) -> None:
        process = self._process
        if process is None or process.poll() is not None:
            return
        process.terminate()
        os.kill(process.pid, signal.SIGCONT)  # a stopped process (SIGSTOP) acts on SIGTERM only once resumed
        try:
            process.wait(5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(5)


class ExternalEndpoint:
    """An endpoint somebody else runs and stops."""

    def __init__(self, url: str) -> None:
        self.endpoint = url.rstrip("/")
        self.pid: int | None = None

    def start(self) -> None:
        pass

    def stop(self) -> None:
        pass


def moto_server(eventbridge: str) -> MotoServer:
    """`process`, `thread`, or the URL of a running endpoint."""
    if eventbridge == PROCESS:
        return MotoProcess()
    if eventbridge == THREAD:
        return MotoThread()
    if eventbridge.startswith(("http://", "https://")):
        return ExternalEndpoint(eventbridge)
    raise ValueError(f"EventBridge: {PROCESS!r}, {THREAD!r} or an http(s) URL, not {eventbridge!r}")


class LocalEventBus:
    def __init__(
        self,
        bus_name: str,
        webhook_url: str | None = None,
        webhook_api_key: str = DEFAULT_DEV_API_KEY,
        keep: int = 200,
        eventbridge: str = DEFAULT_EVENTBRIDGE,
    ) -> None:
        self.bus_name = bus_name
        self.webhook_url = webhook_url
        self.webhook_api_key = webhook_api_key
        self.recent: deque[dict[str, Any]] = deque(maxlen=keep)
        self._server = moto_server(eventbridge)
        self.endpoint = self._server.endpoint
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._threads: list[threading.Thread] = []
        self.queue_url = ""

    # moto accepts any credentials; never send the developer's real ones
    def _events(self) -> EventBridgeClient:
        # A session per client: boto3's default session is not safe to share between threads.
        return boto3.session.Session().client(
            "events",
            endpoint_url=self.endpoint,
            region_name=REGION,
            aws_access_key_id="local",
            aws_secret_access_key="local",  # noqa: S106
        )

    def _sqs(self) -> SQSClient:
        return boto3.session.Session().client(
            "sqs",
            endpoint_url=self.endpoint,
            region_name=REGION,
            aws_access_key_id="local",
            aws_secret_access_key="local",  # noqa: S106
        )

    @property
    def pid(self) -> int | None:
        """The EventBridge process's id, when it runs in a process of its own that we started."""
        return self._server.pid

    def start(self) -> None:
        self._server.start()
        events, sqs = self._events(), self._sqs()
        # An endpoint of one's own may have it already, from an earlier `make dev`.
        with contextlib.suppress(events.exceptions.ResourceAlreadyExistsException):
            events.create_event_bus(Name=self.bus_name)
        self.queue_url = sqs.create_queue(QueueName="job-prep-local-consumer")["QueueUrl"]
        queue_arn = sqs.get_queue_attributes(QueueUrl=self.queue_url, AttributeNames=["QueueArn"])["Attributes"][
            "QueueArn"
        ]
        events.put_rule(
            Name=RULE, EventBusName=self.bus_name, EventPattern=json.dumps({"source": [{"prefix": "job-prep."}]})
        )
        events.put_targets(Rule=RULE, EventBusName=self.bus_name, Targets=[{"Id": "consumer", "Arn": queue_arn}])
        self._threads.append(threading.Thread(target=self._consume, name="event-consumer", daemon=True))
        if self.webhook_url:
            target = revalidate_target()
            webhook_queue_url = self._create_queue(sqs, "job-prep-local-webhook")
            events.put_rule(
                Name=WEBHOOK_RULE, EventBusName=self.bus_name, EventPattern=json.dumps(target.event_pattern)
            )
            events.put_targets(
                Rule=WEBHOOK_RULE,
                EventBusName=self.bus_name,
                Targets=[
                    {
                        "Id": "webhook",
                        "Arn": self._queue_arn(sqs, webhook_queue_url),
                        "InputTransformer": target.input_transformer,
                    }
                ],
            )
            # Several at once, as API destinations deliver: one slow answer does not hold up the rest.
            self._threads += [
                threading.Thread(
                    target=self._forward,
                    args=(target, webhook_queue_url, self.webhook_url),
                    name=f"webhook-{i}",
                    daemon=True,
                )
                for i in range(WEBHOOK_FORWARDERS)
            ]
        for thread in self._threads:
            thread.start()

    @staticmethod
    def _create_queue(sqs: SQSClient, name: str) -> str:
        return sqs.create_queue(QueueName=name)["QueueUrl"]

    @staticmethod
    def _queue_arn(sqs: SQSClient, queue_url: str) -> str:
        return sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]

    def stop(self) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(5)
        self._server.stop()

    def snapshot(self) -> list[dict[str, Any]]:
        with self._lock:
            return list(self.recent)

    def _consume(self) -> None:
        sqs = self._sqs()
        while not self._stop.is_set():
            try:
                batch = sqs.receive_message(QueueUrl=self.queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=1)
            except Exception as exc:  # the server is going away at shutdown
                if not self._stop.is_set():
                    print(f"[events] consumer error: {exc}", flush=True)
                continue
            for message in batch.get("Messages", []):
                self._deliver(json.loads(message["Body"]))
                sqs.delete_message(QueueUrl=self.queue_url, ReceiptHandle=message["ReceiptHandle"])

    def _deliver(self, event: dict[str, Any]) -> None:
        with self._lock:
            self.recent.append(event)
        detail = event.get("detail", {})
        print(
            f"[events] {event.get('detail-type')} id={detail.get('id')} tags={','.join(detail.get('tags', []))}",
            flush=True,
        )

    def _forward(self, target: RevalidateTarget, queue_url: str, url: str) -> None:
        """Send each transformed event to the webhook like the API destination: retry 429, 5xx and
        transport errors with backoff (the message stays on the queue), give up on other answers."""
        sqs = self._sqs()
        with httpx.Client(timeout=TIMEOUT_SECONDS) as client:
            while not self._stop.is_set():
                try:
                    batch = sqs.receive_message(
                        QueueUrl=queue_url,
                        MaxNumberOfMessages=10,
                        WaitTimeSeconds=1,
                        MessageSystemAttributeNames=["ApproximateReceiveCount"],
                    )
                except Exception as exc:  # the server is going away at shutdown
                    if not self._stop.is_set():
                        print(f"[webhook] queue error: {exc}", flush=True)
                    continue
                for message in batch.get("Messages", []):
                    try:
                        self._settle(sqs, queue_url, message, self._send_once(client, target, url, message["Body"]))
                    except Exception as exc:  # keep forwarding the next events
                        if not self._stop.is_set():
                            print(f"[webhook] error: {exc!r}", flush=True)

    @staticmethod
    def _settle(sqs: SQSClient, queue_url: str, message: MessageTypeDef, outcome: str | None) -> None:
        """Done or out of attempts: off the queue. Otherwise back on it after an exponential backoff."""
        attempt = int(message.get("Attributes", {}).get("ApproximateReceiveCount", "1"))
        if outcome is None or attempt >= WEBHOOK_ATTEMPTS:
            if outcome is not None:
                print(f"[webhook] gave up after {attempt} attempts ({outcome})", flush=True)
            sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])
        else:
            sqs.change_message_visibility(
                QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"], VisibilityTimeout=2**attempt
            )

    def _send_once(self, client: httpx.Client, target: RevalidateTarget, url: str, body: str) -> str | None:
        """None when done (delivered, or refused for good); otherwise why it should be retried."""
        try:
            response = send(client, url, target, self.webhook_api_key, body)
        except httpx.HTTPError as exc:
            print(f"[webhook] {target.http_method} {url} failed: {exc!r}: will retry", flush=True)
            return repr(exc)
        except ValueError as exc:  # the transformer made something that is not JSON
            print(f"[webhook] dropped a body that is not JSON ({exc}): {body[:200]}", flush=True)
            return None
        status = response.status_code
        if response.is_success:
            print(f"[webhook] {target.http_method} {url} -> {status}", flush=True)
            return None
        if retried_by_eventbridge(status):
            print(f"[webhook] {target.http_method} {url} -> {status}: will retry", flush=True)
            return f"HTTP {status}"
        # In AWS this event would go straight to the dead-letter queue.
        print(f"[webhook] {target.http_method} {url} -> {status}: not retried: {response.text[:200]}", flush=True)
        return None
