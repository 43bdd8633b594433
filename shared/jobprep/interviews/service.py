"""Interview use cases. Ownership is always checked through the parent job info."""

from __future__ import annotations

from collections.abc import Collection
from uuid import UUID

from sqlalchemy import Connection

from jobprep import db, idempotency, rate_limit
from jobprep.config import get_settings
from jobprep.errors import NotFound, PlanLimitReached
from jobprep.events import invalidation_event, mutation
from jobprep.interviews import repository as repo
from jobprep.interviews.cache_tags import interview_tags
from jobprep.interviews.schemas import InterviewCreate, InterviewOut, InterviewPage, InterviewUpdate
from jobprep.job_infos.repository import get_job_info
from jobprep.outbox import InvalidationEvent
from jobprep.pagination import split_page
from jobprep.results import Created, Versioned, parse_id, updated_or_raise

SOURCE = "job-prep.interviews"
RATE_LIMIT_BUCKET = "create_interview"
UNLIMITED_FEATURE = "unlimited_interviews"
ONE_INTERVIEW_FEATURE = "1_interview"


def _event(detail_type: str, interview_id: UUID, job_info_id: UUID, user_id: str) -> InvalidationEvent:
    return invalidation_event(
        SOURCE,
        detail_type,
        resource_id=interview_id,
        user_id=user_id,
        job_info_id=job_info_id,
        tags=interview_tags(interview_id, job_info_id),
    )


def _check_plan(conn: Connection, user_id: str, features: frozenset[str]) -> None:
    """The original canCreateInterview: unlimited, or one interview that reached Hume."""
    if UNLIMITED_FEATURE in features:
        return
    if ONE_INTERVIEW_FEATURE in features and repo.count_completed_interviews(conn, user_id) < 1:
        return
    raise PlanLimitReached()


def create_interview(
    user_id: str,
    features: frozenset[str],
    raw_job_info_id: str,
    data: InterviewCreate,
    idempotency_key: str | None = None,
) -> Created[InterviewOut]:
    job_info_id = parse_id(raw_job_info_id)
    settings = get_settings()
    values = data.model_dump()
    with mutation() as unit:
        if idempotency_key is not None:
            fingerprint = idempotency.request_fingerprint("create_interview", [str(job_info_id), values])
            stored = idempotency.claim(unit.conn, user_id, idempotency_key, "create_interview", fingerprint)
            if stored is not None:
                return Created.from_stored(InterviewOut, stored)
        if get_job_info(unit.conn, user_id, job_info_id) is None:
            raise NotFound()
        _check_plan(unit.conn, user_id, features)
        # In this transaction: if anything below fails, the token is given back by the rollback.
        rate_limit.take_token(
            unit.conn,
            user_id,
            RATE_LIMIT_BUCKET,
            capacity=settings.rate_limit_capacity,
            refill_per_day=settings.rate_limit_refill_per_day,
        )
        row = repo.insert_interview(unit.conn, job_info_id, values)
        unit.emit(_event("InterviewCreated", row["id"], job_info_id, user_id))
        created = Created(InterviewOut.model_validate(row), row["version"])
        if idempotency_key is not None:
            idempotency.store_response(unit.conn, user_id, idempotency_key, 201, created.to_stored())
    return created


def get_interview(user_id: str, raw_id: str) -> Versioned[InterviewOut]:
    interview_id = parse_id(raw_id)
    with db.autocommit() as conn:
        row = repo.get_interview(conn, user_id, interview_id)
    if row is None:
        raise NotFound()
    return Versioned(InterviewOut.model_validate(row), row["version"])


def list_interviews(user_id: str, raw_job_info_id: str, limit: int, cursor: str | None) -> InterviewPage:
    job_info_id = parse_id(raw_job_info_id)
    with db.autocommit() as conn:
        # An empty page must not hide "that job info is not yours": check the parent first.
        if get_job_info(conn, user_id, job_info_id) is None:
            raise NotFound()
        rows = repo.list_interviews(conn, user_id, job_info_id, limit, cursor)
    page, next_cursor = split_page(rows, limit)
    return InterviewPage(items=[InterviewOut.model_validate(r) for r in page], next_cursor=next_cursor)


def update_interview(
    user_id: str, raw_id: str, data: InterviewUpdate, if_match: Collection[int] | None = None
) -> Versioned[InterviewOut]:
    interview_id = parse_id(raw_id)
    with mutation() as unit:
        row = updated_or_raise(
            repo.update_interview(unit.conn, user_id, interview_id, data.changes(), if_match),
            if_match,
            lambda: repo.get_interview(unit.conn, user_id, interview_id) is not None,
        )
        unit.emit(_event("InterviewUpdated", interview_id, row["job_info_id"], user_id))
    return Versioned(InterviewOut.model_validate(row), row["version"])
