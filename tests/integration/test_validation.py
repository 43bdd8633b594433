"""Bad input gets a clear 400/422 naming the field, and writes nothing."""

from typing import Any

import pytest
from sqlalchemy.engine import Engine

from jobprep.interviews.tables import FEEDBACK_MAX, HUME_CHAT_ID_MAX
from jobprep.job_infos.tables import DESCRIPTION_MAX, NAME_MAX, TITLE_MAX
from tests.conftest import EventSink
from tests.integration.conftest import ApiClient, snapshot

GOOD_JOB = {"name": "Role", "experienceLevel": "junior", "description": "Python"}

# (route key, body, expected status, expected loc of the first error or None for 400)
CASES: list[tuple[str, Any, int, list[Any] | None]] = [
    ("POST job", {"experienceLevel": "junior", "description": "d"}, 422, ["body", "name"]),
    ("POST job", {**GOOD_JOB, "experienceLevel": "lead"}, 422, ["body", "experienceLevel"]),
    ("POST job", {**GOOD_JOB, "name": "n" * (NAME_MAX + 1)}, 422, ["body", "name"]),
    ("POST job", {**GOOD_JOB, "title": "t" * (TITLE_MAX + 1)}, 422, ["body", "title"]),
    ("POST job", {**GOOD_JOB, "description": "d" * (DESCRIPTION_MAX + 1)}, 422, ["body", "description"]),
    ("POST job", {**GOOD_JOB, "name": ["a"]}, 422, ["body", "name"]),
    ("POST job", {**GOOD_JOB, "description": 12}, 422, ["body", "description"]),
    ("POST job", {**GOOD_JOB, "userId": "mallory"}, 422, ["body", "userId"]),
    ("POST job", {**GOOD_JOB, "name": "  "}, 422, ["body", "name"]),
    ("POST job", {**GOOD_JOB, "name": "a\u0000b"}, 422, ["body", "name"]),
    ("POST job", '{"name": "Role",', 400, None),
    ("POST job", "[]", 400, None),
    ("POST job", '"just a string"', 400, None),
    ("POST job", "", 400, None),
    ("PATCH job", {}, 422, ["body"]),
    ("PATCH job", {"name": None}, 422, ["body", "name"]),
    ("PATCH job", {"experienceLevel": "intern"}, 422, ["body", "experienceLevel"]),
    ("PATCH job", {"id": "3f1c8a4e-8a7b-4a55-9d0c-6f1f1d2f9a10"}, 422, ["body", "id"]),
    ("PATCH job", "{oops", 400, None),
    ("POST interview", {"duration": "1:2:3"}, 422, ["body", "duration"]),
    ("POST interview", {"jobInfoId": "3f1c8a4e-8a7b-4a55-9d0c-6f1f1d2f9a10"}, 422, ["body", "jobInfoId"]),
    ("POST interview", {"humeChatId": "h" * (HUME_CHAT_ID_MAX + 1)}, 422, ["body", "humeChatId"]),
    ("POST interview", "[1]", 400, None),
    ("PATCH interview", {"feedback": "f" * (FEEDBACK_MAX + 1)}, 422, ["body", "feedback"]),
    ("PATCH interview", {"duration": None}, 422, ["body", "duration"]),
    ("PATCH interview", {"duration": 90}, 422, ["body", "duration"]),
    ("PATCH interview", {"feedback": {"text": "x"}}, 422, ["body", "feedback"]),
    ("PATCH interview", {"score": 10}, 422, ["body", "score"]),
    ("PATCH interview", "nul", 400, None),
]


@pytest.mark.parametrize(("route", "body", "status", "loc"), CASES)
def test_bad_bodies_are_rejected_and_change_nothing(
    api: ApiClient,
    event_sink: EventSink,
    clean_db: Engine,
    route: str,
    body: Any,
    status: int,
    loc: list[Any] | None,
) -> None:
    job = api.create_job_info()
    interview = api.create_interview(job["id"])
    event_sink.drain()
    method = route.split()[0]
    path = {
        "POST job": "/job-infos",
        "PATCH job": f"/job-infos/{job['id']}",
        "POST interview": f"/job-infos/{job['id']}/interviews",
        "PATCH interview": f"/interviews/{interview['id']}",
    }[route]
    before = snapshot(clean_db)

    kwargs: dict[str, Any] = {"body": body} if isinstance(body, str) else {"json_body": body}
    response = api.request(method, path, **kwargs)

    assert response.status == status, response.body
    payload = response.json()
    assert payload["statusCode"] == status
    if loc is None:
        assert payload == {"statusCode": 400, "code": "BAD_REQUEST", "message": "Request body must be a JSON object"}
    else:
        assert payload["detail"][0]["loc"] == loc
        assert payload["detail"][0]["msg"]
        assert payload["detail"][0]["type"]
    assert "Traceback" not in response.body.decode()
    assert snapshot(clean_db) == before
    assert event_sink.drain() == []


@pytest.mark.parametrize("key", ["k" * 256, "", "nul\x00byte", "tab\tkey", "caf\u00e9"])
def test_idempotency_key_header_is_validated(api: ApiClient, clean_db: Engine, key: str) -> None:
    # found by the Hypothesis run: a NUL in the key reached PostgreSQL and failed there as a 500
    before = snapshot(clean_db)
    response = api.post("/job-infos", GOOD_JOB, headers={"idempotency-key": key})
    assert response.status == 422
    assert response.json()["detail"][0]["loc"] == ["header", "idempotency-key"]
    assert snapshot(clean_db) == before


def test_control_characters_in_the_subject_claim_are_not_an_identity(api: ApiClient, clean_db: Engine) -> None:
    before = snapshot(clean_db)
    assert api.post("/job-infos", GOOD_JOB, user="ali\x00ce").status == 401
    assert snapshot(clean_db) == before
