"""Job info use cases: one function per action, each one transaction."""

from __future__ import annotations

from collections.abc import Collection
from uuid import UUID

from jobprep import db, idempotency
from jobprep.errors import NotFound, PreconditionFailed
from jobprep.events import invalidation_event, mutation
from jobprep.interviews import cache_tags as interview_tags
from jobprep.job_infos import repository as repo
from jobprep.job_infos.cache_tags import job_info_tags
from jobprep.job_infos.schemas import JobInfoCreate, JobInfoOut, JobInfoPage, JobInfoUpdate
from jobprep.outbox import InvalidationEvent
from jobprep.pagination import split_page
from jobprep.results import Created, Versioned, parse_id, updated_or_raise

SOURCE = "job-prep.job-infos"


def _event(detail_type: str, job_info_id: UUID, user_id: str, tags: list[str]) -> InvalidationEvent:
    return invalidation_event(SOURCE, detail_type, resource_id=job_info_id, user_id=user_id, tags=tags)


def create_job_info(user_id: str, data: JobInfoCreate, idempotency_key: str | None = None) -> Created[JobInfoOut]:
    values = data.model_dump()
    with mutation() as unit:
        if idempotency_key is not None:
            fingerprint = idempotency.request_fingerprint("create_job_info", values)
            stored = idempotency.claim(unit.conn, user_id, idempotency_key, "create_job_info", fingerprint)
            if stored is not None:
                return Created.from_stored(JobInfoOut, stored)
        row = repo.insert_job_info(unit.conn, user_id, values)
        unit.emit(_event("JobInfoCreated", row["id"], user_id, job_info_tags(row["id"], user_id)))
        created = Created(JobInfoOut.model_validate(row), row["version"])
        if idempotency_key is not None:
            idempotency.store_response(unit.conn, user_id, idempotency_key, 201, created.to_stored())
    return created


def get_job_info(user_id: str, raw_id: str) -> Versioned[JobInfoOut]:
    job_info_id = parse_id(raw_id)
    with db.autocommit() as conn:
        row = repo.get_job_info(conn, user_id, job_info_id)
    if row is None:
        raise NotFound()
    return Versioned(JobInfoOut.model_validate(row), row["version"])


def list_job_infos(user_id: str, limit: int, cursor: str | None) -> JobInfoPage:
    with db.autocommit() as conn:
        rows = repo.list_job_infos(conn, user_id, limit, cursor)
    page, next_cursor = split_page(rows, limit)
    return JobInfoPage(items=[JobInfoOut.model_validate(r) for r in page], next_cursor=next_cursor)


def update_job_info(
    user_id: str, raw_id: str, data: JobInfoUpdate, if_match: Collection[int] | None = None
) -> Versioned[JobInfoOut]:
    job_info_id = parse_id(raw_id)
    with mutation() as unit:
        row = updated_or_raise(
            repo.update_job_info(unit.conn, user_id, job_info_id, data.changes(), if_match),
            if_match,
            lambda: repo.get_job_info(unit.conn, user_id, job_info_id) is not None,
        )
        unit.emit(_event("JobInfoUpdated", job_info_id, user_id, job_info_tags(job_info_id, user_id)))
    return Versioned(JobInfoOut.model_validate(row), row["version"])


def delete_job_info(user_id: str, raw_id: str, if_match: Collection[int] | None = None) -> None:
    job_info_id = parse_id(raw_id)
    with mutation() as unit:
        # Locking the job info first blocks new interviews for it (their FK check needs a
        # share lock), so the cascaded interview ids read next are complete.
        row = repo.get_job_info(unit.conn, user_id, job_info_id, for_update=True)
        if row is None:
            raise NotFound()
        if if_match is not None and row["version"] not in if_match:
            raise PreconditionFailed()
        cascaded = repo.interview_ids(unit.conn, job_info_id)
        repo.delete_job_info(unit.conn, user_id, job_info_id)
        tags = [*job_info_tags(job_info_id, user_id), interview_tags.job_info_tag(job_info_id)]
        if cascaded:
            tags += [interview_tags.global_tag(), *(interview_tags.id_tag(i) for i in cascaded)]
        unit.emit(_event("JobInfoDeleted", job_info_id, user_id, tags))
