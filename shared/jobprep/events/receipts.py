"""Receipts: the "sent" marks of events EventBridge accepted, deferred to the connection's
next statement instead of a round trip of their own.

After PutEvents succeeds the event ids wait here; the next statement this container sends in
autocommit (the next request's read or write, a keep-warm ping, the relay) carries
``WITH sent_receipts AS (UPDATE outbox SET sent_at = now() ...)`` and clears them once it has
run. If the container dies first, the rows stay pending and the relay publishes them again
after the grace period, with the same eventId (consumers de-duplicate): a duplicate, never a
loss. bench/ measures how often that happens.
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Callable, Iterable
from typing import Any
from uuid import UUID

from sqlalchemy import Connection, Executable
from sqlalchemy.sql.selectable import HasCTE

from jobprep.binds import SENT_EVENT_IDS
from jobprep.db import engine as db
from jobprep.events.outbox import mark_sent_statement

_MARK = mark_sent_statement().cte("sent_receipts")

_lock = threading.Lock()
_pending: set[UUID] = set()
# Each statement with the marks added, built once: a new statement object would make SQLAlchemy
# recompute its cache key (a walk of the whole statement) on every invocation. Weak keys, so a
# statement built per call (a page query) takes its ridden copy with it.
_ridden: weakref.WeakKeyDictionary[Executable, Executable] = weakref.WeakKeyDictionary()


def note_sent(event_ids: Iterable[UUID]) -> None:
    with _lock:
        _pending.update(event_ids)


def pending() -> frozenset[UUID]:
    with _lock:
        return frozenset(_pending)


def flush(conn: Connection) -> None:
    """Send the marks now, on their own (the relay does, before it looks for due rows)."""
    ids = pending()
    if ids:
        conn.execute(mark_sent_statement(), {SENT_EVENT_IDS.key: list(ids)})
        _forget(ids)


def _forget(ids: frozenset[UUID]) -> None:
    with _lock:
        _pending.difference_update(ids)


def _ride_along(statement: Executable) -> tuple[Executable, dict[str, Any], Callable[[], None]] | None:
    ids = pending()
    if not ids or not isinstance(statement, HasCTE):
        return None
    with _lock:
        ridden = _ridden.get(statement)
        if ridden is None:
            ridden = _ridden[statement] = statement.add_cte(_MARK)
    return ridden, {SENT_EVENT_IDS.key: list(ids)}, lambda: _forget(ids)


db.add_rider(_ride_along)
