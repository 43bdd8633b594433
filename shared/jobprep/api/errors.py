"""Domain errors -> HTTP statuses, here and only here. One error body shape for all of them."""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.event_handler.exceptions import NotFoundError, ServiceError
from aws_lambda_powertools.event_handler.openapi.exceptions import RequestValidationError

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
from jobprep.observability import logger

STATUS: dict[type[DomainError], HTTPStatus] = {
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


def json_response(status: HTTPStatus, body: Any, headers: dict[str, str] | None = None) -> Response[Any]:
    return Response(status_code=status, content_type=content_types.APPLICATION_JSON, body=body, headers=headers)


def error(status: HTTPStatus, code: str, message: str, headers: dict[str, str] | None = None) -> Response[Any]:
    return json_response(status, {"statusCode": status.value, "code": code, "message": message}, headers)


def _validation_body(detail: list[dict[str, Any]]) -> dict[str, Any]:
    # The Powertools 422 shape, plus a human-readable msg per error.
    return {"statusCode": HTTPStatus.UNPROCESSABLE_ENTITY.value, "detail": detail}


def on_domain_error(exc: DomainError) -> Response[Any]:
    # Most specific mapped class wins; an unmapped DomainError is our bug, so a 500.
    status = next((STATUS[c] for c in type(exc).__mro__ if c in STATUS), HTTPStatus.INTERNAL_SERVER_ERROR)
    if isinstance(exc, InvalidInput):
        return json_response(
            status, _validation_body([{"loc": list(exc.loc), "type": exc.error_type, "msg": exc.message}])
        )
    headers = None
    if isinstance(exc, RateLimited | DatabaseUnavailable):
        headers = {"Retry-After": str(exc.retry_after_seconds)}
    if isinstance(exc, DatabaseUnavailable):
        # The driver's message says enough (refused, timed out, terminated); no trace needed.
        logger.warning("database unavailable", extra={"cause": str(exc.__cause__)})
    return error(status, exc.code, exc.message, headers)


def on_request_validation(exc: RequestValidationError) -> Response[Any]:
    errors = exc.errors()
    if any(
        e["type"] == "json_invalid" or (tuple(e["loc"]) == ("body",) and e["type"] in _BODY_SHAPE_ERRORS)
        for e in errors
    ):
        return error(HTTPStatus.BAD_REQUEST, "BAD_REQUEST", "Request body must be a JSON object")
    detail = [{"loc": list(e["loc"]), "type": e["type"], "msg": e.get("msg", "")} for e in errors]
    return json_response(HTTPStatus.UNPROCESSABLE_ENTITY, _validation_body(detail))


def on_route_not_found(_exc: NotFoundError) -> Response[Any]:
    return error(HTTPStatus.NOT_FOUND, NotFound.code, "Route not found")


def on_service_error(exc: ServiceError) -> Response[Any]:
    status = HTTPStatus(exc.status_code)
    return error(status, status.name, str(exc.msg))


def on_unexpected(_exc: Exception) -> Response[Any]:
    logger.exception("unhandled error")  # the trace goes to the log, never to the client
    return error(HTTPStatus.INTERNAL_SERVER_ERROR, "INTERNAL_ERROR", "Internal server error")
