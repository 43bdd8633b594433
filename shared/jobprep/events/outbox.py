"""The outbox table and its SQL: pending invalidation events, written by the very statement
that makes the change, so a committed change always has its event."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID, uuid4

from sqlalchemy import (
    CTE,
    Column,
    ColumnElement,
    Connection,
    DateTime,
    FromClause,
    Index,
    Integer,
    String,
    Table,
    Update,
    Uuid,
    any_,
    cast,
    func,
    literal,
    or_,
    select,
    text,
    update,
)
from sqlalchemy.dialects.postgresql import JSONB

from jobprep.binds import ERROR, EVENT_ID, OCCURRED_AT, SENT_EVENT_IDS
from jobprep.config import get_settings
from jobprep.db.metadata import metadata
from jobprep.events.model import InvalidationEvent

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

# Columns a change statement selects from its outbox CTE, so the caller can publish right away.
EVENT_COLUMNS = ("event_id", "event_source", "event_detail_type", "event_detail")


def event_params() -> dict[str, Any]:
    """The bind values every enqueue() needs: a fresh event id and the time of the change."""
    return {EVENT_ID.key: uuid4(), OCCURRED_AT.key: datetime.now(UTC).isoformat()}


def enqueue(
    rows: FromClause,
    *,
    source: str,
    detail_type: str,
    resource_id: ColumnElement[Any],
    user_id: ColumnElement[Any],
    tags: ColumnElement[Any],
    job_info_id: ColumnElement[Any] | None = None,
    name: str = "event",
    event_id: ColumnElement[Any] | None = None,
) -> CTE:
    """A data-modifying CTE writing one outbox row per row of `rows` (the changed rows: none,
    no event). Its detail is the DESIGN shape; the inline publisher gets the rest of the grace
    period before the relay considers the row (its "sent" mark is deferred, see receipts).
    `event_id` defaults to the statement's one :event_id; a statement writing several events
    passes a column of `rows` with a distinct id per row."""
    if event_id is None:
        event_id = EVENT_ID
    pairs: list[Any] = [
        "eventId",
        cast(event_id, String),
        "occurredAt",
        cast(OCCURRED_AT, String),
        "id",
        resource_id,
        "userId",
        user_id,
    ]
    if job_info_id is not None:
        pairs += ["jobInfoId", job_info_id]
    pairs += ["tags", tags]
    grace = timedelta(seconds=get_settings().outbox_inline_grace_seconds)
    insert = outbox.insert().from_select(
        ["id", "source", "detail_type", "detail", "next_attempt_at"],
        select(
            event_id,
            literal(source, String),
            literal(detail_type, String),
            func.jsonb_build_object(*pairs, type_=JSONB),
            func.now() + literal(grace),
        ).select_from(rows),
    )
    return insert.returning(
        outbox.c.id.label("event_id"),
        outbox.c.source.label("event_source"),
        outbox.c.detail_type.label("event_detail_type"),
        outbox.c.detail.label("event_detail"),
    ).cte(name)


def event_from(row: Any) -> InvalidationEvent | None:
    """The event a change statement returned (EVENT_COLUMNS), if it made one."""
    if getattr(row, "event_id", None) is None:
        return None
    return InvalidationEvent(row.event_id, row.event_source, row.event_detail_type, row.event_detail)


def mark_sent_statement() -> Update:
    return (
        update(outbox)
        .where(outbox.c.id == any_(SENT_EVENT_IDS), outbox.c.sent_at.is_(None))
        .values(sent_at=func.now(), attempts=outbox.c.attempts + 1)
    )


_MARK_SENT = mark_sent_statement()
# Capped exponential backoff with jitter: 5 s, 10 s, 20 s ... 15 min, each scaled into [50%, 100%].
_BACKOFF_SECONDS = func.least(BACKOFF_MAX_SECONDS, BACKOFF_BASE_SECONDS * func.power(2, outbox.c.attempts)) * (
    0.5 + func.random() / 2
)
_MARK_FAILED = (
    update(outbox)
    .where(outbox.c.id == EVENT_ID, outbox.c.sent_at.is_(None))
    .values(
        attempts=outbox.c.attempts + 1,
        last_error=ERROR,
        next_attempt_at=func.now() + func.make_interval(0, 0, 0, 0, 0, 0, _BACKOFF_SECONDS),
    )
)


def record_outcome(conn: Connection, sent: Sequence[UUID], failed: Mapping[UUID, str]) -> None:
    """Mark sent rows; push failed rows back with backoff."""
    if sent:
        conn.execute(_MARK_SENT, {SENT_EVENT_IDS.key: list(sent)})
    if failed:
        conn.execute(_MARK_FAILED, [{EVENT_ID.key: event_id, ERROR.key: error} for event_id, error in failed.items()])


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


def purge_sent(conn: Connection, older_than: timedelta) -> int:
    return conn.execute(outbox.delete().where(outbox.c.sent_at < func.now() - older_than)).rowcount


def pending_stats(conn: Connection) -> tuple[int, float]:
    """Events the relay still owes, and the age in seconds of the oldest (0 when none): failed ones
    waiting out their backoff, and any past the inline publisher's grace period. A row within it
    is not counted: most likely it was published and its deferred sent mark is on its way."""
    grace = timedelta(seconds=get_settings().outbox_inline_grace_seconds)
    count, oldest = conn.execute(
        select(
            func.count(),
            func.coalesce(func.extract("epoch", func.now() - func.min(outbox.c.created_at)), 0),
        ).where(outbox.c.sent_at.is_(None), or_(outbox.c.attempts > 0, outbox.c.created_at < func.now() - grace))
    ).one()
    return int(count), float(oldest)
