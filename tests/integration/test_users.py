"""Clerk's user.created / user.updated through POST /webhooks/clerk with real Svix signatures:
the users row follows Clerk's newest profile whatever order Svix delivers in, once per svix-id,
never for a deleted account, and UserUpserted goes out (through the outbox) only when it changed."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.engine import Engine

from jobprep_local.clerk import signed, user_deleted, user_profile
from tests.conftest import WEBHOOK_SECRET, EventSink
from tests.integration.conftest import ApiClient, snapshot
from tests.integration.test_account_deletion import deliver, deliveries

T0 = 1_795_555_200_000  # Clerk's epoch milliseconds


def at(ms: int) -> datetime:
    return datetime(1970, 1, 1, tzinfo=UTC) + timedelta(milliseconds=ms)


def user_row(engine: Engine, user: str) -> dict[str, Any] | None:
    with engine.connect() as conn:
        row = conn.execute(text("SELECT * FROM users WHERE id = :u"), {"u": user}).mappings().one_or_none()
    return None if row is None else dict(row)


def send(api: ApiClient, payload: dict[str, Any], message_id: str | None = None) -> tuple[int, dict[str, str]]:
    body, headers = signed(payload, WEBHOOK_SECRET, message_id=message_id)
    response = deliver(api, body, headers)
    return response.status, headers


def profile(event_type: str, user: str = "alice", *, updated: int = T0, **fields: Any) -> dict[str, Any]:
    return user_profile(event_type, user, created_at=T0, updated_at=updated, **fields)


def upserted(user: str) -> dict[str, Any]:
    """The UserUpserted event as a consumer of the bus receives it."""
    return {"source": "job-prep.users", "detail-type": "UserUpserted", "tags": ["global:users", f"id:{user}:users"]}


def seen(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    assert all(e["detail"]["id"] == e["detail"]["userId"] for e in events)
    return [{"source": e["source"], "detail-type": e["detail-type"], "tags": e["detail"]["tags"]} for e in events]


def test_user_created_stores_the_profile_and_sends_user_upserted(
    api: ApiClient, event_sink: EventSink, clean_db: Engine
) -> None:
    status, headers = send(api, profile("user.created", first_name="Alice", last_name="Smith"))

    assert status == 204
    assert user_row(clean_db, "alice") == {
        "id": "alice",
        "name": "Alice Smith",
        "email": "alice@example.com",
        "image_url": "https://img.clerk.com/alice.png",
        "created_at": at(T0),
        "updated_at": at(T0),
    }
    assert deliveries(clean_db) == [(headers["svix-id"], "user.created")]
    assert seen(event_sink.drain()) == [upserted("alice")]


@pytest.mark.parametrize(
    ("first", "last", "name"),
    [("Alice", None, "Alice"), (None, "Smith", "Smith"), (None, None, ""), (" Al ", " ", "Al")],
)
def test_the_name_is_first_and_last_name_trimmed(
    api: ApiClient, clean_db: Engine, first: str | None, last: str | None, name: str
) -> None:
    payload = profile("user.created")
    payload["data"] |= {"first_name": first, "last_name": last}
    assert send(api, payload)[0] == 204
    row = user_row(clean_db, "alice")
    assert row is not None
    assert row["name"] == name


def test_the_primary_email_is_the_one_primary_email_address_id_names(api: ApiClient, clean_db: Engine) -> None:
    payload = profile("user.created")
    primary = payload["data"]["email_addresses"][0]
    other = {**primary, "id": "idn_other", "email_address": "old@example.com"}
    payload["data"]["email_addresses"] = [other, primary]
    assert send(api, payload)[0] == 204
    row = user_row(clean_db, "alice")
    assert row is not None
    assert row["email"] == "alice@example.com"


def test_user_updated_replaces_the_profile_with_the_newer_one(
    api: ApiClient, event_sink: EventSink, clean_db: Engine
) -> None:
    assert send(api, profile("user.created"))[0] == 204
    event_sink.drain()

    newer = profile("user.updated", updated=T0 + 60_000, first_name="Ally", email="ally@example.com", image_url="")
    assert send(api, newer)[0] == 204

    row = user_row(clean_db, "alice")
    assert row is not None
    assert (row["name"], row["email"], row["image_url"]) == ("Ally Example", "ally@example.com", "")
    assert (row["created_at"], row["updated_at"]) == (at(T0), at(T0 + 60_000))
    assert seen(event_sink.drain()) == [upserted("alice")]


def test_an_update_delivered_before_the_create_is_stored_and_the_late_create_ignored(
    api: ApiClient, event_sink: EventSink, clean_db: Engine
) -> None:
    assert send(api, profile("user.updated", updated=T0 + 5_000, first_name="Ally"))[0] == 204
    stored = user_row(clean_db, "alice")
    assert stored is not None
    assert stored["name"] == "Ally Example"
    assert seen(event_sink.drain()) == [upserted("alice")]

    status, headers = send(api, profile("user.created"))  # Svix delivered it late

    assert status == 204
    assert user_row(clean_db, "alice") == stored
    assert event_sink.drain() == []
    assert (headers["svix-id"], "user.created") in deliveries(clean_db)  # acted on: ignored for good


@pytest.mark.parametrize("delay_ms", [-1, 0], ids=["older", "same time"])
def test_an_update_not_newer_than_the_stored_one_is_ignored(
    api: ApiClient, event_sink: EventSink, clean_db: Engine, delay_ms: int
) -> None:
    assert send(api, profile("user.updated", updated=T0 + 10_000, first_name="Newest"))[0] == 204
    event_sink.drain()
    before = snapshot(clean_db)

    status, headers = send(api, profile("user.updated", updated=T0 + 10_000 + delay_ms, first_name="Older"))

    assert status == 204
    after = snapshot(clean_db)
    assert after["users"] == before["users"]
    assert after["outbox"] == before["outbox"]  # no UserUpserted
    assert event_sink.drain() == []
    assert (headers["svix-id"], "user.updated") in deliveries(clean_db)


def test_a_repeated_svix_id_changes_nothing_even_when_its_profile_would_be_newer(
    api: ApiClient, event_sink: EventSink, clean_db: Engine
) -> None:
    payload = profile("user.updated", updated=T0 + 1_000, first_name="Ally")
    body, headers = signed(payload, WEBHOOK_SECRET)
    assert deliver(api, body, headers).status == 204
    event_sink.drain()
    # Make the stored profile older than the message, so only the delivery record can stop a repeat.
    with clean_db.begin() as conn:
        conn.execute(text("UPDATE users SET name = 'kept', updated_at = updated_at - interval '1 hour'"))
    before = snapshot(clean_db)

    replayed = deliver(api, body, headers)  # the captured request, byte for byte, within 5 minutes
    retried = deliver(api, *signed(payload, WEBHOOK_SECRET, message_id=headers["svix-id"]))  # Svix's retry

    assert (replayed.status, retried.status) == (204, 204)
    assert snapshot(clean_db) == before
    assert event_sink.drain() == []


def test_a_deleted_account_is_not_brought_back_by_a_later_or_late_delivery(
    api: ApiClient, event_sink: EventSink, clean_db: Engine
) -> None:
    assert send(api, profile("user.created"))[0] == 204
    assert deliver(api, *signed(user_deleted("alice"), WEBHOOK_SECRET)).status == 204
    assert deliver(api, *signed(user_deleted("zoe"), WEBHOOK_SECRET)).status == 204  # zoe's create comes after
    event_sink.drain()
    before = snapshot(clean_db)

    late_update = send(api, profile("user.updated", updated=T0 + 3_600_000, first_name="Back"))
    late_create = send(api, profile("user.created", "zoe"))

    assert (late_update[0], late_create[0]) == (204, 204)
    after = snapshot(clean_db)
    assert (user_row(clean_db, "alice"), user_row(clean_db, "zoe")) == (None, None)
    assert after["users"] == before["users"] == []
    assert after["outbox"] == before["outbox"]
    assert event_sink.drain() == []
    recorded = deliveries(clean_db)
    assert (late_update[1]["svix-id"], "user.updated") in recorded  # acknowledged for good: Svix stops
    assert (late_create[1]["svix-id"], "user.created") in recorded


def _without_primary_email(data: dict[str, Any]) -> None:
    data["primary_email_address_id"] = None


def _primary_email_not_listed(data: dict[str, Any]) -> None:
    data["primary_email_address_id"] = "idn_gone"


def _no_email_addresses(data: dict[str, Any]) -> None:
    data["email_addresses"] = []


def _set(**fields: Any) -> Any:
    return lambda data: data.update(fields)


def _email(value: Any) -> Any:
    return lambda data: data["email_addresses"][0].update(email_address=value)


BAD_PROFILES = {
    "no primary email": (_without_primary_email, ["body", "data"]),
    "primary email not among the addresses": (_primary_email_not_listed, ["body", "data"]),
    "no email addresses": (_no_email_addresses, ["body", "data"]),
    "email without @": (_email("alice.example.com"), ["body", "data", "email_addresses", 0, "email_address"]),
    "email too long": (_email("a" * 320 + "@x.io"), ["body", "data", "email_addresses", 0, "email_address"]),
    "email with NUL": (_email("al\x00ice@example.com"), ["body", "data", "email_addresses", 0, "email_address"]),
    "name with NUL": (_set(first_name="Al\x00ice"), ["body", "data", "first_name"]),
    "names longer than the column": (_set(first_name="a" * 300, last_name="b" * 300), ["body", "data"]),
    "image URL too long": (_set(image_url="https://x/" + "a" * 2048), ["body", "data", "image_url"]),
    "no created_at": (lambda data: data.pop("created_at"), ["body", "data", "created_at"]),
    "updated_at as text": (_set(updated_at="1795555200000"), ["body", "data", "updated_at"]),
    "updated_at past year 9999": (_set(updated_at=10**17), ["body", "data", "updated_at"]),
    "negative created_at": (_set(created_at=-1), ["body", "data", "created_at"]),
    "no id": (lambda data: data.pop("id"), ["body", "data", "id"]),
    "id too long": (_set(id="u" * 256), ["body", "data", "id"]),
    "data not an object": (None, ["body", "data"]),
}


@pytest.mark.parametrize("event_type", ["user.created", "user.updated"])
@pytest.mark.parametrize("case", BAD_PROFILES)
def test_a_profile_the_users_table_cannot_hold_is_a_422_that_changes_nothing(
    api: ApiClient, event_sink: EventSink, clean_db: Engine, case: str, event_type: str
) -> None:
    assert send(api, profile("user.created", "bob"))[0] == 204
    event_sink.drain()
    before = snapshot(clean_db)
    payload = profile(event_type, updated=T0 + 1)
    mutate, loc = BAD_PROFILES[case]
    if mutate is None:
        payload["data"] = ["alice"]
    else:
        mutate(payload["data"])

    response = deliver(api, *signed(payload, WEBHOOK_SECRET))

    assert response.status == 422
    body = response.json()
    assert (body["statusCode"], body["code"]) == (422, "VALIDATION_ERROR")
    assert loc in [e["loc"] for e in body["detail"]]
    assert snapshot(clean_db) == before  # not even the delivery's record: a fixed retry is acted on
    assert event_sink.drain() == []


def test_an_email_another_user_still_holds_is_a_409_and_the_retry_succeeds_once_it_is_free(
    api: ApiClient, event_sink: EventSink, clean_db: Engine
) -> None:
    """In Clerk alice moves to a new address, then bob takes her old one; Svix delivers bob's update
    before alice's."""
    assert send(api, profile("user.created", "alice", email="a@example.com"))[0] == 204
    assert send(api, profile("user.created", "bob", email="b@example.com"))[0] == 204
    event_sink.drain()
    before = snapshot(clean_db)
    bobs = profile("user.updated", "bob", updated=T0 + 2_000, email="a@example.com")

    body, headers = signed(bobs, WEBHOOK_SECRET)
    refused = deliver(api, body, headers)

    assert refused.status == 409
    assert refused.json() == {
        "statusCode": 409,
        "code": "EMAIL_IN_USE",
        "message": "Another user holds this email address; retry once that user's change has arrived",
    }
    assert snapshot(clean_db) == before  # nothing, not even the delivery's record
    assert event_sink.drain() == []

    assert send(api, profile("user.updated", "alice", updated=T0 + 1_000, email="new@example.com"))[0] == 204
    retried = deliver(api, *signed(bobs, WEBHOOK_SECRET, message_id=headers["svix-id"]))  # Svix's retry

    assert retried.status == 204
    assert {u: (user_row(clean_db, u) or {}).get("email") for u in ("alice", "bob")} == {
        "alice": "new@example.com",
        "bob": "a@example.com",
    }
    assert seen(event_sink.drain()) == [upserted("alice"), upserted("bob")]


def test_a_new_user_with_a_taken_email_is_a_409_too(api: ApiClient, event_sink: EventSink, clean_db: Engine) -> None:
    assert send(api, profile("user.created", "alice", email="a@example.com"))[0] == 204
    event_sink.drain()
    before = snapshot(clean_db)
    assert send(api, profile("user.created", "bob", email="a@example.com"))[0] == 409
    assert snapshot(clean_db) == before
    assert event_sink.drain() == []


def test_a_user_acts_before_the_webhook_and_the_profile_arrives_later(
    api: ApiClient, event_sink: EventSink, clean_db: Engine
) -> None:
    """No foreign key from job infos to users: a signed-in user's first requests may beat Clerk's
    user.created; its arrival changes none of their rows."""
    job = api.create_job_info(user="alice")
    interview = api.create_interview(job["id"], user="alice")
    assert user_row(clean_db, "alice") is None
    before = snapshot(clean_db)

    assert send(api, profile("user.created"))[0] == 204

    after = snapshot(clean_db)
    assert {t: rows for t, rows in after.items() if t not in ("users", "outbox", "webhook_deliveries")} == {
        t: rows for t, rows in before.items() if t not in ("users", "outbox", "webhook_deliveries")
    }
    assert api.get(f"/interviews/{interview['id']}", user="alice").status == 200
    assert user_row(clean_db, "alice") is not None
