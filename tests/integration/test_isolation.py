"""Another user's rows answer exactly like missing rows (404), and nothing changes."""

from typing import Any

import pytest
from sqlalchemy.engine import Engine

from tests.conftest import EventSink
from tests.integration.conftest import ApiClient, snapshot

MISSING = "3f1c8a4e-8a7b-4a55-9d0c-6f1f1d2f9a10"


@pytest.fixture
def alices(api: ApiClient, event_sink: EventSink) -> dict[str, Any]:
    job = api.create_job_info(title="secret title")
    interview = api.create_interview(job["id"], humeChatId="chat-1")
    event_sink.drain()
    return {"job": job["id"], "interview": interview["id"]}


REQUESTS = [
    ("GET", "/job-infos/{job}", None),
    ("PATCH", "/job-infos/{job}", {"name": "hijacked"}),
    ("DELETE", "/job-infos/{job}", None),
    ("POST", "/job-infos/{job}/interviews", {}),
    ("GET", "/job-infos/{job}/interviews", None),
    ("GET", "/interviews/{interview}", None),
    ("PATCH", "/interviews/{interview}", {"feedback": "hijacked"}),
]


@pytest.mark.parametrize(("method", "template", "body"), REQUESTS)
def test_foreign_rows_are_404_and_untouched(
    api: ApiClient,
    event_sink: EventSink,
    clean_db: Engine,
    alices: dict[str, Any],
    method: str,
    template: str,
    body: Any,
) -> None:
    before = snapshot(clean_db)
    foreign = api.request(method, template.format(**alices), user="bob", json_body=body)
    missing = api.request(method, template.format(job=MISSING, interview=MISSING), user="bob", json_body=body)
    malformed = api.request(method, template.format(job="not-a-uuid", interview="1"), user="bob", json_body=body)

    assert foreign.status == missing.status == malformed.status == 404
    assert foreign.json() == missing.json() == {"statusCode": 404, "code": "NOT_FOUND", "message": "Resource not found"}
    assert b"secret" not in foreign.body
    assert snapshot(clean_db) == before
    assert event_sink.drain() == []
    # and the owner still sees it
    assert api.get(f"/job-infos/{alices['job']}").status == 200


def test_lists_never_show_other_users_rows(api: ApiClient, alices: dict[str, Any]) -> None:
    api.create_job_info(user="bob", name="bob's")
    assert [j["name"] for j in api.get("/job-infos", user="bob").json()["items"]] == ["bob's"]
    assert api.get("/job-infos", user="carol").json() == {"items": [], "nextCursor": None}


@pytest.mark.parametrize(("method", "template", "body"), [*REQUESTS, ("GET", "/job-infos", None)])
def test_no_identity_is_401(
    api: ApiClient, clean_db: Engine, alices: dict[str, Any], method: str, template: str, body: Any
) -> None:
    before = snapshot(clean_db)
    response = api.request(method, template.format(**alices), user=None, json_body=body)
    assert response.status == 401
    assert response.json()["code"] == "UNAUTHENTICATED"
    assert snapshot(clean_db) == before
