"""Publish pending outbox events, purge old sent rows and idempotency keys.

Runs when asked (a message on the wake-up queue) and on a slow safety-net schedule; while
events remain pending it asks for its own next run, so it stops once the outbox is drained
and an idle database can sleep.
"""

from dataclasses import asdict
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from jobprep import snapstart  # noqa: F401 - registers the SnapStart restore hooks
from jobprep.events.wakeup import request_relay
from jobprep.observability import logger, metrics, tracer
from jobprep.relay import relay_pending

# While the relay still owes events (failed ones in backoff), run again this much later.
RERUN_WHILE_PENDING_SECONDS = 60


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    report = relay_pending(context.get_remaining_time_in_millis)
    metrics.add_metric(name="OutboxEventsRelayed", unit=MetricUnit.Count, value=report.sent)
    metrics.add_metric(name="OutboxEventsFailed", unit=MetricUnit.Count, value=report.failed)
    metrics.add_metric(name="OutboxOldestPendingAge", unit=MetricUnit.Seconds, value=report.oldest_pending_seconds)
    if report.pending:
        request_relay(RERUN_WHILE_PENDING_SECONDS, "events still pending")
    return asdict(report)
