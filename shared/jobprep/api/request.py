"""What handlers read from a request: the caller, path ids, conditional and idempotency headers."""

from __future__ import annotations

import re
from typing import Annotated
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


def parse_if_match(header: str | None) -> frozenset[int] | None:
    """None means "no precondition". Our ETags are strong ("<version>"); weak or foreign tags never match."""
    if header is None or header.strip() == "*":
        return None
    return frozenset(int(v) for v in re.findall(r'(?:^|,)\s*"(\d{1,9})"', header))
