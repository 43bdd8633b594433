"""A change and its invalidation event as one unit of work, in one round trip.

1. One statement makes the change and writes its outbox row (data-modifying CTEs): atomic on
   its own in autocommit, so no BEGIN/COMMIT, and the ownership checks, plan and rate limits
   ride in the same statement. It returns the changed row plus the event it wrote.
2. After it has committed, the event is published with PutEvents.
3. A published event's "sent" mark rides on the connection's next statement (receipts); an
   event EventBridge refused is pushed back with backoff right away (a round trip only on
   that failure path) and a relay run is requested (events.wakeup); anything else (a
   container killed in between) is found by the relay's safety-net schedule.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import Executable, Row

from jobprep.db import engine as db
from jobprep.events import receipts
from jobprep.events.model import InvalidationEvent
from jobprep.events.outbox import event_from, event_params, record_outcome
from jobprep.events.publisher import PublishResult, put_events
from jobprep.events.wakeup import request_relay
from jobprep.observability import logger, tracer
from jobprep.prebuilt import Prebuilt

# Ask the relay to run once the failed rows' first backoff (at most 10 s) has passed.
RELAY_DELAY_AFTER_FAILED_PUBLISH_SECONDS = 30


@tracer.capture_method(capture_response=False)  # X-Ray: the statement's round trip
def read(statement: Executable, params: Mapping[str, Any]) -> Sequence[Row[Any]]:
    """One read statement, one round trip."""
    with db.connect() as conn:
        return conn.execute(statement, params).all()


@tracer.capture_method(capture_response=False)  # X-Ray: the statement's round trip, then the publish
def change(statement: Prebuilt | Executable, params: Mapping[str, Any]) -> Row[Any] | None:
    """Run a change statement (built with events.outbox.enqueue), then publish its event.
    Returns its single result row, or None when it returned none."""
    if isinstance(statement, Prebuilt):
        statement = statement.statement
    with db.connect() as conn:
        row = conn.execute(statement, {**event_params(), **params}).one_or_none()
    event = event_from(row)
    if event is not None:
        publish([event])
    return row


def publish(events: Sequence[InvalidationEvent]) -> PublishResult:
    """Best effort: the change is committed, so a failure here only delays delivery."""
    result = put_events(events)
    receipts.note_sent(result.sent)
    if result.failed:
        logger.warning("events left for the relay", extra={"failed": len(result.failed)})
        try:
            with db.connect() as conn:
                record_outcome(conn, (), result.failed)
        except Exception:
            # The rows stay pending with their grace period; the relay retries them then.
            logger.warning("could not record the failed publish", exc_info=True)
        request_relay(RELAY_DELAY_AFTER_FAILED_PUBLISH_SECONDS, "inline publish failed")
    return result
