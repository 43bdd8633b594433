"""The Lambda handler around a resolver: structured logs with the request id as correlation id,
EMF metrics, an X-Ray subsegment, scheduled keep-warm pings (the pooled connection checked and
any pending sent marks sent), and the body check (415/400) that must come before Powertools
parses anything."""

from __future__ import annotations

import json
from collections.abc import Callable
from http import HTTPStatus
from typing import Any, cast

from aws_lambda_powertools.utilities.typing import LambdaContext

from jobprep import (
    snapstart,  # noqa: F401 - registers the SnapStart restore hooks
    unit_of_work,
)
from jobprep.api import errors
from jobprep.api.request import body_problem, plain_json_content_type
from jobprep.api.resolver import Resolver
from jobprep.events import publisher
from jobprep.observability import logger, metrics, sampled, tracer

LambdaHandler = Callable[[dict[str, Any], LambdaContext], dict[str, Any]]


def is_keep_warm(event: dict[str, Any]) -> bool:
    return event.get("source") == "aws.events" and event.get("detail-type") == "Scheduled Event"


def entrypoint(app: Resolver) -> LambdaHandler:
    """The handler around `app`, built at import (the function's INIT): a function whose routes
    change data creates its EventBridge client here, not in its first invocation."""
    if app.changes_data:
        publisher.warm_up()

    def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
        if is_keep_warm(event):
            unit_of_work.ping()
            return {"warm": True}
        problem = body_problem(event)
        if problem is not None:
            return _refusal(problem)
        plain_json_content_type(event)
        return app.resolve(event, context)

    # The handler's subsegment only for a sampled invocation; with tracing off, no wrapper at all.
    traced = None if tracer.disabled else tracer.capture_lambda_handler(handler, capture_response=False)
    cold = [True]

    @logger.inject_lambda_context(clear_state=True)
    def invoke(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
        # The request id, where correlation_paths.API_GATEWAY_HTTP points, read without a
        # JMESPath search on every invocation.
        logger.set_correlation_id((event.get("requestContext") or {}).get("requestId"))
        # What metrics.log_metrics(capture_cold_start_metric=True) does, minus an empty flush
        # (and its warning) on every invocation that counted nothing.
        try:
            response = traced(event, context) if traced is not None and sampled() else handler(event, context)
            if cold[0]:
                cold[0] = False
                metrics.provider.add_cold_start_metric(context)
        finally:
            if metrics.metric_set:
                metrics.flush_metrics()
        return response

    return cast(LambdaHandler, invoke)


def _refusal(status: HTTPStatus) -> dict[str, Any]:
    """An HTTP API v2 response for a request refused before routing, in the common error shape."""
    response = errors.unsupported_media_type() if status == HTTPStatus.UNSUPPORTED_MEDIA_TYPE else errors.bad_request()
    return {
        "statusCode": response.status_code,
        "headers": {"Content-Type": "application/json"},
        "body": json.dumps(response.body, separators=(",", ":")),
        "isBase64Encoded": False,
    }
