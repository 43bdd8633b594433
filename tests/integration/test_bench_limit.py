"""The bench's limit (bench/limit.py) does the same work as ours, each write in one statement:
the change, its outbox event shaped like ours, ownership and the rate-limit token."""

from __future__ import annotations

import os
from typing import Any

import pytest
from sqlalchemy import make_url, text
from sqlalchemy.engine import Engine

from bench.limit import Limit
from bench.warm import BODY, RENAMES
from tests.integration.conftest import ApiClient


def _limit(user: str, capacity: int = 2) -> Limit:
    url = make_url(os.environ["DATABASE_URL"]).set(drivername="postgresql").render_as_string(hide_password=False)
    return Limit(url, user, capacity=capacity, refill_per_day=0.001)  # no refill within the test


def _events(engine: Engine) -> list[dict[str, Any]]:
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT id, source, detail_type, detail FROM outbox ORDER BY created_at, detail_type"))
        return [dict(row._mapping) for row in rows]


def test_limit_writes_the_change_and_an_event_shaped_like_ours(api: ApiClient, clean_db: Engine) -> None:
    ours_job = api.create_job_info(user="alice")
    api.create_interview(ours_job["id"], user="alice")
    ours_events = {e["detail_type"]: e for e in _events(clean_db)}
    with clean_db.connect() as conn:
        conn.execute(text("TRUNCATE outbox"))

    limit = _limit("alice")
    try:
        created = limit.calls(BODY, "", RENAMES)["create"](0)
        job_id = str(created[0])
        calls = limit.calls(BODY, job_id, RENAMES)
        updated = calls["update"](3)
        assert (updated[1], updated[5]) == (RENAMES[3], 2)  # name, version
        assert calls["get"](0)[:6] == updated[:6]
        interview = calls["create_interview"](0)
        assert str(interview[2]) == job_id  # after the owned flag: id, job_info_id
    finally:
        limit.close()

    events = _events(clean_db)
    assert [(e["source"], e["detail_type"]) for e in events] == [
        ("job-prep.job-infos", "JobInfoCreated"),
        ("job-prep.job-infos", "JobInfoUpdated"),
        ("job-prep.interviews", "InterviewCreated"),
    ]
    for event in events:
        ours = ours_events.get(event["detail_type"]) or ours_events["JobInfoCreated"]
        assert event["detail"].keys() == ours["detail"].keys()
        assert event["detail"]["eventId"] == str(event["id"])
        assert event["detail"]["userId"] == "alice"
    assert events[0]["detail"]["tags"] == ["global:jobInfos", "user:alice:jobInfos", f"id:{job_id}:jobInfos"]
    interview_id = events[2]["detail"]["id"]
    assert events[2]["detail"]["jobInfoId"] == job_id
    assert events[2]["detail"]["tags"] == [
        "global:interviews",
        f"jobInfo:{job_id}:interviews",
        f"id:{interview_id}:interviews",
    ]


def test_limit_create_interview_checks_ownership_and_takes_a_token(clean_db: Engine) -> None:
    alice, bob = _limit("alice", capacity=2), _limit("bob", capacity=2)
    try:
        job_id = str(alice.calls(BODY, "", RENAMES)["create"](0)[0])
        with pytest.raises(AssertionError, match="not found"):
            bob.calls(BODY, job_id, RENAMES)["create_interview"](0)
        create_interview = alice.calls(BODY, job_id, RENAMES)["create_interview"]
        create_interview(0)
        create_interview(1)
        with pytest.raises(AssertionError, match="rate limited"):
            create_interview(2)
    finally:
        alice.close()
        bob.close()
    with clean_db.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM interviews")).scalar_one() == 2
        assert conn.execute(text("SELECT count(*) FROM outbox WHERE source = 'job-prep.interviews'")).scalar_one() == 2
        # bob's attempt took no token: his bucket was never created
        assert conn.execute(text("SELECT user_id FROM rate_limit_buckets")).scalars().all() == ["alice"]
