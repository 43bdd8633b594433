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
    and_,
    any_,
    cast,
    extract,
    func,
    or_,
    select,
    text,
    update,
)
from sqlalchemy.dialects.postgresql import JSONB

from jobprep.binds import (
    BATCH_SIZE,
    ERROR,
    EVENT_ID,
    OCCURRED_AT,
    OLDER_THAN,
    OUTBOX_GRACE,
    RETRY_EARLY,
    SENT_EVENT_IDS,
)
from jobprep.config import get_settings
from jobprep.db.metadata import metadata
from jobprep.db.run import run, run_many
from jobprep.events.model import InvalidationEvent
from jobprep.prebuilt import Prebuilt, constant, cte, seconds

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
    """The bind values every enqueue() needs: a fresh event id, the time of the change, and the
    inline publisher's head start before the relay considers the row."""
    return {
        EVENT_ID.key: uuid4(),
        OCCURRED_AT.key: datetime.now(UTC).isoformat(),
        OUTBOX_GRACE.key: get_settings().outbox_inline_grace_seconds,
    }


def enqueue(
    rows: FromClause,
    *,
    source: str,
    detail_type: str,
    resource_id: ColumnElement[Any],
    user_id: ColumnElement[Any],
    tags: ColumnElement[Any],
    job_info_id: ColumnElement[Any] | None = None,
    event_id: ColumnElement[Any] | None = None,
) -> CTE:
    """A data-modifying CTE writing one outbox row per row of `rows` (the changed rows: none,
    no event). Its detail is the DESIGN shape; the inline publisher gets the grace period
    before the relay considers the row (its "sent" mark is deferred, see receipts).
    `event_id` defaults to the statement's one :event_id; a statement writing several events
    passes a column of `rows` with a distinct id per row."""
    if event_id is None:
        event_id = EVENT_ID
    pairs: list[Any] = [
        constant("eventId"),
        cast(event_id, String),
        constant("occurredAt"),
        OCCURRED_AT,
        constant("id"),
        resource_id,
        constant("userId"),
        user_id,
    ]
    if job_info_id is not None:
        pairs += [constant("jobInfoId"), job_info_id]
    pairs += [constant("tags"), tags]
    insert = outbox.insert().from_select(
        ["id", "source", "detail_type", "detail", "next_attempt_at"],
        select(
            event_id.label("id"),
            constant(source).label("source"),
            constant(detail_type).label("detail_type"),
            func.jsonb_build_object(*pairs, type_=JSONB).label("detail"),
            (func.now() + seconds(OUTBOX_GRACE)).label("next_attempt_at"),
        ).select_from(rows),
    )
    return cte(
        insert.returning(
            outbox.c.id.label("event_id"),
            outbox.c.source.label("event_source"),
            outbox.c.detail_type.label("event_detail_type"),
            outbox.c.detail.label("event_detail"),
        ),
        "event",
        "the invalidation event, in the outbox, written by the same statement as the change",
    )


def event_from(row: Any) -> InvalidationEvent | None:
    """The event a change statement returned (EVENT_COLUMNS), if it made one."""
    if getattr(row, "event_id", None) is None:
        return None
    return InvalidationEvent(row.event_id, row.event_source, row.event_detail_type, row.event_detail)


def _mark_sent() -> Update:
    # SKIP LOCKED: a row the relay holds while it publishes it is left to the relay, which marks
    # it when it is done; waiting for it would hold up the request for a PutEvents call.
    row = outbox.alias("receipt")
    takeable = (
        select(row.c.id)
        .where(row.c.id == any_(SENT_EVENT_IDS), row.c.sent_at.is_(None))
        .with_for_update(skip_locked=True)
    )
    return (
        update(outbox)
        .where(outbox.c.id.in_(takeable))
        .values(sent_at=func.now(), attempts=outbox.c.attempts + constant(1))
    )


MARK_SENT = Prebuilt(
    "mark_sent",
    "relay",
    "events EventBridge accepted, marked sent (rows another transaction holds are skipped, not waited for);"
    " also sent alone by a keep-warm ping. The sent_receipts CTE that change statements carry is this UPDATE.",
    _mark_sent(),
)
SENT_RECEIPTS = cte(
    _mark_sent(),
    "sent_receipts",
    "this container's earlier events EventBridge accepted, marked sent (mark_sent.sql): rows the relay"
    " holds are skipped, not waited for",
)

# Capped exponential backoff with jitter: 5 s, 10 s, 20 s ... 15 min, each scaled into [50%, 100%].
_BACKOFF_SECONDS = func.least(
    constant(BACKOFF_MAX_SECONDS), constant(BACKOFF_BASE_SECONDS) * func.power(constant(2), outbox.c.attempts)
) * (constant(0.5) + func.random() / constant(2))
MARK_FAILED = Prebuilt(
    "mark_failed",
    "relay",
    "an event EventBridge refused: its error, one more attempt, and the next after a capped, jittered backoff.",
    update(outbox)
    .where(outbox.c.id == EVENT_ID, outbox.c.sent_at.is_(None))
    .values(
        attempts=outbox.c.attempts + constant(1),
        last_error=ERROR,
        next_attempt_at=func.now() + _BACKOFF_SECONDS * constant(timedelta(seconds=1)),
    ),
)


def record_outcome(conn: Connection, sent: Sequence[UUID], failed: Mapping[UUID, str]) -> None:
    """Mark sent rows; push failed rows back with backoff."""
    if sent:
        run(conn, MARK_SENT.driver_sql, {SENT_EVENT_IDS.key: list(sent)})
    if failed:
        outcomes = [{EVENT_ID.key: event_id, ERROR.key: error} for event_id, error in failed.items()]
        run_many(conn, MARK_FAILED.driver_sql, outcomes)


CLAIM_DUE = Prebuilt(
    "claim_due_events",
    "relay",
    "the relay's next batch: due rows, oldest first, locked for this run; rows another run holds are skipped."
    " With retry_early (EventBridge has just accepted a whole batch) failed rows still in backoff come too.",
    select(outbox.c.id, outbox.c.source, outbox.c.detail_type, outbox.c.detail)
    .where(
        outbox.c.sent_at.is_(None),
        or_(outbox.c.next_attempt_at <= func.now(), and_(RETRY_EARLY, outbox.c.attempts > constant(0))),
    )
    .order_by(outbox.c.next_attempt_at)
    .limit(BATCH_SIZE)
    .with_for_update(skip_locked=True),
)


def claim_due(conn: Connection, limit: int, retry_early: bool = False) -> list[InvalidationEvent]:
    """Lock up to `limit` due rows; rows locked by another relay run are skipped, not waited for.
    retry_early: also failed rows still waiting out their backoff (never rows within the inline
    grace that no one has tried to publish yet: those are most likely published already)."""
    rows = run(conn, CLAIM_DUE.driver_sql, {BATCH_SIZE.key: limit, RETRY_EARLY.key: retry_early}).all()
    return [InvalidationEvent(r.id, r.source, r.detail_type, r.detail) for r in rows]


PURGE_SENT = Prebuilt(
    "purge_sent_events",
    "relay",
    "housekeeping: sent events older than the retention.",
    outbox.delete().where(outbox.c.sent_at < func.now() - seconds(OLDER_THAN)),
)


def purge_sent(conn: Connection, older_than: timedelta) -> int:
    return run(conn, PURGE_SENT.driver_sql, {OLDER_THAN.key: int(older_than.total_seconds())}).rowcount


PENDING_STATS = Prebuilt(
    "pending_events",
    "relay",
    "what the relay still owes (failed ones, and any past the inline grace) and the age of the oldest.",
    select(
        func.count().label("pending"),
        func.coalesce(extract("epoch", func.now() - func.min(outbox.c.created_at)), constant(0)).label("oldest"),
    ).where(
        outbox.c.sent_at.is_(None),
        or_(outbox.c.attempts > constant(0), outbox.c.created_at < func.now() - seconds(OUTBOX_GRACE)),
    ),
)


def pending_stats(conn: Connection) -> tuple[int, float]:
    """Events the relay still owes, and the age in seconds of the oldest (0 when none): failed ones
    waiting out their backoff, and any past the inline publisher's grace period. A row within it
    is not counted: most likely it was published and its deferred sent mark is on its way."""
    grace = get_settings().outbox_inline_grace_seconds
    count, oldest = run(conn, PENDING_STATS.driver_sql, {OUTBOX_GRACE.key: grace}).one()
    return int(count), float(oldest)
