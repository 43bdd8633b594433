"""The deferred "sent" marks (events.receipts), as unit_of_work attaches them: a change statement
carries the container's pending marks, a read carries none, a keep-warm ping sends them alone,
and a request never waits for outbox rows the relay holds while it publishes them."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from uuid import UUID

import pytest
from sqlalchemy import event, text
from sqlalchemy.engine import Engine

from jobprep import unit_of_work
from jobprep.config import get_settings
from jobprep.db import engine as db
from jobprep.events import publisher, receipts
from jobprep.relay import relay_pending
from jobprep_local.invoke import LambdaHttpResponse, LocalApi
from tests.conftest import EventSink
from tests.integration.conftest import ApiClient


def sent_state(engine: Engine, event_id: UUID) -> tuple[bool, int]:
    with engine.connect() as conn:
        row = conn.execute(text("SELECT sent_at IS NOT NULL, attempts FROM outbox WHERE id = :id"), {"id": event_id})
        sent, attempts = row.one()
        return bool(sent), int(attempts)


def only_pending() -> UUID:
    [event_id] = receipts.pending()
    return event_id


def test_a_read_carries_no_marks_and_the_next_change_does(api: ApiClient, clean_db: Engine) -> None:
    job = api.create_job_info()
    created = only_pending()

    assert api.get(f"/job-infos/{job['id']}").status == 200
    assert api.get("/job-infos").status == 200
    assert sent_state(clean_db, created) == (False, 0), "a read changes nothing"
    assert receipts.pending() == {created}

    assert api.patch(f"/job-infos/{job['id']}", {"name": "renamed"}).status == 200
    assert sent_state(clean_db, created) == (True, 1), "the PATCH's statement carried the mark"
    assert created not in receipts.pending()


def test_a_refused_change_still_carries_the_marks(api: ApiClient, clean_db: Engine) -> None:
    """The marks ride on whatever change statement runs next, whatever it answers."""
    job = api.create_job_info()
    created = only_pending()
    assert api.patch(f"/job-infos/{job['id']}", {"name": "x"}, headers={"if-match": '"7"'}).status == 412
    assert sent_state(clean_db, created) == (True, 1)
    assert receipts.pending() == frozenset()


def test_a_keep_warm_ping_sends_the_marks(api: ApiClient, local_api: LocalApi, clean_db: Engine) -> None:
    api.create_job_info()
    created = only_pending()
    assert local_api.fire_schedule("CreateJobInfoFunction") == {"warm": True}
    assert sent_state(clean_db, created) == (True, 1)
    assert receipts.pending() == frozenset()


def test_flushed_marks_update_each_row_once(api: ApiClient, clean_db: Engine, sent_sql: list[str]) -> None:
    statements = sent_sql
    api.create_job_info()
    created = only_pending()
    statements.clear()
    assert unit_of_work.flush_receipts()
    assert len(statements) == 1
    assert statements[0].count("UPDATE outbox") == 1, "one UPDATE, not the same rows marked twice in one statement"
    assert sent_state(clean_db, created) == (True, 1)
    assert not unit_of_work.flush_receipts(), "nothing left to send"


@pytest.fixture
def two_containers(api: ApiClient, monkeypatch: pytest.MonkeyPatch) -> Iterator[Engine]:
    """A connection for the relay and one for a request, each giving up on a lock wait after 2 s:
    a request that waited for the relay would fail (and let the relay go on) instead of hanging."""
    engine = db.build_engine(get_settings(), pool_size=2)

    @event.listens_for(engine, "connect")
    def short_lock_timeout(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.execute("SET lock_timeout = '2s'")

    monkeypatch.setattr(db, "engine", engine)
    yield engine
    engine.dispose()


@pytest.mark.parametrize("method", ["get", "patch"])
def test_a_request_does_not_wait_for_rows_the_relay_holds(
    api: ApiClient,
    clean_db: Engine,
    event_sink: EventSink,
    two_containers: Engine,
    monkeypatch: pytest.MonkeyPatch,
    method: str,
) -> None:
    job = api.create_job_info()
    created = only_pending()
    # As if this container's mark had not gone out by the end of the grace period: the relay
    # (another container, holding no marks) claims the row and locks it while it publishes.
    receipts.forget({created})
    with clean_db.connect() as conn:
        conn.execute(text("UPDATE outbox SET next_attempt_at = now() WHERE id = :id"), {"id": created})

    real = publisher.events_client()
    answers: list[LambdaHttpResponse] = []
    calls: list[int] = []

    class MidPublish:
        """While the relay's transaction holds the claimed row: a request from the container
        that holds the row's sent mark."""

        def put_events(self, Entries: Any) -> Any:  # noqa: N803 - boto3's name
            calls.append(len(Entries))
            if len(calls) == 1:  # the relay's call (not the PATCH's own publish)
                receipts.note_sent({created})
                path = f"/job-infos/{job['id']}"
                answers.append(api.get(path) if method == "get" else api.patch(path, {"name": "during"}))
            return real.put_events(Entries=Entries)

    monkeypatch.setattr(publisher, "events_client", lambda: MidPublish())
    report = relay_pending(lambda: 60_000)

    assert [a.status for a in answers] == [200], [a.body for a in answers]  # no lock wait, no timeout
    assert report.sent >= 1
    assert sent_state(clean_db, created) == (True, 1), "the relay marked the row the request skipped"
    if method == "patch":
        assert created not in receipts.pending(), "skipped, not kept: the relay holding it marks it"
    else:
        assert created in receipts.pending(), "a read carries no marks"
