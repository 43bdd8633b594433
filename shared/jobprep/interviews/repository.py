"""SQL for interviews: one statement per operation. Ownership goes through the parent job
info's user id (interviews have no user column, as in the original schema)."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import Any
from uuid import UUID

from sqlalchemy import (
    CTE,
    Row,
    Select,
    case,
    exists,
    false,
    func,
    literal,
    select,
    true,
)

from jobprep import binds, cache_tags, conditional, create_once, rate_limit, unit_of_work
from jobprep.binds import INTERVIEW_ID, JOB_INFO_ID, ONE_INTERVIEW, OWNER, UNLIMITED, value_of
from jobprep.events import outbox
from jobprep.interviews.schemas import InterviewUpdate
from jobprep.interviews.tables import interviews
from jobprep.job_infos.tables import job_infos
from jobprep.keyset import Position, page_query, split_page
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
_GET = select(*_cols).select_from(_owner_join).where(interviews.c.id == INTERVIEW_ID, job_infos.c.user_id == OWNER)
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


def get(user_id: str, interview_id: UUID) -> InterviewRecord | None:
    rows = unit_of_work.read(_GET, {INTERVIEW_ID.key: interview_id, OWNER.key: user_id})
    return InterviewRecord.of(rows[0]) if rows else None


def page(
    user_id: str, job_info_id: UUID, limit: int, after: Position | None
) -> tuple[Sequence[InterviewRecord], Position | None] | None:
    """A page of the job info's interviews, or None when the job info is not the caller's
    (one statement: the owner row, left-joined to the page)."""
    owner = _OWNED_JOB_INFO.cte("owner")
    items = page_query(select(*_cols).where(interviews.c.job_info_id == owner.c.id), interviews, limit, after).lateral(
        "items"
    )
    stmt = (
        select(owner.c.id.label("owner"), *items.c)
        .select_from(owner.outerjoin(items, true()))
        .order_by(items.c.created_at.desc(), items.c.id.desc())
    )
    rows = unit_of_work.read(stmt, {JOB_INFO_ID.key: job_info_id, OWNER.key: user_id})
    if not rows:
        return None
    records = [InterviewRecord.of(r) for r in rows if r.id is not None]
    return split_page(records, limit, lambda r: Position(r.created_at, r.id))


def _plan_allows() -> Any:
    """The original canCreateInterview: unlimited, or one interview that reached Hume."""
    completed = (
        select(func.count())
        .select_from(_owner_join)
        .where(job_infos.c.user_id == OWNER, interviews.c.hume_chat_id.is_not(None))
        .scalar_subquery()
    )
    return case(
        (UNLIMITED, true()),
        (ONE_INTERVIEW, completed < 1),
        else_=false(),
    )


@cache
def _create_statement(fields: frozenset[str], once: bool) -> Select[Any]:
    """Ownership, plan, rate-limit token, insert and outbox row: checked and done in that order
    by one statement; each step only runs when the one before it let the request through."""
    names = sorted(fields)
    prior = create_once.prior() if once else None
    owned = _OWNED_JOB_INFO if prior is None else _OWNED_JOB_INFO.where(create_once.no_prior(prior))
    owner = owned.cte("owner")
    plan = select(_plan_allows().label("allowed")).cte("plan")
    token = rate_limit.take(select(owner.c.id).where(select(plan.c.allowed).scalar_subquery()))
    created = (
        interviews.insert()
        .from_select(
            ["job_info_id", *names],
            select(owner.c.id, *(value_of(interviews.c[n]) for n in names)).select_from(owner.join(token, true())),
        )
        .returning(*_cols)
        .cte("created")
    )
    event = _event(created, "InterviewCreated")
    one = select(literal(1).label("one")).cte("one")
    answer = [
        exists(select(owner.c.id)).label("owned"),
        select(plan.c.allowed).scalar_subquery().label("allowed"),
        rate_limit.tokens_left().label("tokens_left"),
        *created.c,
        *(event.c[c] for c in outbox.EVENT_COLUMNS),
    ]
    joined = one.outerjoin(created, true()).outerjoin(event, true())
    if prior is None:
        return select(*answer).select_from(joined)
    return (
        select(*answer, *prior.c, *create_once.asked_columns())
        .select_from(joined.outerjoin(prior, true()))
        .add_cte(create_once.stored(created))
    )


@dataclass(frozen=True)
class CreateResult:
    record: InterviewRecord | None = None
    replay: dict[str, Any] | None = None  # the first request's row, as stored
    owned: bool = True
    allowed: bool = True
    tokens_left: float | None = None  # set when no token was left


def create(
    user_id: str,
    job_info_id: UUID,
    values: Mapping[str, Any],
    *,
    plan: Mapping[str, bool],
    limit: Mapping[str, Any],
    once: Mapping[str, Any] | None,
) -> CreateResult:
    def answer(row: Row[Any], replay: dict[str, Any] | None) -> CreateResult:
        if replay is not None:
            return CreateResult(replay=replay)
        if not row.owned:
            return CreateResult(owned=False)
        if not row.allowed:
            return CreateResult(allowed=False)
        if row.id is None:
            return CreateResult(tokens_left=row.tokens_left)
        return CreateResult(record=InterviewRecord.of(row))

    return create_once.run(
        _create_statement(frozenset(values), once is not None),
        {**limit, **plan, OWNER.key: user_id, JOB_INFO_ID.key: job_info_id, **binds.values(interviews, values)},
        once,
        answer,
    )


SETTABLE = tuple(InterviewUpdate.model_fields)  # what a PATCH may name
_update = conditional.update(
    "update_interview",
    "PATCH /interviews/{interviewId}: the fields named, If-Match, InterviewUpdated when a value changed.",
    interviews,
    _GET,
    SETTABLE,
    lambda updated: _event(updated, "InterviewUpdated"),
)


def update(
    user_id: str, interview_id: UUID, changes: Mapping[str, Any], if_match: Collection[int] | None
) -> tuple[InterviewRecord, bool]:
    """The row after the update and whether anything changed. Raises NotFound/PreconditionFailed."""
    params = {OWNER.key: user_id, INTERVIEW_ID.key: interview_id, **binds.changes(interviews, SETTABLE, changes)}
    row = _update.write(params, if_match)
    return InterviewRecord.of(row), bool(row.written)
