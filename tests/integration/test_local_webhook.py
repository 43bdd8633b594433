"""The local bus's webhook retries like an API destination: 429/5xx again later, other answers never."""

from __future__ import annotations

import json
from collections.abc import Iterator
from uuid import uuid4

import boto3
import pytest

from jobprep_local.eventbus import LocalEventBus
from tests.e2e.conftest import WebhookReceiver
from tests.e2e.test_dev_server import wait_for


class ScriptedReceiver(WebhookReceiver):
    """Answers each eventId with the next status of its script (then 204)."""

    def __init__(self, scripts: dict[str, list[int]]) -> None:
        super().__init__()
        self.scripts = scripts

    def status_for(self, body: bytes) -> int:
        script = self.scripts.get(json.loads(body)["eventId"], [])
        return script.pop(0) if script else 204


@pytest.fixture
def receiver() -> Iterator[ScriptedReceiver]:
    receiver = ScriptedReceiver({})
    yield receiver
    receiver.close()


def test_retries_5xx_and_gives_up_on_4xx(receiver: ScriptedReceiver) -> None:
    flaky, refused = str(uuid4()), str(uuid4())
    receiver.scripts.update({flaky: [503], refused: [400, 400, 400]})
    bus = LocalEventBus("bus", receiver.url, webhook_api_key="k")
    bus.start()
    try:
        events = boto3.client(
            "events",
            endpoint_url=bus.endpoint,
            region_name="us-east-1",
            aws_access_key_id="local",
            aws_secret_access_key="local",
        )
        entries = [
            {
                "EventBusName": "bus",
                "Source": "job-prep.job-infos",
                "DetailType": "JobInfoUpdated",
                "Detail": json.dumps({"eventId": event_id, "tags": [f"id:{event_id}:jobInfos"]}),
            }
            for event_id in (refused, flaky)
        ]
        assert events.put_events(Entries=entries)["FailedEntryCount"] == 0  # type: ignore[arg-type]
        # the 503 is retried after its backoff; the refused event's retry, if any, would be due by then
        wait_for(lambda: [b["eventId"] for b in receiver.bodies].count(flaky) == 2, timeout=30)
    finally:
        bus.stop()
    ids = [b["eventId"] for b in receiver.bodies]
    assert ids.count(flaky) == 2
    assert ids.count(refused) == 1
    assert receiver.scripts[refused] == [400, 400]
    assert {r.headers["x-revalidate-key"] for r in receiver.requests} == {"k"}
