"""SQL for cascading deletes: one statement each, tags of every removed row in its event."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from sqlalchemy import (
    CTE,
    Column,
    ColumnElement,
    ScalarSelect,
    Select,
    Table,
    case,
    exists,
    func,
    select,
    union_all,
)
from sqlalchemy.dialects.postgresql import JSONB, aggregate_order_by, insert

from jobprep import cache_tags, conditional, unit_of_work, webhook_deliveries
from jobprep.binds import DELIVERY_ID, DELIVERY_TYPE, EVENT_ID, JOB_INFO_ID, OWNER
from jobprep.create_once import idempotency_keys
from jobprep.events import outbox
from jobprep.events.model import InvalidationEvent
from jobprep.interviews.tables import interviews
from jobprep.job_infos.repository import SOURCE as JOB_INFOS_SOURCE
from jobprep.job_infos.tables import job_infos
from jobprep.plan_usage import plan_usage
from jobprep.prebuilt import constant, cte
from jobprep.questions.tables import questions
from jobprep.rate_limit import rate_limit_buckets
from jobprep.users.repository import SOURCE as USERS_SOURCE
from jobprep.users.tables import deleted_users, users


def _cascaded(deleted: CTE) -> CTE:
    # Every CTE reads the statement's snapshot, taken before ON DELETE CASCADE runs.
    return cte(
        select(interviews.c.id).where(interviews.c.job_info_id.in_(select(deleted.c.id))),
        "cascaded",
        "the interviews ON DELETE CASCADE removes with the deleted job infos, as the snapshot still holds them",
    )


def _cascaded_questions(deleted: CTE) -> CTE:
    return cte(
        select(questions.c.id, questions.c.job_info_id).where(questions.c.job_info_id.in_(select(deleted.c.id))),
        "cascaded_questions",
        "the questions ON DELETE CASCADE removes with the deleted job infos, as the snapshot still holds them",
    )


def _children(rows: CTE, global_tag: ColumnElement[str], tag: ColumnElement[str]) -> ColumnElement[Any]:
    """The feature's global tag and one tag per removed row; nothing when no row went."""
    return case(
        (
            exists(select(rows.c.id)),
            cache_tags.as_json([global_tag]).op("||", return_type=JSONB)(
                select(func.jsonb_agg(tag).label("tags")).scalar_subquery()
            ),
        ),
        else_=func.jsonb_build_array(type_=JSONB),
    )


def _job_info_deleted(deleted: CTE) -> CTE:
    """JobInfoDeleted, tagged for the job info, its interview and question lists, and every
    interview and question ON DELETE CASCADE removes."""
    cascaded, asked = _cascaded(deleted), _cascaded_questions(deleted)
    own = cache_tags.as_json(
        [
            *cache_tags.job_info_tags(deleted.c.id, OWNER),
            cache_tags.interviews_of_job_info(deleted.c.id),
            cache_tags.questions_of_job_info(deleted.c.id),
        ]
    )
    interviews_gone = _children(cascaded, cache_tags.interviews_global(), cache_tags.interview(cascaded.c.id))
    questions_gone = _children(asked, cache_tags.questions_global(), cache_tags.question(asked.c.id))
    return outbox.enqueue(
        deleted,
        source=JOB_INFOS_SOURCE,
        detail_type="JobInfoDeleted",
        resource_id=deleted.c.id,
        user_id=OWNER,
        tags=own.op("||", return_type=JSONB)(interviews_gone).op("||", return_type=JSONB)(questions_gone),
    )


_delete_job_info = conditional.delete(
    "delete_job_info",
    "DELETE /job-infos/{jobInfoId}: the job info and its interviews and questions, If-Match, one JobInfoDeleted.",
    job_infos,
    select(job_infos.c.id, job_infos.c.version).where(job_infos.c.id == JOB_INFO_ID, job_infos.c.user_id == OWNER),
    _job_info_deleted,
)


def delete_job_info(user_id: str, job_info_id: UUID, if_match: Collection[int] | None) -> None:
    """Raises NotFound (missing or not the caller's) or PreconditionFailed (stale If-Match)."""
    _delete_job_info.write({JOB_INFO_ID.key: job_info_id, OWNER.key: user_id}, if_match)


# Account deletion -----------------------------------------------------------------------------

USER_DATA_DELETED = "UserDataDeleted"
# Tags per UserDataDeleted event: at most ~58 bytes each, so one event stays under 24 KB and a
# relay batch of 10 under PutEvents' 256 KB. A larger account gets several events.
TAGS_PER_EVENT = 400


@dataclass(frozen=True)
class DeletedUserData:
    repeated: bool  # the delivery id was already recorded: nothing was changed this time
    job_infos: int
    interviews: int
    questions: int
    idempotency_keys: int
    rate_limit_buckets: int
    plan_usage: int
    users: int  # the profile (0 or 1)
    tombstones: int  # 1 the first time the account is deleted here
    events: int


def _count(rows: CTE) -> ScalarSelect[int]:
    return select(func.count().label("rows")).select_from(rows).scalar_subquery()


def _delete_user_data() -> Select[*tuple[Any, ...]]:
    recorded = webhook_deliveries.record()
    first_delivery = exists(select(recorded.c.id))

    def gone(table: Table, returning: Column[Any], name: str, what: str, owner: str = "user_id") -> CTE:
        statement = table.delete().where(table.c[owner] == OWNER, first_delivery).returning(returning)
        return cte(statement, name, f"the user's {what}, deleted (a repeated delivery deletes nothing)")

    deleted = gone(job_infos, job_infos.c.id, "deleted_job_infos", "job infos")
    cascaded = _cascaded(deleted)
    asked = _cascaded_questions(deleted)
    keys = gone(idempotency_keys, idempotency_keys.c.key, "deleted_keys", "Idempotency-Keys")
    buckets = gone(rate_limit_buckets, rate_limit_buckets.c.bucket, "deleted_buckets", "rate-limit buckets")
    usage = gone(plan_usage, plan_usage.c.user_id, "deleted_usage", "plan usage")
    profile = gone(users, users.c.id, "deleted_user", "profile (the users row)", owner="id")
    tombstone = cte(
        insert(deleted_users)
        .from_select(["id"], select(OWNER.label("id")).where(first_delivery))
        .on_conflict_do_nothing(index_elements=[deleted_users.c.id])
        .returning(deleted_users.c.id),
        "tombstone",
        "the account's tombstone: a user.created / user.updated delivered after this never brings it back",
    )
    any_job_info, any_interview = exists(select(deleted.c.id)), exists(select(cascaded.c.id))
    any_question, any_profile = exists(select(asked.c.id)), exists(select(profile.c.id))
    tags = cte(
        union_all(
            select(constant(0).label("ord"), cache_tags.job_infos_global().label("tag")).where(any_job_info),
            select(constant(1), cache_tags.job_infos_of_user(OWNER).label("tag")).where(any_job_info),
            select(constant(2), cache_tags.job_info(deleted.c.id).label("tag")),
            select(constant(3), cache_tags.interviews_of_job_info(deleted.c.id).label("tag")),
            select(constant(4), cache_tags.interviews_global().label("tag")).where(any_interview),
            select(constant(5), cache_tags.interview(cascaded.c.id).label("tag")),
            select(constant(6), cache_tags.questions_global().label("tag")).where(any_question),
            select(constant(7), cache_tags.questions_of_job_info(asked.c.job_info_id).label("tag")).distinct(),
            select(constant(8), cache_tags.question(asked.c.id).label("tag")),
            select(constant(9), cache_tags.users_global().label("tag")).where(any_profile),
            select(constant(10), cache_tags.user(OWNER).label("tag")).where(any_profile),
        ),
        "tags",
        "one row per cache tag to invalidate: the user's lists, each job info's, each interview's, each"
        " question's, then the user's own",
    )
    position = func.row_number().over(order_by=(tags.c.ord, tags.c.tag)) - constant(1)
    numbered = cte(
        select(tags.c.tag, position.label("n"), (position // constant(TAGS_PER_EVENT)).label("part")),
        "numbered",
        f"the tags in a stable order, cut into parts of {TAGS_PER_EVENT} (one event each)",
    )
    # Part 0 carries the statement's :event_id (published inline by unit_of_work.change); the
    # others get ids of their own and are published right after by delete_user_data.
    parts = cte(
        select(
            case((numbered.c.part == constant(0), EVENT_ID), else_=func.gen_random_uuid()).label("event_id"),
            func.jsonb_agg(aggregate_order_by(numbered.c.tag, numbered.c.n)).label("tags"),
        ).group_by(numbered.c.part),
        "parts",
        "one UserDataDeleted per part: the first with the statement's event id, the others with new ones",
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
    more = func.jsonb_build_object(constant("id"), event.c.event_id, constant("detail"), event.c.event_detail)
    more_events = select(func.jsonb_agg(more).label("events")).where(event.c.event_id != EVENT_ID).scalar_subquery()
    # No FROM: always exactly one row, also for a repeated delivery.
    return select(
        _count(recorded).label("recorded"),
        _count(deleted).label("job_infos"),
        _count(cascaded).label("interviews"),
        _count(keys).label("idempotency_keys"),
        _count(buckets).label("rate_limit_buckets"),
        _count(asked).label("questions"),
        _count(usage).label("plan_usage"),
        _count(profile).label("users"),
        _count(tombstone).label("tombstones"),
        _count(event).label("events"),
        more_events.label("more_events"),
        *first_event,
    )


_DELETE_USER_DATA = unit_of_work.change_statement(
    "delete_user_data",
    "Clerk's user.deleted: every row of the user (job infos and, by cascade, their interviews and questions;"
    " Idempotency-Keys; rate-limit buckets; plan usage; the profile), the account's tombstone, the"
    " UserDataDeleted event(s) and the delivery's record.",
    _delete_user_data(),
)


def delete_user_data(user_id: str, delivery_id: str, delivery_type: str) -> DeletedUserData:
    """Every row of the user (job infos and, by cascade, their interviews and questions;
    Idempotency-Keys; rate-limit buckets; plan usage; the profile), the account's tombstone, the
    UserDataDeleted event(s) and the delivery's record: one statement."""
    params = {OWNER.key: user_id, DELIVERY_ID.key: delivery_id, DELIVERY_TYPE.key: delivery_type}
    row = unit_of_work.change(_DELETE_USER_DATA, params)
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
        questions=row.questions,
        plan_usage=row.plan_usage,
        users=row.users,
        tombstones=row.tombstones,
        events=row.events,
    )
