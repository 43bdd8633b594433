"""Idempotency-Key for creates, enforced inside the creating transaction.

The key row is inserted first. A concurrent retry's INSERT ... ON CONFLICT DO NOTHING
blocks on the unique index until the first transaction ends: if that committed, the retry
reads the stored response; if it rolled back, the retry owns the key and creates. So a key
yields exactly one resource, and the stored response becomes visible atomically with it.
"""

from __future__ import annotations

import hashlib
import json
from datetime import timedelta
from typing import Any

from sqlalchemy import (
    Column,
    Connection,
    DateTime,
    Integer,
    PrimaryKeyConstraint,
    String,
    Table,
    func,
    select,
)
from sqlalchemy.dialects.postgresql import JSONB, insert

from jobprep.errors import IdempotencyKeyReused
from jobprep.job_infos.models import USER_ID_MAX
from jobprep.metadata import metadata

KEY_MAX = 255

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


def claim(conn: Connection, user_id: str, key: str, operation: str, request_hash: str) -> dict[str, Any] | None:
    """Own the key (returns None) or return the response stored by the request that owns it."""
    claimed = conn.execute(
        insert(idempotency_keys)
        .values(user_id=user_id, key=key, operation=operation, request_hash=request_hash)
        .on_conflict_do_nothing(index_elements=["user_id", "key"])
        .returning(idempotency_keys.c.key)
    ).first()
    if claimed is not None:
        return None
    stored = conn.execute(
        select(idempotency_keys.c.operation, idempotency_keys.c.request_hash, idempotency_keys.c.response).where(
            idempotency_keys.c.user_id == user_id, idempotency_keys.c.key == key
        )
    ).one()
    if stored.operation != operation or stored.request_hash != request_hash:
        raise IdempotencyKeyReused()
    response: dict[str, Any] = stored.response
    return response


def store_response(conn: Connection, user_id: str, key: str, status_code: int, response: dict[str, Any]) -> None:
    conn.execute(
        idempotency_keys.update()
        .where(idempotency_keys.c.user_id == user_id, idempotency_keys.c.key == key)
        .values(status_code=status_code, response=response)
    )


def purge_expired(conn: Connection, older_than: timedelta) -> int:
    return conn.execute(
        idempotency_keys.delete().where(idempotency_keys.c.created_at < func.now() - older_than)
    ).rowcount
