"""What handlers read from a request: the caller, path ids, conditional and idempotency headers;
and the check that a request body is UTF-8 JSON before any route sees it."""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Mapping
from email.message import Message
from functools import lru_cache
from http import HTTPStatus
from types import MappingProxyType
from typing import Annotated, Any
from uuid import UUID

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver
from aws_lambda_powertools.event_handler.openapi.params import Header

from jobprep.config import get_settings
from jobprep.create_once import KEY_MAX
from jobprep.errors import NotFound
from jobprep.identity import Caller, caller_from_claims


def caller(app: APIGatewayHttpResolver) -> Caller:
    """The JWT authorizer has verified the token; its claims arrive in the request context."""
    claims = app.current_event.request_context.authorizer.jwt_claim
    return caller_from_claims(claims, get_settings().plan_features_claim)


def path_id(raw: str) -> UUID:
    """Path ids: anything that is not a UUID cannot name a resource, so it is a plain 404."""
    try:
        return UUID(raw)
    except ValueError as exc:
        raise NotFound() from exc


# Printable ASCII, as the IETF Idempotency-Key draft's sf-string; a NUL could not even be stored.
IdempotencyKey = Annotated[
    str | None, Header(alias="Idempotency-Key", min_length=1, max_length=KEY_MAX, pattern=r"^[\x20-\x7e]+$")
]
IfMatch = Annotated[str | None, Header(alias="If-Match", max_length=1024)]
IfNoneMatch = Annotated[str | None, Header(alias="If-None-Match", max_length=1024)]


def parse_if_match(header: str | None) -> frozenset[int] | None:
    """None means "no precondition". Our ETags are strong ("<version>"); weak or foreign tags never match."""
    if header is None or header.strip() == "*":
        return None
    return frozenset(int(v) for v in re.findall(r'(?:^|,)\s*"(\d{1,9})"', header))


def if_none_match_hits(header: str | None, version: int) -> bool:
    """If-None-Match uses the weak comparison (RFC 9110 13.1.2): W/"3" matches our "3"; "*" matches
    any current representation."""
    if header is None:
        return False
    if header.strip() == "*":
        return True
    return str(version) in re.findall(r'(?:^|,)\s*(?:W/)?"(\d{1,9})"', header)


_ENTITY_TAGS = re.compile(r'(?:^|,)\s*(?:W/)?"([^"]*)"')


def if_none_match_names(header: str | None, opaque_tag: str) -> bool:
    """If-None-Match against an opaque entity tag (the quoted text without its quotes), with the
    weak comparison as above; "*" matches, since the resource always has a representation."""
    if header is None:
        return False
    if header.strip() == "*":
        return True
    return opaque_tag in _ENTITY_TAGS.findall(header)


_BODY_METHODS = frozenset({"POST", "PATCH", "PUT"})


@lru_cache(maxsize=64)  # a client sends the same few Content-Type values again and again
def _media_type(content_type: str) -> tuple[str, Mapping[str, str]]:
    # The stdlib's RFC 2045 parser: lower-cased type, parameters with quoting handled.
    message = Message()
    message["content-type"] = content_type
    params = {k.lower(): v for k, v in message.get_params(failobj=[])[1:]}
    return message.get_content_type(), MappingProxyType(params)


def _carries_a_body(event: dict[str, Any]) -> bool:
    # Only methods that carry a body: one on GET or DELETE has no meaning (RFC 9110), ignored.
    method = str(((event.get("requestContext") or {}).get("http") or {}).get("method", "")).upper()
    return bool(event.get("body")) and method in _BODY_METHODS


def _content_type_header(headers: dict[str, Any]) -> str:
    return next((k for k in headers if str(k).lower() == "content-type"), "content-type")


_JSON_WHITESPACE = " \t\n\r"  # RFC 8259's insignificant whitespace


def body_problem(event: dict[str, Any]) -> HTTPStatus | None:
    """415 for a body that is not declared as UTF-8 JSON, 400 for one that cannot be decoded or
    is a JSON array.

    Runs before routing and Powertools' validation, which would otherwise parse form and
    multipart bodies as if this API accepted them. Only POST, PATCH and PUT bodies are checked."""
    if not _carries_a_body(event):
        return None
    headers: dict[str, Any] = event.get("headers") or {}
    media_type, params = _media_type(str(headers.get(_content_type_header(headers), "")))
    # email.message answers text/plain for a missing or unparsable header: not JSON either way.
    if media_type != "application/json" or params.get("charset", "utf-8").lower() not in ("utf-8", "utf8"):
        return HTTPStatus.UNSUPPORTED_MEDIA_TYPE
    text: str = event["body"]
    if event.get("isBase64Encoded"):
        try:
            text = base64.b64decode(text, validate=True).decode("utf-8")
        except (binascii.Error, ValueError):  # UnicodeDecodeError is a ValueError
            return HTTPStatus.BAD_REQUEST
    # Powertools hands a body parameter that is not a sequence the first element of a JSON array
    # (`[{...}]` would pass as `{...}`, `[null]` as no body); no route takes an array.
    if text.lstrip(_JSON_WHITESPACE).startswith("["):
        return HTTPStatus.BAD_REQUEST
    return None


def plain_json_content_type(event: dict[str, Any]) -> None:
    """Rewrite the Content-Type of a body body_problem() accepted as plain `application/json`:
    media types are case-insensitive and may carry a charset, Powertools' own check is neither."""
    headers: dict[str, Any] | None = event.get("headers")
    if headers and _carries_a_body(event):
        headers[_content_type_header(headers)] = "application/json"
