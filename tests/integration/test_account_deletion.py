"""POST /webhooks/clerk with real Svix signatures (signed by the svix library): user.deleted
removes every row of that user in one statement, emits UserDataDeleted, and nothing else."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.engine import Engine

from jobprep import unit_of_work
from jobprep_local.apigw import LocalLambdaContext, http_api_event
from jobprep_local.clerk import DEV_WEBHOOK_SECRET, PATH, signed, user_deleted, user_profile
from jobprep_local.invoke import LambdaHttpResponse, LocalApi
from jobprep_local.template import functions, load_handler
from tests.conftest import WEBHOOK_SECRET, EventSink
from tests.integration.conftest import ApiClient, snapshot

FUNCTION = "ClerkWebhookFunction"


def deliver(api: ApiClient, body: bytes, headers: dict[str, str]) -> LambdaHttpResponse:
    """As API Gateway delivers it: no JWT authorizer on this route, so no claims."""
    return api.request("POST", PATH, user=None, body=body, headers=headers)


def user_rows(engine: Engine, user: str) -> dict[str, list[tuple[Any, ...]]]:
    """Every row that belongs to `user`, table by table."""
    queries = {
        "job_infos": "SELECT * FROM job_infos WHERE user_id = :u",
        "interviews": "SELECT i.* FROM interviews i JOIN job_infos j ON j.id = i.job_info_id WHERE j.user_id = :u",
        "idempotency_keys": "SELECT * FROM idempotency_keys WHERE user_id = :u",
        "rate_limit_buckets": "SELECT * FROM rate_limit_buckets WHERE user_id = :u",
        "questions": "SELECT q.* FROM questions q JOIN job_infos j ON j.id = q.job_info_id WHERE j.user_id = :u",
        "plan_usage": "SELECT * FROM plan_usage WHERE user_id = :u",
        "users": "SELECT * FROM users WHERE id = :u",
    }
    with engine.connect() as conn:
        return {t: sorted(map(tuple, conn.execute(text(q), {"u": user})), key=repr) for t, q in queries.items()}


def arrange_user(
    api: ApiClient, user: str, job_infos: int = 2, interviews_each: int = 2, questions_each: int = 0
) -> dict[str, list[str]]:
    """Job infos, interviews and questions (`questions_each` on the first job info) through the API,
    so an Idempotency-Key, a rate-limit bucket and the plan usage exist too; the profile through
    Clerk's user.created; an interview's plan usage written directly."""
    ids: dict[str, list[str]] = {"job_infos": [], "interviews": [], "questions": []}
    assert deliver(api, *signed(user_profile("user.created", user), WEBHOOK_SECRET)).status == 204
    for n in range(job_infos):
        response = api.post(
            "/job-infos",
            {"name": f"{user} {n}", "experienceLevel": "mid-level", "description": "d"},
            user=user,
            headers={"idempotency-key": f"{user}-{n}"},
        )
        assert response.status == 201
        job_info_id = response.json()["id"]
        ids["job_infos"].append(job_info_id)
        ids["interviews"] += [api.create_interview(job_info_id, user=user)["id"] for _ in range(interviews_each)]
    for n in range(questions_each if ids["job_infos"] else 0):
        path = f"/job-infos/{ids['job_infos'][0]}/questions"
        response = api.post(path, {"text": f"question {n}", "difficulty": "easy"}, user=user)
        assert response.status == 201, response.body
        ids["questions"].append(response.json()["id"])
    with api.engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO plan_usage (user_id, interviews) VALUES (:u, 1)"
                " ON CONFLICT (user_id) DO UPDATE SET interviews = 1"
            ),
            {"u": user},
        )
    return ids


def expected_tags(
    user: str,
    job_infos: Sequence[str],
    interviews: Sequence[str],
    questions: Sequence[str] = (),
    *,
    profile: bool = False,
    questions_job_info: str | None = None,
) -> list[str]:
    """Every tag the web app caches the deleted rows under (its dbCache.ts files)."""
    tags = ["global:jobInfos", f"user:{user}:jobInfos"] if job_infos else []
    tags += [t for j in job_infos for t in (f"id:{j}:jobInfos", f"jobInfo:{j}:interviews")]
    if interviews:
        tags += ["global:interviews", *(f"id:{i}:interviews" for i in interviews)]
    if questions:
        tags += [
            "global:questions",
            f"jobInfo:{questions_job_info}:questions",
            *(f"id:{q}:questions" for q in questions),
        ]
    if profile:
        tags += ["global:users", f"id:{user}:users"]
    return sorted(tags)


def tombstones(engine: Engine) -> list[str]:
    with engine.connect() as conn:
        return list(conn.execute(text("SELECT id FROM deleted_users ORDER BY id")).scalars())


def deliveries(engine: Engine) -> list[tuple[str, str]]:
    with engine.connect() as conn:
        return [tuple(r) for r in conn.execute(text("SELECT id, event_type FROM webhook_deliveries"))]


def test_user_deleted_removes_every_row_of_that_user_and_only_theirs(
    api: ApiClient, event_sink: EventSink, clean_db: Engine
) -> None:
    alice = arrange_user(api, "alice", questions_each=2)
    arrange_user(api, "bob", questions_each=1)
    bob_before = user_rows(clean_db, "bob")
    assert all(user_rows(clean_db, "alice").values()), "every kind of row exists before"
    event_sink.drain()

    body, headers = signed(user_deleted("alice"), WEBHOOK_SECRET)
    response = deliver(api, body, headers)

    assert (response.status, response.body) == (204, b"")
    assert user_rows(clean_db, "alice") == {t: [] for t in bob_before}
    assert user_rows(clean_db, "bob") == bob_before
    assert (headers["svix-id"], "user.deleted") in deliveries(clean_db)
    assert tombstones(clean_db) == ["alice"]
    [event] = event_sink.drain()
    assert (event["source"], event["detail-type"]) == ("job-prep.users", "UserDataDeleted")
    detail = event["detail"]
    assert (detail["id"], detail["userId"]) == ("alice", "alice")
    assert detail["tags"][:2] == ["global:jobInfos", "user:alice:jobInfos"]
    assert sorted(detail["tags"]) == expected_tags(
        "alice",
        alice["job_infos"],
        alice["interviews"],
        alice["questions"],
        profile=True,
        questions_job_info=alice["job_infos"][0],
    )
    assert len(set(detail["tags"])) == len(detail["tags"])
    # the web app's other views of alice are gone through the API as well
    assert api.get("/job-infos", user="alice").json()["items"] == []
    assert api.get(f"/interviews/{alice['interviews'][0]}", user="alice").status == 404
    assert api.get(f"/questions/{alice['questions'][0]}", user="alice").status == 404
    assert api.get("/me", user="alice").json()["plan"]["questions"]["used"] == 0, "plan usage went too"


def test_job_infos_without_interviews_do_not_invalidate_interviews_globally(
    api: ApiClient, event_sink: EventSink
) -> None:
    alice = arrange_user(api, "alice", job_infos=1, interviews_each=0)
    event_sink.drain()
    assert deliver(api, *signed(user_deleted("alice"), WEBHOOK_SECRET)).status == 204
    [event] = event_sink.drain()
    assert sorted(event["detail"]["tags"]) == expected_tags("alice", alice["job_infos"], [], profile=True)


def test_a_user_with_only_a_profile_and_plan_usage_loses_both_with_the_users_tags(
    api: ApiClient, event_sink: EventSink, clean_db: Engine
) -> None:
    arrange_user(api, "alice", job_infos=0)
    before = user_rows(clean_db, "alice")
    assert before["users"]
    assert before["plan_usage"]
    event_sink.drain()

    assert deliver(api, *signed(user_deleted("alice"), WEBHOOK_SECRET)).status == 204

    assert not any(user_rows(clean_db, "alice").values())
    assert tombstones(clean_db) == ["alice"]
    [event] = event_sink.drain()
    assert (event["detail-type"], event["detail"]["tags"]) == ("UserDataDeleted", ["global:users", "id:alice:users"])
    # the account stays deleted: GET /me no longer finds a profile, nor any usage
    me = api.get("/me", user="alice").json()
    assert (me["profile"], me["plan"]["interviews"]["used"]) == (None, 0)


def test_a_user_without_data_is_acknowledged_without_an_event(
    api: ApiClient, event_sink: EventSink, clean_db: Engine
) -> None:
    arrange_user(api, "bob")
    before = user_rows(clean_db, "bob")
    event_sink.drain()
    body, headers = signed(user_deleted("user_never_seen"), WEBHOOK_SECRET)
    assert deliver(api, body, headers).status == 204
    assert event_sink.drain() == []
    assert user_rows(clean_db, "bob") == before
    assert (headers["svix-id"], "user.deleted") in deliveries(clean_db)
    assert tombstones(clean_db) == ["user_never_seen"]  # its user.created may still be on its way


def test_replay_of_the_same_svix_id_changes_nothing_and_emits_nothing(
    api: ApiClient, event_sink: EventSink, clean_db: Engine
) -> None:
    arrange_user(api, "alice")
    event_sink.drain()
    payload = user_deleted("alice")
    body, headers = signed(payload, WEBHOOK_SECRET)
    assert deliver(api, body, headers).status == 204
    assert [e["detail-type"] for e in event_sink.drain()] == ["UserDataDeleted"]
    # alice signs up again with the same id before the retry arrives: the retry must not touch it
    arrange_user(api, "alice", job_infos=1, interviews_each=1)
    event_sink.drain()
    before = snapshot(clean_db)

    replayed = deliver(api, body, headers)  # the captured request, byte for byte, within 5 minutes
    retried = deliver(api, *signed(payload, WEBHOOK_SECRET, message_id=headers["svix-id"]))  # Svix's retry

    assert (replayed.status, retried.status) == (204, 204)
    assert snapshot(clean_db) == before
    assert event_sink.drain() == []


def _tampered() -> tuple[bytes, dict[str, str]]:
    body, headers = signed(user_deleted("bob"), WEBHOOK_SECRET)
    return body.replace(b'"bob"', b'"alice"'), headers


def _signed_for_another_message() -> tuple[bytes, dict[str, str]]:
    body, headers = signed(user_deleted("alice"), WEBHOOK_SECRET)
    return body, {**headers, "svix-id": "msg_someOtherMessage"}


def _at(offset: timedelta) -> tuple[bytes, dict[str, str]]:
    return signed(user_deleted("alice"), WEBHOOK_SECRET, timestamp=datetime.now(UTC) + offset)


def _without(header: str) -> tuple[bytes, dict[str, str]]:
    body, headers = signed(user_deleted("alice"), WEBHOOK_SECRET)
    return body, {k: v for k, v in headers.items() if k != header}


def _with_header(name: str, value: str) -> tuple[bytes, dict[str, str]]:
    body, headers = signed(user_deleted("alice"), WEBHOOK_SECRET)
    return body, {**headers, name: value}


def _not_utf8() -> tuple[bytes, dict[str, str]]:
    _, headers = signed(user_deleted("alice"), WEBHOOK_SECRET)
    return b'{"type":"user.deleted","data":{"id":"\xff"}}', headers


BAD_DELIVERIES: dict[str, Callable[[], tuple[bytes, dict[str, str]]]] = {
    "tampered body": _tampered,
    "wrong secret": lambda: signed(user_deleted("alice"), DEV_WEBHOOK_SECRET),
    "signature of another svix-id": _signed_for_another_message,
    "stale timestamp (6 min old)": lambda: _at(-timedelta(minutes=6)),
    "future timestamp (6 min ahead)": lambda: _at(timedelta(minutes=6)),
    "no signature": lambda: _without("svix-signature"),
    "no svix-id": lambda: _without("svix-id"),
    "no timestamp": lambda: _without("svix-timestamp"),
    "malformed signature": lambda: _with_header("svix-signature", "garbage"),
    "non-numeric timestamp": lambda: _with_header("svix-timestamp", "yesterday"),
    "absurd timestamp": lambda: _with_header("svix-timestamp", "1e300"),
    "over-long svix-id": lambda: signed(user_deleted("alice"), WEBHOOK_SECRET, message_id="msg_" + "x" * 300),
}


def test_a_body_that_is_not_utf8_is_a_400_and_changes_nothing(
    api: ApiClient, event_sink: EventSink, clean_db: Engine
) -> None:
    """Rejected by the edge's body check, like every POST, before the signature is even read."""
    arrange_user(api, "alice")
    event_sink.drain()
    before = snapshot(clean_db)
    response = deliver(api, *_not_utf8())
    assert response.status == 400
    assert response.json()["code"] == "BAD_REQUEST"
    assert snapshot(clean_db) == before
    assert event_sink.drain() == []


@pytest.mark.parametrize("case", BAD_DELIVERIES)
def test_bad_signatures_are_401_and_change_nothing(
    case: str, api: ApiClient, event_sink: EventSink, clean_db: Engine
) -> None:
    arrange_user(api, "alice")
    arrange_user(api, "bob")
    event_sink.drain()
    before = snapshot(clean_db)

    response = deliver(api, *BAD_DELIVERIES[case]())

    assert response.status == 401
    assert response.json() == {
        "statusCode": 401,
        "code": "INVALID_SIGNATURE",
        "message": "Missing or invalid webhook signature",
    }
    assert snapshot(clean_db) == before
    assert event_sink.drain() == []


def test_timestamp_within_five_minutes_is_accepted(api: ApiClient, clean_db: Engine) -> None:
    arrange_user(api, "alice")
    assert deliver(api, *_at(-timedelta(minutes=4))).status == 204
    assert user_rows(clean_db, "alice")["job_infos"] == []


def test_other_event_types_are_verified_then_ignored(api: ApiClient, event_sink: EventSink, clean_db: Engine) -> None:
    arrange_user(api, "alice")
    event_sink.drain()
    before = snapshot(clean_db)
    session = {"type": "session.created", "object": "event", "data": {"id": "sess_1", "user_id": "alice"}}

    assert deliver(api, *signed(session, WEBHOOK_SECRET)).status == 204
    assert deliver(api, *signed(session, DEV_WEBHOOK_SECRET)).status == 401

    assert snapshot(clean_db) == before
    assert event_sink.drain() == []


@pytest.mark.parametrize(
    ("payload", "status", "loc"),
    [
        ("not json", 400, None),
        ([1, 2], 400, None),
        ({"data": {"id": "alice"}}, 422, ["body", "type"]),
        ({"type": "user.deleted", "data": {"deleted": True}}, 422, ["body", "data", "id"]),
        ({"type": "user.deleted", "data": {"id": ""}}, 422, ["body", "data", "id"]),
        ({"type": "user.deleted", "data": {"id": "x" * 256}}, 422, ["body", "data", "id"]),
        ({"type": "user.deleted", "data": {"id": "al\nice"}}, 422, ["body", "data", "id"]),
    ],
)
def test_signed_payloads_that_do_not_fit_get_the_project_errors(
    payload: Any, status: int, loc: list[str] | None, api: ApiClient, clean_db: Engine
) -> None:
    arrange_user(api, "alice")
    before = snapshot(clean_db)
    response = deliver(api, *signed(payload, WEBHOOK_SECRET))
    assert response.status == status
    body = response.json()
    assert body["statusCode"] == status
    if loc is not None:
        assert [e["loc"] for e in body["detail"]] == [loc]
    assert snapshot(clean_db) == before


def test_500_job_infos_deleted_within_one_invocation(event_sink: EventSink, clean_db: Engine) -> None:
    """The function's own Timeout is the limit: the handler runs with a Lambda context whose
    deadline is that Timeout and must finish with time to spare, having done everything."""
    with clean_db.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO job_infos (user_id, name, experience_level, description)"
                " SELECT u, 'job ' || g, 'senior', repeat('d', 2000)"
                " FROM generate_series(1, 500) g, (VALUES ('alice'), ('bob')) AS users(u)"
            )
        )
        conn.execute(
            text(
                "INSERT INTO interviews (job_info_id, feedback)"
                " SELECT id, repeat('f', 2000) FROM job_infos, generate_series(1, 2) WHERE name LIKE '%0'"
            )
        )
        conn.execute(text("INSERT INTO idempotency_keys VALUES ('alice', 'k', 'op', 'h', 201, '{}', now())"))
        conn.execute(text("INSERT INTO rate_limit_buckets VALUES ('alice', 'interviews', 3, now())"))
        alice_job_infos = conn.execute(text("SELECT id::text FROM job_infos WHERE user_id = 'alice'")).scalars().all()
        of_alice = (
            "SELECT i.id::text FROM interviews i JOIN job_infos j ON j.id = i.job_info_id WHERE user_id = 'alice'"
        )
        alice_interviews = conn.execute(text(of_alice)).scalars().all()
    bob_before = user_rows(clean_db, "bob")
    assert (len(alice_job_infos), len(alice_interviews), len(bob_before["interviews"])) == (500, 100, 100)

    spec = functions()[FUNCTION]
    body, headers = signed(user_deleted("alice"), WEBHOOK_SECRET)
    event = http_api_event(spec.routes[0], path=PATH, headers=headers, body=body)
    context = LocalLambdaContext(FUNCTION, timeout_seconds=spec.timeout)
    result = load_handler(FUNCTION)(event, context)

    assert result["statusCode"] == 204
    assert context.get_remaining_time_in_millis() > 0, f"over the function's {spec.timeout} s Timeout"
    assert user_rows(clean_db, "alice") == {t: [] for t in bob_before}
    assert user_rows(clean_db, "bob") == bob_before

    # 1103 tags: more than one event may carry (PutEvents' 256 KB per call of 10), so several
    events = event_sink.drain()
    assert {(e["source"], e["detail-type"]) for e in events} == {("job-prep.users", "UserDataDeleted")}
    tags = [t for e in events for t in e["detail"]["tags"]]
    assert sorted(tags) == expected_tags("alice", alice_job_infos, alice_interviews)
    assert len(events) == 3
    assert all(len(json.dumps(e["detail"])) * 10 < 256 * 1024 for e in events)
    assert len({e["detail"]["eventId"] for e in events}) == 3
    assert unit_of_work.flush_receipts(), "all three were published: their sent marks wait in the container"
    with clean_db.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM outbox WHERE sent_at IS NULL")).scalar_one() == 0


def test_dev_secret_and_local_api_route_have_no_jwt(local_api: LocalApi) -> None:
    match = local_api.match("POST", PATH)
    assert match is not None
    assert match.spec.logical_id == FUNCTION
    assert match.route.needs_jwt is False
    assert all(r.needs_jwt for s in local_api.specs.values() for r in s.routes if r.path != PATH)


def test_relay_housekeeping_forgets_delivery_ids_after_the_retention(api: ApiClient, clean_db: Engine) -> None:
    from jobprep.relay import relay_pending

    old = signed(user_deleted("alice"), WEBHOOK_SECRET)
    recent = signed(user_deleted("bob"), WEBHOOK_SECRET)
    assert deliver(api, *old).status == deliver(api, *recent).status == 204
    with clean_db.begin() as conn:
        conn.execute(
            text("UPDATE webhook_deliveries SET received_at = now() - interval '8 days' WHERE id = :id"),
            {"id": old[1]["svix-id"]},
        )
    report = relay_pending(lambda: 0)  # no time to publish: only housekeeping
    assert report.purged_webhook_deliveries == 1
    assert deliveries(clean_db) == [(recent[1]["svix-id"], "user.deleted")]
