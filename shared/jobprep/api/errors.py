"""Domain errors -> HTTP statuses, here and only here. One error body shape for all of them:
`ErrorBody` ({statusCode, code, message}); a 422 adds the field-level `detail[]` Powertools uses."""

from __future__ import annotations

from http import HTTPStatus
from typing import Any, Literal

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.event_handler.exceptions import NotFoundError, ServiceError
from aws_lambda_powertools.event_handler.openapi.exceptions import (
    RequestUnsupportedContentType,
    RequestValidationError,
)
from pydantic import Field

from jobprep.errors import (
    DatabaseUnavailable,
    DomainError,
    EmailInUse,
    HumeChatIdWriteOnce,
    IdempotencyKeyReused,
    InterviewNotCompleted,
    InvalidInput,
    NotFound,
    PlanLimitReached,
    PreconditionFailed,
    RateLimited,
    Unauthenticated,
)
from jobprep.observability import logger
from jobprep.schemas import ApiOutput


class ErrorBody(ApiOutput):
    """Every error this API's code answers with."""

    status_code: int = Field(description="The HTTP status, repeated")
    code: str = Field(description="Stable machine-readable reason", examples=["NOT_FOUND"])
    message: str = Field(description="Human-readable explanation")


class ErrorDetail(ApiOutput):
    loc: list[str | int] = Field(description='Where the problem is, e.g. ["body", "name"]')
    type: str = Field(description="Pydantic-style error type, e.g. string_too_long")
    msg: str


class ValidationErrorBody(ErrorBody):
    """422: the common fields plus one entry per invalid field (Powertools' `detail` shape)."""

    detail: list[ErrorDetail]


class InterviewConflictBody(ErrorBody):
    """409 of PATCH /interviews/{interviewId}: the interview's state refuses the change."""

    code: Literal["HUME_CHAT_ID_WRITE_ONCE", "INTERVIEW_NOT_COMPLETED"] = Field(
        description="HUME_CHAT_ID_WRITE_ONCE: humeChatId is already set and would be cleared or changed;"
        " INTERVIEW_NOT_COMPLETED: feedback on an interview without a humeChatId"
    )


class GatewayErrorBody(ApiOutput):
    """What API Gateway itself answers before any function runs (JWT authorizer, no matching route, throttling)."""

    message: str = Field(examples=["Unauthorized"])


STATUS: dict[type[DomainError], HTTPStatus] = {
    Unauthenticated: HTTPStatus.UNAUTHORIZED,
    NotFound: HTTPStatus.NOT_FOUND,
    PreconditionFailed: HTTPStatus.PRECONDITION_FAILED,
    EmailInUse: HTTPStatus.CONFLICT,
    HumeChatIdWriteOnce: HTTPStatus.CONFLICT,
    InterviewNotCompleted: HTTPStatus.CONFLICT,
    InvalidInput: HTTPStatus.UNPROCESSABLE_ENTITY,
    IdempotencyKeyReused: HTTPStatus.UNPROCESSABLE_ENTITY,
    PlanLimitReached: HTTPStatus.FORBIDDEN,
    RateLimited: HTTPStatus.TOO_MANY_REQUESTS,
    DatabaseUnavailable: HTTPStatus.SERVICE_UNAVAILABLE,
}

BAD_REQUEST_MESSAGE = "Request body must be a JSON object"
UNSUPPORTED_MEDIA_TYPE_MESSAGE = "Request body must be sent as Content-Type: application/json"
VALIDATION_MESSAGE = "Request validation failed"

# Validation errors that mean "the body is not a JSON object at all" (400), as opposed to
# "this field is wrong" (422).
_BODY_SHAPE_ERRORS = frozenset({"json_invalid", "missing", "model_type", "model_attributes_type", "dict_type"})


def json_response(status: HTTPStatus, body: Any, headers: dict[str, str] | None = None) -> Response[Any]:
    return Response(status_code=status, content_type=content_types.APPLICATION_JSON, body=body, headers=headers)


def error_body(status: HTTPStatus, code: str, message: str) -> ErrorBody:
    return ErrorBody(status_code=status.value, code=code, message=message)


def error(status: HTTPStatus, code: str, message: str, headers: dict[str, str] | None = None) -> Response[Any]:
    return json_response(status, error_body(status, code, message).to_json(), headers)


def validation_error(detail: list[ErrorDetail], code: str = InvalidInput.code) -> Response[Any]:
    status = HTTPStatus.UNPROCESSABLE_ENTITY
    body = ValidationErrorBody(status_code=status.value, code=code, message=VALIDATION_MESSAGE, detail=detail)
    return json_response(status, body.to_json())


def bad_request() -> Response[Any]:
    return error(HTTPStatus.BAD_REQUEST, "BAD_REQUEST", BAD_REQUEST_MESSAGE)


def unsupported_media_type() -> Response[Any]:
    return error(HTTPStatus.UNSUPPORTED_MEDIA_TYPE, "UNSUPPORTED_MEDIA_TYPE", UNSUPPORTED_MEDIA_TYPE_MESSAGE)


def on_domain_error(exc: DomainError) -> Response[Any]:
    # Most specific mapped class wins; an unmapped DomainError is our bug, so a 500.
    status = next((STATUS[c] for c in type(exc).__mro__ if c in STATUS), HTTPStatus.INTERNAL_SERVER_ERROR)
    if isinstance(exc, InvalidInput):
        return validation_error([ErrorDetail(loc=list(exc.loc), type=exc.error_type, msg=exc.message)])
    if isinstance(exc, IdempotencyKeyReused):
        detail = ErrorDetail(loc=["header", "idempotency-key"], type="idempotency_key_reused", msg=exc.message)
        return validation_error([detail], exc.code)
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
        return bad_request()
    return validation_error([ErrorDetail(loc=list(e["loc"]), type=e["type"], msg=e.get("msg", "")) for e in errors])


def on_unsupported_content_type(_exc: RequestUnsupportedContentType) -> Response[Any]:
    # Normally answered before routing (jobprep.api.request.body_problem); kept so Powertools' own
    # content-type refusal has our shape too.
    return unsupported_media_type()


def on_recursion_error(_exc: RecursionError) -> Response[Any]:
    # json.loads of a body nested thousands of levels deep: malformed input, not a server fault.
    return bad_request()


def on_route_not_found(_exc: NotFoundError) -> Response[Any]:
    return error(HTTPStatus.NOT_FOUND, NotFound.code, "Route not found")


def on_service_error(exc: ServiceError) -> Response[Any]:
    status = HTTPStatus(exc.status_code)
    return error(status, status.name, str(exc.msg))


def on_unexpected(_exc: Exception) -> Response[Any]:
    logger.exception("unhandled error")  # the trace goes to the log, never to the client
    return error(HTTPStatus.INTERNAL_SERVER_ERROR, "INTERNAL_ERROR", "Internal server error")
