"""The outbox table and its SQL: pending invalidation events, written in the change's transaction."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from uuid import UUID

from sqlalchemy import (
    Column,
    Connection,
    DateTime,
    Index,
    Integer,
    String,
    Table,
    Uuid,
    bindparam,
    func,
    select,
    text,
    update,
)
from sqlalchemy.dialects.postgresql import JSONB

from jobprep.metadata import metadata

# The inline publisher gets this head start before the relay considers a row, so the two rarely race.
INLINE_GRACE_SECONDS = 30
BACKOFF_BASE_SECONDS = 5
BACKOFF_MAX_SECONDS = 900

outbox = Table(
    "outbox",
    metadata,
    Column("id", Uuid, primary_key=True),  # = detail.eventId
    Column("source", String(64), nullable=False),
    Column("detail_type", String(64), nullable=False),
    Column("detail", JSONB, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("next_attempt_at", DateTime(timezone=True), nullable=False),
    Column("attempts", Integer, nullable=False, server_default=text("0")),
    Column("last_error", String(1000), nullable=True),
    Column("sent_at", DateTime(timezone=True), nullable=True),
    Index("ix_outbox_pending", "next_attempt_at", postgresql_where=text("sent_at IS NULL")),
    Index("ix_outbox_sent_at", "sent_at", postgresql_where=text("sent_at IS NOT NULL")),
)


@dataclass(frozen=True)
class InvalidationEvent:
    event_id: UUID
    source: str
    detail_type: str
    detail: dict[str, Any]


_ENQUEUE = outbox.insert().values(next_attempt_at=func.now() + timedelta(seconds=INLINE_GRACE_SECONDS))


def enqueue(conn: Connection, events: Sequence[InvalidationEvent]) -> None:
    if not events:
        return
    conn.execute(
        _ENQUEUE,
        [{"id": e.event_id, "source": e.source, "detail_type": e.detail_type, "detail": e.detail} for e in events],
    )


def claim_due(conn: Connection, limit: int) -> list[InvalidationEvent]:
    """Lock up to `limit` due rows; rows locked by another relay run are skipped, not waited for."""
    rows = conn.execute(
        select(outbox.c.id, outbox.c.source, outbox.c.detail_type, outbox.c.detail)
        .where(outbox.c.sent_at.is_(None), outbox.c.next_attempt_at <= func.now())
        .order_by(outbox.c.next_attempt_at)
        .limit(limit)
        .with_for_update(skip_locked=True)
    ).all()
    return [InvalidationEvent(r.id, r.source, r.detail_type, r.detail) for r in rows]


_MARK_SENT = (
    update(outbox)
    .where(outbox.c.id.in_(bindparam("event_ids", expanding=True)), outbox.c.sent_at.is_(None))
    .values(sent_at=func.now(), attempts=outbox.c.attempts + 1)
)
# Capped exponential backoff with jitter: 5 s, 10 s, 20 s ... 15 min, each scaled into [50%, 100%].
_BACKOFF_SECONDS = func.least(BACKOFF_MAX_SECONDS, BACKOFF_BASE_SECONDS * func.power(2, outbox.c.attempts)) * (
    0.5 + func.random() / 2
)
_MARK_FAILED = (
    update(outbox)
    .where(outbox.c.id == bindparam("event_id"), outbox.c.sent_at.is_(None))
    .values(
        attempts=outbox.c.attempts + 1,
        last_error=bindparam("error"),
        next_attempt_at=func.now() + func.make_interval(0, 0, 0, 0, 0, 0, _BACKOFF_SECONDS),
    )
)


def record_outcome(conn: Connection, sent: Sequence[UUID], failed: Mapping[UUID, str]) -> None:
    """Mark sent rows; push failed rows back with backoff."""
    if sent:
        conn.execute(_MARK_SENT, {"event_ids": list(sent)})
    if failed:
        conn.execute(_MARK_FAILED, [{"event_id": event_id, "error": error} for event_id, error in failed.items()])


def purge_sent(conn: Connection, older_than: timedelta) -> int:
    return conn.execute(outbox.delete().where(outbox.c.sent_at < func.now() - older_than)).rowcount


def pending_count(conn: Connection) -> int:
    return int(conn.execute(select(func.count()).select_from(outbox).where(outbox.c.sent_at.is_(None))).scalar_one())
