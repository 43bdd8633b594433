"""Cascading delete use cases: a job info with its interviews; all of a deleted user's data."""

from __future__ import annotations

from collections.abc import Collection
from uuid import UUID

from jobprep.cascades import repository as repo
from jobprep.cascades.repository import DeletedUserData


def delete_job_info(user_id: str, job_info_id: UUID, if_match: Collection[int] | None = None) -> None:
    """The job info and its interviews and questions (ON DELETE CASCADE), with one JobInfoDeleted
    event whose tags also cover every removed interview and question."""
    repo.delete_job_info(user_id, job_info_id, if_match)


def delete_user_data(user_id: str, delivery_id: str, delivery_type: str = "user.deleted") -> DeletedUserData:
    """Everything stored for a user the identity provider deleted (profile and plan usage
    included), and the account's tombstone, in one atomic statement that also records the webhook
    delivery: a repeat of `delivery_id` changes nothing (`repeated`). One UserDataDeleted event
    (several for a very large account) invalidates the user's lists, the user, and every removed
    job info, interview and question."""
    return repo.delete_user_data(user_id, delivery_id, delivery_type)
