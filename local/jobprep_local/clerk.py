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
        "timestamp": int(datetime.now(UTC).timestamp() * 1000),
        "type": "user.deleted",
    }


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
