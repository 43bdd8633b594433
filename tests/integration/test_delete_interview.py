"""DELETE /interviews/{interviewId}: 204 with If-Match, one InterviewDeleted with the interview's
three tags through the outbox, the plan's unit stays spent, another user's interview is 404."""

from __future__ import annotations

from typing import Any

from sqlalchemy import text
from sqlalchemy.engine import Engine

from tests.conftest import EventSink
from tests.integration.conftest import ApiClient, snapshot

FREE = "u:1_interview"


def test_delete_answers_204_removes_the_interview_and_sends_its_three_tags(
    api: ApiClient, clean_db: Engine, event_sink: EventSink
) -> None:
    job = api.create_job_info()
    interview = api.create_interview(job["id"])
    other = api.create_interview(job["id"])
    event_sink.drain()

    response = api.delete(f"/interviews/{interview['id']}")

    assert (response.status, response.body) == (204, b"")
    assert api.get(f"/interviews/{interview['id']}").status == 404
    assert [i["id"] for i in api.get(f"/job-infos/{job['id']}/interviews").json()["items"]] == [other["id"]]
    assert api.get(f"/job-infos/{job['id']}").status == 200, "its job info stays"
    [event] = event_sink.drain()
    assert (event["source"], event["detail-type"]) == ("job-prep.interviews", "InterviewDeleted")
    assert {k: event["detail"][k] for k in ("id", "userId", "jobInfoId")} == {
        "id": interview["id"],
        "userId": "alice",
        "jobInfoId": job["id"],
    }
    assert event["detail"]["tags"] == [
        "global:interviews",
        f"jobInfo:{job['id']}:interviews",
        f"id:{interview['id']}:interviews",
    ]
    with clean_db.connect() as conn:
        stored = conn.execute(
            text("SELECT detail_type FROM outbox WHERE id = :id"), {"id": event["detail"]["eventId"]}
        ).scalars()
        assert list(stored) == ["InterviewDeleted"], "written to the outbox by the same statement"
    again = api.delete(f"/interviews/{interview['id']}")
    assert (again.status, again.json()["code"]) == (404, "NOT_FOUND")


def test_if_match_guards_the_delete(api: ApiClient, clean_db: Engine, event_sink: EventSink) -> None:
    interview = api.create_interview(api.create_job_info()["id"])
    path = f"/interviews/{interview['id']}"
    assert api.patch(path, {"duration": "00:01:00"}).headers["etag"] == '"2"'
    event_sink.drain()
    before = snapshot(clean_db)

    stale = api.delete(path, headers={"if-match": '"1"'})

    assert (stale.status, stale.json()["code"]) == (412, "PRECONDITION_FAILED")
    assert snapshot(clean_db) == before
    assert event_sink.drain() == []
    assert api.delete(path, headers={"if-match": '"1", "2"'}).status == 204


def test_another_users_interview_is_404_and_untouched(api: ApiClient, clean_db: Engine, event_sink: EventSink) -> None:
    interview = api.create_interview(api.create_job_info()["id"])
    event_sink.drain()
    before = snapshot(clean_db)

    response = api.delete(f"/interviews/{interview['id']}", user="bob")

    assert response.json() == {"statusCode": 404, "code": "NOT_FOUND", "message": "Resource not found"}
    assert snapshot(clean_db) == before
    assert event_sink.drain() == []


def test_deleting_a_started_interview_refunds_nothing(api: ApiClient, clean_db: Engine, event_sink: EventSink) -> None:
    job = api.create_job_info()
    path = f"/job-infos/{job['id']}/interviews"
    started: dict[str, Any] = api.post(path, {"humeChatId": "chat-1"}, features=FREE).json()

    assert api.delete(f"/interviews/{started['id']}", features=FREE).status == 204
    again = api.post(path, {}, features=FREE)

    assert (again.status, again.json()["code"]) == (403, "PLAN_LIMIT")
    me = api.get("/me", features=FREE).json()
    assert (me["plan"]["interviews"]["used"], me["canStartInterview"]) == (1, False)
