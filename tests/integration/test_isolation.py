"""Another user's rows answer exactly like missing rows (404), and nothing changes."""

import json
import re
from typing import Any

import pytest
from sqlalchemy.engine import Engine

from jobprep_local.template import PROJECT_ROOT, functions
from tests.conftest import EventSink
from tests.integration.conftest import ApiClient, snapshot

MISSING = "3f1c8a4e-8a7b-4a55-9d0c-6f1f1d2f9a10"


@pytest.fixture
def alices(api: ApiClient, event_sink: EventSink) -> dict[str, Any]:
    job = api.create_job_info(title="secret title")
    interview = api.create_interview(job["id"], humeChatId="chat-1")
    question = api.post(f"/job-infos/{job['id']}/questions", {"text": "secret question", "difficulty": "easy"})
    assert question.status == 201, question.body
    event_sink.drain()
    return {"job": job["id"], "interview": interview["id"], "question": question.json()["id"]}


# Which of Alice's resources each path parameter names. A route with a new kind of path
# parameter fails here until it is mapped, so it cannot slip past the isolation tests.
OWNED_BY_PARAMETER = {"jobInfoId": "job", "interviewId": "interview", "questionId": "question"}


def _requests(*, collections: bool) -> list[tuple[str, str, Any]]:
    """Every route in template.yaml, with the body of its sample event in events/ (so a new
    route without a sample event fails too)."""
    requests = []
    for spec in functions().values():
        for route in (r for r in spec.routes if r.needs_jwt):  # the public webhook has its own tests
            parameters = re.findall(r"{(\w+)}", route.path)
            if not parameters and not collections:
                continue  # collections are covered by the list tests
            sample = json.loads((PROJECT_ROOT / "events" / f"{spec.handler.split('/')[0]}.json").read_text())
            body = json.loads(sample["body"]) if sample.get("body") else None
            path = route.path
            for name in parameters:
                path = path.replace(f"{{{name}}}", f"{{{OWNED_BY_PARAMETER[name]}}}")
            requests.append((route.method, path, body))
    return requests


REQUESTS = _requests(collections=False)


def test_every_route_with_an_id_is_covered() -> None:
    assert {(m, p) for m, p, _ in REQUESTS} >= {
        ("GET", "/job-infos/{job}"),
        ("PATCH", "/job-infos/{job}"),
        ("DELETE", "/job-infos/{job}"),
        ("POST", "/job-infos/{job}/interviews"),
        ("GET", "/job-infos/{job}/interviews"),
        ("GET", "/interviews/{interview}"),
        ("PATCH", "/interviews/{interview}"),
        ("DELETE", "/interviews/{interview}"),
        ("POST", "/job-infos/{job}/questions"),
        ("GET", "/job-infos/{job}/questions"),
        ("GET", "/questions/{question}"),
    }


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
    # Bob's plan allows everything (ApiClient's default): only ownership can refuse him.
    foreign = api.request(method, template.format(**alices), user="bob", json_body=body)
    missing = api.request(
        method, template.format(job=MISSING, interview=MISSING, question=MISSING), user="bob", json_body=body
    )
    malformed = api.request(
        method, template.format(job="not-a-uuid", interview="1", question="q"), user="bob", json_body=body
    )

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


@pytest.mark.parametrize(("method", "template", "body"), _requests(collections=True))
def test_no_identity_is_401(
    api: ApiClient, clean_db: Engine, alices: dict[str, Any], method: str, template: str, body: Any
) -> None:
    before = snapshot(clean_db)
    response = api.request(method, template.format(**alices), user=None, json_body=body)
    assert response.status == 401
    assert response.json()["code"] == "UNAUTHENTICATED"
    assert snapshot(clean_db) == before
