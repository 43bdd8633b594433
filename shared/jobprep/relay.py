"""Scheduled outbox relay: publish what the inline publisher could not, then purge.

Rows are claimed with FOR UPDATE SKIP LOCKED, so overlapping relay runs (a slow run and
the next minute's) never publish the same batch twice.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from aws_lambda_powertools import Logger

from jobprep import db, outbox
from jobprep.config import get_settings
from jobprep.events import put_events
from jobprep.idempotency import purge_expired

logger = Logger(child=True)

# Stop claiming new batches when less than this much of the invocation is left.
SAFETY_MARGIN_MS = 5_000


@dataclass
class RelayReport:
    batches: int = 0
    sent: int = 0
    failed: int = 0
    purged_events: int = 0
    purged_idempotency_keys: int = 0


def relay_pending(remaining_ms: Callable[[], int]) -> RelayReport:
    settings = get_settings()
    report = RelayReport()
    while remaining_ms() > SAFETY_MARGIN_MS:
        with db.transaction() as conn:
            due = outbox.claim_due(conn, settings.outbox_batch_size)
            if not due:
                break
            result = put_events(due)
            outbox.record_outcome(conn, result.sent, result.failed)
        report.batches += 1
        report.sent += len(result.sent)
        report.failed += len(result.failed)
        if not result.sent:
            break  # EventBridge refuses everything: the failed rows now wait out their backoff
    with db.transaction() as conn:
        report.purged_events = outbox.purge_sent(conn, timedelta(hours=settings.outbox_retention_hours))
        report.purged_idempotency_keys = purge_expired(conn, timedelta(hours=settings.idempotency_ttl_hours))
    logger.info("outbox relay finished", extra=vars(report))
    return report
