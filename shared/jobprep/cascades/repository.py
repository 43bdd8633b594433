"""SQL for cascading deletes: one statement each, tags of every removed row in its event."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from functools import cache
from typing import Any
from uuid import UUID

from sqlalchemy import (
    CTE,
    ScalarSelect,
    Select,
    case,
    exists,
    func,
    literal,
    select,
    union_all,
)
from sqlalchemy.dialects.postgresql import JSONB, aggregate_order_by

from jobprep import cache_tags, conditional, unit_of_work, webhook_deliveries
from jobprep.binds import DELIVERY_ID, DELIVERY_TYPE, EVENT_ID, JOB_INFO_ID, OWNER
from jobprep.create_once import idempotency_keys
from jobprep.events import outbox
from jobprep.events.model import InvalidationEvent
from jobprep.interviews.tables import interviews
from jobprep.job_infos.repository import SOURCE as JOB_INFOS_SOURCE
from jobprep.job_infos.tables import job_infos
from jobprep.prebuilt import cte
from jobprep.rate_limit import rate_limit_buckets


def _job_info_deleted(deleted: CTE) -> CTE:
    """JobInfoDeleted, tagged for the job info and for every interview ON DELETE CASCADE removes."""
    # The statement's snapshot still holds the interviews the cascade is about to remove.
    cascaded = cte(
        select(interviews.c.id).where(interviews.c.job_info_id.in_(select(deleted.c.id))),
        "cascaded",
        "the interviews ON DELETE CASCADE removes with them, as the snapshot still holds them",
    )
    own = cache_tags.as_json(
        [*cache_tags.job_info_tags(deleted.c.id, OWNER), cache_tags.interviews_of_job_info(deleted.c.id)]
    )
    children = case(
        (
            exists(select(cascaded.c.id)),
            cache_tags.as_json([cache_tags.interviews_global()]).op("||", return_type=JSONB)(
                select(func.jsonb_agg(cache_tags.interview(cascaded.c.id))).scalar_subquery()
            ),
        ),
        else_=func.jsonb_build_array(type_=JSONB),
    )
    return outbox.enqueue(
        deleted,
        source=JOB_INFOS_SOURCE,
        detail_type="JobInfoDeleted",
        resource_id=deleted.c.id,
        user_id=OWNER,
        tags=own.op("||", return_type=JSONB)(children),
    )


_delete_job_info = conditional.delete(
    "delete_job_info",
    "DELETE /job-infos/{jobInfoId}: the job info and its interviews, If-Match, one JobInfoDeleted.",
    job_infos,
    select(job_infos.c.id, job_infos.c.version).where(job_infos.c.id == JOB_INFO_ID, job_infos.c.user_id == OWNER),
    _job_info_deleted,
)


def delete_job_info(user_id: str, job_info_id: UUID, if_match: Collection[int] | None) -> None:
    """Raises NotFound (missing or not the caller's) or PreconditionFailed (stale If-Match)."""
    _delete_job_info.write({JOB_INFO_ID.key: job_info_id, OWNER.key: user_id}, if_match)


# Account deletion -----------------------------------------------------------------------------

USERS_SOURCE = "job-prep.users"
USER_DATA_DELETED = "UserDataDeleted"
# Tags per UserDataDeleted event: at most ~58 bytes each, so one event stays under 24 KB and a
# relay batch of 10 under PutEvents' 256 KB. A larger account gets several events.
TAGS_PER_EVENT = 400


@dataclass(frozen=True)
class DeletedUserData:
    repeated: bool  # the delivery id was already recorded: nothing was changed this time
    job_infos: int
    interviews: int
    idempotency_keys: int
    rate_limit_buckets: int
    events: int


def _count(rows: CTE) -> ScalarSelect[int]:
    return select(func.count()).select_from(rows).scalar_subquery()


@cache
def _delete_user_data_statement() -> Select[Any]:
    recorded = webhook_deliveries.record()
    first_delivery = exists(select(recorded.c.id))
    deleted = (
        job_infos.delete()
        .where(job_infos.c.user_id == OWNER, first_delivery)
        .returning(job_infos.c.id)
        .cte("deleted_job_infos")
    )
    # The statement's snapshot: the interviews ON DELETE CASCADE is about to remove.
    cascaded = select(interviews.c.id).where(interviews.c.job_info_id.in_(select(deleted.c.id))).cte("cascaded")
    keys = (
        idempotency_keys.delete()
        .where(idempotency_keys.c.user_id == OWNER, first_delivery)
        .returning(idempotency_keys.c.key)
        .cte("deleted_keys")
    )
    buckets = (
        rate_limit_buckets.delete()
        .where(rate_limit_buckets.c.user_id == OWNER, first_delivery)
        .returning(rate_limit_buckets.c.bucket)
        .cte("deleted_buckets")
    )
    # One row per tag, in a stable order: the user's list tags, each job info's, then interviews'.
    any_job_info, any_interview = exists(select(deleted.c.id)), exists(select(cascaded.c.id))
    tags = union_all(
        select(literal(0).label("ord"), cache_tags.job_infos_global().label("tag")).where(any_job_info),
        select(literal(1), cache_tags.job_infos_of_user(OWNER)).where(any_job_info),
        select(literal(2), cache_tags.job_info(deleted.c.id)),
        select(literal(3), cache_tags.interviews_of_job_info(deleted.c.id)),
        select(literal(4), cache_tags.interviews_global()).where(any_interview),
        select(literal(5), cache_tags.interview(cascaded.c.id)),
    ).cte("tags")
    position = func.row_number().over(order_by=(tags.c.ord, tags.c.tag)) - 1
    numbered = select(tags.c.tag, position.label("n"), (position // TAGS_PER_EVENT).label("part")).cte("numbered")
    # Part 0 carries the statement's :event_id (published inline by unit_of_work.change); the
    # others get ids of their own and are published right after by delete_user_data.
    parts = (
        select(
            case((numbered.c.part == 0, EVENT_ID), else_=func.gen_random_uuid()).label("event_id"),
            func.jsonb_agg(aggregate_order_by(numbered.c.tag, numbered.c.n)).label("tags"),
        )
        .group_by(numbered.c.part)
        .cte("parts")
    )
    event = outbox.enqueue(
        parts,
        source=USERS_SOURCE,
        detail_type=USER_DATA_DELETED,
        resource_id=OWNER,
        user_id=OWNER,
        tags=parts.c.tags,
        event_id=parts.c.event_id,
    )
    first_event = [
        select(event.c[c]).where(event.c.event_id == EVENT_ID).scalar_subquery().label(c) for c in outbox.EVENT_COLUMNS
    ]
    more_events = (
        select(func.jsonb_agg(func.jsonb_build_object("id", event.c.event_id, "detail", event.c.event_detail)))
        .where(event.c.event_id != EVENT_ID)
        .scalar_subquery()
    )
    # No FROM: always exactly one row, also for a repeated delivery.
    return select(
        _count(recorded).label("recorded"),
        _count(deleted).label("job_infos"),
        _count(cascaded).label("interviews"),
        _count(keys).label("idempotency_keys"),
        _count(buckets).label("rate_limit_buckets"),
        _count(event).label("events"),
        more_events.label("more_events"),
        *first_event,
    )


def delete_user_data(user_id: str, delivery_id: str, delivery_type: str) -> DeletedUserData:
    """Every row of the user (job infos and, by cascade, their interviews; Idempotency-Keys;
    rate-limit buckets), the UserDataDeleted event(s) and the delivery's record: one statement."""
    params = {OWNER.key: user_id, DELIVERY_ID.key: delivery_id, DELIVERY_TYPE.key: delivery_type}
    row = unit_of_work.change(_delete_user_data_statement(), params)
    assert row is not None  # a statement without FROM returns its one row
    more = [
        InvalidationEvent(UUID(e["id"]), USERS_SOURCE, USER_DATA_DELETED, e["detail"]) for e in row.more_events or ()
    ]
    if more:
        unit_of_work.publish(more)
    return DeletedUserData(
        repeated=row.recorded == 0,
        job_infos=row.job_infos,
        interviews=row.interviews,
        idempotency_keys=row.idempotency_keys,
        rate_limit_buckets=row.rate_limit_buckets,
        events=row.events,
    )
