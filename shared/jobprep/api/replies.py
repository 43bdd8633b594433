"""Replies: the Response a handler returns, with its status, JSON body and headers (ETag, Location)."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from http import HTTPStatus
from typing import Any

from aws_lambda_powertools.event_handler import Response

from jobprep.api.cursor import encode_cursor
from jobprep.api.errors import json_response
from jobprep.api.request import if_none_match_hits, if_none_match_names
from jobprep.keyset import Position
from jobprep.schemas import ApiOutput, Page
from jobprep.versioned import Created, Versioned


def etag(version: int) -> str:
    return f'"{version}"'


def resource(result: Versioned[Any], if_none_match: str | None = None) -> Response[Any]:
    """200 with the resource and its ETag; 304 with only the ETag when the client's copy is current."""
    if if_none_match_hits(if_none_match, result.version):
        return Response(status_code=HTTPStatus.NOT_MODIFIED, body=None, headers={"ETag": etag(result.version)})
    return json_response(HTTPStatus.OK, result.resource.to_json(), {"ETag": etag(result.version)})


def by_content(resource: ApiOutput, if_none_match: str | None = None) -> Response[Any]:
    """200 with the resource and, as its ETag, a hash of the very bytes sent: a strong validator that
    changes exactly when the body does (for a resource with no version of its own); 304 with only
    the ETag when the client's copy is current."""
    body = json.dumps(resource.to_json(), separators=(",", ":"), ensure_ascii=False)
    opaque = hashlib.sha256(body.encode()).hexdigest()[:32]
    headers = {"ETag": f'"{opaque}"'}
    if if_none_match_names(if_none_match, opaque):
        return Response(status_code=HTTPStatus.NOT_MODIFIED, body=None, headers=headers)
    return json_response(HTTPStatus.OK, body, headers)


def created(result: Created[Any], location: str) -> Response[Any]:
    headers = {"Location": location, "ETag": etag(result.version)}
    if result.replayed:
        headers["Idempotent-Replayed"] = "true"
    return json_response(HTTPStatus.CREATED, result.resource.to_json(), headers)


def page(items: Sequence[ApiOutput], next_page: Position | None) -> Response[Any]:
    body = {"items": [i.to_json() for i in items], "nextCursor": encode_cursor(next_page)}
    return json_response(HTTPStatus.OK, body)


def page_by_content(
    model: type[Page], items: Sequence[ApiOutput], next_page: Position | None, if_none_match: str | None = None
) -> Response[Any]:
    """A page as `model`, with a hash of the body as its ETag (a page has no version of its own);
    304 when If-None-Match names it."""
    return by_content(model.model_validate({"items": items, "next_cursor": encode_cursor(next_page)}), if_none_match)


def no_content() -> Response[Any]:
    return Response(status_code=HTTPStatus.NO_CONTENT, body=None)
