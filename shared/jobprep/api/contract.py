"""The OpenAPI response declarations, built once and used by every route: each status a route can
answer with, its body model and its headers. Routes call `declare(success, *statuses)`."""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

from aws_lambda_powertools.event_handler.openapi.types import OpenAPIResponse, OpenAPIResponseHeader

from jobprep.api.errors import ErrorBody, GatewayErrorBody, ValidationErrorBody

ETAG: OpenAPIResponseHeader = {
    "description": 'The resource\'s version as a strong entity tag, e.g. "3". Send it back in If-Match '
    "(PATCH, DELETE) or If-None-Match (GET).",
    "schema": {"type": "string", "pattern": '^"[0-9]+"$'},
}
CONTENT_ETAG: OpenAPIResponseHeader = {
    "description": "A hash of the body: a strong entity tag that changes exactly when the body does. Send it "
    "back in If-None-Match.",
    "schema": {"type": "string", "pattern": '^"[0-9a-f]{32}"$'},
}
LOCATION: OpenAPIResponseHeader = {
    "description": "Path of the created resource",
    "schema": {"type": "string", "format": "uri-reference"},
}
RETRY_AFTER: OpenAPIResponseHeader = {
    "description": "Seconds to wait before retrying",
    "schema": {"type": "string", "pattern": "^[0-9]+$"},
}
IDEMPOTENT_REPLAYED: OpenAPIResponseHeader = {
    "description": "Sent (true) when this answers a retry with the same Idempotency-Key: nothing new was created",
    "schema": {"type": "string", "enum": ["true"]},
}


def _required(header: OpenAPIResponseHeader) -> OpenAPIResponseHeader:
    # OpenAPIResponseHeader has no `required` key in its TypedDict; the OpenAPI Header Object does.
    return {**header, "required": True}  # type: ignore[typeddict-unknown-key]


def json_body(model: Any, description: str, headers: dict[str, OpenAPIResponseHeader] | None = None) -> OpenAPIResponse:
    response: OpenAPIResponse = {"description": description, "content": {"application/json": {"model": model}}}
    if headers:
        response["headers"] = headers
    return response


def ok(model: Any, description: str, *, etag: bool = False) -> dict[int, OpenAPIResponse]:
    return {200: json_body(model, description, {"ETag": _required(ETAG)} if etag else None)}


def ok_by_content(model: Any, description: str) -> dict[int, OpenAPIResponse]:
    """200 whose ETag is a hash of the body (a resource with no version of its own, e.g. GET /me),
    and the 304 that goes with it."""
    return {
        200: json_body(model, description, {"ETag": _required(CONTENT_ETAG)}),
        304: {**_ERRORS[304], "headers": {"ETag": _required(CONTENT_ETAG)}},
    }


def created(model: Any, description: str) -> dict[int, OpenAPIResponse]:
    headers = {"Location": _required(LOCATION), "ETag": _required(ETAG), "Idempotent-Replayed": IDEMPOTENT_REPLAYED}
    return {201: json_body(model, description, headers)}


def no_content(description: str) -> dict[int, OpenAPIResponse]:
    # An explicit empty content map: without it Powertools would document the handler's return type.
    return {204: {"description": description, "content": {}}}


# Every error status this API can answer with. 401, 404, 429 and 503 can also come from API Gateway
# itself (authorizer, no matching route, throttling, Lambda unavailable) with its own {"message"} body.
_ERRORS: dict[int, OpenAPIResponse] = {
    304: {
        "description": "Not Modified: If-None-Match matches the current ETag (no body)",
        "headers": {"ETag": _required(ETAG)},
        "content": {},
    },
    400: json_body(ErrorBody, "Bad Request: the body is not UTF-8, not JSON, or not a JSON object (BAD_REQUEST)"),
    401: json_body(
        ErrorBody | GatewayErrorBody,
        "Unauthorized: no valid JWT (API Gateway's authorizer) or no usable identity in it (UNAUTHENTICATED)",
    ),
    403: json_body(ErrorBody, "Forbidden: the caller's plan allows no more interviews or questions (PLAN_LIMIT)"),
    404: json_body(
        ErrorBody | GatewayErrorBody,
        "Not Found: no such resource for this caller (NOT_FOUND), or no route matches the path (API Gateway's own "
        '{"message":"Not Found"}, e.g. an id holding a slash)',
    ),
    412: json_body(ErrorBody, "Precondition Failed: If-Match does not match the current ETag (PRECONDITION_FAILED)"),
    415: json_body(ErrorBody, "Unsupported Media Type: a body must be Content-Type: application/json"),
    422: json_body(
        ValidationErrorBody,
        "Unprocessable Content: a field, parameter or header is invalid (VALIDATION_ERROR, IDEMPOTENCY_KEY_REUSED)",
    ),
    429: json_body(
        ErrorBody | GatewayErrorBody,
        "Too Many Requests: the caller's interview rate limit (RATE_LIMIT, with Retry-After) or API Gateway throttling",
        {"Retry-After": RETRY_AFTER},
    ),
    503: json_body(
        ErrorBody | GatewayErrorBody,
        "Service Unavailable: the database cannot be reached, retry later (SERVICE_UNAVAILABLE)",
        {"Retry-After": RETRY_AFTER},
    ),
}

# Statuses every route can answer with: no identity, a bad parameter or header, throttling, no database.
COMMON = (
    HTTPStatus.UNAUTHORIZED,
    HTTPStatus.UNPROCESSABLE_ENTITY,
    HTTPStatus.TOO_MANY_REQUESTS,
    HTTPStatus.SERVICE_UNAVAILABLE,
)
# Routes that take a JSON body can also refuse it.
WITH_BODY = (HTTPStatus.BAD_REQUEST, HTTPStatus.UNSUPPORTED_MEDIA_TYPE)


def declare(success: dict[int, OpenAPIResponse], *statuses: int) -> dict[int, OpenAPIResponse]:
    """The route's success response(s) plus the shared declarations of `statuses` and COMMON."""
    declared = dict(success)
    for status in sorted({int(s) for s in (*COMMON, *statuses)}):
        declared[status] = _ERRORS[status]
    return declared
