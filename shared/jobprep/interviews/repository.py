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
    false,
    func,
    select,
    true,
)

from jobprep import binds, cache_tags, conditional, create_once, keyset, rate_limit
from jobprep.binds import (
    INTERVIEW_ID,
    JOB_INFO_ID,
    ONE_INTERVIEW,
    OWNER,
    UNLIMITED,
    new_value_of,
    set_flag,
    value_of,
)
from jobprep.db import reads
from jobprep.errors import InterviewNotCompleted, NotFound, PlanLimitReached, RateLimited
from jobprep.events import outbox
from jobprep.interviews.schemas import InterviewCreate, InterviewUpdate
from jobprep.interviews.tables import interviews
from jobprep.job_infos.tables import job_infos
from jobprep.keyset import Position
from jobprep.prebuilt import Prebuilt, constant, cte
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


def _page() -> Select[Any]:
    job_info = cte(_OWNED_JOB_INFO, "job_info", "the job info, if it is the caller's (none: 404, not an empty page)")
    items = keyset.newest_first(
        _ROW.where(interviews.c.job_info_id == job_info.c.id), interviews.c.created_at, interviews.c.id
    ).lateral("items")
    return (
        select(job_info.c.id.label("job_info"), *items.c)
        .select_from(job_info.outerjoin(items, true()))
        .order_by(items.c.created_at.desc(), items.c.id.desc())
    )


_PAGE = Prebuilt(
    "list_interviews",
    "read",
    "GET /job-infos/{jobInfoId}/interviews: a page of the job info's interviews, newest first; the job"
    " info's row, left-joined to the page, tells 404 from an empty page.",
    _page(),
)


def get(user_id: str, interview_id: UUID) -> InterviewRecord:
    """Raises NotFound (missing, or its job info not the caller's: the same answer)."""
    rows = reads.fetch(_GET, {INTERVIEW_ID.key: interview_id, OWNER.key: user_id})
    if not rows:
        raise NotFound()
    return InterviewRecord.of(rows[0])


def page(
    user_id: str, job_info_id: UUID, limit: int, after: Position | None
) -> tuple[Sequence[InterviewRecord], Position | None]:
    """A page of the job info's interviews. Raises NotFound when the job info is not the
    caller's: an empty page must not hide that."""
    rows = reads.fetch(_PAGE, {JOB_INFO_ID.key: job_info_id, OWNER.key: user_id, **keyset.params(limit, after)})
    if not rows:
        raise NotFound()
    records = [InterviewRecord.of(r) for r in rows if r.id is not None]
    return keyset.split_page(records, limit, lambda r: Position(r.created_at, r.id))


def _plan_allows() -> Any:
    """The original canCreateInterview: unlimited, or one interview that reached Hume."""
    completed = (
        select(func.count().label("completed"))
        .select_from(_owner_join)
        .where(job_infos.c.user_id == OWNER, interviews.c.hume_chat_id.is_not(None))
        .scalar_subquery()
    )
    return case(
        (UNLIMITED, true()),
        (ONE_INTERVIEW, completed < constant(1)),
        else_=false(),
    )


FIELDS = tuple(InterviewCreate.model_fields)  # what a create sets


def _creation(first_time: ColumnElement[bool]) -> create_once.Creation:
    """Ownership, plan, rate-limit token, then the insert: each step runs only when the one
    before it let the request through (and, with an Idempotency-Key, only the first time)."""
    owner = cte(
        _OWNED_JOB_INFO.where(first_time),
        "owner",
        "the job info, if it is the caller's (and no earlier request used the Idempotency-Key)",
    )
    plan = cte(select(_plan_allows().label("allowed")), "plan", "whether the caller's plan allows one more interview")
    token = rate_limit.take(select(owner.c.id).where(select(plan.c.allowed).scalar_subquery()))
    insert = interviews.insert().from_select(
        ["job_info_id", *FIELDS],
        select(owner.c.id.label("job_info_id"), *(value_of(interviews.c[n]).label(n) for n in FIELDS)).select_from(
            owner.join(token, true())
        ),
    )
    checks = [
        exists(select(owner.c.id)).label("owned"),
        select(plan.c.allowed).scalar_subquery().label("allowed"),
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
    unlimited: bool,
    one_interview: bool,
    limit: Mapping[str, Any],
    idempotency_key: str | None,
) -> tuple[InterviewRecord, bool]:
    """The new interview (with its event), or the first one created with this Idempotency-Key,
    and whether it is that replay. The plan allows `unlimited` interviews or `one_interview`
    that reached Hume; `limit` is rate_limit.params. Raises NotFound, PlanLimitReached or
    RateLimited; a request turned away spends no token."""
    params = {
        **limit,
        UNLIMITED.key: unlimited,
        ONE_INTERVIEW.key: one_interview,
        OWNER.key: user_id,
        JOB_INFO_ID.key: job_info_id,
        **binds.values(interviews, values),
    }
    return _create.create(params, idempotency_key, [str(job_info_id), values])


SETTABLE = tuple(InterviewUpdate.model_fields)  # what a PATCH may name
_HUME, _FEEDBACK = interviews.c.hume_chat_id, interviews.c.feedback


def _feedback_before_completion(row: Any) -> ColumnElement[bool]:
    """Feedback written on an interview that has no humeChatId, nor gets one in the same PATCH."""
    hume_after = case((set_flag(_HUME), new_value_of(_HUME)), else_=row.hume_chat_id)
    return and_(set_flag(_FEEDBACK), new_value_of(_FEEDBACK).is_not(None), hume_after.is_(None))


_update = conditional.update(
    "update_interview",
    "PATCH /interviews/{interviewId}: the fields named, If-Match, no feedback before the interview has a"
    " humeChatId, InterviewUpdated when a value changed.",
    interviews,
    _THE_CALLERS,
    SETTABLE,
    lambda updated: _event(updated, "InterviewUpdated"),
    refusals=[conditional.Refusal(InterviewNotCompleted, _feedback_before_completion)],
)


def update(
    user_id: str, interview_id: UUID, changes: Mapping[str, Any], if_match: Collection[int] | None
) -> tuple[InterviewRecord, bool]:
    """The row after the update and whether anything changed. Raises NotFound, PreconditionFailed
    or InterviewNotCompleted."""
    params = {OWNER.key: user_id, INTERVIEW_ID.key: interview_id, **binds.changes(interviews, SETTABLE, changes)}
    row = _update.write(params, if_match)
    return InterviewRecord.of(row), bool(row.written)
