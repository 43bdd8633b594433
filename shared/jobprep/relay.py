"""Scheduled outbox relay: publish what the inline publisher could not, then purge (sent events,
expired Idempotency-Keys, old webhook delivery ids).

Rows are claimed with FOR UPDATE SKIP LOCKED, so overlapping relay runs (a slow run and
the next minute's) never publish the same batch twice.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from jobprep import unit_of_work, webhook_deliveries
from jobprep.config import get_settings
from jobprep.create_once import purge_expired
from jobprep.db import engine as db
from jobprep.events import outbox
from jobprep.events.publisher import put_events
from jobprep.observability import logger

# Stop claiming new batches when less than this much of the invocation is left.
SAFETY_MARGIN_MS = 5_000


@dataclass
class RelayReport:
    batches: int = 0
    sent: int = 0
    failed: int = 0
    purged_events: int = 0
    purged_idempotency_keys: int = 0
    purged_webhook_deliveries: int = 0
    pending: int = 0  # left after this run
    oldest_pending_seconds: float = 0.0


def relay_pending(remaining_ms: Callable[[], int]) -> RelayReport:
    settings = get_settings()
    report = RelayReport()
    unit_of_work.flush_receipts()  # this container's own deferred marks first: never re-publish those
    # Backoff spares an EventBridge that fails; once it has accepted a whole batch, the rows
    # still waiting out theirs go in this run too, so a run after an outage catches up.
    retry_early = False
    while remaining_ms() > SAFETY_MARGIN_MS:
        with db.transaction() as conn:
            due = outbox.claim_due(conn, settings.outbox_batch_size, retry_early)
            if not due:
                break
            result = put_events(due)
            outbox.record_outcome(conn, result.sent, result.failed)
        report.batches += 1
        report.sent += len(result.sent)
        report.failed += len(result.failed)
        if not result.sent:
            break  # EventBridge refuses everything: the failed rows now wait out their backoff
        retry_early = not result.failed
    with db.transaction() as conn:
        report.purged_events = outbox.purge_sent(conn, timedelta(hours=settings.outbox_retention_hours))
        report.purged_idempotency_keys = purge_expired(conn, timedelta(hours=settings.idempotency_ttl_hours))
        report.purged_webhook_deliveries = webhook_deliveries.purge_expired(
            conn, timedelta(hours=settings.webhook_delivery_retention_hours)
        )
        report.pending, report.oldest_pending_seconds = outbox.pending_stats(conn)
    logger.info("outbox relay finished", extra=vars(report))
    return report
