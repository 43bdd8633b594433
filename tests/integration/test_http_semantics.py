"""Conditional GETs (If-None-Match -> 304) and no-op PATCHes (same version, no event)."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.engine import Engine

from tests.conftest import EventSink
from tests.integration.conftest import ApiClient, snapshot


def _resources(api: ApiClient) -> dict[str, dict[str, Any]]:
    job = api.create_job_info(title="Staff")
    interview = api.create_interview(job["id"], humeChatId="chat-1")
    question = api.post(f"/job-infos/{job['id']}/questions", {"text": "q", "difficulty": "easy"}).json()
    return {"job": job, "interview": interview, "question": question}


PATHS = {"job": "/job-infos/{id}", "interview": "/interviews/{id}", "question": "/questions/{id}"}


@pytest.mark.parametrize("kind", ["job", "interview", "question"])
@pytest.mark.parametrize("header", ['"1"', 'W/"1"', '"7", "1"', "*"])
def test_get_with_a_matching_if_none_match_is_304_without_body(api: ApiClient, kind: str, header: str) -> None:
    resource = _resources(api)[kind]
    path = PATHS[kind].format(id=resource["id"])
    assert api.get(path).headers["etag"] == '"1"'

    response = api.get(path, headers={"if-none-match": header})

    assert response.status == 304
    assert response.body == b""
    assert response.headers["etag"] == '"1"'
    assert "content-type" not in response.headers


@pytest.mark.parametrize("kind", ["job", "interview"])
def test_get_with_a_stale_if_none_match_is_200_with_the_new_etag(api: ApiClient, kind: str) -> None:
    resource = _resources(api)[kind]
    path = PATHS[kind].format(id=resource["id"])
    change = {"job": {"name": "Renamed"}, "interview": {"feedback": "Better"}}[kind]
    assert api.patch(path, change).headers["etag"] == '"2"'

    response = api.get(path, headers={"if-none-match": '"1"'})

    assert response.status == 200
    assert response.headers["etag"] == '"2"'
    assert response.json() == api.get(path).json()


@pytest.mark.parametrize("kind", ["job", "interview", "question"])
def test_if_none_match_on_a_missing_or_foreign_resource_is_still_404(api: ApiClient, kind: str) -> None:
    resource = _resources(api)[kind]
    path = PATHS[kind].format(id=resource["id"])
    assert api.get(path, user="bob", headers={"if-none-match": "*"}).status == 404


NO_OP_CHANGES = {
    # each field set to what it already is (text trimmed on the way in, as it was stored)
    "job": {"name": "  Backend role ", "title": "Staff", "experienceLevel": "senior", "description": "Python, AWS"},
    "interview": {"duration": "00:00:00", "humeChatId": "chat-1"},
}


@pytest.mark.parametrize("kind", ["job", "interview"])
@pytest.mark.parametrize("with_if_match", [False, True])
def test_a_patch_that_changes_nothing_keeps_the_version_and_emits_no_event(
    api: ApiClient, event_sink: EventSink, clean_db: Engine, kind: str, with_if_match: bool
) -> None:
    resource = _resources(api)[kind]
    path = PATHS[kind].format(id=resource["id"])
    event_sink.drain()
    before = snapshot(clean_db)
    current = api.get(path)

    headers = {"if-match": '"1"'} if with_if_match else {}
    response = api.patch(path, NO_OP_CHANGES[kind], headers=headers)

    assert response.status == 200
    assert response.headers["etag"] == '"1"'  # no new version
    assert response.json() == current.json()  # the current resource, updatedAt untouched
    assert snapshot(clean_db) == before  # no row changed, no outbox row written
    with clean_db.connect() as conn:
        assert (
            conn.execute(text("SELECT count(*) FROM outbox WHERE created_at > now() - interval '1 hour'")).scalar() == 3
        )
    assert event_sink.drain() == []  # nothing reached EventBridge


def test_a_partial_no_op_still_changes_when_one_field_differs(api: ApiClient, event_sink: EventSink) -> None:
    job = api.create_job_info(title="Staff")
    event_sink.drain()
    response = api.patch(f"/job-infos/{job['id']}", {"title": "Staff", "name": "New name"})
    assert response.status == 200
    assert response.headers["etag"] == '"2"'
    assert [e["detail-type"] for e in event_sink.drain()] == ["JobInfoUpdated"]
