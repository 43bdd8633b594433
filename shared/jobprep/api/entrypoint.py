"""The Lambda handler around a resolver: structured logs with the request id as correlation id,
EMF metrics, an X-Ray subsegment, and scheduled keep-warm pings that only check the pooled connection."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, cast

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from jobprep import snapstart  # noqa: F401 - registers the SnapStart restore hooks
from jobprep.db import engine as db
from jobprep.observability import logger, metrics, tracer

LambdaHandler = Callable[[dict[str, Any], LambdaContext], dict[str, Any]]


def is_keep_warm(event: dict[str, Any]) -> bool:
    return event.get("source") == "aws.events" and event.get("detail-type") == "Scheduled Event"


def entrypoint(app: APIGatewayHttpResolver) -> LambdaHandler:
    @logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP, clear_state=True)
    @tracer.capture_lambda_handler(capture_response=False)  # responses hold user data
    @metrics.log_metrics(capture_cold_start_metric=True)
    def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
        if is_keep_warm(event):
            db.ping()
            return {"warm": True}
        return app.resolve(event, context)

    return cast(LambdaHandler, handler)
