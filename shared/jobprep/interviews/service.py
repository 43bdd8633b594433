"""Interview use cases. Ownership is always checked through the parent job info."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from uuid import UUID

from jobprep import plan_usage, rate_limit
from jobprep.config import get_settings
from jobprep.interviews import repository as repo
from jobprep.interviews.schemas import InterviewCreate, InterviewOut, InterviewUpdate
from jobprep.keyset import Position
from jobprep.versioned import Created, Updated, Versioned

RATE_LIMIT_BUCKET = rate_limit.INTERVIEWS_BUCKET


def create_interview(
    user_id: str,
    features: frozenset[str],
    job_info_id: UUID,
    data: InterviewCreate,
    idempotency_key: str | None = None,
) -> Created[InterviewOut]:
    """404 (job info not the caller's), 403 plan limit (interviews started, in plan_usage), 429
    rate limit, in that order; a request turned away spends no token."""
    settings = get_settings()
    record, replayed = repo.create(
        user_id,
        job_info_id,
        data.model_dump(),
        plan_limit=plan_usage.INTERVIEWS.limit_for(features),
        limit=rate_limit.params(
            user_id,
            RATE_LIMIT_BUCKET,
            capacity=settings.rate_limit_capacity,
            refill_per_day=settings.rate_limit_refill_per_day,
        ),
        idempotency_key=idempotency_key,
    )
    return Created(InterviewOut.model_validate(record), record.version, replayed=replayed)


def get_interview(user_id: str, interview_id: UUID) -> Versioned[InterviewOut]:
    record = repo.get(user_id, interview_id)
    return Versioned(InterviewOut.model_validate(record), record.version)


def list_interviews(
    user_id: str, job_info_id: UUID, limit: int, after: Position | None, *, completed: bool = False
) -> tuple[Sequence[InterviewOut], Position | None]:
    """Most recently updated first; `completed`: only the interviews that reached Hume."""
    records, next_page = repo.page(user_id, job_info_id, limit, after, completed=completed)
    return [InterviewOut.model_validate(r) for r in records], next_page


def update_interview(
    user_id: str,
    features: frozenset[str],
    interview_id: UUID,
    data: InterviewUpdate,
    if_match: Collection[int] | None = None,
) -> Updated[InterviewOut]:
    """412 (stale If-Match), then 409 (humeChatId write-once, feedback before it), then 403 when
    the interview's first humeChatId would take a unit the plan no longer has (plan_usage)."""
    plan_limit = plan_usage.INTERVIEWS.limit_for(features)
    record, changed = repo.update(user_id, interview_id, data.changes(), if_match, plan_limit=plan_limit)
    return Updated(InterviewOut.model_validate(record), record.version, changed=changed)


def delete_interview(user_id: str, interview_id: UUID, if_match: Collection[int] | None = None) -> None:
    """The interview and its InterviewDeleted event; what it spent of the plan is not refunded."""
    repo.delete(user_id, interview_id, if_match)
