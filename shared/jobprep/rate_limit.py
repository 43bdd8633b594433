"""Per-user token bucket kept in PostgreSQL (the original app used Arcjet's tokenBucket).

Refill is continuous (capacity 12, 4 tokens per day by default). Taking a token is an upsert
CTE inside the creating statement: concurrent requests serialize on the bucket row, and a
statement that fails later (or does not get past its checks) takes no token.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    CTE,
    Column,
    ColumnElement,
    DateTime,
    Float,
    Integer,
    PrimaryKeyConstraint,
    Select,
    String,
    Table,
    case,
    cast,
    extract,
    func,
    null,
    select,
)
from sqlalchemy.dialects.postgresql import insert

from jobprep.binds import BUCKET, CAPACITY, OWNER, PER_SECOND
from jobprep.config import get_settings
from jobprep.db.metadata import metadata
from jobprep.identity import USER_ID_MAX
from jobprep.prebuilt import constant, cte, seconds

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
    CAPACITY, _b.tokens + func.greatest(constant(0), extract("epoch", func.now() - _b.refilled_at)) * PER_SECOND
)


# The bucket POST /job-infos/{jobInfoId}/interviews takes a token from (GET /me reports it).
INTERVIEWS_BUCKET = "create_interview"


def params(user_id: str, bucket: str, *, capacity: int, refill_per_day: float) -> dict[str, Any]:
    return {OWNER.key: user_id, BUCKET.key: bucket, CAPACITY.key: capacity, PER_SECOND.key: refill_per_day / 86_400}


def interview_params(user_id: str) -> dict[str, Any]:
    """The caller's interview bucket, sized by the settings (RATE_LIMIT_CAPACITY, RATE_LIMIT_REFILL_PER_DAY)."""
    settings = get_settings()
    return params(
        user_id,
        INTERVIEWS_BUCKET,
        capacity=settings.rate_limit_capacity,
        refill_per_day=settings.rate_limit_refill_per_day,
    )


def take(gate: Select[Any]) -> CTE:
    """Takes one token for each row `gate` yields (one, or none when an earlier check failed);
    yields the row only if a token was there to take."""
    return cte(
        insert(rate_limit_buckets)
        .from_select(
            ["user_id", "bucket", "tokens", "refilled_at"],
            gate.with_only_columns(
                OWNER.label("user_id"),
                BUCKET.label("bucket"),
                (CAPACITY - constant(1)).label("tokens"),
                func.now().label("refilled_at"),
                maintain_column_froms=True,
            ),
        )
        .on_conflict_do_update(
            index_elements=[_b.user_id, _b.bucket],
            set_={"tokens": _REFILLED - constant(1), "refilled_at": func.greatest(_b.refilled_at, func.now())},
            where=constant(1) <= _REFILLED,
        )
        .returning(_b.tokens),
        "token",
        "one rate-limit token taken from the caller's bucket (created full), only if one is left",
    )


def retry_after() -> ColumnElement[int]:
    """Whole seconds until the bucket, as this statement found it, holds a token again (at least 1)."""
    tokens = select(_REFILLED.label("tokens")).where(_b.user_id == OWNER, _b.bucket == BUCKET).scalar_subquery()
    wait = func.ceil((constant(1) - func.coalesce(tokens, constant(0))) / PER_SECOND)
    return cast(func.greatest(constant(1), wait), Integer)


def report() -> tuple[ColumnElement[int], ColumnElement[Any]]:
    """For a statement that LEFT JOINs the caller's bucket row (NULLs: never used, so full): the
    whole tokens available now, and when the next one arrives (NULL when full), rounded up to the
    second. That time comes from the stored row, not from now(): both stay the same until a token
    arrives, so a reader's answer (and its ETag) does not change in between."""
    whole = func.floor(func.coalesce(_REFILLED, CAPACITY))
    due = _b.refilled_at + seconds((whole + constant(1) - _b.tokens) / PER_SECOND)
    next_at = case(
        (whole >= CAPACITY, null()),
        else_=func.to_timestamp(func.ceil(extract("epoch", due)), type_=DateTime(timezone=True)),
    )
    return cast(whole, Integer), next_at
