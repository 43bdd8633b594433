"""Create-once with an Idempotency-Key, inside the creating statement, for every resource.

A feature gives CreateOnce its INSERT (gated on ``first_time``); CreateOnce owns the rest:

    WITH prior AS (the key's record, if this user used the key before),
         <the feature's CTEs>, created AS (its INSERT ... RETURNING the record's columns),
         event AS (the outbox row for it),
         stored AS (the key's record: the created row as JSON; only when there is a key)
    SELECT the feature's checks, created.*, event.*, prior.*
    FROM one LEFT JOIN created LEFT JOIN event LEFT JOIN prior

Without a key, prior is empty and nothing is stored: the same statement either way. A retry
finds the record and gets the first resource back, creating (and spending) nothing. Two
concurrent first requests both pass the gate, but the key's primary key lets only one commit:
the other's whole statement fails with a unique violation and is run again, now a replay.
One key, one resource, one event, and one round trip in the common case.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Generic, TypeVar

from pydantic import TypeAdapter
from sqlalchemy import (
    CTE,
    Column,
    ColumnElement,
    Connection,
    DateTime,
    Insert,
    Integer,
    Label,
    PrimaryKeyConstraint,
    Row,
    String,
    Table,
    exists,
    func,
    select,
    true,
)
from sqlalchemy import exc as sa_exc
from sqlalchemy.dialects.postgresql import JSONB

from jobprep import unit_of_work
from jobprep.binds import IDEMPOTENCY_KEY, OLDER_THAN, OWNER, REQUEST_HASH
from jobprep.db.metadata import metadata
from jobprep.db.run import run
from jobprep.errors import IdempotencyKeyReused
from jobprep.events.outbox import EVENT_COLUMNS
from jobprep.identity import USER_ID_MAX
from jobprep.prebuilt import Prebuilt, constant, cte, seconds
from jobprep.records import Record

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


@dataclass(frozen=True)
class Creation:
    """A feature's part of a create: its INSERT, RETURNING the record's columns, and the columns
    that tell why it inserted nothing (checked by the feature's `refuse`)."""

    insert: Insert
    checks: Sequence[Label[Any]] = ()


R = TypeVar("R", bound=Record)


def _no_refusals(row: Row[Any]) -> None:
    return None


class CreateOnce(Generic[R]):
    """One resource's create: `insert` builds the feature's Creation from the gate its first
    CTE must honour; `event` writes the outbox row for the created row; `refuse` raises the
    feature's refusal (404, 403, 429...) for a row that created nothing."""

    def __init__(
        self,
        operation: str,
        about: str,
        record: type[R],
        insert: Callable[[ColumnElement[bool]], Creation],
        event: Callable[[CTE], CTE],
        refuse: Callable[[Row[Any]], None] = _no_refusals,
    ) -> None:
        self.operation, self.record, self.refuse = operation, record, refuse
        self._stored = TypeAdapter(record)  # a replay's stored JSON back into the record
        prior = cte(
            select(
                idempotency_keys.c.operation.label("prior_operation"),
                idempotency_keys.c.request_hash.label("prior_request_hash"),
                idempotency_keys.c.response.label("prior_response"),
            ).where(idempotency_keys.c.user_id == OWNER, idempotency_keys.c.key == IDEMPOTENCY_KEY),
            "prior",
            "the Idempotency-Key's record, if this user sent the key before (no key: none)",
        )
        creation = insert(~exists(select(prior.c.prior_operation)))
        created = cte(
            creation.insert.returning(*(creation.insert.table.c[c] for c in record.columns())),
            "created",
            "the new row, inserted only when no earlier request used the key and every check passed",
        )
        ev = event(created)
        stored = cte(
            idempotency_keys.insert().from_select(
                ["user_id", "key", "operation", "request_hash", "status_code", "response"],
                select(
                    OWNER.label("user_id"),
                    IDEMPOTENCY_KEY.label("key"),
                    constant(operation).label("operation"),
                    REQUEST_HASH.label("request_hash"),
                    constant(201).label("status_code"),
                    func.to_jsonb(created.table_valued()).label("response"),
                ).where(IDEMPOTENCY_KEY.is_not(None)),
            ),
            "stored",
            "the key's record: the created row, for a retry to get back",
        )
        one = cte(select(constant(1).label("one")), "one", "exactly one answer row, whatever happened")
        statement = (
            select(*creation.checks, *created.c, *(ev.c[c] for c in EVENT_COLUMNS), *prior.c)
            .select_from(one.outerjoin(created, true()).outerjoin(ev, true()).outerjoin(prior, true()))
            .add_cte(stored)
        )
        self.prebuilt = unit_of_work.change_statement(operation, about, statement)

    def create(self, params: Mapping[str, Any], key: str | None, payload: Any) -> tuple[R, bool]:
        """Run the create (`params` include the caller as binds.OWNER) with its event: the record
        and whether it replays the first request with this key. `payload` is what the key
        must be sent with again. Raises the feature's refusals, or IdempotencyKeyReused.

        A concurrent first request that committed the same key (or a parent row that went away)
        after this statement's snapshot fails it with a unique or foreign-key violation: it is
        run once more, and then sees what happened."""
        fingerprint = None if key is None else request_fingerprint(self.operation, payload)
        sent = {**params, IDEMPOTENCY_KEY.key: key, REQUEST_HASH.key: fingerprint}
        try:
            return self._attempt(sent, fingerprint)
        except sa_exc.IntegrityError:
            return self._attempt(sent, fingerprint)

    def _attempt(self, params: Mapping[str, Any], fingerprint: str | None) -> tuple[R, bool]:
        row = unit_of_work.change(self.prebuilt, params)
        assert row is not None  # the statement always answers one row
        if row.prior_operation is not None:
            if (row.prior_operation, row.prior_request_hash) != (self.operation, fingerprint):
                raise IdempotencyKeyReused()
            return self._stored.validate_python(row.prior_response), True
        self.refuse(row)
        return self.record.of(row), False


PURGE_EXPIRED = Prebuilt(
    "purge_idempotency_keys",
    "relay",
    "housekeeping: Idempotency-Keys older than their time to live.",
    idempotency_keys.delete().where(idempotency_keys.c.created_at < func.now() - seconds(OLDER_THAN)),
)


def purge_expired(conn: Connection, older_than: timedelta) -> int:
    return run(conn, PURGE_EXPIRED.driver_sql, {OLDER_THAN.key: int(older_than.total_seconds())}).rowcount
