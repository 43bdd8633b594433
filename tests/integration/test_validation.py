"""Bad input gets a clear 400/415/422 naming the field, and writes nothing."""

import base64
import json
from typing import Any

import pytest
from sqlalchemy.engine import Engine

from jobprep.interviews.tables import FEEDBACK_MAX, HUME_CHAT_ID_MAX
from jobprep.job_infos.tables import DESCRIPTION_MAX, NAME_MAX, TITLE_MAX
from jobprep.questions.tables import TEXT_MAX as QUESTION_TEXT_MAX
from jobprep_local.apigw import http_api_event
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
    ("POST question", {"difficulty": "easy"}, 422, ["body", "text"]),
    ("POST question", {"text": "q" * (QUESTION_TEXT_MAX + 1), "difficulty": "easy"}, 422, ["body", "text"]),
    ("POST question", {"text": "q", "difficulty": "trivial"}, 422, ["body", "difficulty"]),
    ("POST question", {"text": "q", "difficulty": "easy", "jobInfoId": "x"}, 422, ["body", "jobInfoId"]),
    ("POST question", "{}", 422, ["body", "text"]),
    ("POST question", "", 400, None),
    # Powertools unwraps an array for a body parameter (its first element): refused before it.
    ("POST question", '[{"text": "q", "difficulty": "easy"}]', 400, None),
    ("POST interview", "[null, null]", 400, None),
    ("POST interview", ' \n [{"duration": "00:01:00"}]', 400, None),
    ("POST job", json.dumps([GOOD_JOB]), 400, None),
    ("PATCH job", '[{"name": "Renamed"}]', 400, None),
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
        "POST question": f"/job-infos/{job['id']}/questions",
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
        # the common error fields ride along with Powertools' detail[]
        assert payload["code"] == "VALIDATION_ERROR"
        assert payload["message"] == "Request validation failed"
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


BODY_ROUTES = ["POST job", "PATCH job", "POST interview", "PATCH interview", "POST question"]
VALID_BODY = {
    "POST job": GOOD_JOB,
    "PATCH job": {"name": "Renamed"},
    "POST interview": {"duration": "00:01:00"},
    "PATCH interview": {"duration": "00:02:00"},
    "POST question": {"text": "What is a closure?", "difficulty": "easy"},
}
UNSUPPORTED = {
    "statusCode": 415,
    "code": "UNSUPPORTED_MEDIA_TYPE",
    "message": "Request body must be sent as Content-Type: application/json",
}
BAD_REQUEST = {"statusCode": 400, "code": "BAD_REQUEST", "message": "Request body must be a JSON object"}


def _route_path(route: str, job: dict[str, Any], interview: dict[str, Any]) -> str:
    return {
        "POST job": "/job-infos",
        "PATCH job": f"/job-infos/{job['id']}",
        "POST interview": f"/job-infos/{job['id']}/interviews",
        "PATCH interview": f"/interviews/{interview['id']}",
        "POST question": f"/job-infos/{job['id']}/questions",
    }[route]


def _form(body: dict[str, Any]) -> str:
    return "&".join(f"{k}={v}" for k, v in body.items())


# (content-type header or None for no header, how to encode the route's VALID body)
MEDIA_TYPE_CASES: list[tuple[str | None, str]] = [
    ("text/plain", "json"),
    ("text/plain; charset=utf-8", "json"),
    ("multipart/form-data", "json"),  # no boundary: Powertools raised ValueError -> 500
    ("multipart/form-data; boundary=x", "multipart"),
    ("application/x-www-form-urlencoded", "form"),  # Powertools would parse it as a form
    (None, "json"),
    ("application/jsonp", "json"),
    ("application/merge-patch+json", "json"),
    ("application/json; charset=latin-1", "json"),
    ("", "json"),
]


@pytest.mark.parametrize("route", BODY_ROUTES)
@pytest.mark.parametrize(("content_type", "encoding"), MEDIA_TYPE_CASES)
def test_a_body_that_is_not_json_is_415_and_changes_nothing(
    api: ApiClient, event_sink: EventSink, clean_db: Engine, route: str, content_type: str | None, encoding: str
) -> None:
    job = api.create_job_info()
    interview = api.create_interview(job["id"])
    event_sink.drain()
    before = snapshot(clean_db)
    valid = VALID_BODY[route]
    body = {
        "json": json.dumps(valid),
        "form": _form(valid),
        "multipart": "".join(
            f'--x\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n' for k, v in valid.items()
        )
        + "--x--\r\n",
    }[encoding]
    match = api.api.match(route.split()[0], _route_path(route, job, interview))
    assert match is not None
    headers = {} if content_type is None else {"content-type": content_type}
    response = api.api.invoke(
        match, _route_path(route, job, interview), headers=headers, body=body, claims={"sub": "alice", "fea": ALL}
    )
    assert response.status == 415, response.body
    assert response.json() == UNSUPPORTED
    assert snapshot(clean_db) == before
    assert event_sink.drain() == []


ALL = "u:unlimited_interviews,u:unlimited_questions"


def _raw_event(api: ApiClient, route: str, path: str, body: str, *, base64_encoded: bool) -> dict[str, Any]:
    match = api.api.match(route.split()[0], path)
    assert match is not None
    event = http_api_event(
        match.route,
        path=path,
        path_parameters=match.path_parameters,
        headers={"content-type": "application/json"},
        body=body,
        claims={"sub": "alice", "fea": ALL},
    )
    event["isBase64Encoded"] = base64_encoded
    return event


# Bodies API Gateway can hand over that are not UTF-8 JSON text.
UNDECODABLE: list[tuple[str, bool]] = [
    (base64.b64encode(b"\xff\xfe{}").decode(), True),  # base64 of bytes that are not UTF-8
    (base64.b64encode(b'{"name": "caf\xe9"}').decode(), True),  # Latin-1 sent as if it were UTF-8
    ("not base64 at all!", True),
    ("[" * 50_000, False),  # nested too deep for the JSON parser
]


@pytest.mark.parametrize("route", BODY_ROUTES)
@pytest.mark.parametrize(("body", "base64_encoded"), UNDECODABLE)
def test_an_undecodable_body_is_400_and_changes_nothing(
    api: ApiClient, event_sink: EventSink, clean_db: Engine, route: str, body: str, base64_encoded: bool
) -> None:
    job = api.create_job_info()
    interview = api.create_interview(job["id"])
    event_sink.drain()
    before = snapshot(clean_db)
    path = _route_path(route, job, interview)
    event = _raw_event(api, route, path, body, base64_encoded=base64_encoded)
    match = api.api.match(route.split()[0], path)
    assert match is not None
    result = api.api.invoke_function(match.spec, event)
    assert result["statusCode"] == 400, result
    assert json.loads(result["body"]) == BAD_REQUEST
    assert snapshot(clean_db) == before
    assert event_sink.drain() == []


@pytest.mark.parametrize("route", BODY_ROUTES)
def test_base64_encoded_utf8_json_with_charset_is_accepted(api: ApiClient, event_sink: EventSink, route: str) -> None:
    # API Gateway may base64-encode a body; what counts is that the bytes are UTF-8 JSON.
    job = api.create_job_info()
    interview = api.create_interview(job["id"])
    path = _route_path(route, job, interview)
    body = base64.b64encode(json.dumps(VALID_BODY[route]).encode()).decode()
    event = _raw_event(api, route, path, body, base64_encoded=True)
    event["headers"]["content-type"] = "Application/JSON; charset=UTF-8"
    match = api.api.match(route.split()[0], path)
    assert match is not None
    result = api.api.invoke_function(match.spec, event)
    assert result["statusCode"] in (200, 201), result


def test_a_body_on_get_or_delete_is_ignored(api: ApiClient) -> None:
    # RFC 9110: such a body has no meaning; only POST and PATCH bodies are checked.
    job = api.create_job_info()
    assert api.get(f"/job-infos/{job['id']}", body="plain", headers={"content-type": "text/plain"}).status == 200
    assert api.delete(f"/job-infos/{job['id']}", body="x", headers={"content-type": "text/plain"}).status == 204


def test_reused_idempotency_key_is_422_with_the_common_fields(api: ApiClient, clean_db: Engine) -> None:
    assert api.post("/job-infos", GOOD_JOB, headers={"idempotency-key": "k1"}).status == 201
    before = snapshot(clean_db)
    response = api.post("/job-infos", {**GOOD_JOB, "name": "Other"}, headers={"idempotency-key": "k1"})
    assert response.status == 422
    payload = response.json()
    assert payload["code"] == "IDEMPOTENCY_KEY_REUSED"
    assert payload["statusCode"] == 422
    assert payload["detail"][0]["loc"] == ["header", "idempotency-key"]
    assert snapshot(clean_db) == before
