"""Question use cases. Ownership is always checked through the parent job info."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from uuid import UUID

from jobprep import plan_usage
from jobprep.keyset import Position
from jobprep.questions import repository as repo
from jobprep.questions.schemas import QuestionCreate, QuestionOut
from jobprep.versioned import Created, Versioned


def create_question(
    user_id: str,
    features: Collection[str],
    job_info_id: UUID,
    data: QuestionCreate,
    idempotency_key: str | None = None,
) -> Created[QuestionOut]:
    """404 (job info not the caller's), then 403 when the plan's questions (5_questions: five,
    unlimited_questions: no limit, neither: none) are spent. Deleting questions refunds nothing."""
    record, replayed = repo.create(
        user_id,
        job_info_id,
        data.model_dump(),
        limit=plan_usage.QUESTIONS.limit_for(features),
        idempotency_key=idempotency_key,
    )
    return Created(QuestionOut.model_validate(record), record.version, replayed=replayed)


def get_question(user_id: str, question_id: UUID) -> Versioned[QuestionOut]:
    record = repo.get(user_id, question_id)
    return Versioned(QuestionOut.model_validate(record), record.version)


def list_questions(
    user_id: str, job_info_id: UUID, limit: int, after: Position | None
) -> tuple[Sequence[QuestionOut], Position | None]:
    records, next_page = repo.page(user_id, job_info_id, limit, after)
    return [QuestionOut.model_validate(r) for r in records], next_page
