"""HTTP edge shared by every API function: resolver factory, caller identity, error mapping,
response builders and the Lambda entrypoint (logging, metrics, keep-warm).

Domain errors are mapped to statuses here and only here.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from http import HTTPStatus
from typing import Annotated, Any, cast

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response, content_types
from aws_lambda_powertools.event_handler.exceptions import NotFoundError, ServiceError
from aws_lambda_powertools.event_handler.openapi.exceptions import RequestValidationError
from aws_lambda_powertools.event_handler.openapi.params import Header
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from jobprep import db
from jobprep.config import get_settings
from jobprep.errors import (
    DatabaseUnavailable,
    DomainError,
    IdempotencyKeyReused,
    InvalidInput,
    NotFound,
    PlanLimitReached,
    PreconditionFailed,
    RateLimited,
    Unauthenticated,
)
from jobprep.idempotency import KEY_MAX
from jobprep.job_infos.models import USER_ID_MAX
from jobprep.results import Created, Versioned
from jobprep.validation import ApiOutput

logger = Logger()
metrics = Metrics()

_STATUS: dict[type[DomainError], HTTPStatus] = {
    Unauthenticated: HTTPStatus.UNAUTHORIZED,
    NotFound: HTTPStatus.NOT_FOUND,
    PreconditionFailed: HTTPStatus.PRECONDITION_FAILED,
    InvalidInput: HTTPStatus.UNPROCESSABLE_ENTITY,
    IdempotencyKeyReused: HTTPStatus.UNPROCESSABLE_ENTITY,
    PlanLimitReached: HTTPStatus.FORBIDDEN,
    RateLimited: HTTPStatus.TOO_MANY_REQUESTS,
    DatabaseUnavailable: HTTPStatus.SERVICE_UNAVAILABLE,
}

# Validation errors that mean "the body is not a JSON object at all" (400), as opposed to
# "this field is wrong" (422).
_BODY_SHAPE_ERRORS = frozenset({"json_invalid", "missing", "model_type", "model_attributes_type", "dict_type"})


def _json(status: HTTPStatus, body: Any, headers: dict[str, str] | None = None) -> Response[Any]:
    return Response(status_code=status, content_type=content_types.APPLICATION_JSON, body=body, headers=headers)


def _error(status: HTTPStatus, code: str, message: str, headers: dict[str, str] | None = None) -> Response[Any]:
    return _json(status, {"statusCode": status.value, "code": code, "message": message}, headers)


def _validation_body(detail: list[dict[str, Any]]) -> dict[str, Any]:
    # The Powertools 422 shape, plus a human-readable msg per error.
    return {"statusCode": HTTPStatus.UNPROCESSABLE_ENTITY.value, "detail": detail}


def _on_domain_error(exc: DomainError) -> Response[Any]:
    # Most specific mapped class wins; an unmapped DomainError is our bug, so a 500.
    status = next((_STATUS[c] for c in type(exc).__mro__ if c in _STATUS), HTTPStatus.INTERNAL_SERVER_ERROR)
    if isinstance(exc, InvalidInput):
        return _json(status, _validation_body([{"loc": list(exc.loc), "type": exc.error_type, "msg": exc.message}]))
    headers = None
    if isinstance(exc, RateLimited | DatabaseUnavailable):
        headers = {"Retry-After": str(exc.retry_after_seconds)}
    if isinstance(exc, DatabaseUnavailable):
        # The driver's message says enough (refused, timed out, terminated); no trace needed.
        logger.warning("database unavailable", extra={"cause": str(exc.__cause__)})
    return _error(status, exc.code, exc.message, headers)


def _on_request_validation(exc: RequestValidationError) -> Response[Any]:
    errors = exc.errors()
    if any(
        e["type"] == "json_invalid" or (tuple(e["loc"]) == ("body",) and e["type"] in _BODY_SHAPE_ERRORS)
        for e in errors
    ):
        return _error(HTTPStatus.BAD_REQUEST, "BAD_REQUEST", "Request body must be a JSON object")
    detail = [{"loc": list(e["loc"]), "type": e["type"], "msg": e.get("msg", "")} for e in errors]
    return _json(HTTPStatus.UNPROCESSABLE_ENTITY, _validation_body(detail))


def _on_route_not_found(_exc: NotFoundError) -> Response[Any]:
    return _error(HTTPStatus.NOT_FOUND, NotFound.code, "Route not found")


def _on_service_error(exc: ServiceError) -> Response[Any]:
    status = HTTPStatus(exc.status_code)
    return _error(status, status.name, str(exc.msg))


def _on_unexpected(_exc: Exception) -> Response[Any]:
    logger.exception("unhandled error")  # the trace goes to the log, never to the client
    return _error(HTTPStatus.INTERNAL_SERVER_ERROR, "INTERNAL_ERROR", "Internal server error")


def make_resolver() -> APIGatewayHttpResolver:
    app = APIGatewayHttpResolver(enable_validation=True)
    app.exception_handler(DomainError)(_on_domain_error)
    app.exception_handler(RequestValidationError)(_on_request_validation)
    app.exception_handler(NotFoundError)(_on_route_not_found)
    app.exception_handler(ServiceError)(_on_service_error)
    app.exception_handler(Exception)(_on_unexpected)
    return app


# --- caller identity -------------------------------------------------------------------------


@dataclass(frozen=True)
class Caller:
    user_id: str
    features: frozenset[str]


def _features(raw: Any) -> frozenset[str]:
    """Plan features from a claim: "u:a,u:b" (Clerk), a JSON list, or HTTP API's "[a b]" rendering."""
    items = raw if isinstance(raw, list) else re.split(r"[\s,\[\]]+", str(raw or ""))
    return frozenset(str(i).split(":", 1)[-1] for i in items if i)


def current_caller(app: APIGatewayHttpResolver) -> Caller:
    """The JWT authorizer has verified the token; its claims arrive in the request context."""
    claims = app.current_event.request_context.authorizer.jwt_claim
    user_id = claims.get("sub")
    if not isinstance(user_id, str) or not user_id or len(user_id) > USER_ID_MAX or not user_id.isprintable():
        raise Unauthenticated()
    return Caller(user_id, _features(claims.get(get_settings().plan_features_claim)))


# Printable ASCII, as the IETF Idempotency-Key draft's sf-string; a NUL could not even be stored.
IdempotencyKey = Annotated[
    str | None, Header(alias="Idempotency-Key", min_length=1, max_length=KEY_MAX, pattern=r"^[\x20-\x7e]+$")
]
IfMatch = Annotated[str | None, Header(alias="If-Match", max_length=1024)]


def parse_if_match(header: str | None) -> frozenset[int] | None:
    """None means "no precondition". Our ETags are strong ("<version>"); weak or foreign tags never match."""
    if header is None or header.strip() == "*":
        return None
    return frozenset(int(v) for v in re.findall(r'(?:^|,)\s*"(\d{1,9})"', header))


# --- responses -------------------------------------------------------------------------------


def etag(version: int) -> str:
    return f'"{version}"'


def ok(resource: ApiOutput) -> Response[Any]:
    return _json(HTTPStatus.OK, resource.to_json())


def versioned(result: Versioned[Any]) -> Response[Any]:
    return _json(HTTPStatus.OK, result.resource.to_json(), {"ETag": etag(result.version)})


def created(result: Created[Any], location: str) -> Response[Any]:
    headers = {"Location": location, "ETag": etag(result.version)}
    if result.replayed:
        headers["Idempotent-Replayed"] = "true"
    return _json(HTTPStatus.CREATED, result.resource.to_json(), headers)


def no_content() -> Response[Any]:
    return Response(status_code=HTTPStatus.NO_CONTENT, body=None)


# --- entrypoint ------------------------------------------------------------------------------

LambdaHandler = Callable[[dict[str, Any], LambdaContext], dict[str, Any]]


def is_keep_warm(event: dict[str, Any]) -> bool:
    return event.get("source") == "aws.events" and event.get("detail-type") == "Scheduled Event"


def entrypoint(app: APIGatewayHttpResolver) -> LambdaHandler:
    """The function's handler: structured logs with the request id as correlation id, EMF
    metrics, and scheduled keep-warm pings that only check the pooled connection."""

    @logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP, clear_state=True)
    @metrics.log_metrics(capture_cold_start_metric=True)
    def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
        if is_keep_warm(event):
            db.ping()
            return {"warm": True}
        return app.resolve(event, context)

    return cast(LambdaHandler, handler)
