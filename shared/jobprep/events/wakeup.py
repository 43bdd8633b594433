"""Ask for a relay run: a delayed message on the relay's wake-up queue (RELAY_WAKEUP_QUEUE_URL).

The relay has no fast schedule, so an idle stack lets its database sleep. Instead, whoever
leaves events pending asks for a run: a function whose inline publish failed, and the relay
itself while events remain. The delay lets the failed rows' backoff pass first. Best effort:
if the request fails too, the relay's slow safety-net schedule still finds the rows.
"""

from __future__ import annotations

import json
from functools import cache
from typing import TYPE_CHECKING

from jobprep.config import get_settings
from jobprep.observability import logger

if TYPE_CHECKING:
    from mypy_boto3_sqs import SQSClient

SQS_MAX_DELAY_SECONDS = 900


@cache
def sqs_client() -> SQSClient:
    import boto3  # lazy, like the EventBridge client: only the failure path needs it
    from botocore.config import Config

    return boto3.client(
        "sqs", config=Config(retries={"mode": "standard", "max_attempts": 3}, connect_timeout=2, read_timeout=5)
    )


def request_relay(delay_seconds: int, reason: str) -> bool:
    """True when a relay run was requested; False when no queue is configured or sending failed."""
    queue_url = get_settings().relay_wakeup_queue_url
    if not queue_url:
        return False
    try:
        sqs_client().send_message(
            QueueUrl=queue_url,
            MessageBody=json.dumps({"reason": reason}),
            DelaySeconds=max(0, min(delay_seconds, SQS_MAX_DELAY_SECONDS)),
        )
    except Exception:
        logger.warning("could not request a relay run; the safety-net schedule will", exc_info=True)
        return False
    return True
