"""Local stand-in for Clerk's webhook sender: a documented dev signing secret and signed
messages, signed with the svix library exactly as Svix signs them."""

from __future__ import annotations

import json
import secrets
from datetime import UTC, datetime
from typing import Any

from svix.webhooks import Webhook

# Public on purpose: `make dev` verifies webhooks with it unless CLERK_WEBHOOK_SECRET is set.
# It is base64 of "job-prep local dev webhook key!!"; never use it outside a local machine.
DEV_WEBHOOK_SECRET = "whsec_am9iLXByZXAgbG9jYWwgZGV2IHdlYmhvb2sga2V5ISE="  # noqa: S105
PATH = "/webhooks/clerk"


def user_deleted(user_id: str) -> dict[str, Any]:
    """The body Clerk sends when a user is deleted."""
    return {
        "data": {"deleted": True, "id": user_id, "object": "user"},
        "instance_id": "ins_local",
        "object": "event",
        "timestamp": _now_ms(),
        "type": "user.deleted",
    }


PROFILE_EVENTS = ("user.created", "user.updated")
EVENT_TYPES = (*PROFILE_EVENTS, "user.deleted")


def _now_ms() -> int:
    return int(datetime.now(UTC).timestamp() * 1000)


def user_profile(
    event_type: str,
    user_id: str,
    *,
    first_name: str | None = None,
    last_name: str | None = "Example",
    email: str | None = None,
    image_url: str | None = None,
    created_at: int | None = None,
    updated_at: int | None = None,
) -> dict[str, Any]:
    """The body Clerk sends for user.created / user.updated: its User object (the fields the API
    reads and a few it ignores), the primary email among its email addresses. Times are epoch
    milliseconds, now unless given."""
    now = _now_ms()
    email_id = f"idn_{secrets.token_hex(8)}"
    return {
        "data": {
            "id": user_id,
            "object": "user",
            "first_name": user_id.capitalize() if first_name is None else first_name,
            "last_name": last_name,
            "username": None,
            "image_url": image_url if image_url is not None else f"https://img.clerk.com/{user_id}.png",
            "has_image": False,
            "primary_email_address_id": email_id,
            "email_addresses": [
                {
                    "id": email_id,
                    "object": "email_address",
                    "email_address": email or f"{user_id}@example.com",
                    "verification": {"status": "verified", "strategy": "email_code"},
                    "linked_to": [],
                }
            ],
            "phone_numbers": [],
            "public_metadata": {},
            "created_at": now if created_at is None else created_at,
            "updated_at": now if updated_at is None else updated_at,
        },
        "instance_id": "ins_local",
        "object": "event",
        "timestamp": now,
        "type": event_type,
    }


def event(event_type: str, user_id: str, **profile: Any) -> dict[str, Any]:
    """A Clerk webhook body of one of EVENT_TYPES for `user_id`."""
    if event_type == "user.deleted":
        return user_deleted(user_id)
    if event_type not in PROFILE_EVENTS:
        raise ValueError(f"{event_type!r}: one of {', '.join(EVENT_TYPES)}")
    return user_profile(event_type, user_id, **profile)


def signed(
    payload: Any,
    secret: str = DEV_WEBHOOK_SECRET,
    *,
    message_id: str | None = None,
    timestamp: datetime | None = None,
) -> tuple[bytes, dict[str, str]]:
    """The body and the headers of one Svix delivery (`svix-id`, `svix-timestamp`, `svix-signature`)."""
    body = payload if isinstance(payload, str) else json.dumps(payload, separators=(",", ":"))
    message_id = message_id or f"msg_{secrets.token_hex(13)}"
    timestamp = timestamp or datetime.now(UTC)
    headers = {
        "content-type": "application/json",
        "svix-id": message_id,
        "svix-timestamp": str(int(timestamp.timestamp())),
        "svix-signature": Webhook(secret).sign(message_id, timestamp, body),
    }
    return body.encode(), headers
