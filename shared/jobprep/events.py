"""Cache-invalidation events: built here, stored by jobprep.outbox, published with PutEvents.

A mutation writes its events to the outbox in the same transaction as the change, then
publishes them right after commit and marks them sent. Anything that could not be
published (EventBridge down, throttled, partial failure, container killed in between)
stays pending and the scheduled relay (jobprep.relay) delivers it later. Delivery is
at-least-once: consumers can de-duplicate on ``detail.eventId``.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cache
from typing import TYPE_CHECKING, Any
from uuid import UUID, uuid4

from aws_lambda_powertools import Logger
from sqlalchemy import Connection

from jobprep import db
from jobprep.config import get_settings
from jobprep.outbox import InvalidationEvent, enqueue, record_outcome

if TYPE_CHECKING:
    from mypy_boto3_events import EventBridgeClient
    from mypy_boto3_events.type_defs import PutEventsRequestEntryTypeDef

logger = Logger(child=True)

PUT_EVENTS_MAX_ENTRIES = 10  # EventBridge PutEvents limit per call


def invalidation_event(
    source: str,
    detail_type: str,
    *,
    resource_id: UUID,
    user_id: str,
    tags: Sequence[str],
    job_info_id: UUID | None = None,
) -> InvalidationEvent:
    event_id = uuid4()
    detail: dict[str, Any] = {
        "eventId": str(event_id),
        "occurredAt": datetime.now(UTC).isoformat(),
        "id": str(resource_id),
        "userId": user_id,
    }
    if job_info_id is not None:
        detail["jobInfoId"] = str(job_info_id)
    detail["tags"] = list(tags)
    return InvalidationEvent(event_id, source, detail_type, detail)


@dataclass
class PublishResult:
    sent: list[UUID] = field(default_factory=list)
    failed: dict[UUID, str] = field(default_factory=dict)


@cache
def events_client() -> EventBridgeClient:
    # Lazy: read-only functions never publish, so they never pay for importing boto3.
    import boto3
    from botocore.config import Config

    # The endpoint comes from AWS_ENDPOINT_URL_EVENTBRIDGE when set (the local dev server's moto).
    return boto3.client(
        "events",
        config=Config(retries={"mode": "standard", "max_attempts": 3}, connect_timeout=2, read_timeout=5),
    )


def _entry(event: InvalidationEvent, bus_name: str) -> PutEventsRequestEntryTypeDef:
    return {
        "Source": event.source,
        "DetailType": event.detail_type,
        "Detail": json.dumps(event.detail, separators=(",", ":")),
        "EventBusName": bus_name,
    }


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


def publish_after_commit(events: Sequence[InvalidationEvent], conn: Connection | None = None) -> PublishResult:
    """Best effort: the change is already committed, so a failure here only delays delivery.
    `conn`: the connection the change was committed on, reused (no transaction open on it)."""
    if not events:
        return PublishResult()
    result = put_events(events)
    try:
        # Each UPDATE stands alone (one row's fate does not depend on another's): no transaction needed.
        if conn is None:
            with db.autocommit() as own:
                record_outcome(own, result.sent, result.failed)
        else:
            record_outcome(db.use_autocommit(conn), result.sent, result.failed)
    except Exception:
        # Rows stay pending; the relay publishes them again (consumers de-duplicate on eventId).
        logger.warning("could not record publish outcome", exc_info=True)
    if result.failed:
        logger.warning("events left for the relay", extra={"failed": len(result.failed)})
    return result


@dataclass
class Mutation:
    """A transaction that collects the invalidation events of the change it makes."""

    conn: Connection
    events: list[InvalidationEvent] = field(default_factory=list)

    def emit(self, *events: InvalidationEvent) -> None:
        enqueue(self.conn, events)
        self.events.extend(events)


@contextmanager
def mutation() -> Iterator[Mutation]:
    """Change + outbox rows commit together; publishing happens only after the commit. One
    checkout for both: the mark-sent UPDATE reuses the connection the change committed on."""
    with db.connection() as conn:
        with conn.begin():
            unit = Mutation(conn)
            yield unit
        publish_after_commit(unit.events, conn)
