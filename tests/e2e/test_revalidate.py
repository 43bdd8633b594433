"""`make dev`'s webhook sends the request the revalidate API destination sends in AWS, for every
mutation, and the example Next.js route's logic (examples/nextjs-revalidate) accepts it."""

from __future__ import annotations

import json
import os
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from jobprep_local.template import PROJECT_ROOT
from jobprep_local.webhook import DEFAULT_DEV_API_KEY
from tests.e2e.conftest import HTTP_TIMEOUT, WEBHOOK_API_KEY, DevServer, WebhookReceiver
from tests.e2e.test_dev_server import wait_for

pytestmark = pytest.mark.e2e

EXAMPLE = PROJECT_ROOT / "examples" / "nextjs-revalidate"
MUTATIONS = [
    "JobInfoCreated",
    "JobInfoUpdated",
    "InterviewCreated",
    "InterviewUpdated",
    "InterviewDeleted",
    "JobInfoDeleted",
]


def every_mutation(server: DevServer, user_id: str) -> tuple[str, str]:
    """Create, update and delete a job info, create, update and delete an interview; return their ids."""
    client = server.client(user_id)
    job = client.post("/job-infos", json={"name": "Initech", "experienceLevel": "mid-level", "description": "TPS"})
    assert job.status_code == 201, job.text
    job_id = job.json()["id"]
    assert client.patch(f"/job-infos/{job_id}", json={"title": "Lead"}).status_code == 200
    interview = client.post(f"/job-infos/{job_id}/interviews", json={})
    assert interview.status_code == 201, interview.text
    interview_id = interview.json()["id"]
    assert client.patch(f"/interviews/{interview_id}", json={"duration": "00:05:00"}).status_code == 200
    assert client.delete(f"/interviews/{interview_id}").status_code == 204
    assert client.delete(f"/job-infos/{job_id}").status_code == 204
    return job_id, interview_id


def events_of(server: DevServer, user_id: str) -> list[dict[str, Any]]:
    events = httpx.get(f"{server.base_url}/_local/events", timeout=HTTP_TIMEOUT).json()
    return [e for e in events if e["detail"]["userId"] == user_id]


def test_every_mutation_reaches_the_webhook_as_the_api_destination_request(
    dev_server: DevServer, webhook: WebhookReceiver
) -> None:
    job_id, interview_id = every_mutation(dev_server, "rita")
    events = wait_for(lambda: len(events_of(dev_server, "rita")) == len(MUTATIONS) and events_of(dev_server, "rita"))
    assert sorted(e["detail-type"] for e in events) == sorted(MUTATIONS)
    event_ids = {e["detail"]["eventId"] for e in events}
    wait_for(lambda: event_ids <= {b["eventId"] for b in webhook.bodies})

    for event in events:
        (request,) = [r for r in list(webhook.requests) if r.body["eventId"] == event["detail"]["eventId"]]
        assert request.method == "POST"
        assert request.path == "/hook"
        # the connection's key header, from DEV_WEBHOOK_API_KEY, and the headers EventBridge adds
        assert request.headers.pop("host").startswith("127.0.0.1:")
        assert request.headers.pop("content-length") == str(len(request.raw_body))
        assert request.headers == {
            "x-revalidate-key": WEBHOOK_API_KEY,
            "user-agent": "Amazon/EventBridge/ApiDestinations",
            "content-type": "application/json; charset=utf-8",
            "range": "bytes=0-1048575",
            "accept-encoding": "gzip,deflate",
            "connection": "close",
        }
        # exactly the input transformer's body, minified
        expected = {
            "eventId": event["detail"]["eventId"],
            "detailType": event["detail-type"],
            "tags": event["detail"]["tags"],
        }
        assert request.raw_body == json.dumps(expected, separators=(",", ":")).encode()

    tags = {e["detail-type"]: e["detail"]["tags"] for e in events}
    assert f"jobInfo:{job_id}:interviews" in tags["JobInfoDeleted"]
    assert f"id:{interview_id}:interviews" in tags["InterviewUpdated"]
    assert tags["InterviewDeleted"] == [
        "global:interviews",
        f"jobInfo:{job_id}:interviews",
        f"id:{interview_id}:interviews",
    ]
    assert "user:rita:jobInfos" in tags["JobInfoUpdated"]


class ExampleReceiver:
    """examples/nextjs-revalidate's route logic (compiled by `make examples-build`) behind node:http."""

    def __init__(self, api_key: str) -> None:
        env = {**os.environ, "REVALIDATE_API_KEY": api_key, "PORT": "0"}
        self.process = subprocess.Popen(
            ["node", str(EXAMPLE / "build" / "scripts" / "receiver.js")],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            env=env,
        )
        assert self.process.stdout is not None
        self.lines: list[dict[str, Any]] = []
        self.log: list[str] = []
        first = json.loads(self.process.stdout.readline())
        self.url = f"http://127.0.0.1:{first['listening']}/api/revalidate"
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.log.append(line)
            if line.startswith("{"):
                self.lines.append(json.loads(line))

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(10)


@pytest.fixture(scope="module")
def example_receiver() -> Iterator[ExampleReceiver]:
    # npm ci when the lock file changed, then tsc to build/; fails loudly without Node.js and npm.
    subprocess.run(["make", "-s", "examples-build"], cwd=PROJECT_ROOT, check=True, stdout=subprocess.DEVNULL)
    receiver = ExampleReceiver(DEFAULT_DEV_API_KEY)
    yield receiver
    receiver.stop()


def test_the_example_route_revalidates_every_tag_of_every_mutation_from_make_dev(
    tmp_path_factory: pytest.TempPathFactory, example_receiver: ExampleReceiver
) -> None:
    # `make dev` as documented: DEV_WEBHOOK_URL only, the default dev key on both sides
    server = DevServer(Path(tmp_path_factory.mktemp("dev")), extra_env={"DEV_WEBHOOK_URL": example_receiver.url})
    try:
        every_mutation(server, "sam")
        events = wait_for(lambda: len(events_of(server, "sam")) == len(MUTATIONS) and events_of(server, "sam"))
        wait_for(lambda: len(example_receiver.lines) >= len(events))
    finally:
        server.stop()
    answers = list(example_receiver.lines)
    assert [a["status"] for a in answers] == [204] * len(events), "".join(example_receiver.log)
    assert all(a["method"] == "POST" for a in answers)
    # each event's tags, once each, in order (the example skips a tag repeated within one event)
    expected = sorted(list(dict.fromkeys(e["detail"]["tags"])) for e in events)
    assert sorted(a["revalidated"] for a in answers) == expected
    assert all(answer["revalidated"] for answer in answers)


def test_the_example_route_refuses_a_wrong_key(example_receiver: ExampleReceiver) -> None:
    body = {"eventId": "e2e-wrong-key", "detailType": "JobInfoCreated", "tags": ["global:jobInfos"]}
    response = httpx.post(
        example_receiver.url, json=body, headers={"x-revalidate-key": "not-the-dev-key"}, timeout=HTTP_TIMEOUT
    )
    assert response.status_code == 401
