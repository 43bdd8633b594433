"""Per-user token bucket kept in PostgreSQL (the original app used Arcjet's tokenBucket).

Refill is continuous (capacity 12, 4 tokens per day by default). Taking a token is an upsert
CTE inside the creating statement: concurrent requests serialize on the bucket row, and a
statement that fails later (or does not get past its checks) takes no token.
"""

from __future__ import annotations

import math
from typing import Any

from sqlalchemy import (
    CTE,
    Column,
    ColumnElement,
    DateTime,
    Float,
    PrimaryKeyConstraint,
    Select,
    String,
    Table,
    func,
    select,
)
from sqlalchemy.dialects.postgresql import insert

from jobprep.binds import BUCKET, CAPACITY, OWNER, PER_SECOND
from jobprep.db.metadata import metadata
from jobprep.identity import USER_ID_MAX

rate_limit_buckets = Table(
    "rate_limit_buckets",
    metadata,
    Column("user_id", String(USER_ID_MAX), nullable=False),
    Column("bucket", String(64), nullable=False),
    Column("tokens", Float, nullable=False),
    Column("refilled_at", DateTime(timezone=True), nullable=False),
    PrimaryKeyConstraint("user_id", "bucket"),
)

_b = rate_limit_buckets.c

# GREATEST(0, ...): a transaction that started earlier (older now()) than the last refill must
# not see negative elapsed time and drain the bucket.
_REFILLED = func.least(
    CAPACITY, _b.tokens + func.greatest(0, func.extract("epoch", func.now() - _b.refilled_at)) * PER_SECOND
)


def params(user_id: str, bucket: str, *, capacity: int, refill_per_day: float) -> dict[str, Any]:
    return {OWNER.key: user_id, BUCKET.key: bucket, CAPACITY.key: capacity, PER_SECOND.key: refill_per_day / 86_400}


def take(gate: Select[Any]) -> CTE:
    """Takes one token for each row `gate` yields (one, or none when an earlier check failed);
    returns the row only if a token was there to take."""
    return (
        insert(rate_limit_buckets)
        .from_select(
            ["user_id", "bucket", "tokens", "refilled_at"],
            gate.with_only_columns(OWNER, BUCKET, CAPACITY - 1, func.now(), maintain_column_froms=True),
        )
        .on_conflict_do_update(
            index_elements=[_b.user_id, _b.bucket],
            set_={"tokens": _REFILLED - 1, "refilled_at": func.greatest(_b.refilled_at, func.now())},
            where=_REFILLED >= 1,
        )
        .returning(_b.tokens)
        .cte("token")
    )


def tokens_left() -> ColumnElement[Any]:
    """The bucket as this statement found it (NULL: never used), for Retry-After."""
    return select(_REFILLED).where(_b.user_id == OWNER, _b.bucket == BUCKET).scalar_subquery()


def retry_after_seconds(tokens: float, refill_per_day: float) -> int:
    return max(1, math.ceil((1 - tokens) / (refill_per_day / 86_400)))
