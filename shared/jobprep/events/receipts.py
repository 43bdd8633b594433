"""Receipts: the "sent" marks of events EventBridge accepted, held by this container until a
statement carries them, instead of a round trip of their own.

After PutEvents succeeds the event ids wait here. unit_of_work attaches them, as the
sent_receipts CTE (outbox.SENT_RECEIPTS), to the next change statement this container runs,
and forgets them once it has run; a keep-warm ping and the relay send them on their own
(outbox.MARK_SENT). Reads never carry them: in AWS a read function's container never
publishes, so it never holds any. If the container dies first, the rows stay pending and the
relay publishes them again after the grace period, with the same eventId (consumers
de-duplicate): a duplicate, never a loss. bench/ measures how often that happens.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from uuid import UUID

_lock = threading.Lock()
_pending: set[UUID] = set()


def note_sent(event_ids: Iterable[UUID]) -> None:
    with _lock:
        _pending.update(event_ids)


def pending() -> frozenset[UUID]:
    with _lock:
        return frozenset(_pending)


def forget(event_ids: Iterable[UUID]) -> None:
    """The marks went out with a statement that ran (or were skipped for the relay to make)."""
    with _lock:
        _pending.difference_update(event_ids)
