"""Idempotency-Key on creates: a retry returns the first result and creates nothing, even concurrently."""

from sqlalchemy import func, select, text
from sqlalchemy import table as sql_table
from sqlalchemy.engine import Engine

from tests.conftest import EventSink
from tests.integration.conftest import ApiClient, snapshot

BODY = {"name": "Role", "experienceLevel": "senior", "description": "d"}


def count(engine: Engine, table: str) -> int:
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(sql_table(table))).scalar_one())


def test_retry_returns_the_first_response(api: ApiClient, event_sink: EventSink, clean_db: Engine) -> None:
    key = {"idempotency-key": "retry-1"}
    first = api.post("/job-infos", BODY, headers=key)
    assert first.status == 201
    assert "idempotent-replayed" not in first.headers
    api.patch(f"/job-infos/{first.json()['id']}", {"name": "changed since"})
    event_sink.drain()

    again = api.post("/job-infos", BODY, headers=key)
    assert again.status == 201
    assert again.json() == first.json(), "the stored first result, not the current row"
    assert again.headers["location"] == first.headers["location"]
    assert again.headers["etag"] == first.headers["etag"]
    assert again.headers["idempotent-replayed"] == "true"
    assert count(clean_db, "job_infos") == 1
    assert event_sink.drain() == []


def test_same_key_different_body_is_rejected(api: ApiClient, clean_db: Engine) -> None:
    key = {"idempotency-key": "k"}
    assert api.post("/job-infos", BODY, headers=key).status == 201
    before = snapshot(clean_db)
    other = api.post("/job-infos", {**BODY, "name": "Other"}, headers=key)
    assert other.status == 422
    assert other.json()["code"] == "IDEMPOTENCY_KEY_REUSED"
    assert snapshot(clean_db) == before


def test_keys_are_per_user_and_per_operation(api: ApiClient, clean_db: Engine) -> None:
    key = {"idempotency-key": "shared"}
    mine = api.post("/job-infos", BODY, headers=key)
    theirs = api.post("/job-infos", BODY, headers=key, user="bob")
    assert mine.status == theirs.status == 201
    assert mine.json()["id"] != theirs.json()["id"]
    reused_for_interview = api.post(f"/job-infos/{mine.json()['id']}/interviews", {}, headers=key)
    assert reused_for_interview.status == 422
    assert count(clean_db, "interviews") == 0


def test_interview_retries_do_not_spend_rate_limit_tokens(api: ApiClient, clean_db: Engine) -> None:
    job = api.create_job_info()
    path = f"/job-infos/{job['id']}/interviews"
    first = api.post(path, {}, headers={"idempotency-key": "iv"})
    for _ in range(20):
        again = api.post(path, {}, headers={"idempotency-key": "iv"})
        assert again.status == 201
        assert again.json()["id"] == first.json()["id"]
    assert count(clean_db, "interviews") == 1
    with clean_db.connect() as conn:
        assert conn.execute(text("SELECT round(tokens) FROM rate_limit_buckets")).scalar_one() == 11
