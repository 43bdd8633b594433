"""Job info use cases: one function per action, one statement each (see the repository)."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from uuid import UUID

from jobprep.job_infos import repository as repo
from jobprep.job_infos.schemas import JobInfoCreate, JobInfoOut, JobInfoUpdate
from jobprep.keyset import Position
from jobprep.versioned import Created, Updated, Versioned


def create_job_info(user_id: str, data: JobInfoCreate, idempotency_key: str | None = None) -> Created[JobInfoOut]:
    record, replayed = repo.create(user_id, data.model_dump(), idempotency_key)
    return Created(JobInfoOut.model_validate(record), record.version, replayed=replayed)


def get_job_info(user_id: str, job_info_id: UUID) -> Versioned[JobInfoOut]:
    record = repo.get(user_id, job_info_id)
    return Versioned(JobInfoOut.model_validate(record), record.version)


def list_job_infos(user_id: str, limit: int, after: Position | None) -> tuple[Sequence[JobInfoOut], Position | None]:
    records, next_page = repo.page(user_id, limit, after)
    return [JobInfoOut.model_validate(r) for r in records], next_page


def update_job_info(
    user_id: str, job_info_id: UUID, data: JobInfoUpdate, if_match: Collection[int] | None = None
) -> Updated[JobInfoOut]:
    record, changed = repo.update(user_id, job_info_id, data.changes(), if_match)
    return Updated(JobInfoOut.model_validate(record), record.version, changed=changed)
