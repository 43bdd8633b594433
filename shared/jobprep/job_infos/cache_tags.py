"""Cache tags of the original web app (src/features/jobInfos/dbCache.ts)."""

from __future__ import annotations

from uuid import UUID


def global_tag() -> str:
    return "global:jobInfos"


def user_tag(user_id: str) -> str:
    return f"user:{user_id}:jobInfos"


def id_tag(job_info_id: UUID) -> str:
    return f"id:{job_info_id}:jobInfos"


def job_info_tags(job_info_id: UUID, user_id: str) -> list[str]:
    """What revalidateJobInfoCache({id, userId}) revalidates."""
    return [global_tag(), user_tag(user_id), id_tag(job_info_id)]
