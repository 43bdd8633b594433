"""Create-once with an Idempotency-Key, inside the creating statement, for every resource.

The feature's INSERT is gated on ``NOT EXISTS (prior)``, where ``prior`` is the key's record;
a ``stored`` CTE writes the record (the created row as JSON) from the inserted row. A retry
finds the record and gets the first resource back, creating nothing. Two concurrent first
requests both pass the gate, but the key's primary key lets only one commit: the other's
whole statement fails with a unique violation and is run again, now finding the record.
One key, one resource, one event, and still one round trip in the common case.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping
from datetime import timedelta
from typing import Any, TypeVar

from sqlalchemy import (
    CTE,
    Column,
    ColumnElement,
    Connection,
    DateTime,
    Executable,
    Integer,
    PrimaryKeyConstraint,
    Row,
    String,
    Table,
    exists,
    func,
    literal,
    select,
)
from sqlalchemy import exc as sa_exc
from sqlalchemy.dialects.postgresql import JSONB

from jobprep import unit_of_work
from jobprep.binds import IDEMPOTENCY_KEY, OPERATION, OWNER, REQUEST_HASH
from jobprep.db.metadata import metadata
from jobprep.errors import IdempotencyKeyReused
from jobprep.identity import USER_ID_MAX

KEY_MAX = 255
PRIOR_COLUMNS = ("prior_operation", "prior_request_hash", "prior_response")

idempotency_keys = Table(
    "idempotency_keys",
    metadata,
    Column("user_id", String(USER_ID_MAX), nullable=False),
    Column("key", String(KEY_MAX), nullable=False),
    Column("operation", String(64), nullable=False),
    Column("request_hash", String(64), nullable=False),
    Column("status_code", Integer, nullable=True),
    Column("response", JSONB, nullable=True),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    PrimaryKeyConstraint("user_id", "key"),
)


def request_fingerprint(operation: str, payload: Any) -> str:
    canonical = json.dumps([operation, payload], sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


def params(user_id: str, key: str, operation: str, payload: Any) -> dict[str, Any]:
    return {
        OWNER.key: user_id,
        IDEMPOTENCY_KEY.key: key,
        OPERATION.key: operation,
        REQUEST_HASH.key: request_fingerprint(operation, payload),
    }


def prior() -> CTE:
    return (
        select(
            idempotency_keys.c.operation.label("prior_operation"),
            idempotency_keys.c.request_hash.label("prior_request_hash"),
            idempotency_keys.c.response.label("prior_response"),
        )
        .where(
            idempotency_keys.c.user_id == OWNER,
            idempotency_keys.c.key == IDEMPOTENCY_KEY,
        )
        .cte("prior")
    )


def no_prior(prior_cte: CTE) -> ColumnElement[bool]:
    """The gate for the feature's first CTE: nothing is created (or spent) on a replay."""
    return ~exists(select(prior_cte.c.prior_operation))


def stored(created: CTE) -> CTE:
    """Writes the key's record from the created row; add it to the statement with add_cte()."""
    return (
        idempotency_keys.insert()
        .from_select(
            ["user_id", "key", "operation", "request_hash", "status_code", "response"],
            select(
                OWNER,
                IDEMPOTENCY_KEY,
                OPERATION,
                REQUEST_HASH,
                literal(201),
                func.to_jsonb(created.table_valued()),
            ),
        )
        .cte("stored")
    )


def replay_of(row: Row[Any]) -> dict[str, Any] | None:
    """The first request's created row (as stored JSON) when this row is a replay of it."""
    if row.prior_operation is None:
        return None
    if row.prior_operation != row.operation_asked or row.prior_request_hash != row.request_hash_asked:
        raise IdempotencyKeyReused()
    record: dict[str, Any] = row.prior_response
    return record


def asked_columns() -> list[ColumnElement[Any]]:
    """Echo the operation and fingerprint asked for, to compare with the prior record's."""
    return [
        OPERATION.label("operation_asked"),
        REQUEST_HASH.label("request_hash_asked"),
    ]


R = TypeVar("R")


def run(
    statement: Executable,
    params: Mapping[str, Any],
    once: Mapping[str, Any] | None,
    answer: Callable[[Row[Any], dict[str, Any] | None], R],
) -> R:
    """Run a creating statement (it answers exactly one row) with its event, and hand `answer`
    the row and, when it replays `once`'s key (from params()), the first request's stored row.

    A concurrent first request that committed the same key (or a parent row that went away)
    after this statement's snapshot fails it with a unique or foreign-key violation: it is run
    once more, and then sees what happened."""

    def attempt() -> R:
        row = unit_of_work.change(statement, {**params, **(once or {})})
        assert row is not None  # a creating statement always answers one row
        return answer(row, replay_of(row) if once is not None else None)

    try:
        return attempt()
    except sa_exc.IntegrityError:
        return attempt()


def purge_expired(conn: Connection, older_than: timedelta) -> int:
    return conn.execute(
        idempotency_keys.delete().where(idempotency_keys.c.created_at < func.now() - older_than)
    ).rowcount
