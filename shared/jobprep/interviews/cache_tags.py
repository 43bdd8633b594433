"""Cache tags of the original web app (src/features/interviews/dbCache.ts)."""

from __future__ import annotations

from uuid import UUID


def global_tag() -> str:
    return "global:interviews"


def job_info_tag(job_info_id: UUID) -> str:
    return f"jobInfo:{job_info_id}:interviews"


def id_tag(interview_id: UUID) -> str:
    return f"id:{interview_id}:interviews"


def interview_tags(interview_id: UUID, job_info_id: UUID) -> list[str]:
    """What revalidateInterviewCache({id, jobInfoId}) revalidates."""
    return [global_tag(), job_info_tag(job_info_id), id_tag(interview_id)]
