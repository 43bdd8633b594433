"""The relay runs when asked, not every minute: a failed inline publish asks for a run through
the wake-up queue, the relay keeps asking while events remain, and nobody asks when nothing
is pending (so an idle database is left asleep)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from sqlalchemy.engine import Engine

from jobprep.config import get_settings
from jobprep.events import publisher as events_module
from jobprep.events import wakeup
from jobprep_local.invoke import LocalApi
from tests.conftest import EventSink
from tests.integration.conftest import ApiClient
from tests.integration.test_outbox_relay import FlakyEventBridge, make_all_due


class WakeupQueue:
    """The wake-up queue (moto SQS) and the requests sent to it. Messages are delayed, so they
    are read from the calls that reached SQS, not received."""

    def __init__(self) -> None:
        self.sqs = boto3.client("sqs")
        self.url = self.sqs.create_queue(QueueName="relay-wakeup")["QueueUrl"]
        self.sent: list[tuple[dict[str, Any], int]] = []

    def requests(self) -> list[tuple[dict[str, Any], int]]:
        """(body, delay) of each request since the last call."""
        taken, self.sent = self.sent, []
        return taken

    def delayed_in_sqs(self) -> int:
        attributes = self.sqs.get_queue_attributes(QueueUrl=self.url, AttributeNames=["All"])["Attributes"]
        return int(attributes["ApproximateNumberOfMessagesDelayed"])


@pytest.fixture
def eventbridge(event_sink: EventSink, monkeypatch: pytest.MonkeyPatch) -> FlakyEventBridge:
    wrapper = FlakyEventBridge(events_module.events_client())
    monkeypatch.setattr(events_module, "events_client", lambda: wrapper)
    return wrapper


@pytest.fixture
def wakeup_queue(aws: None, monkeypatch: pytest.MonkeyPatch) -> Iterator[WakeupQueue]:
    queue = WakeupQueue()
    monkeypatch.setenv("RELAY_WAKEUP_QUEUE_URL", queue.url)
    get_settings.cache_clear()
    wakeup.sqs_client.cache_clear()
    client = wakeup.sqs_client()
    real_send = client.send_message

    def recording_send(**kwargs: Any) -> Any:
        response = real_send(**kwargs)  # moto validates the call and stores the message
        queue.sent.append((json.loads(kwargs["MessageBody"]), kwargs["DelaySeconds"]))
        return response

    monkeypatch.setattr(client, "send_message", recording_send)
    yield queue
    get_settings.cache_clear()
    wakeup.sqs_client.cache_clear()


def test_a_healthy_write_asks_for_nothing(api: ApiClient, wakeup_queue: WakeupQueue) -> None:
    api.create_job_info()
    assert wakeup_queue.requests() == []


def test_a_failed_publish_asks_for_a_delayed_relay_run(
    api: ApiClient, eventbridge: FlakyEventBridge, wakeup_queue: WakeupQueue
) -> None:
    eventbridge.down = True
    api.create_job_info()
    assert wakeup_queue.requests() == [({"reason": "inline publish failed"}, 30)]
    assert wakeup_queue.delayed_in_sqs() == 1


def test_the_relay_asks_again_while_events_remain_and_stops_when_drained(
    api: ApiClient,
    eventbridge: FlakyEventBridge,
    wakeup_queue: WakeupQueue,
    event_sink: EventSink,
    clean_db: Engine,
    local_api: LocalApi,
) -> None:
    eventbridge.down = True
    api.create_job_info()
    wakeup_queue.requests()  # the publisher's request, seen above

    make_all_due(clean_db)
    report = local_api.fire_schedule("RelayOutboxFunction")  # EventBridge still down
    assert (report["sent"], report["pending"]) == (0, 1)
    assert wakeup_queue.requests() == [({"reason": "events still pending"}, 60)]

    eventbridge.down = False
    make_all_due(clean_db)
    report = local_api.fire_schedule("RelayOutboxFunction")
    assert (report["sent"], report["pending"]) == (1, 0)
    assert wakeup_queue.requests() == []  # drained: the chain ends, the database may sleep
    assert len(event_sink.drain()) == 1


def test_without_a_queue_nothing_is_requested(api: ApiClient, eventbridge: FlakyEventBridge) -> None:
    eventbridge.down = True
    assert wakeup.request_relay(30, "x") is False  # the local dev server: no queue configured
