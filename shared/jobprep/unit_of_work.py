"""A change and its invalidation event as one unit of work, in one round trip.

1. One statement makes the change and writes its outbox row (data-modifying CTEs): atomic on
   its own in autocommit, so no BEGIN/COMMIT, and the ownership checks, plan and rate limits
   ride in the same statement. It returns the changed row plus the event it wrote.
2. Once it has committed, the event is published with PutEvents.
3. A published event's "sent" mark waits in the container (events.receipts) and goes out with
   the container's next change statement: every change statement is built with the
   sent_receipts CTE (change_statement(), so sql/<name>.sql shows it), and change() binds this
   container's pending marks to it (none: an empty list, which marks nothing). An event
   EventBridge refused is pushed back with backoff right away (a round trip only on that
   failure path) and a relay run is requested (events.wakeup); anything else (a container
   killed in between) is found by the relay's safety-net schedule.
4. When EventBridge cannot be reached at all, the container stops trying for a few seconds: its
   next writes leave their events straight to the relay (recorded as failed, with backoff)
   instead of each waiting out the same timeouts.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from typing import Any

from jobprep.binds import SENT_EVENT_IDS
from jobprep.db import engine as db
from jobprep.db.run import run
from jobprep.events import receipts
from jobprep.events.model import InvalidationEvent
from jobprep.events.outbox import MARK_SENT, SENT_RECEIPTS, event_from, event_params, record_outcome
from jobprep.events.publisher import PublishResult, put_events
from jobprep.events.wakeup import request_relay
from jobprep.observability import logger, traced
from jobprep.prebuilt import Prebuilt, Statement

# Ask the relay to run once the failed rows' first backoff (at most 10 s) has passed.
RELAY_DELAY_AFTER_FAILED_PUBLISH_SECONDS = 30
# After a PutEvents call got no answer, this container's writes skip publishing for this long.
SKIP_PUBLISH_AFTER_UNREACHABLE_SECONDS = 20.0
SKIPPED = "not tried: EventBridge was unreachable moments ago"
_skip_publish_until = 0.0  # time.monotonic(); a container serves one request at a time


def change_statement(name: str, about: str, statement: Statement) -> Prebuilt:
    """A change statement (its event written with events.outbox.enqueue), carrying the
    sent_receipts CTE that change() binds this container's pending sent marks to."""
    return Prebuilt(name, "change", about, statement.add_cte(SENT_RECEIPTS))


@traced  # X-Ray: the statement's round trip, then the publish
def change(statement: Prebuilt, params: Mapping[str, Any]) -> Any | None:
    """Run a change statement (built with change_statement), with this container's pending sent
    marks, then publish its event. Returns its single result row, or None when it returned none."""
    if statement.kind != "change":
        raise ValueError(f"{statement.name}: not built with unit_of_work.change_statement")
    marks = receipts.pending()
    sent: dict[str, Any] = {**event_params(), **params, SENT_EVENT_IDS.key: list(marks)}
    with db.connect() as conn:
        row = run(conn, statement.driver_sql, sent).one_or_none()
    # Marked, or skipped because the relay holds the row: then the relay marks it when done.
    receipts.forget(marks)
    event = event_from(row)
    if event is not None:
        publish([event])
    return row


def flush_receipts() -> bool:
    """Send this container's pending sent marks on their own (a keep-warm ping, the relay).
    False when there were none, and nothing was sent."""
    marks = receipts.pending()
    if not marks:
        return False
    with db.connect() as conn:
        run(conn, MARK_SENT.driver_sql, {SENT_EVENT_IDS.key: list(marks)})
    receipts.forget(marks)
    return True


def ping() -> None:
    """A keep-warm ping: the pending marks when there are any, else a liveness check; either
    way one statement on the pooled connection."""
    if not flush_receipts():
        db.ping()


def reset_publish_skip() -> None:
    """Publish inline again from the next write on (tests; a fresh container starts this way)."""
    global _skip_publish_until
    _skip_publish_until = 0.0


def publish(events: Sequence[InvalidationEvent]) -> PublishResult:
    """Best effort: the change is committed, so a failure here only delays delivery."""
    global _skip_publish_until
    if time.monotonic() < _skip_publish_until:
        # The write that found EventBridge unreachable asked for a relay run; the relay keeps
        # asking for the next one while anything is pending.
        skipped = PublishResult(failed={event.event_id: SKIPPED for event in events})
        _record_failed(skipped)
        return skipped
    result = put_events(events)
    if result.unreachable:
        _skip_publish_until = time.monotonic() + SKIP_PUBLISH_AFTER_UNREACHABLE_SECONDS
    receipts.note_sent(result.sent)
    if result.failed:
        _record_failed(result)
        request_relay(RELAY_DELAY_AFTER_FAILED_PUBLISH_SECONDS, "inline publish failed")
    return result


def _record_failed(result: PublishResult) -> None:
    """The failed events due for the relay after their backoff (a round trip on this path only)."""
    logger.warning("events left for the relay", extra={"failed": len(result.failed)})
    try:
        with db.connect() as conn:
            record_outcome(conn, (), result.failed)
    except Exception:
        # The rows stay pending with their grace period; the relay retries them then.
        logger.warning("could not record the failed publish", exc_info=True)
