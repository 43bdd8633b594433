"""Who is calling: the user id (the identity provider's `sub`) and the plan features the
token carries. Pure functions of the verified claims; no HTTP here."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from jobprep.errors import Unauthenticated

USER_ID_MAX = 255  # the user_id columns' length


@dataclass(frozen=True)
class Caller:
    user_id: str
    features: frozenset[str]


def is_valid_user_id(value: object) -> bool:
    return isinstance(value, str) and 0 < len(value) <= USER_ID_MAX and value.isprintable()


def plan_features(raw: Any) -> frozenset[str]:
    """Plan features from a claim: "u:a,u:b" (Clerk), a JSON list, or HTTP API's "[a b]" rendering."""
    items = raw if isinstance(raw, list) else re.split(r"[\s,\[\]]+", str(raw or ""))
    return frozenset(str(i).split(":", 1)[-1] for i in items if i)


def caller_from_claims(claims: Mapping[str, Any], features_claim: str) -> Caller:
    """The JWT authorizer has verified the token; anything without a usable subject is no identity."""
    user_id = claims.get("sub")
    if not is_valid_user_id(user_id):
        raise Unauthenticated()
    assert isinstance(user_id, str)
    return Caller(user_id, plan_features(claims.get(features_claim)))
