"""Cascading delete use cases."""

from __future__ import annotations

from collections.abc import Collection
from uuid import UUID

from jobprep.cascades import repository as repo


def delete_job_info(user_id: str, job_info_id: UUID, if_match: Collection[int] | None = None) -> None:
    """The job info and its interviews (ON DELETE CASCADE), with one JobInfoDeleted event whose
    tags also cover every removed interview."""
    repo.delete_job_info(user_id, job_info_id, if_match)
