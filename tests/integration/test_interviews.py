"""Interview routes, plan limit and rate limit through the real handlers."""

from sqlalchemy import text
from sqlalchemy.engine import Engine

from tests.conftest import EventSink
from tests.integration.conftest import ApiClient, snapshot


def test_create_get_list_update(api: ApiClient, event_sink: EventSink) -> None:
    job = api.create_job_info()
    event_sink.drain()
    created = api.post(f"/job-infos/{job['id']}/interviews", {})
    assert created.status == 201
    interview = created.json()
    assert created.headers["location"] == f"/interviews/{interview['id']}"
    assert created.headers["etag"] == '"1"'
    assert interview["jobInfoId"] == job["id"]
    assert interview["duration"] == "00:00:00"
    assert interview["humeChatId"] is None
    assert interview["feedback"] is None

    no_body = api.post(f"/job-infos/{job['id']}/interviews", None)
    assert no_body.status == 201, "an empty POST starts an interview, as in the original app"

    assert api.get(f"/interviews/{interview['id']}").json() == interview
    listed = api.get(f"/job-infos/{job['id']}/interviews").json()
    assert [i["id"] for i in listed["items"]] == [no_body.json()["id"], interview["id"]]

    updated = api.patch(
        f"/interviews/{interview['id']}", {"duration": "00:12:34", "humeChatId": "chat-1", "feedback": "Good"}
    )
    assert updated.status == 200
    assert updated.headers["etag"] == '"2"'
    assert {k: updated.json()[k] for k in ("duration", "humeChatId", "feedback")} == {
        "duration": "00:12:34",
        "humeChatId": "chat-1",
        "feedback": "Good",
    }

    events = event_sink.drain()
    assert [(e["source"], e["detail-type"]) for e in events] == [
        ("job-prep.interviews", "InterviewCreated"),
        ("job-prep.interviews", "InterviewCreated"),
        ("job-prep.interviews", "InterviewUpdated"),
    ]
    for event, interview_id in zip(events, [interview["id"], no_body.json()["id"], interview["id"]], strict=True):
        assert event["detail"]["id"] == interview_id
        assert event["detail"]["jobInfoId"] == job["id"]
        assert event["detail"]["userId"] == "alice"
        assert event["detail"]["tags"] == [
            "global:interviews",
            f"jobInfo:{job['id']}:interviews",
            f"id:{interview_id}:interviews",
        ]


def test_list_of_a_missing_or_foreign_job_info_is_404_not_empty(api: ApiClient) -> None:
    job = api.create_job_info()
    assert api.get(f"/job-infos/{job['id']}/interviews", user="bob").status == 404
    assert api.get("/job-infos/3f1c8a4e-8a7b-4a55-9d0c-6f1f1d2f9a10/interviews").status == 404


def test_plan_limit_follows_the_original_rules(api: ApiClient, clean_db: Engine) -> None:
    job = api.create_job_info()
    path = f"/job-infos/{job['id']}/interviews"

    no_plan = api.post(path, {}, features="")
    assert no_plan.status == 403
    assert no_plan.json()["code"] == "PLAN_LIMIT"

    # 1_interview: allowed until one interview has reached Hume (humeChatId set)
    first = api.post(path, {}, features="u:1_interview")
    assert first.status == 201
    assert api.post(path, {}, features="u:1_interview").status == 201
    api.patch(f"/interviews/{first.json()['id']}", {"humeChatId": "chat-1"})
    before = snapshot(clean_db)
    limited = api.post(path, {}, features="u:1_interview")
    assert limited.status == 403
    assert limited.json() == {
        "statusCode": 403,
        "code": "PLAN_LIMIT",
        "message": "You have reached your plan limit. Upgrade to create more interviews.",
    }
    assert snapshot(clean_db) == before
    assert api.post(path, {}, features="u:unlimited_interviews").status == 201


def test_rate_limit_is_a_token_bucket_of_12(api: ApiClient, clean_db: Engine) -> None:
    job = api.create_job_info()
    path = f"/job-infos/{job['id']}/interviews"
    statuses = [api.post(path, {}).status for _ in range(12)]
    assert statuses == [201] * 12
    before = snapshot(clean_db)
    limited = api.post(path, {})
    assert limited.status == 429
    assert limited.json()["code"] == "RATE_LIMIT"
    # 4 tokens per day: one token takes six hours to come back
    retry_after = int(limited.headers["retry-after"])
    assert 6 * 3600 - 60 <= retry_after <= 6 * 3600
    assert snapshot(clean_db) == before
    # the bucket is per user
    other_job = api.create_job_info(user="bob")
    assert api.post(f"/job-infos/{other_job['id']}/interviews", {}, user="bob").status == 201

    # refill is continuous: pretend the last refill was 6 hours ago
    with clean_db.begin() as conn:
        conn.execute(text("UPDATE rate_limit_buckets SET refilled_at = refilled_at - interval '6 hours 1 second'"))
    assert api.post(path, {}).status == 201
    assert api.post(path, {}).status == 429


def test_rejected_creates_do_not_spend_tokens(api: ApiClient, clean_db: Engine) -> None:
    job = api.create_job_info()
    for _ in range(3):
        assert api.post(f"/job-infos/{job['id']}/interviews", {}, features="").status == 403
        assert api.post(f"/job-infos/{job['id']}/interviews", {"duration": "bad"}).status == 422
        assert api.post("/job-infos/3f1c8a4e-8a7b-4a55-9d0c-6f1f1d2f9a10/interviews", {}).status == 404
    with clean_db.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM rate_limit_buckets")).scalar_one() == 0
