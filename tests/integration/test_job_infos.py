"""Job info routes end to end through the real handlers, PostgreSQL and (moto) EventBridge."""

from typing import Any

from sqlalchemy import text
from sqlalchemy.engine import Engine

from tests.conftest import EventSink
from tests.integration.conftest import ApiClient, snapshot


def tags_of(events: list[dict[str, Any]]) -> list[tuple[str, str, list[str]]]:
    return [(e["source"], e["detail-type"], e["detail"]["tags"]) for e in events]


def test_create_returns_201_location_etag_and_publishes(api: ApiClient, event_sink: EventSink) -> None:
    response = api.post(
        "/job-infos",
        {"name": "Acme", "title": "Senior Dev", "experienceLevel": "senior", "description": "Python"},
    )
    assert response.status == 201
    body = response.json()
    assert response.headers["location"] == f"/job-infos/{body['id']}"
    assert response.headers["etag"] == '"1"'
    assert body["name"] == "Acme"
    assert body["title"] == "Senior Dev"
    assert body["experienceLevel"] == "senior"
    assert body["createdAt"] == body["updatedAt"]
    assert set(body) == {"id", "name", "title", "experienceLevel", "description", "createdAt", "updatedAt"}

    [event] = event_sink.drain()
    assert event["source"] == "job-prep.job-infos"
    assert event["detail-type"] == "JobInfoCreated"
    detail = event["detail"]
    assert detail["id"] == body["id"]
    assert detail["userId"] == "alice"
    assert "jobInfoId" not in detail
    assert detail["tags"] == ["global:jobInfos", "user:alice:jobInfos", f"id:{body['id']}:jobInfos"]
    assert set(detail) == {"eventId", "occurredAt", "id", "userId", "tags"}


def test_get_and_list_only_the_callers_rows_newest_first(api: ApiClient) -> None:
    first = api.create_job_info(name="first")
    second = api.create_job_info(name="second")
    api.create_job_info(user="bob", name="bobs")

    listed = api.get("/job-infos")
    assert listed.status == 200
    assert [j["name"] for j in listed.json()["items"]] == ["second", "first"]
    assert listed.json()["nextCursor"] is None

    got = api.get(f"/job-infos/{first['id']}")
    assert got.status == 200
    assert got.json() == first
    assert got.headers["etag"] == '"1"'
    assert api.get(f"/job-infos/{second['id']}", user="bob").status == 404


def test_cursor_pagination_walks_every_row_once(api: ApiClient) -> None:
    created = [api.create_job_info(name=f"job {i}")["id"] for i in range(7)]
    seen: list[str] = []
    query = "limit=3"
    pages = 0
    while True:
        page = api.get("/job-infos", query=query).json()
        pages += 1
        seen += [j["id"] for j in page["items"]]
        if page["nextCursor"] is None:
            break
        query = f"limit=3&cursor={page['nextCursor']}"
    assert pages == 3
    assert seen == list(reversed(created))


def test_list_rejects_bad_paging_parameters(api: ApiClient) -> None:
    for query, loc in [("limit=0", "limit"), ("limit=101", "limit"), ("limit=x", "limit"), ("cursor=zzz", "cursor")]:
        response = api.get("/job-infos", query=query)
        assert response.status == 422, query
        assert response.json()["detail"][0]["loc"] == ["query", loc]


def test_update_changes_only_given_fields_bumps_etag_and_publishes(
    api: ApiClient, event_sink: EventSink, clean_db: Engine
) -> None:
    job = api.create_job_info(title="Dev")
    event_sink.drain()
    response = api.patch(f"/job-infos/{job['id']}", {"title": None, "experienceLevel": "junior"})
    assert response.status == 200
    body = response.json()
    assert body["title"] is None
    assert body["experienceLevel"] == "junior"
    assert body["name"] == job["name"]
    assert body["description"] == job["description"]
    assert body["updatedAt"] > job["updatedAt"]
    assert body["createdAt"] == job["createdAt"]
    assert response.headers["etag"] == '"2"'
    assert tags_of(event_sink.drain()) == [
        (
            "job-prep.job-infos",
            "JobInfoUpdated",
            ["global:jobInfos", "user:alice:jobInfos", f"id:{job['id']}:jobInfos"],
        )
    ]
    with clean_db.connect() as conn:
        assert conn.execute(text("SELECT title, version FROM job_infos")).one() == (None, 2)


def test_if_match_guards_updates_and_deletes(api: ApiClient, event_sink: EventSink, clean_db: Engine) -> None:
    job = api.create_job_info()
    path = f"/job-infos/{job['id']}"
    assert api.patch(path, {"name": "v2"}, headers={"if-match": '"1"'}).status == 200
    event_sink.drain()
    before = snapshot(clean_db)

    stale = api.patch(path, {"name": "lost update"}, headers={"if-match": '"1"'})
    assert stale.status == 412
    assert stale.json()["code"] == "PRECONDITION_FAILED"
    assert api.delete(path, headers={"if-match": '"1"'}).status == 412
    assert snapshot(clean_db) == before
    assert event_sink.drain() == []

    assert api.delete(path, headers={"if-match": '"2"'}).status == 204
    assert api.get(path).status == 404


def test_delete_cascades_interviews_and_questions_and_invalidates_them(
    api: ApiClient, event_sink: EventSink, clean_db: Engine
) -> None:
    job = api.create_job_info()
    other = api.create_job_info(name="kept")
    interviews = [api.create_interview(job["id"])["id"] for _ in range(2)]
    kept_interview = api.create_interview(other["id"])["id"]
    ask = {"text": "q", "difficulty": "easy"}
    questions = [api.post(f"/job-infos/{job['id']}/questions", ask).json()["id"] for _ in range(3)]
    kept_question = api.post(f"/job-infos/{other['id']}/questions", ask).json()["id"]
    event_sink.drain()

    response = api.delete(f"/job-infos/{job['id']}")
    assert response.status == 204
    assert response.body == b""

    [event] = event_sink.drain()
    assert event["detail-type"] == "JobInfoDeleted"
    jid = job["id"]
    tags = event["detail"]["tags"]
    assert tags[:6] == [
        "global:jobInfos",
        "user:alice:jobInfos",
        f"id:{jid}:jobInfos",
        f"jobInfo:{jid}:interviews",
        f"jobInfo:{jid}:questions",
        "global:interviews",
    ]
    assert sorted(tags[6:8]) == sorted(f"id:{i}:interviews" for i in interviews)
    assert tags[8] == "global:questions"
    assert sorted(tags[9:]) == sorted(f"id:{q}:questions" for q in questions)
    with clean_db.connect() as conn:
        assert conn.execute(text("SELECT id::text FROM interviews")).scalars().all() == [kept_interview]
        assert conn.execute(text("SELECT id::text FROM questions")).scalars().all() == [kept_question]
    assert api.get(f"/interviews/{interviews[0]}").status == 404
    assert api.get(f"/questions/{questions[0]}").status == 404
    assert api.get(f"/job-infos/{jid}/questions").status == 404
    assert api.delete(f"/job-infos/{job['id']}").status == 404


def test_delete_without_interviews_or_questions_still_invalidates_their_lists(
    api: ApiClient, event_sink: EventSink
) -> None:
    job = api.create_job_info()
    event_sink.drain()
    assert api.delete(f"/job-infos/{job['id']}").status == 204
    [event] = event_sink.drain()
    assert event["detail"]["tags"] == [
        "global:jobInfos",
        "user:alice:jobInfos",
        f"id:{job['id']}:jobInfos",
        f"jobInfo:{job['id']}:interviews",
        f"jobInfo:{job['id']}:questions",
    ]


def test_every_published_event_is_marked_sent(api: ApiClient, clean_db: Engine) -> None:
    job = api.create_job_info()
    api.patch(f"/job-infos/{job['id']}", {"name": "x"})
    api.delete(f"/job-infos/{job['id']}")

    def outbox() -> list[tuple[str, bool, int]]:
        with clean_db.connect() as conn:
            query = text("SELECT detail_type, sent_at IS NOT NULL, attempts FROM outbox ORDER BY created_at")
            return [tuple(row) for row in conn.execute(query)]

    # Each mark goes out with the container's next change statement; a read carries none.
    assert api.get("/job-infos").status == 200
    assert outbox() == [("JobInfoCreated", True, 1), ("JobInfoUpdated", True, 1), ("JobInfoDeleted", False, 0)]
    api.create_job_info()
    assert outbox()[:3] == [("JobInfoCreated", True, 1), ("JobInfoUpdated", True, 1), ("JobInfoDeleted", True, 1)]
