"""Round trips each operation waits for on a warm connection, counted at the server's door.

The app's engine is pointed at a counting proxy in front of the test PostgreSQL (bench's delay
proxy with no delay): a client->server flight followed by the server's answer is one round trip
waited. Contract (DESIGN, performance): a warm read waits for 1, a warm write (its checks, the
change and its outbox row) for 1, and the "sent" bookkeeping after PutEvents for none.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from sqlalchemy import make_url

from bench.delayproxy import DelayProxy
from jobprep.config import get_settings
from jobprep.db import engine as db
from jobprep.events import receipts
from jobprep_local.clerk import signed, user_deleted, user_profile
from tests.conftest import WEBHOOK_SECRET, EventSink
from tests.integration.conftest import ApiClient

T0 = 1_795_478_400_000  # Clerk's epoch milliseconds


@pytest.fixture
def proxy(api: ApiClient, monkeypatch: pytest.MonkeyPatch) -> Iterator[DelayProxy]:
    """The app's one pooled connection goes through the counting proxy."""
    url = make_url(get_settings().database_url or "")
    socket_dir = url.query.get("host")
    upstream: tuple[str, int] | str = (
        f"{socket_dir}/.s.PGSQL.{url.port or 5432}" if socket_dir else (url.host or "127.0.0.1", url.port or 5432)
    )
    counting = DelayProxy(upstream)
    through_proxy = url.set(host="127.0.0.1", port=counting.port, query={})
    engine = db.build_engine(get_settings().model_copy(update={"database_url": through_proxy.render_as_string(False)}))
    monkeypatch.setattr(db, "engine", engine)
    try:
        yield counting
    finally:
        engine.dispose()
        counting.close()


def waited(proxy: DelayProxy, call: Callable[[], Any]) -> int:
    before = proxy.turns()
    call()
    return proxy.turns() - before


def test_every_operation_waits_for_one_round_trip(api: ApiClient, proxy: DelayProxy, event_sink: EventSink) -> None:
    job = api.create_job_info()  # warm: the connection is open, the statements compiled
    interview = api.create_interview(job["id"])
    doomed = api.create_interview(job["id"])
    question = api.post(f"/job-infos/{job['id']}/questions", {"text": "q", "difficulty": "easy"}).json()
    assert receipts.pending(), "the last publish's sent mark waits for the next statement"
    jid, iid, qid = job["id"], interview["id"], question["id"]
    ask = {"text": "another", "difficulty": "hard"}
    body = {"name": "n", "experienceLevel": "junior", "description": "d"}
    operations: dict[str, Callable[[], Any]] = {
        "get job info": lambda: api.get(f"/job-infos/{jid}"),
        "list job infos": lambda: api.get("/job-infos"),
        "get interview": lambda: api.get(f"/interviews/{iid}"),
        "list interviews": lambda: api.get(f"/job-infos/{jid}/interviews"),
        "create job info": lambda: api.post("/job-infos", body),
        "create job info, Idempotency-Key": lambda: api.post("/job-infos", body, headers={"idempotency-key": "k1"}),
        "replay of that key": lambda: api.post("/job-infos", body, headers={"idempotency-key": "k1"}),
        "update job info": lambda: api.patch(f"/job-infos/{jid}", {"name": "renamed"}),
        "update job info, If-Match": lambda: api.patch(
            f"/job-infos/{jid}", {"name": "again"}, headers={"if-match": '"3"'}
        ),
        "update that changes nothing": lambda: api.patch(f"/job-infos/{jid}", {"name": "again"}),
        "stale If-Match (412)": lambda: api.patch(f"/job-infos/{jid}", {"name": "x"}, headers={"if-match": '"1"'}),
        "create interview": lambda: api.post(f"/job-infos/{jid}/interviews", {}),
        "create interview, Idempotency-Key": lambda: api.post(
            f"/job-infos/{jid}/interviews", {}, headers={"idempotency-key": "k2"}
        ),
        "create interview, started (humeChatId: a plan unit spent)": lambda: api.post(
            f"/job-infos/{jid}/interviews", {"humeChatId": "chat-started"}
        ),
        "update interview": lambda: api.patch(f"/interviews/{iid}", {"humeChatId": "chat-rt", "feedback": "good"}),
        "create question": lambda: api.post(f"/job-infos/{jid}/questions", ask),
        "create question, Idempotency-Key": lambda: api.post(
            f"/job-infos/{jid}/questions", ask, headers={"idempotency-key": "k3"}
        ),
        "replay of that question's key": lambda: api.post(
            f"/job-infos/{jid}/questions", ask, headers={"idempotency-key": "k3"}
        ),
        "question over the plan (403)": lambda: api.post(f"/job-infos/{jid}/questions", ask, features=""),
        "get question": lambda: api.get(f"/questions/{qid}"),
        "get question, If-None-Match (304)": lambda: api.get(f"/questions/{qid}", headers={"if-none-match": '"1"'}),
        "list questions": lambda: api.get(f"/job-infos/{jid}/questions"),
        "list questions, If-None-Match (304)": lambda: api.get(
            f"/job-infos/{jid}/questions", headers={"if-none-match": "*"}
        ),
        "another user's job info (404)": lambda: api.get(f"/job-infos/{jid}", user="bob"),
        "get me": lambda: api.get("/me"),
        "get me, If-None-Match (304)": lambda: api.get("/me", headers={"if-none-match": "*"}),
        "list completed interviews": lambda: api.get(f"/job-infos/{jid}/interviews", query="completed=true"),
        "change a humeChatId (409)": lambda: api.patch(f"/interviews/{iid}", {"humeChatId": "other"}),
        "delete interview": lambda: api.delete(f"/interviews/{doomed['id']}"),
        "delete interview, stale If-Match (412)": lambda: api.delete(f"/interviews/{iid}", headers={"if-match": '"9"'}),
        "delete job info": lambda: api.delete(f"/job-infos/{jid}"),
    }
    counts: dict[str, int] = {}
    answers: dict[str, Any] = {}

    def answered(name: str, call: Callable[[], Any]) -> Callable[[], None]:
        return lambda: answers.__setitem__(name, call())

    for name, call in operations.items():
        counts[name] = waited(proxy, answered(name, call))
    assert counts == dict.fromkeys(operations, 1)
    assert proxy.connections() == 1, "one connection for the whole warm container"
    statuses = {
        name: answers[name].status
        for name in operations
        if name.startswith(("create interview, s", "change", "delete"))
    }
    assert statuses == {
        "create interview, started (humeChatId: a plan unit spent)": 201,
        "change a humeChatId (409)": 409,
        "delete interview": 204,
        "delete interview, stale If-Match (412)": 412,
        "delete job info": 204,
    }


def test_account_deletion_waits_for_one_round_trip(api: ApiClient, proxy: DelayProxy, event_sink: EventSink) -> None:
    for _ in range(3):
        api.create_interview(api.create_job_info(user="carol")["id"], user="carol")
    body, headers = signed(user_deleted("carol"), WEBHOOK_SECRET)
    match = api.api.match("POST", "/webhooks/clerk")
    assert match is not None
    response = None

    def deliver() -> None:
        nonlocal response
        response = api.api.invoke(match, "/webhooks/clerk", headers=headers, body=body)

    assert waited(proxy, deliver) == 1
    assert response is not None
    assert response.status == 204


def test_each_profile_delivery_waits_for_one_round_trip(
    api: ApiClient, proxy: DelayProxy, event_sink: EventSink
) -> None:
    """Written, stale, repeated, tombstoned and refused (email held by another user: 409) alike."""
    match = api.api.match("POST", "/webhooks/clerk")
    assert match is not None
    statuses: list[int] = []

    def deliver(payload: dict[str, Any], message_id: str | None = None) -> Callable[[], None]:
        body, headers = signed(payload, WEBHOOK_SECRET, message_id=message_id)
        return lambda: statuses.append(api.api.invoke(match, "/webhooks/clerk", headers=headers, body=body).status)

    deliver(user_profile("user.created", "dave", updated_at=T0))()  # warm
    deliver(user_profile("user.created", "erin", email="erin@example.com"))()
    deliver(user_deleted("frank"))()
    deliveries = {
        "user.created": deliver(user_profile("user.created", "carol", updated_at=T0)),
        "user.updated": deliver(user_profile("user.updated", "carol", updated_at=T0 + 1, first_name="C")),
        "stale user.updated": deliver(user_profile("user.updated", "carol", updated_at=T0)),
        "repeated svix-id": deliver(user_profile("user.updated", "carol", updated_at=T0 + 9), "msg_repeat"),
        "tombstoned id": deliver(user_profile("user.created", "frank")),
        "email held by another user (409)": deliver(user_profile("user.created", "gina", email="erin@example.com")),
    }
    deliver(user_profile("user.updated", "carol", updated_at=T0 + 9), "msg_repeat")()
    statuses.clear()
    counts = {name: waited(proxy, call) for name, call in deliveries.items()}
    assert counts == dict.fromkeys(deliveries, 1)
    assert statuses == [204, 204, 204, 204, 204, 409]


def test_a_refused_publish_costs_one_more_round_trip(
    api: ApiClient, proxy: DelayProxy, event_sink: EventSink, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The failure path records the failure (backoff) at once: the relay must not wait for grace."""
    from jobprep.events import publisher

    job = api.create_job_info()

    class Refusing:
        def put_events(self, Entries: list[dict[str, Any]]) -> dict[str, Any]:  # noqa: N803 - boto3's name
            return {"FailedEntryCount": len(Entries), "Entries": [{"ErrorCode": "ThrottlingException"}] * len(Entries)}

    monkeypatch.setattr(publisher, "events_client", lambda: Refusing())
    assert waited(proxy, lambda: api.patch(f"/job-infos/{job['id']}", {"name": "refused"})) == 2
