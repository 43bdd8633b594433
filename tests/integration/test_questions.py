"""Questions (issue 18 item 6) through the real handlers: create, get, list oldest first, the
5_questions / unlimited_questions plan limit counted in plan_usage (deleting refunds nothing),
Idempotency-Key, and QuestionCreated with the original app's three tags through the outbox."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.engine import Engine

from tests.conftest import EventSink
from tests.integration.conftest import ApiClient, snapshot
from tests.integration.test_me import me

FIVE = "u:5_questions"
UNLIMITED = "u:unlimited_questions"
BODY = {"text": "Explain how a Python generator differs from a list.", "difficulty": "medium"}
MISSING = "3f1c8a4e-8a7b-4a55-9d0c-6f1f1d2f9a10"


def ask(api: ApiClient, job_id: str, n: int = 0, *, features: str = UNLIMITED, **kw: Any) -> Any:
    return api.post(f"/job-infos/{job_id}/questions", {**BODY, "text": f"question {n}"}, features=features, **kw)


def questions_used(engine: Engine, user: str = "alice") -> int | None:
    with engine.connect() as conn:
        used = conn.execute(text("SELECT questions FROM plan_usage WHERE user_id = :u"), {"u": user}).scalar()
    return None if used is None else int(used)


def test_create_get_list_and_events(api: ApiClient, event_sink: EventSink) -> None:
    job = api.create_job_info()
    event_sink.drain()

    created = api.post(f"/job-infos/{job['id']}/questions", BODY, features=FIVE)
    assert created.status == 201, created.body
    question = created.json()
    assert created.headers["location"] == f"/questions/{question['id']}"
    assert created.headers["etag"] == '"1"'
    assert "idempotent-replayed" not in created.headers
    assert {k: question[k] for k in ("jobInfoId", "text", "difficulty")} == {"jobInfoId": job["id"], **BODY}
    assert set(question) == {"id", "jobInfoId", "text", "difficulty", "createdAt", "updatedAt"}

    got = api.get(f"/questions/{question['id']}")
    assert got.status == 200
    assert got.json() == question
    assert got.headers["etag"] == '"1"'
    assert api.get(f"/questions/{question['id']}", headers={"if-none-match": '"1"'}).status == 304
    assert api.get(f"/questions/{question['id']}", headers={"if-none-match": 'W/"1"'}).status == 304
    assert api.get(f"/questions/{question['id']}", headers={"if-none-match": '"2"'}).status == 200

    second = ask(api, job["id"], 2, features=FIVE).json()
    listed = api.get(f"/job-infos/{job['id']}/questions").json()
    assert listed == {"items": [question, second], "nextCursor": None}, "oldest first"

    events = event_sink.drain()
    assert [(e["source"], e["detail-type"]) for e in events] == [("job-prep.questions", "QuestionCreated")] * 2
    for event, made in zip(events, [question, second], strict=True):
        assert event["detail"]["id"] == made["id"]
        assert event["detail"]["jobInfoId"] == job["id"]
        assert event["detail"]["userId"] == "alice"
        assert event["detail"]["tags"] == [
            "global:questions",
            f"jobInfo:{job['id']}:questions",
            f"id:{made['id']}:questions",
        ]


def test_the_text_is_trimmed_and_bounded_and_difficulty_one_of_three(api: ApiClient, clean_db: Engine) -> None:
    job = api.create_job_info()
    path = f"/job-infos/{job['id']}/questions"
    trimmed = api.post(path, {"text": "  What is a closure?\n", "difficulty": "easy"}, features=UNLIMITED)
    assert trimmed.status == 201
    assert trimmed.json()["text"] == "What is a closure?"
    assert api.post(path, {"text": "x" * 20_000, "difficulty": "hard"}, features=UNLIMITED).status == 201

    before = snapshot(clean_db)
    for body, field in [
        ({"text": "x" * 20_001, "difficulty": "hard"}, "text"),
        ({"text": "   ", "difficulty": "hard"}, "text"),
        ({"text": "nul \x00", "difficulty": "hard"}, "text"),
        ({"text": "q", "difficulty": "impossible"}, "difficulty"),
        ({"text": "q", "difficulty": None}, "difficulty"),
        ({"difficulty": "easy"}, "text"),
        ({"text": "q", "difficulty": "easy", "answer": "no"}, "answer"),
    ]:
        refused = api.post(path, body, features=UNLIMITED)
        assert refused.status == 422, (body, refused.body)
        assert refused.json()["code"] == "VALIDATION_ERROR"
        assert ["body", field] in [d["loc"] for d in refused.json()["detail"]], refused.json()
    assert api.post(path, None, features=UNLIMITED).status == 400, "no body: not a JSON object"
    assert snapshot(clean_db) == before


def test_another_users_or_a_missing_job_info_is_404_and_spends_nothing(
    api: ApiClient, event_sink: EventSink, clean_db: Engine
) -> None:
    job = api.create_job_info()
    question = ask(api, job["id"]).json()
    event_sink.drain()
    before = snapshot(clean_db)
    for user, job_id in [("bob", job["id"]), ("alice", MISSING), ("bob", MISSING)]:
        refused = ask(api, job_id, user=user)
        assert refused.status == 404
        assert refused.json() == {"statusCode": 404, "code": "NOT_FOUND", "message": "Resource not found"}
        assert api.get(f"/job-infos/{job_id}/questions", user=user).status == 404, "404, not an empty page"
    assert api.get(f"/questions/{question['id']}", user="bob").status == 404
    assert snapshot(clean_db) == before
    assert event_sink.drain() == []
    assert questions_used(clean_db, "bob") is None


def test_five_questions_then_403_and_deleting_refunds_nothing(
    api: ApiClient, event_sink: EventSink, clean_db: Engine
) -> None:
    job = api.create_job_info()
    assert [ask(api, job["id"], n, features=FIVE).status for n in range(5)] == [201] * 5
    assert questions_used(clean_db) == 5
    event_sink.drain()

    before = snapshot(clean_db)
    limited = ask(api, job["id"], 5, features=FIVE)
    assert limited.status == 403
    assert limited.json() == {
        "statusCode": 403,
        "code": "PLAN_LIMIT",
        "message": "You have reached your plan limit. Upgrade to create more questions.",
    }
    assert snapshot(clean_db) == before, "a refused create writes nothing, not even the count"
    assert event_sink.drain() == []

    # The bypass: delete the job info (its questions go with it) and ask again.
    assert api.delete(f"/job-infos/{job['id']}").status == 204
    with clean_db.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM questions")).scalar_one() == 0
    fresh = api.create_job_info()
    assert ask(api, fresh["id"], features=FIVE).status == 403, "deleting a job info refunds no question"
    assert questions_used(clean_db) == 5

    # The count is per user; unlimited_questions goes on counting; no plan allows none.
    other = api.create_job_info(user="bob")
    assert ask(api, other["id"], user="bob", features=FIVE).status == 201
    assert ask(api, fresh["id"], features=UNLIMITED).status == 201
    assert questions_used(clean_db) == 6
    assert ask(api, fresh["id"], features="").status == 403
    assert ask(api, fresh["id"], features="u:unlimited_interviews").status == 403


def test_me_reports_what_creating_questions_spent_and_agrees_with_the_403(api: ApiClient) -> None:
    job = api.create_job_info()
    usage = me(api, features=FIVE)["plan"]["questions"]
    assert usage == {"used": 0, "limit": 5, "unlimited": False}
    for n in range(5):
        assert usage["used"] < usage["limit"]
        assert ask(api, job["id"], n, features=FIVE).status == 201
        usage = me(api, features=FIVE)["plan"]["questions"]
        assert usage["used"] == n + 1
    assert usage == {"used": 5, "limit": 5, "unlimited": False}
    assert ask(api, job["id"], features=FIVE).status == 403
    assert me(api, features=FIVE)["plan"]["questions"]["used"] == 5, "a refused create spends nothing"
    assert me(api, features=UNLIMITED)["plan"]["questions"] == {"used": 5, "limit": None, "unlimited": True}
    assert me(api, user="bob", features=FIVE)["plan"]["questions"]["used"] == 0


def test_idempotency_key_replays_the_first_question_and_spends_one_unit(
    api: ApiClient, event_sink: EventSink, clean_db: Engine
) -> None:
    job = api.create_job_info()
    event_sink.drain()
    key = {"idempotency-key": "q-1"}
    first = ask(api, job["id"], features=FIVE, headers=key)
    assert first.status == 201
    for _ in range(6):  # more retries than the plan allows questions
        again = ask(api, job["id"], features=FIVE, headers=key)
        assert again.status == 201
        assert again.json() == first.json()
        assert again.headers["location"] == first.headers["location"]
        assert again.headers["idempotent-replayed"] == "true"
    assert questions_used(clean_db) == 1
    assert len(event_sink.drain()) == 1

    before = snapshot(clean_db)
    reused = api.post(f"/job-infos/{job['id']}/questions", {**BODY, "difficulty": "hard"}, features=FIVE, headers=key)
    assert reused.status == 422
    assert reused.json()["code"] == "IDEMPOTENCY_KEY_REUSED"
    interview_key = api.post(f"/job-infos/{job['id']}/interviews", {}, headers=key)
    assert interview_key.status == 422, "a key names one operation"
    assert snapshot(clean_db) == before


@pytest.mark.parametrize("limit", [1, 2, 3])
def test_pages_oldest_first_with_a_cursor_and_304(api: ApiClient, limit: int) -> None:
    job = api.create_job_info()
    made = [ask(api, job["id"], n).json()["id"] for n in range(5)]
    path = f"/job-infos/{job['id']}/questions"
    seen: list[str] = []
    query = f"limit={limit}"
    while True:
        page = api.get(path, query=query)
        assert page.status == 200
        body = page.json()
        assert len(body["items"]) <= limit
        seen += [q["id"] for q in body["items"]]
        if body["nextCursor"] is None:
            break
        query = f"limit={limit}&cursor={body['nextCursor']}"
    assert seen == made, "every question once, oldest first"

    first = api.get(path)
    etag = first.headers["etag"]
    assert api.get(path, headers={"if-none-match": etag}).status == 304
    assert api.get(path, headers={"if-none-match": "*"}).status == 304
    assert api.get(path, query="limit=2", headers={"if-none-match": etag}).status == 200, "another page, another tag"
    ask(api, job["id"], 9)
    changed = api.get(path, headers={"if-none-match": etag})
    assert changed.status == 200
    assert changed.headers["etag"] != etag
    assert api.get(path, query="cursor=not-a-cursor").status == 422


def test_a_question_created_while_paging_appears_on_a_later_page(api: ApiClient) -> None:
    """Oldest first: a new question sorts after every earlier one, so a client paging forward sees
    it on the last page and never sees a row twice."""
    job = api.create_job_info()
    made = [ask(api, job["id"], n).json()["id"] for n in range(3)]
    path = f"/job-infos/{job['id']}/questions"
    first = api.get(path, query="limit=2").json()
    made.append(ask(api, job["id"], 3).json()["id"])
    rest = api.get(path, query=f"limit=2&cursor={first['nextCursor']}").json()
    assert [q["id"] for q in first["items"] + rest["items"]] == made
