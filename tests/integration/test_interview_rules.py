"""The original app's rules on an interview's life, and the plan limit they protect: an interview
has started once it has a humeChatId (set once; its first one spends a unit of the plan in
plan_usage, in the same statement), and takes feedback only then. Each refusal is a 409 with its
own code that changes nothing and sends no event; nothing the caller does gives a unit back."""

from __future__ import annotations

from typing import Any
from uuid import UUID

import pytest
from sqlalchemy import text
from sqlalchemy.engine import Engine

from jobprep.errors import PlanLimitReached
from jobprep.interviews.schemas import InterviewCreate, InterviewUpdate
from jobprep.interviews.service import create_interview, update_interview
from jobprep_local.clerk import signed, user_deleted
from tests.conftest import WEBHOOK_SECRET, EventSink
from tests.integration.conftest import ApiClient, snapshot
from tests.integration.test_account_deletion import deliver
from tests.integration.test_concurrency import containers, run_concurrently

__all__ = ["containers"]  # the fixture, used below
FREE = "u:1_interview"
WRITE_ONCE = {
    "statusCode": 409,
    "code": "HUME_CHAT_ID_WRITE_ONCE",
    "message": "humeChatId is set once: it cannot be cleared or changed",
}

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


def used(engine: Engine, user: str = "alice") -> int:
    """plan_usage.interviews: the interviews the user has started, as the plan counts them."""
    with engine.connect() as conn:
        count = conn.execute(text("SELECT interviews FROM plan_usage WHERE user_id = :u"), {"u": user}).scalar()
    return int(count or 0)


@pytest.mark.parametrize("new", [None, "chat-2"])
def test_clearing_or_changing_a_humechatid_is_409_and_changes_nothing(
    api: ApiClient, clean_db: Engine, event_sink: EventSink, new: str | None
) -> None:
    interview = _interview(api, humeChatId="chat-1")
    path = f"/interviews/{interview['id']}"

    alone = _refused(api, clean_db, event_sink, path, {"humeChatId": new})
    with_more = _refused(api, clean_db, event_sink, path, {"humeChatId": new, "duration": "00:09:00", "feedback": "f"})
    with_if_match = _refused(api, clean_db, event_sink, path, {"humeChatId": new}, headers={"if-match": '"1"'})

    assert (alone.status, alone.json()) == (with_more.status, with_more.json()) == (409, WRITE_ONCE)
    assert (with_if_match.status, with_if_match.json()) == (409, WRITE_ONCE)
    assert api.get(path).json() == interview
    # the same id again is no change at all: 200, same version, no event
    same = api.patch(path, {"humeChatId": "chat-1"})
    assert (same.status, same.headers["etag"], event_sink.drain()) == (200, '"1"', [])


def test_the_first_humechatid_spends_one_unit_in_the_same_statement(
    api: ApiClient, clean_db: Engine, event_sink: EventSink
) -> None:
    job = api.create_job_info()
    started = api.create_interview(job["id"], humeChatId="chat-1")  # created with it: spent at once
    assert used(clean_db) == 1
    later = api.create_interview(job["id"])  # not started: nothing spent
    assert used(clean_db) == 1
    path = f"/interviews/{later['id']}"
    assert api.patch(path, {"duration": "00:01:00"}).status == 200
    assert used(clean_db) == 1
    assert api.patch(path, {"humeChatId": "chat-2", "duration": "00:02:00"}).status == 200  # its first: spent
    assert used(clean_db) == 2
    for again in ({"humeChatId": "chat-2"}, {"feedback": "f"}, {"humeChatId": "chat-2", "duration": "00:03:00"}):
        assert api.patch(path, again).status == 200
    assert api.patch(f"/interviews/{started['id']}", {"feedback": "g"}).status == 200
    assert used(clean_db) == 2, "only an interview's first humeChatId counts"
    assert api.get("/me").json()["plan"]["interviews"]["used"] == 2


def test_bypass_patch_humechatid_null_then_create_again_is_still_403(
    api: ApiClient, clean_db: Engine, event_sink: EventSink
) -> None:
    """Before: the limit counted interviews with a humeChatId, and PATCH null made it 0 again."""
    job = api.create_job_info()
    path = f"/job-infos/{job['id']}/interviews"
    first = api.post(path, {}, features=FREE).json()
    assert api.patch(f"/interviews/{first['id']}", {"humeChatId": "chat-1"}, features=FREE).status == 200

    cleared = api.patch(f"/interviews/{first['id']}", {"humeChatId": None}, features=FREE)
    again = api.post(path, {}, features=FREE)

    assert (cleared.status, cleared.json()["code"]) == (409, "HUME_CHAT_ID_WRITE_ONCE")
    assert (again.status, again.json()["code"]) == (403, "PLAN_LIMIT")
    assert api.get("/me", features=FREE).json()["canStartInterview"] is False


def test_bypass_delete_the_job_info_then_create_again_is_still_403(
    api: ApiClient, clean_db: Engine, event_sink: EventSink
) -> None:
    """Before: deleting the job info took its started interview with it, and the count with them."""
    job = api.create_job_info()
    api.create_interview(job["id"], humeChatId="chat-1")  # the free plan's one interview, started
    assert api.delete(f"/job-infos/{job['id']}").status == 204
    other = api.create_job_info()

    again = api.post(f"/job-infos/{other['id']}/interviews", {}, features=FREE)
    started = api.post(f"/job-infos/{other['id']}/interviews", {"humeChatId": "chat-2"}, features=FREE)

    assert (again.status, again.json()["code"]) == (403, "PLAN_LIMIT")
    assert (started.status, started.json()["code"]) == (403, "PLAN_LIMIT")
    assert used(clean_db) == 1
    me = api.get("/me", features=FREE).json()
    assert (me["plan"]["interviews"]["used"], me["canStartInterview"]) == (1, False)


def test_a_create_with_a_humechatid_the_plan_does_not_allow_spends_nothing(
    api: ApiClient, clean_db: Engine, event_sink: EventSink
) -> None:
    job = api.create_job_info()
    path = f"/job-infos/{job['id']}/interviews"
    assert api.post(path, {"humeChatId": "chat-1"}, features=FREE).status == 201
    before = snapshot(clean_db)
    refused = [api.post(path, {"humeChatId": f"chat-{n}"}, features=f) for n, f in ((2, FREE), (3, ""))]
    assert [r.status for r in refused] == [403, 403]
    assert snapshot(clean_db) == before  # no interview, no unit, no rate-limit token


def test_two_concurrent_starts_on_the_free_plan_create_one_interview(
    containers: None, api: ApiClient, clean_db: Engine, event_sink: EventSink
) -> None:
    """Both read "0 used"; the unit is re-checked on the usage row as the other left it."""
    job_id = api.create_job_info()["id"]
    results = run_concurrently(
        8,
        lambda i: create_interview(
            "alice",
            frozenset({"1_interview"}),
            UUID(job_id),
            InterviewCreate.model_validate({"humeChatId": f"chat-{i}"}),
        ),
    )
    created = [r for r in results if not isinstance(r, BaseException)]
    assert len(created) == 1, results
    assert all(isinstance(r, PlanLimitReached) for r in results if isinstance(r, BaseException)), results
    assert used(clean_db) == 1
    assert len(api.get(f"/job-infos/{job_id}/interviews").json()["items"]) == 1


PLAN_LIMIT = {
    "statusCode": 403,
    "code": "PLAN_LIMIT",
    "message": "You have reached your plan limit. Upgrade to create more interviews.",
}


def test_bypass_create_several_then_start_each_the_second_start_is_403(
    api: ApiClient, clean_db: Engine, event_sink: EventSink
) -> None:
    """Before: the plan was checked only by the create, so interviews created while the free plan's
    unit was unspent could all be started by PATCHing their humeChatId."""
    job = api.create_job_info()
    path = f"/job-infos/{job['id']}/interviews"
    first, second = (api.post(path, {}, features=FREE).json() for _ in range(2))
    assert api.get("/me", features=FREE).json()["canStartInterview"] is True

    started = api.patch(f"/interviews/{first['id']}", {"humeChatId": "chat-1"}, features=FREE)
    assert started.status == 200
    assert api.get("/me", features=FREE).json()["canStartInterview"] is False
    refused = [
        _refused(api, clean_db, event_sink, f"/interviews/{second['id']}", body, features=FREE, headers=headers)
        for body, headers in (
            ({"humeChatId": "chat-2"}, None),
            ({"humeChatId": "chat-2", "duration": "00:05:00", "feedback": "f"}, {"if-match": '"1"'}),
        )
    ]

    assert [(r.status, r.json()) for r in refused] == [(403, PLAN_LIMIT)] * 2
    assert api.post(path, {"humeChatId": "chat-3"}, features=FREE).json() == PLAN_LIMIT  # the create's body
    assert api.get(f"/interviews/{second['id']}").json() == second
    assert used(clean_db) == 1
    # other fields of the unstarted interview stay editable; a stale If-Match is still 412 first
    assert api.patch(f"/interviews/{second['id']}", {"duration": "00:07:00"}, features=FREE).status == 200
    stale = api.patch(f"/interviews/{second['id']}", {"humeChatId": "c"}, features=FREE, headers={"if-match": '"1"'})
    assert stale.status == 412
    # a plan of none cannot start one either
    none = _refused(api, clean_db, event_sink, f"/interviews/{second['id']}", {"humeChatId": "c"}, features="")
    assert (none.status, none.json()["code"]) == (403, "PLAN_LIMIT")


def test_on_the_unlimited_plan_every_interview_can_be_started(
    api: ApiClient, clean_db: Engine, event_sink: EventSink
) -> None:
    job = api.create_job_info()
    path = f"/job-infos/{job['id']}/interviews"
    unlimited = "u:unlimited_interviews"
    interviews = [api.post(path, {}, features=unlimited).json() for _ in range(2)]
    answers = [
        api.patch(f"/interviews/{i['id']}", {"humeChatId": f"chat-{n}"}, features=unlimited)
        for n, i in enumerate(interviews)
    ]
    assert [a.status for a in answers] == [200, 200]
    assert used(clean_db) == 2
    me = api.get("/me", features=unlimited).json()
    assert (me["plan"]["interviews"]["used"], me["canStartInterview"]) == (2, True)


def test_concurrent_patches_starting_interviews_on_the_free_plan_start_one(
    containers: None, api: ApiClient, clean_db: Engine, event_sink: EventSink
) -> None:
    """Each PATCH locks only its own interview and reads "0 used"; the spend on the user's
    plan_usage row serialises them, and each re-checks the limit on the row as the other left it.
    Eight at once, so that some really overlap (two threads often run one after the other)."""
    job_id = api.create_job_info()["id"]
    ids = [api.post(f"/job-infos/{job_id}/interviews", {}, features=FREE).json()["id"] for _ in range(8)]
    results = run_concurrently(
        8,
        lambda i: update_interview(
            "alice", frozenset({"1_interview"}), UUID(ids[i]), InterviewUpdate.model_validate({"humeChatId": f"c{i}"})
        ),
    )
    started = [r for r in results if not isinstance(r, BaseException)]
    assert len(started) == 1, results
    assert all(isinstance(r, PlanLimitReached) for r in results if isinstance(r, BaseException)), results
    assert used(clean_db) == 1
    items = api.get(f"/job-infos/{job_id}/interviews", query="completed=true").json()["items"]
    assert len(items) == 1


def test_account_deletion_removes_the_usage_and_a_new_account_starts_afresh(
    api: ApiClient, clean_db: Engine, event_sink: EventSink
) -> None:
    job = api.create_job_info()
    api.create_interview(job["id"], humeChatId="chat-1")
    assert used(clean_db) == 1
    assert deliver(api, *signed(user_deleted("alice"), WEBHOOK_SECRET)).status == 204
    with clean_db.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM plan_usage")).scalar_one() == 0
    fresh = api.create_job_info()
    assert api.post(f"/job-infos/{fresh['id']}/interviews", {"humeChatId": "c"}, features=FREE).status == 201
