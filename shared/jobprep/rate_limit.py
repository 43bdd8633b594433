"""Per-user token bucket kept in PostgreSQL (the original app used Arcjet's tokenBucket).

Refill is continuous (capacity 12, 4 tokens per day by default). Taking a token is a
single upsert: concurrent requests serialize on the bucket row, and because it runs in
the caller's transaction a request that fails later gives its token back.
"""

from __future__ import annotations

import math

from sqlalchemy import Column, Connection, DateTime, Float, PrimaryKeyConstraint, String, Table, text

from jobprep.errors import RateLimited
from jobprep.job_infos.models import USER_ID_MAX
from jobprep.metadata import metadata

rate_limit_buckets = Table(
    "rate_limit_buckets",
    metadata,
    Column("user_id", String(USER_ID_MAX), nullable=False),
    Column("bucket", String(64), nullable=False),
    Column("tokens", Float, nullable=False),
    Column("refilled_at", DateTime(timezone=True), nullable=False),
    PrimaryKeyConstraint("user_id", "bucket"),
)

# GREATEST(...): a transaction that started earlier (older now()) than the last refill must
# not see negative elapsed time and drain the bucket.
_REFILLED = (
    "LEAST(CAST(:capacity AS double precision), b.tokens"
    " + GREATEST(0, EXTRACT(EPOCH FROM now() - b.refilled_at)) * :per_second)"
)
_TAKE = text(
    f"""
    INSERT INTO rate_limit_buckets AS b (user_id, bucket, tokens, refilled_at)
    VALUES (:user_id, :bucket, :capacity - 1, now())
    ON CONFLICT (user_id, bucket) DO UPDATE
        SET tokens = {_REFILLED} - 1, refilled_at = GREATEST(b.refilled_at, now())
        WHERE {_REFILLED} >= 1
    RETURNING tokens
    """
)
_PEEK = text(f"SELECT {_REFILLED} AS tokens FROM rate_limit_buckets AS b WHERE user_id = :user_id AND bucket = :bucket")


def take_token(conn: Connection, user_id: str, bucket: str, *, capacity: int, refill_per_day: float) -> None:
    params = {"user_id": user_id, "bucket": bucket, "capacity": capacity, "per_second": refill_per_day / 86_400}
    if conn.execute(_TAKE, params).first() is not None:
        return
    tokens = conn.execute(_PEEK, params).scalar_one()
    raise RateLimited(retry_after_seconds=max(1, math.ceil((1 - tokens) / params["per_second"])))
