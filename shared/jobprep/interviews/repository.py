"""SQL for interviews: one statement per operation. Ownership goes through the parent job
info's user id (interviews have no user column, as in the original schema)."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import (
    CTE,
    ColumnElement,
    Row,
    Select,
    and_,
    case,
    exists,
    or_,
    select,
    true,
)

from jobprep import binds, cache_tags, conditional, create_once, keyset, plan_usage, rate_limit
from jobprep.binds import (
    INTERVIEW_ID,
    JOB_INFO_ID,
    OWNER,
    PLAN_LIMIT,
    new_value_of,
    set_flag,
    value_of,
)
from jobprep.db import reads
from jobprep.errors import HumeChatIdWriteOnce, InterviewNotCompleted, NotFound, PlanLimitReached, RateLimited
from jobprep.events import outbox
from jobprep.interviews.schemas import InterviewCreate, InterviewUpdate
from jobprep.interviews.tables import interviews
from jobprep.job_infos.tables import job_infos
from jobprep.keyset import Position
from jobprep.prebuilt import Prebuilt, cte
from jobprep.records import Record

SOURCE = "job-prep.interviews"


@dataclass(frozen=True, slots=True)
class InterviewRecord(Record):
    id: UUID
    job_info_id: UUID
    duration: str
    hume_chat_id: str | None
    feedback: str | None
    version: int
    created_at: datetime
    updated_at: datetime


COLUMNS = InterviewRecord.columns()


_cols = [interviews.c[c] for c in COLUMNS]
_owner_join = interviews.join(job_infos, interviews.c.job_info_id == job_infos.c.id)
_ROW = select(*_cols)
_THE_CALLERS = _ROW.select_from(_owner_join).where(interviews.c.id == INTERVIEW_ID, job_infos.c.user_id == OWNER)
_OWNED_JOB_INFO = select(job_infos.c.id).where(job_infos.c.id == JOB_INFO_ID, job_infos.c.user_id == OWNER)


def _event(rows: CTE, detail_type: str) -> CTE:
    return outbox.enqueue(
        rows,
        source=SOURCE,
        detail_type=detail_type,
        resource_id=rows.c.id,
        user_id=OWNER,
        job_info_id=rows.c.job_info_id,
        tags=cache_tags.as_json(cache_tags.interview_tags(rows.c.id, rows.c.job_info_id)),
    )


_GET = Prebuilt(
    "get_interview",
    "read",
    "GET /interviews/{interviewId}: the interview, if its job info is the caller's.",
    _THE_CALLERS,
)


def _page(completed: bool) -> Select[Any]:
    job_info = cte(_OWNED_JOB_INFO, "job_info", "the job info, if it is the caller's (none: 404, not an empty page)")
    rows = _ROW.where(interviews.c.job_info_id == job_info.c.id)
    if completed:  # a constant condition: the partial index of completed interviews serves it
        rows = rows.where(interviews.c.hume_chat_id.is_not(None))
    items = keyset.newest_first(rows, interviews.c.updated_at, interviews.c.id).lateral("items")
    return (
        select(job_info.c.id.label("job_info"), *items.c)
        .select_from(job_info.outerjoin(items, true()))
        .order_by(items.c.updated_at.desc(), items.c.id.desc())
    )


_PAGES = {
    False: Prebuilt(
        "list_interviews",
        "read",
        "GET /job-infos/{jobInfoId}/interviews: a page of the job info's interviews, most recently updated"
        " first (then id); the job info's row, left-joined to the page, tells 404 from an empty page.",
        _page(completed=False),
    ),
    True: Prebuilt(
        "list_completed_interviews",
        "read",
        "GET /job-infos/{jobInfoId}/interviews?completed=true: as list_interviews, only the interviews that"
        " have a humeChatId.",
        _page(completed=True),
    ),
}


def get(user_id: str, interview_id: UUID) -> InterviewRecord:
    """Raises NotFound (missing, or its job info not the caller's: the same answer)."""
    return InterviewRecord.of(reads.fetch_one(_GET, {INTERVIEW_ID.key: interview_id, OWNER.key: user_id}))


def page(
    user_id: str, job_info_id: UUID, limit: int, after: Position | None, *, completed: bool = False
) -> tuple[Sequence[InterviewRecord], Position | None]:
    """A page of the job info's interviews (`completed`: only those with a humeChatId). Raises
    NotFound when the job info is not the caller's: an empty page must not hide that."""
    params = {JOB_INFO_ID.key: job_info_id, OWNER.key: user_id, **keyset.params(limit, after)}
    rows = reads.fetch(_PAGES[completed], params)
    if not rows:
        raise NotFound()
    records = [InterviewRecord.of(r) for r in rows if r.id is not None]
    return keyset.split_page(records, limit, lambda r: Position(r.updated_at, r.id))


FIELDS = tuple(InterviewCreate.model_fields)  # what a create sets
_INTERVIEWS_USED = plan_usage.plan_usage.c.interviews
_STARTED = value_of(interviews.c.hume_chat_id).is_not(None)  # created with its humeChatId: started


def _creation(first_time: ColumnElement[bool]) -> create_once.Creation:
    """Ownership, plan, rate-limit token, the plan's unit when the interview starts right away
    (a humeChatId), then the insert: each step runs only when the one before it let the request
    through (and, with an Idempotency-Key, only the first time)."""
    owner = cte(
        _OWNED_JOB_INFO.where(first_time),
        "owner",
        "the job info, if it is the caller's (and no earlier request used the Idempotency-Key)",
    )
    plan = cte(
        select(plan_usage.allows(_INTERVIEWS_USED).label("allowed")),
        "plan",
        "whether the caller's plan allows one more interview",
    )
    token = rate_limit.take(select(owner.c.id).where(select(plan.c.allowed).scalar_subquery()))
    # Re-checked on the usage row as a concurrent create left it: only one can take the last unit.
    spent = plan_usage.spend(select(token.c.tokens).where(_STARTED), _INTERVIEWS_USED)
    insert = interviews.insert().from_select(
        ["job_info_id", *FIELDS],
        select(owner.c.id.label("job_info_id"), *(value_of(interviews.c[n]).label(n) for n in FIELDS))
        .select_from(owner.join(token, true()))
        .where(or_(~_STARTED, exists(select(spent.c.interviews)))),
    )
    checks = [
        exists(select(owner.c.id)).label("owned"),
        select(plan.c.allowed).scalar_subquery().label("allowed"),
        exists(select(token.c.tokens)).label("took_token"),
        rate_limit.retry_after().label("retry_after"),
    ]
    return create_once.Creation(insert, checks)


def _refuse(row: Row[Any]) -> None:
    """404 (not the caller's job info), 403 plan limit, 429 rate limit, in that order."""
    if not row.owned:
        raise NotFound()
    if not row.allowed:
        raise PlanLimitReached()
    if row.id is None:
        if row.took_token:
            raise PlanLimitReached()  # a concurrent create spent the plan's last interview first
        raise RateLimited(row.retry_after)


_create = create_once.CreateOnce(
    "create_interview",
    "POST /job-infos/{jobInfoId}/interviews: ownership, plan, rate limit, the interview and"
    " InterviewCreated, once per Idempotency-Key.",
    InterviewRecord,
    _creation,
    lambda created: _event(created, "InterviewCreated"),
    _refuse,
)


def create(
    user_id: str,
    job_info_id: UUID,
    values: Mapping[str, Any],
    *,
    plan_limit: int | None,
    limit: Mapping[str, Any],
    idempotency_key: str | None,
) -> tuple[InterviewRecord, bool]:
    """The new interview (with its event), or the first one created with this Idempotency-Key,
    and whether it is that replay. The plan allows `plan_limit` started interviews (None:
    unlimited), counted in plan_usage; one created with a humeChatId spends its unit here.
    `limit` is rate_limit.params. Raises NotFound, PlanLimitReached or RateLimited; a request
    turned away spends no token (except the loser of a race for the plan's last interview)."""
    params = {
        **limit,
        PLAN_LIMIT.key: plan_limit,
        OWNER.key: user_id,
        JOB_INFO_ID.key: job_info_id,
        **binds.values(interviews, values),
    }
    return _create.create(params, idempotency_key, [str(job_info_id), values])


SETTABLE = tuple(InterviewUpdate.model_fields)  # what a PATCH may name
_HUME, _FEEDBACK = interviews.c.hume_chat_id, interviews.c.feedback


def _rewrites_hume_chat_id(row: Any) -> ColumnElement[bool]:
    """Clearing or changing a humeChatId once set: what the plan counted would be undone."""
    return and_(set_flag(_HUME), row.hume_chat_id.is_not(None), row.hume_chat_id.is_distinct_from(new_value_of(_HUME)))


def _feedback_before_completion(row: Any) -> ColumnElement[bool]:
    """Feedback written on an interview that has no humeChatId, nor gets one in the same PATCH."""
    hume_after = case((set_flag(_HUME), new_value_of(_HUME)), else_=row.hume_chat_id)
    return and_(set_flag(_FEEDBACK), new_value_of(_FEEDBACK).is_not(None), hume_after.is_(None))


def _first_hume_chat_id(row: Any) -> ColumnElement[bool]:
    """The PATCH gives the interview its first humeChatId: it starts, and spends a unit of the plan."""
    return and_(set_flag(_HUME), new_value_of(_HUME).is_not(None), row.hume_chat_id.is_(None))


def _plan_allows_the_start(current: CTE, if_match_holds: ColumnElement[bool]) -> conditional.Refusal:
    """The first humeChatId spends a unit of the plan (binds.PLAN_LIMIT) in the statement that sets
    it; with none left the PATCH is PLAN_LIMIT and writes nothing. `current` holds the interview
    locked (FOR UPDATE), so "first" is certain; the spend is an upsert on the user's plan_usage row,
    so concurrent PATCHes on the user's other interviews wait for it and re-check the limit."""
    start = select(current.c.id).where(if_match_holds, _first_hume_chat_id(current.c))
    spent = plan_usage.spend(start, _INTERVIEWS_USED)
    return conditional.Refusal(
        PlanLimitReached, lambda row: and_(_first_hume_chat_id(row), ~exists(select(spent.c.interviews)))
    )


_update = conditional.update(
    "update_interview",
    "PATCH /interviews/{interviewId}: the fields named, If-Match, humeChatId set once (its first one spends"
    " a unit of the plan, refused when none is left), no feedback before it is set, InterviewUpdated when a"
    " value changed.",
    interviews,
    _THE_CALLERS.with_for_update(of=interviews),
    SETTABLE,
    lambda updated: _event(updated, "InterviewUpdated"),
    refusals=[
        conditional.Refusal(HumeChatIdWriteOnce, _rewrites_hume_chat_id),
        conditional.Refusal(InterviewNotCompleted, _feedback_before_completion),
        _plan_allows_the_start,
    ],
)


def update(
    user_id: str,
    interview_id: UUID,
    changes: Mapping[str, Any],
    if_match: Collection[int] | None,
    *,
    plan_limit: int | None,
) -> tuple[InterviewRecord, bool]:
    """The row after the update and whether anything changed. The plan allows `plan_limit` started
    interviews (None: unlimited). Raises NotFound, PreconditionFailed, HumeChatIdWriteOnce,
    InterviewNotCompleted or PlanLimitReached."""
    params = {
        OWNER.key: user_id,
        INTERVIEW_ID.key: interview_id,
        PLAN_LIMIT.key: plan_limit,
        **binds.changes(interviews, SETTABLE, changes),
    }
    row = _update.write(params, if_match)
    return InterviewRecord.of(row), bool(row.written)


_delete = conditional.delete(
    "delete_interview",
    "DELETE /interviews/{interviewId}: the interview, If-Match, InterviewDeleted; the plan's unit it spent"
    " stays spent (plan_usage is not touched).",
    interviews,
    select(interviews.c.id, interviews.c.job_info_id, interviews.c.version)
    .select_from(_owner_join)
    .where(interviews.c.id == INTERVIEW_ID, job_infos.c.user_id == OWNER),
    lambda deleted: _event(deleted, "InterviewDeleted"),
)


def delete(user_id: str, interview_id: UUID, if_match: Collection[int] | None) -> None:
    """Raises NotFound (missing or not the caller's) or PreconditionFailed (stale If-Match)."""
    _delete.write({OWNER.key: user_id, INTERVIEW_ID.key: interview_id}, if_match)
