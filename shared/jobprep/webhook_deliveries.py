"""Webhook messages already acted on, by the sender's message id (Svix's `svix-id`).

Svix retries a message with the same id (and a fresh signature) for about a day, and a
captured request can be replayed within the signature's 5-minute tolerance: the id makes
every repeat a no-op. It is recorded by the very statement that acts on the message (an
``INSERT ... ON CONFLICT DO NOTHING`` CTE gating that statement's changes), so "acted on"
and "recorded" can never disagree; a concurrent first delivery of the same id waits on the
primary key and then counts as a repeat.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import CTE, Column, Connection, DateTime, String, Table, func, select
from sqlalchemy.dialects.postgresql import insert

from jobprep.binds import DELIVERY_ID, DELIVERY_TYPE, OLDER_THAN
from jobprep.db.metadata import metadata
from jobprep.db.run import run
from jobprep.prebuilt import Prebuilt, cte, seconds

DELIVERY_ID_MAX = 255  # Svix ids are "msg_" + a 27-character KSUID

webhook_deliveries = Table(
    "webhook_deliveries",
    metadata,
    Column("id", String(DELIVERY_ID_MAX), primary_key=True),
    Column("event_type", String(64), nullable=False),
    Column("received_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
)


def record() -> CTE:
    """Records :delivery_id (with :delivery_type); yields one row for a new delivery, none for
    a repeat. Gate every change of the statement on ``exists(select(record_cte.c.id))``."""
    return cte(
        insert(webhook_deliveries)
        .from_select(["id", "event_type"], select(DELIVERY_ID.label("id"), DELIVERY_TYPE.label("event_type")))
        .on_conflict_do_nothing(index_elements=[webhook_deliveries.c.id])
        .returning(webhook_deliveries.c.id),
        "recorded",
        "the webhook delivery's id, recorded: one row the first time, none for a repeat",
    )


PURGE_EXPIRED = Prebuilt(
    "purge_webhook_deliveries",
    "relay",
    "housekeeping: webhook delivery ids kept longer than the sender retries a message.",
    webhook_deliveries.delete().where(webhook_deliveries.c.received_at < func.now() - seconds(OLDER_THAN)),
)


def purge_expired(conn: Connection, older_than: timedelta) -> int:
    return run(conn, PURGE_EXPIRED.driver_sql, {OLDER_THAN.key: int(older_than.total_seconds())}).rowcount
