"""The original app's rules on an interview's life: feedback only once it has reached Hume (a
humeChatId). Each refusal is a 409 with its own code that changes nothing and sends no event."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy.engine import Engine

from tests.conftest import EventSink
from tests.integration.conftest import ApiClient, snapshot

NOT_COMPLETED = {
    "statusCode": 409,
    "code": "INTERVIEW_NOT_COMPLETED",
    "message": "Interview has not been completed yet",
}


def _interview(api: ApiClient, **fields: Any) -> dict[str, Any]:
    return api.create_interview(api.create_job_info()["id"], **fields)


def _refused(api: ApiClient, clean_db: Engine, event_sink: EventSink, path: str, body: Any, **kw: Any) -> Any:
    """The PATCH's answer, after checking it changed no row and sent no event."""
    event_sink.drain()
    before = snapshot(clean_db)
    response = api.patch(path, body, **kw)
    assert snapshot(clean_db) == before
    assert event_sink.drain() == []
    return response


@pytest.mark.parametrize(
    "body",
    [
        {"feedback": "Great answers"},
        {"feedback": "Great answers", "duration": "00:05:00"},
        {"feedback": "Great answers", "humeChatId": None},
    ],
)
def test_feedback_on_an_interview_that_never_reached_hume_is_409(
    api: ApiClient, clean_db: Engine, event_sink: EventSink, body: dict[str, Any]
) -> None:
    interview = _interview(api)
    path = f"/interviews/{interview['id']}"

    response = _refused(api, clean_db, event_sink, path, body)

    assert (response.status, response.json()) == (409, NOT_COMPLETED)
    assert api.get(path).json() == interview


def test_feedback_with_the_humechatid_in_the_same_patch_is_saved(api: ApiClient, event_sink: EventSink) -> None:
    interview = _interview(api)
    event_sink.drain()

    response = api.patch(f"/interviews/{interview['id']}", {"humeChatId": "chat-1", "feedback": "Good"})

    assert response.status == 200
    assert (response.json()["humeChatId"], response.json()["feedback"]) == ("chat-1", "Good")
    assert [e["detail-type"] for e in event_sink.drain()] == ["InterviewUpdated"]


def test_feedback_on_a_completed_interview_is_saved_and_clearing_it_is_allowed(api: ApiClient) -> None:
    interview = _interview(api, humeChatId="chat-1")
    path = f"/interviews/{interview['id']}"
    assert api.patch(path, {"feedback": "Good"}).json()["feedback"] == "Good"
    assert api.patch(path, {"feedback": None}).json()["feedback"] is None
    # clearing feedback that is not there, on an interview that never reached Hume: nothing to refuse
    other = _interview(api)
    assert api.patch(f"/interviews/{other['id']}", {"feedback": None, "duration": "00:01:00"}).status == 200


def test_a_stale_if_match_is_412_before_the_rule_and_another_users_interview_404(
    api: ApiClient, clean_db: Engine, event_sink: EventSink
) -> None:
    interview = _interview(api)
    path = f"/interviews/{interview['id']}"
    assert api.patch(path, {"duration": "00:01:00"}).status == 200

    stale = _refused(api, clean_db, event_sink, path, {"feedback": "x"}, headers={"if-match": '"1"'})
    current = _refused(api, clean_db, event_sink, path, {"feedback": "x"}, headers={"if-match": '"2"'})
    foreign = _refused(api, clean_db, event_sink, path, {"feedback": "x"}, user="bob")

    assert (stale.status, current.status, foreign.status) == (412, 409, 404)
