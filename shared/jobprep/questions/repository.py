"""SQL for questions: one statement per operation. Ownership goes through the parent job info's
user id (questions have no user column, as in the original schema)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import CTE, ColumnElement, Row, Select, exists, select, true

from jobprep import binds, cache_tags, create_once, keyset, plan_usage
from jobprep.binds import JOB_INFO_ID, OWNER, PLAN_LIMIT, QUESTION_ID, value_of
from jobprep.db import reads
from jobprep.errors import NotFound, PlanLimitReached
from jobprep.events import outbox
from jobprep.job_infos.tables import job_infos
from jobprep.keyset import OLDEST_START, Position
from jobprep.prebuilt import Prebuilt, cte
from jobprep.questions.schemas import QuestionCreate
from jobprep.questions.tables import Difficulty, questions
from jobprep.records import Record

SOURCE = "job-prep.questions"
PLAN_LIMIT_MESSAGE = "You have reached your plan limit. Upgrade to create more questions."


@dataclass(frozen=True, slots=True)
class QuestionRecord(Record):
    id: UUID
    job_info_id: UUID
    text: str
    difficulty: Difficulty
    version: int
    created_at: datetime
    updated_at: datetime


COLUMNS = QuestionRecord.columns()

_ROW = select(*(questions.c[c] for c in COLUMNS))
_owner_join = questions.join(job_infos, questions.c.job_info_id == job_infos.c.id)
_THE_CALLERS = _ROW.select_from(_owner_join).where(questions.c.id == QUESTION_ID, job_infos.c.user_id == OWNER)
_OWNED_JOB_INFO = select(job_infos.c.id).where(job_infos.c.id == JOB_INFO_ID, job_infos.c.user_id == OWNER)

_GET = Prebuilt(
    "get_question",
    "read",
    "GET /questions/{questionId}: the question, if its job info is the caller's.",
    _THE_CALLERS,
)


def _page() -> Select[Any]:
    job_info = cte(_OWNED_JOB_INFO, "job_info", "the job info, if it is the caller's (none: 404, not an empty page)")
    items = keyset.oldest_first(
        _ROW.where(questions.c.job_info_id == job_info.c.id), questions.c.created_at, questions.c.id
    ).lateral("items")
    return (
        select(job_info.c.id.label("job_info"), *items.c)
        .select_from(job_info.outerjoin(items, true()))
        .order_by(items.c.created_at, items.c.id)
    )


_PAGE = Prebuilt(
    "list_questions",
    "read",
    "GET /job-infos/{jobInfoId}/questions: a page of the job info's questions, oldest first; the job"
    " info's row, left-joined to the page, tells 404 from an empty page.",
    _page(),
)


def get(user_id: str, question_id: UUID) -> QuestionRecord:
    """Raises NotFound (missing, or its job info not the caller's: the same answer)."""
    return QuestionRecord.of(reads.fetch_one(_GET, {QUESTION_ID.key: question_id, OWNER.key: user_id}))


def page(
    user_id: str, job_info_id: UUID, limit: int, after: Position | None
) -> tuple[Sequence[QuestionRecord], Position | None]:
    """A page of the job info's questions, oldest first. Raises NotFound when the job info is
    not the caller's: an empty page must not hide that."""
    params = {JOB_INFO_ID.key: job_info_id, OWNER.key: user_id, **keyset.params(limit, after, OLDEST_START)}
    rows = reads.fetch(_PAGE, params)
    if not rows:
        raise NotFound()
    records = [QuestionRecord.of(r) for r in rows if r.id is not None]
    return keyset.split_page(records, limit, lambda r: Position(r.created_at, r.id))


def _event(rows: CTE, detail_type: str) -> CTE:
    return outbox.enqueue(
        rows,
        source=SOURCE,
        detail_type=detail_type,
        resource_id=rows.c.id,
        user_id=OWNER,
        job_info_id=rows.c.job_info_id,
        tags=cache_tags.as_json(cache_tags.question_tags(rows.c.id, rows.c.job_info_id)),
    )


FIELDS = tuple(QuestionCreate.model_fields)  # what a create sets


def _creation(first_time: ColumnElement[bool]) -> create_once.Creation:
    """Ownership, then one unit of the plan spent, then the insert: each step runs only when the
    one before it let the request through (and, with an Idempotency-Key, only the first time).
    The count lives in plan_usage, so deleting the job info (and its questions) refunds nothing."""
    owner = cte(
        _OWNED_JOB_INFO.where(first_time),
        "owner",
        "the job info, if it is the caller's (and no earlier request used the Idempotency-Key)",
    )
    spent = plan_usage.spend(select(owner.c.id), plan_usage.plan_usage.c.questions)
    insert = questions.insert().from_select(
        ["job_info_id", *FIELDS],
        select(owner.c.id.label("job_info_id"), *(value_of(questions.c[n]).label(n) for n in FIELDS)).select_from(
            owner.join(spent, true())
        ),
    )
    return create_once.Creation(insert, [exists(select(owner.c.id)).label("owned")])


def _refuse(row: Row[Any]) -> None:
    """404 (not the caller's job info), then 403 (the plan spent)."""
    if not row.owned:
        raise NotFound()
    if row.id is None:
        raise PlanLimitReached(PLAN_LIMIT_MESSAGE)


_create = create_once.CreateOnce(
    "create_question",
    "POST /job-infos/{jobInfoId}/questions: ownership, one question of the plan spent (plan_usage), the"
    " question and QuestionCreated, once per Idempotency-Key.",
    QuestionRecord,
    _creation,
    lambda created: _event(created, "QuestionCreated"),
    _refuse,
)


def create(
    user_id: str,
    job_info_id: UUID,
    values: Mapping[str, Any],
    *,
    limit: int | None,
    idempotency_key: str | None,
) -> tuple[QuestionRecord, bool]:
    """The new question (with its event), or the first one created with this Idempotency-Key,
    and whether it is that replay. `limit`: the questions the caller's plan allows in all (None:
    unlimited). Raises NotFound or PlanLimitReached; a refused request spends nothing."""
    params = {
        OWNER.key: user_id,
        JOB_INFO_ID.key: job_info_id,
        PLAN_LIMIT.key: limit,
        **binds.values(questions, values),
    }
    return _create.create(params, idempotency_key, [str(job_info_id), values])
