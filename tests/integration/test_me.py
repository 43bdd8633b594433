"""GET /me: the caller's profile (null until Clerk's webhook), plan usage and allowances from the
token's plan features, whether POST .../interviews would let them start one now, and their
interview rate-limit tokens; a body that stays the same between refills, with an ETag that
changes exactly when the body does (304 on If-None-Match)."""

from __future__ import annotations

import math
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.engine import Engine

from jobprep.config import get_settings
from jobprep_local.clerk import signed, user_deleted, user_profile
from tests.conftest import WEBHOOK_SECRET, EventSink
from tests.integration.conftest import ApiClient, snapshot
from tests.integration.test_account_deletion import deliver

CAPACITY = get_settings().rate_limit_capacity
SECONDS_PER_TOKEN = 86_400 / get_settings().rate_limit_refill_per_day
FULL = {"available": CAPACITY, "capacity": CAPACITY, "nextAt": None}


def me(api: ApiClient, user: str = "alice", features: str = "u:unlimited_interviews", **kw: Any) -> dict[str, Any]:
    response = api.get("/me", user=user, features=features, **kw)
    assert response.status == 200, response.body
    body: dict[str, Any] = response.json()
    return body


def sync(api: ApiClient, event_type: str = "user.created", user: str = "alice", **fields: Any) -> None:
    assert deliver(api, *signed(user_profile(event_type, user, **fields), WEBHOOK_SECRET)).status == 204


def set_usage(engine: Engine, user: str, interviews: int = 0, questions: int = 0) -> None:
    """What the statements that spend a unit write (the interviews and questions features)."""
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO plan_usage (user_id, interviews, questions) VALUES (:u, :i, :q)"
                " ON CONFLICT (user_id) DO UPDATE SET interviews = :i, questions = :q"
            ),
            {"u": user, "i": interviews, "q": questions},
        )


def test_before_the_webhook_the_profile_is_null_and_the_bucket_full(api: ApiClient, clean_db: Engine) -> None:
    before = snapshot(clean_db)
    assert me(api) == {
        "profile": None,
        "plan": {
            "interviews": {"used": 0, "limit": None, "unlimited": True},
            "questions": {"used": 0, "limit": 0, "unlimited": False},
        },
        "canStartInterview": True,
        "interviewTokens": FULL,
    }
    assert snapshot(clean_db) == before  # a read writes nothing (no bucket, no usage row)


def test_after_the_webhook_the_profile_is_clerks(api: ApiClient) -> None:
    sync(api, first_name="Alice", last_name="Smith", created_at=1_795_478_400_000, updated_at=1_795_478_460_123)
    sync(api, user="bob", email="bob@example.com")

    assert me(api)["profile"] == {
        "id": "alice",
        "name": "Alice Smith",
        "email": "alice@example.com",
        "imageUrl": "https://img.clerk.com/alice.png",
        "createdAt": "2026-11-24T00:00:00Z",
        "updatedAt": "2026-11-24T00:01:00.123000Z",
    }
    assert me(api, "bob")["profile"]["email"] == "bob@example.com"  # each caller sees their own
    assert me(api, "carol")["profile"] is None


def test_after_user_deleted_the_profile_and_usage_are_gone(api: ApiClient, clean_db: Engine) -> None:
    sync(api)
    set_usage(clean_db, "alice", interviews=1, questions=3)
    assert deliver(api, *signed(user_deleted("alice"), WEBHOOK_SECRET)).status == 204
    body = me(api, features="u:1_interview,u:5_questions")
    assert body["profile"] is None
    assert body["plan"] == {
        "interviews": {"used": 0, "limit": 1, "unlimited": False},
        "questions": {"used": 0, "limit": 5, "unlimited": False},
    }


@pytest.mark.parametrize(
    ("features", "interviews", "questions"),
    [
        ("", (0, False), (0, False)),
        ("u:1_interview", (1, False), (0, False)),
        ("u:1_interview,u:5_questions", (1, False), (5, False)),
        ("u:unlimited_interviews,u:unlimited_questions", (None, True), (None, True)),
        ("[1_interview unlimited_questions]", (1, False), (None, True)),  # HTTP API's rendering of a list claim
        ("u:unlimited_interviews,u:1_interview", (None, True), (0, False)),  # unlimited wins
    ],
)
@pytest.mark.parametrize(("used_interviews", "used_questions"), [(0, 0), (1, 4), (3, 5)])
def test_usage_and_allowances_follow_the_plan(
    api: ApiClient,
    clean_db: Engine,
    features: str,
    interviews: tuple[int | None, bool],
    questions: tuple[int | None, bool],
    used_interviews: int,
    used_questions: int,
) -> None:
    set_usage(clean_db, "alice", used_interviews, used_questions)
    body = me(api, features=features)
    assert body["plan"] == {
        "interviews": {"used": used_interviews, "limit": interviews[0], "unlimited": interviews[1]},
        "questions": {"used": used_questions, "limit": questions[0], "unlimited": questions[1]},
    }
    limit = interviews[0]
    assert body["canStartInterview"] is (limit is None or used_interviews < limit)


def _job_info(api: ApiClient, features: str) -> str:
    response = api.post("/job-infos", {"name": "n", "experienceLevel": "junior", "description": "d"}, features=features)
    assert response.status == 201
    job_info_id: str = response.json()["id"]
    return job_info_id


def _start(api: ApiClient, engine: Engine, features: str) -> None:
    """An interview started as the original app starts one: created, then connected to Hume (the
    PATCH that sets its humeChatId spends the plan's unit in plan_usage)."""
    job_info_id = _job_info(api, features)
    created = api.post(f"/job-infos/{job_info_id}/interviews", {}, features=features)
    assert created.status == 201
    assert api.patch(f"/interviews/{created.json()['id']}", {"humeChatId": "chat"}, features=features).status == 200


def _drain_bucket(engine: Engine) -> None:
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO rate_limit_buckets VALUES ('alice', 'create_interview', 0, now())"
                " ON CONFLICT (user_id, bucket) DO UPDATE SET tokens = 0, refilled_at = now()"
            )
        )


@pytest.mark.parametrize("features", ["", "u:1_interview", "u:unlimited_interviews"])
@pytest.mark.parametrize("state", ["fresh", "one started", "no token left"])
def test_can_start_interview_is_what_post_interviews_answers(
    api: ApiClient, clean_db: Engine, event_sink: EventSink, features: str, state: str
) -> None:
    """The original's new-interview page asks before it offers one: the answer must be the POST's."""
    if state == "one started":
        _start(api, clean_db, "u:unlimited_interviews")
    job_info_id = _job_info(api, features)
    if state == "no token left":
        _drain_bucket(clean_db)

    asked = me(api, features=features)["canStartInterview"]
    answer = api.post(f"/job-infos/{job_info_id}/interviews", {}, features=features)

    assert answer.status in (201, 403, 429)
    assert asked is (answer.status == 201), (features, state, answer.status)


def _bucket(engine: Engine) -> tuple[float, datetime]:
    with engine.connect() as conn:
        tokens, refilled_at = conn.execute(
            text("SELECT tokens, refilled_at FROM rate_limit_buckets WHERE user_id = 'alice'")
        ).one()
    return float(tokens), refilled_at


def test_tokens_and_the_next_one_after_taking_some(api: ApiClient, clean_db: Engine, event_sink: EventSink) -> None:
    job_info_id = _job_info(api, "u:unlimited_interviews")
    for _ in range(3):
        assert api.post(f"/job-infos/{job_info_id}/interviews", {}).status == 201

    body = me(api)
    tokens, refilled_at = _bucket(clean_db)
    next_at = datetime.fromisoformat(body["interviewTokens"]["nextAt"])
    # when the bucket, refilling continuously from its stored state, holds one more whole token
    due = refilled_at + timedelta(seconds=(math.floor(tokens) + 1 - tokens) * SECONDS_PER_TOKEN)
    assert body["interviewTokens"]["available"] == CAPACITY - 3
    assert body["interviewTokens"]["capacity"] == CAPACITY
    assert due <= next_at < due + timedelta(seconds=1)
    assert next_at.microsecond == 0  # whole seconds: nothing in the body moves between refills
    assert timedelta(0) < next_at - datetime.now(UTC) <= timedelta(seconds=SECONDS_PER_TOKEN + 1)
    assert body["canStartInterview"] is True


def test_the_body_stays_the_same_until_a_token_arrives_then_changes(api: ApiClient, clean_db: Engine) -> None:
    job_info_id = _job_info(api, "u:unlimited_interviews")
    assert api.post(f"/job-infos/{job_info_id}/interviews", {}).status == 201
    first = api.get("/me")
    time.sleep(1.1)  # the clock moves on (past a whole second), less than a token's worth
    again = api.get("/me")
    assert (again.body, again.headers["etag"]) == (first.body, first.headers["etag"])

    # a token's worth of time later (the bucket's stored state moved back): full again
    with clean_db.begin() as conn:
        conn.execute(
            text("UPDATE rate_limit_buckets SET refilled_at = refilled_at - make_interval(secs => :s)"),
            {"s": SECONDS_PER_TOKEN},
        )
    later = api.get("/me")

    assert later.json()["interviewTokens"] == FULL
    assert later.headers["etag"] != first.headers["etag"]


def test_an_empty_bucket_says_when_post_interviews_may_retry(api: ApiClient, clean_db: Engine) -> None:
    job_info_id = _job_info(api, "u:unlimited_interviews")
    _drain_bucket(clean_db)

    body = me(api)
    refused = api.post(f"/job-infos/{job_info_id}/interviews", {})

    assert body["canStartInterview"] is False
    assert body["interviewTokens"]["available"] == 0
    assert refused.status == 429
    retry_at = datetime.now(UTC) + timedelta(seconds=int(refused.headers["retry-after"]))
    next_at = datetime.fromisoformat(body["interviewTokens"]["nextAt"])
    assert abs(next_at - retry_at) < timedelta(seconds=5)


@pytest.mark.parametrize("form", ["{tag}", "W/{tag}", '"other", {tag}', "*"])
def test_if_none_match_with_the_current_etag_is_304_without_body(api: ApiClient, form: str) -> None:
    sync(api)
    current = api.get("/me")
    tag = current.headers["etag"]

    response = api.get("/me", headers={"if-none-match": form.format(tag=tag)})

    assert response.status == 304
    assert response.body == b""
    assert response.headers["etag"] == tag
    assert "content-type" not in response.headers


def test_the_etag_changes_exactly_when_the_body_does(api: ApiClient, clean_db: Engine) -> None:
    """A strong validator: equal bodies, equal tags; any change to the body, a new tag and a 200 for
    the old one; a change elsewhere (another user, another bucket) leaves it alone."""
    seen: dict[str, bytes] = {}

    def look(features: str = "u:unlimited_interviews") -> str:
        response = api.get("/me", features=features)
        tag = response.headers["etag"]
        assert seen.setdefault(tag, response.body) == response.body, "one tag, two bodies"
        return tag

    start = look()
    assert look() == start
    sync(api)  # the profile arrives
    profiled = look()
    sync(api, "user.updated", first_name="Ally", updated_at=4_102_444_800_000)  # a newer profile
    renamed = look()
    sync(api, user="bob", email="bob@example.com")  # someone else's profile
    set_usage(clean_db, "bob", 1)
    assert look() == renamed
    set_usage(clean_db, "alice", 0, 2)  # two questions created
    used = look()
    other_plan = look("u:1_interview")  # the same user under another plan

    tags = [start, profiled, renamed, used, other_plan]
    assert len(set(tags)) == len(tags)
    stale = api.get("/me", headers={"if-none-match": profiled}, features="u:unlimited_interviews")
    assert (stale.status, stale.headers["etag"]) == (200, used)


def test_a_bad_if_none_match_is_a_422_and_no_identity_a_401(api: ApiClient) -> None:
    assert api.get("/me", headers={"if-none-match": "x" * 1025}).status == 422
    assert api.get("/me", user=None).status == 401
