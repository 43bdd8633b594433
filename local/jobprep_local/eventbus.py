"""Local EventBridge: a moto server the functions reach through boto3 (AWS_ENDPOINT_URL_EVENTBRIDGE,
the same code path as in AWS), a rule forwarding job-prep events to an SQS queue, and a
consumer that prints each event, keeps the recent ones and optionally POSTs them to a webhook."""

from __future__ import annotations

import json
import logging
import socket
import threading
from collections import deque
from typing import TYPE_CHECKING, Any

import boto3
import httpx
from moto.server import ThreadedMotoServer

if TYPE_CHECKING:
    from mypy_boto3_events import EventBridgeClient
    from mypy_boto3_sqs import SQSClient

REGION = "us-east-1"
RULE = "job-prep-invalidations"


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as sock:
        sock.bind((host, 0))
        port: int = sock.getsockname()[1]
        return port


class LocalEventBus:
    def __init__(self, bus_name: str, webhook_url: str | None = None, keep: int = 200) -> None:
        self.bus_name = bus_name
        self.webhook_url = webhook_url
        self.recent: deque[dict[str, Any]] = deque(maxlen=keep)
        self.port = free_port()
        self.endpoint = f"http://127.0.0.1:{self.port}"
        self._server = ThreadedMotoServer(ip_address="127.0.0.1", port=self.port, verbose=False)
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._consumer: threading.Thread | None = None
        self.queue_url = ""

    # moto accepts any credentials; never send the developer's real ones
    def _events(self) -> EventBridgeClient:
        return boto3.client(
            "events",
            endpoint_url=self.endpoint,
            region_name=REGION,
            aws_access_key_id="local",
            aws_secret_access_key="local",  # noqa: S106
        )

    def _sqs(self) -> SQSClient:
        return boto3.client(
            "sqs",
            endpoint_url=self.endpoint,
            region_name=REGION,
            aws_access_key_id="local",
            aws_secret_access_key="local",  # noqa: S106
        )

    def start(self) -> None:
        logging.getLogger("werkzeug").setLevel(logging.ERROR)  # moto's per-request access log
        self._server.start()
        events, sqs = self._events(), self._sqs()
        events.create_event_bus(Name=self.bus_name)
        self.queue_url = sqs.create_queue(QueueName="job-prep-local-consumer")["QueueUrl"]
        queue_arn = sqs.get_queue_attributes(QueueUrl=self.queue_url, AttributeNames=["QueueArn"])["Attributes"][
            "QueueArn"
        ]
        events.put_rule(
            Name=RULE, EventBusName=self.bus_name, EventPattern=json.dumps({"source": [{"prefix": "job-prep."}]})
        )
        events.put_targets(Rule=RULE, EventBusName=self.bus_name, Targets=[{"Id": "consumer", "Arn": queue_arn}])
        self._consumer = threading.Thread(target=self._consume, name="event-consumer", daemon=True)
        self._consumer.start()

    def stop(self) -> None:
        self._stop.set()
        if self._consumer is not None:
            self._consumer.join(5)
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
        if self.webhook_url:
            try:
                httpx.post(self.webhook_url, json=event, timeout=5).raise_for_status()
            except httpx.HTTPError as exc:
                print(f"[events] webhook {self.webhook_url} failed: {exc}", flush=True)
