"""PutEvents: the EventBridge client and the call, chunked, with partial failures per entry."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cache
from typing import TYPE_CHECKING
from uuid import UUID

from jobprep.config import get_settings
from jobprep.events.model import InvalidationEvent
from jobprep.observability import logger, traced

if TYPE_CHECKING:
    from mypy_boto3_events import EventBridgeClient
    from mypy_boto3_events.type_defs import PutEventsRequestEntryTypeDef

PUT_EVENTS_MAX_ENTRIES = 10  # EventBridge PutEvents limit per call


@dataclass
class PublishResult:
    sent: list[UUID] = field(default_factory=list)
    failed: dict[UUID, str] = field(default_factory=dict)
    unreachable: bool = False  # a PutEvents call itself failed (no answer), not just some entries


@cache
def events_client() -> EventBridgeClient:
    # Lazy: read-only functions never publish, so they never pay for importing boto3.
    import boto3
    from botocore.config import Config

    # The endpoint comes from AWS_ENDPOINT_URL_EVENTBRIDGE when set (the local dev server's moto).
    # Short timeouts and one retry (a stale pooled connection): a write publishes inside its
    # request, and an endpoint that does not answer must cost it seconds, not the function's
    # 10 s timeout; the outbox keeps the event for the relay (tests/e2e/test_eventbridge_outage.py).
    return boto3.client(
        "events",
        config=Config(retries={"mode": "standard", "total_max_attempts": 2}, connect_timeout=1, read_timeout=2),
    )


def warm_up() -> None:
    """Create the client now (a function's INIT): what AWS recommends for SDK clients, so the
    first invocation does not pay for importing boto3 and loading the service model. Lambda
    always sets a region; a tool importing the handlers without one (make openapi) leaves the
    client to its first use, as before."""
    from botocore.exceptions import NoRegionError

    with contextlib.suppress(NoRegionError):
        events_client()


def _entry(event: InvalidationEvent, bus_name: str) -> PutEventsRequestEntryTypeDef:
    return {
        "Source": event.source,
        "DetailType": event.detail_type,
        "Detail": json.dumps(event.detail, separators=(",", ":")),
        "EventBusName": bus_name,
    }


@traced  # X-Ray: the PutEvents calls
def put_events(events: Sequence[InvalidationEvent]) -> PublishResult:
    """PutEvents in chunks of 10. An entry counts as sent only if EventBridge gave it an EventId:
    a 200 response with FailedEntryCount > 0 is a partial failure, not a success."""
    result = PublishResult()
    bus_name = get_settings().event_bus_name
    for start in range(0, len(events), PUT_EVENTS_MAX_ENTRIES):
        chunk = events[start : start + PUT_EVENTS_MAX_ENTRIES]
        try:
            response = events_client().put_events(Entries=[_entry(e, bus_name) for e in chunk])
        except Exception as exc:  # any transport/service error leaves the whole chunk pending
            logger.warning("PutEvents failed", exc_info=True)
            result.unreachable = True
            result.failed.update({e.event_id: f"{type(exc).__name__}: {exc}"[:1000] for e in chunk})
            continue
        entries = response.get("Entries", [])
        for i, event in enumerate(chunk):
            outcome = entries[i] if i < len(entries) else {}
            if outcome.get("EventId") and not outcome.get("ErrorCode"):
                result.sent.append(event.event_id)
            else:
                error = f"{outcome.get('ErrorCode', 'NoResult')}: {outcome.get('ErrorMessage', '')}"
                result.failed[event.event_id] = error[:1000]
    return result
