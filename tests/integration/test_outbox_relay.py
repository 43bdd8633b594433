"""Transactional outbox + scheduled relay: nothing is lost when EventBridge fails, fully or partly."""

from __future__ import annotations

import os
import threading
import time
from collections import Counter
from collections.abc import Callable
from typing import Any

import pytest
from botocore.exceptions import EndpointConnectionError
from sqlalchemy import text
from sqlalchemy.engine import Engine

from jobprep import unit_of_work
from jobprep.events import publisher as events_module
from jobprep.events import receipts
from jobprep.relay import relay_pending
from jobprep_local.invoke import LocalApi
from tests.alarms import custom_metric_alarms, emf_records
from tests.conftest import EventSink
from tests.integration.conftest import ApiClient

METRICS_NAMESPACE = os.environ["POWERTOOLS_METRICS_NAMESPACE"]  # the tests' own, not the template's
FOREVER = lambda: 60_000  # noqa: E731 - remaining-time callback of a fresh invocation


class FlakyEventBridge:
    """Wraps the (moto) client: refuses whole calls while `down`, or fails chosen entries the way
    EventBridge does (HTTP 200, FailedEntryCount > 0, ErrorCode on the entry)."""

    def __init__(self, real: Any) -> None:
        self.real = real
        self.down = False
        self.fail_entry: Callable[[str], bool] = lambda detail: False
        self.calls: list[int] = []

    def put_events(self, Entries: list[dict[str, Any]]) -> dict[str, Any]:  # noqa: N803 - boto3's name
        self.calls.append(len(Entries))
        if self.down:
            raise EndpointConnectionError(endpoint_url="https://events.us-east-1.amazonaws.com")
        out: list[dict[str, Any]] = []
        for entry in Entries:
            if self.fail_entry(entry["Detail"]):
                out.append({"ErrorCode": "InternalFailure", "ErrorMessage": "injected"})
            else:
                out.append(self.real.put_events(Entries=[entry])["Entries"][0])
        return {"FailedEntryCount": sum("ErrorCode" in e for e in out), "Entries": out}


@pytest.fixture
def flaky(event_sink: EventSink, monkeypatch: pytest.MonkeyPatch) -> FlakyEventBridge:
    wrapper = FlakyEventBridge(events_module.events_client())
    monkeypatch.setattr(events_module, "events_client", lambda: wrapper)
    return wrapper


def outbox_state(engine: Engine) -> Counter[str]:
    """Pending and sent rows, once this container's sent marks have gone out (as a keep-warm
    ping sends them)."""
    unit_of_work.flush_receipts()
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT CASE WHEN sent_at IS NULL THEN 'pending' ELSE 'sent' END FROM outbox"))
        return Counter(rows.scalars())


def make_all_due(engine: Engine) -> None:
    with engine.begin() as conn:
        conn.execute(text("UPDATE outbox SET next_attempt_at = now() WHERE sent_at IS NULL"))


def pending_while_down(api: ApiClient, flaky: FlakyEventBridge, engine: Engine, count: int) -> None:
    """`count` creates whose events could not be published, then EventBridge back and the rows due."""
    flaky.down = True
    for i in range(count):
        api.create_job_info(name=f"j{i}")
    flaky.down = False
    make_all_due(engine)


def delivered_ids(sink: EventSink) -> list[str]:
    return [e["detail"]["eventId"] for e in sink.drain()]


def test_eventbridge_down_keeps_events_pending_and_the_relay_delivers_all(
    api: ApiClient, event_sink: EventSink, flaky: FlakyEventBridge, clean_db: Engine
) -> None:
    flaky.down = True
    jobs = [api.create_job_info(name=f"job {i}") for i in range(12)]  # mutations still succeed
    for job in jobs[:5]:
        assert api.patch(f"/job-infos/{job['id']}", {"title": "t"}).status == 200
    assert api.delete(f"/job-infos/{jobs[0]['id']}").status == 204
    assert outbox_state(clean_db) == {"pending": 18}
    assert event_sink.drain() == []

    # Still down: the relay records the failure and backs off instead of spinning.
    make_all_due(clean_db)
    report = relay_pending(FOREVER)
    assert (report.sent, report.failed, report.batches) == (0, 10, 1)
    with clean_db.connect() as conn:
        waits = conn.execute(
            text("SELECT attempts, next_attempt_at > now(), last_error FROM outbox WHERE attempts = 2")
        ).all()
    assert len(waits) == 10
    assert all(later and "EndpointConnectionError" in error for _, later, error in waits)

    flaky.down = False
    make_all_due(clean_db)
    report = relay_pending(FOREVER)
    assert (report.sent, report.failed) == (18, 0)
    assert max(flaky.calls) <= 10
    ids = delivered_ids(event_sink)
    assert len(ids) == len(set(ids)) == 18, "every event delivered exactly once"
    assert outbox_state(clean_db) == {"sent": 18}


def test_partial_failures_are_not_success(
    api: ApiClient, event_sink: EventSink, flaky: FlakyEventBridge, clean_db: Engine
) -> None:
    odd = [api.create_job_info(name="odd") for _ in range(3)]
    even = [api.create_job_info(name="even") for _ in range(3)]
    event_sink.drain()
    # EventBridge accepts the call but rejects the entries about the "odd" job infos
    flaky.fail_entry = lambda detail: any(j["id"] in detail for j in odd)
    for job in [*odd, *even]:
        api.patch(f"/job-infos/{job['id']}", {"name": "renamed"})
    sent_now = Counter(e["detail"]["id"] for e in event_sink.drain() if e["detail-type"] == "JobInfoUpdated")
    assert set(sent_now) == {j["id"] for j in even}
    unit_of_work.flush_receipts()
    with clean_db.connect() as conn:
        failed = conn.execute(
            text(
                "SELECT detail->>'id', last_error FROM outbox WHERE sent_at IS NULL AND detail_type = 'JobInfoUpdated'"
            )
        ).all()
    assert {row[0] for row in failed} == {j["id"] for j in odd}
    assert all(row[1] == "InternalFailure: injected" for row in failed)

    flaky.fail_entry = lambda detail: False
    make_all_due(clean_db)
    assert relay_pending(FOREVER).sent == 3
    assert {e["detail"]["id"] for e in event_sink.drain()} == {j["id"] for j in odd}
    assert outbox_state(clean_db) == {"sent": 12}


def test_relay_function_on_its_schedule(
    api: ApiClient, event_sink: EventSink, flaky: FlakyEventBridge, clean_db: Engine, local_api: LocalApi
) -> None:
    pending_while_down(api, flaky, clean_db, 25)
    flaky.calls.clear()
    report = local_api.fire_schedule("RelayOutboxFunction")
    assert report["sent"] == 25
    assert report["batches"] == 3
    assert flaky.calls == [10, 10, 5]
    assert len(set(delivered_ids(event_sink))) == 25


def test_concurrent_relays_never_publish_the_same_event_twice(
    api: ApiClient, event_sink: EventSink, flaky: FlakyEventBridge, clean_db: Engine
) -> None:
    pending_while_down(api, flaky, clean_db, 40)
    barrier = threading.Barrier(4)
    reports: list[int] = []

    def run() -> None:
        barrier.wait()
        reports.append(relay_pending(FOREVER).sent)

    threads = [threading.Thread(target=run) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert sum(reports) == 40
    ids = delivered_ids(event_sink)
    assert len(ids) == len(set(ids)) == 40


def test_purge_removes_only_old_sent_rows_and_expired_keys(
    api: ApiClient, flaky: FlakyEventBridge, clean_db: Engine
) -> None:
    api.create_job_info()
    api.post(
        "/job-infos", {"name": "k", "experienceLevel": "junior", "description": "d"}, headers={"idempotency-key": "k1"}
    )
    flaky.down = True
    api.create_job_info(name="pending")
    with clean_db.begin() as conn:
        conn.execute(text("UPDATE outbox SET sent_at = now() - interval '4 days' WHERE sent_at IS NOT NULL"))
        conn.execute(text("UPDATE outbox SET created_at = now() - interval '9 days'"))
        conn.execute(text("UPDATE idempotency_keys SET created_at = now() - interval '2 days'"))
    report = relay_pending(lambda: 0)  # no time to publish: only housekeeping
    assert (report.purged_events, report.purged_idempotency_keys) == (2, 1)
    assert outbox_state(clean_db) == {"pending": 1}


def test_backoff_grows_exponentially_with_jitter_and_is_capped(
    api: ApiClient, flaky: FlakyEventBridge, clean_db: Engine
) -> None:
    from jobprep.db import engine as db
    from jobprep.events import outbox

    flaky.down = True
    api.create_job_info()
    with clean_db.connect() as conn:
        event_id = conn.execute(text("SELECT id FROM outbox")).scalar_one()
    delays = []
    for _ in range(12):
        with db.transaction() as conn:
            outbox.record_outcome(conn, [], {event_id: "down"})
            delays.append(
                conn.execute(
                    text("SELECT EXTRACT(EPOCH FROM next_attempt_at - now()) FROM outbox WHERE id = :id"),
                    {"id": event_id},
                ).scalar_one()
            )
    # attempts 1, 2, 3...: base 5 s doubling, jittered into [50%, 100%], capped at 15 minutes
    for attempt, delay in enumerate(delays[:7]):
        full = 5 * 2 ** (attempt + 1)
        assert full / 2 - 0.01 <= delay <= full + 0.01, (attempt, delay)
    assert all(450 - 0.01 <= d <= 900 + 0.01 for d in delays[8:])


def test_relay_emits_what_its_alarms_watch(
    api: ApiClient,
    flaky: FlakyEventBridge,
    clean_db: Engine,
    local_api: LocalApi,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """The alarms on OutboxEventsFailed and OutboxOldestPendingAge see this run's failures and age
    (same metric names and dimensions as template.yaml; DatabaseUnavailable: test_faults)."""
    pending_while_down(api, flaky, clean_db, 3)
    flaky.down = True
    capsys.readouterr()

    report = local_api.fire_schedule("RelayOutboxFunction")

    assert report["failed"] == 3
    records = emf_records(capsys.readouterr().out)
    watched = [a for a in custom_metric_alarms() if a.metric != "DatabaseUnavailable"]
    assert {a.metric for a in watched} == {"OutboxEventsFailed", "OutboxOldestPendingAge"}
    for alarm in watched:
        [values] = [
            r.values[alarm.metric]
            for r in records
            if alarm.metric in r.values and r.dimensions == alarm.dimensions and r.namespace == METRICS_NAMESPACE
        ]
        assert values[0] > 0, f"{alarm.logical_id} would not see this run"
    assert report["oldest_pending_seconds"] > 0


def test_every_change_statement_carries_the_sent_marks() -> None:
    """Built in (unit_of_work.change_statement), so sql/<name>.sql shows the statement that runs
    whether or not this container holds marks, and a container compiles it once."""
    from jobprep.binds import SENT_EVENT_IDS
    from jobprep.prebuilt import catalog

    changes = [p for p in catalog() if p.kind == "change"]
    assert len(changes) >= 8
    for prebuilt in changes:
        assert SENT_EVENT_IDS.key in prebuilt.driver_sql.binds, prebuilt.name
        assert "sent_receipts AS" in prebuilt.sql, prebuilt.name
    read = next(p for p in catalog() if p.kind == "read")
    with pytest.raises(ValueError, match="change_statement"):
        unit_of_work.change(read, {})


def test_an_unreachable_eventbridge_is_not_waited_for_by_the_next_writes(
    api: ApiClient, event_sink: EventSink, flaky: FlakyEventBridge, clean_db: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """One write finds EventBridge unreachable; the container's next writes, for a while, do not
    call it at all (each would wait out the same timeouts): their events go to the relay, due
    after the first backoff, not after the inline grace. Then writes publish inline again."""
    clock = [1000.0]
    monkeypatch.setattr(time, "monotonic", lambda: clock[0])
    flaky.down = True
    api.create_job_info(name="finds it down")
    assert flaky.calls == [1]
    flaky.down = False  # back already, but this container does not know yet
    skipped = [api.create_job_info(name=f"skipped {i}") for i in range(3)]
    assert flaky.calls == [1], "writes inside the window must not call PutEvents"
    assert event_sink.drain() == []
    with clean_db.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT attempts, last_error, next_attempt_at - now() < interval '6 s'"
                " FROM outbox WHERE detail->>'id' = ANY(:ids)"
            ),
            {"ids": [j["id"] for j in skipped]},
        ).all()
    assert [tuple(r) for r in rows] == [(1, unit_of_work.SKIPPED, True)] * 3

    clock[0] += unit_of_work.SKIP_PUBLISH_AFTER_UNREACHABLE_SECONDS
    published = api.create_job_info(name="published inline")
    assert flaky.calls == [1, 1]
    assert [e["detail"]["id"] for e in event_sink.drain()] == [published["id"]]

    make_all_due(clean_db)
    assert relay_pending(FOREVER).sent == 4  # the first write's event and the three skipped ones
    assert outbox_state(clean_db) == {"sent": 5}


def test_once_eventbridge_accepts_again_one_run_sends_what_waits_out_its_backoff(
    api: ApiClient, event_sink: EventSink, flaky: FlakyEventBridge, clean_db: Engine
) -> None:
    """After an outage the failed rows wait out backoffs of different lengths. The first batch
    EventBridge accepts shows it is back: the same run then sends the rest, instead of leaving
    them for later runs. While it refuses, nothing is sent before its time."""
    flaky.down = True
    jobs = [api.create_job_info(name=f"while down {i}") for i in range(14)]  # each in backoff, 2.5-5 s
    with clean_db.begin() as conn:
        conn.execute(text("UPDATE outbox SET next_attempt_at = now() WHERE detail->>'id' = :id"), {"id": jobs[0]["id"]})
        conn.execute(
            text("UPDATE outbox SET next_attempt_at = now() + interval '1 hour' WHERE detail->>'id' = :id"),
            {"id": jobs[1]["id"]},
        )
    assert relay_pending(FOREVER).sent == 0  # still down: only the due row was tried
    with clean_db.connect() as conn:
        attempts = Counter(conn.execute(text("SELECT attempts FROM outbox")).scalars())
    assert attempts == {1: 13, 2: 1}

    flaky.down = False
    with clean_db.begin() as conn:  # the row tried by the relay is due again; the others are not
        conn.execute(text("UPDATE outbox SET next_attempt_at = now() WHERE attempts = 2"))
    flaky.calls.clear()
    report = relay_pending(FOREVER)
    assert (report.sent, report.failed, report.pending) == (14, 0, 0)
    assert flaky.calls == [1, 10, 3], "the due row first; then, EventBridge being back, the rest"
    assert sorted(e["detail"]["id"] for e in event_sink.drain()) == sorted(j["id"] for j in jobs)

    # Never early the rows no one has tried yet (within the inline grace: most likely published,
    # their sent mark on its way from the container that published them).
    unit_of_work.reset_publish_skip()
    flaky.down = True
    api.create_job_info(name="failed")
    unit_of_work.reset_publish_skip()
    flaky.down = False
    api.create_job_info(name="published inline")
    receipts.forget(receipts.pending())  # its sent mark, as if another container held it
    with clean_db.begin() as conn:
        conn.execute(text("UPDATE outbox SET next_attempt_at = now() WHERE sent_at IS NULL AND attempts = 1"))
    flaky.calls.clear()
    assert relay_pending(FOREVER).sent == 1
    assert flaky.calls == [1]
    assert outbox_state(clean_db) == {"sent": 15, "pending": 1}
