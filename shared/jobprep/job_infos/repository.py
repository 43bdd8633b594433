"""SQL for job infos: one statement per operation, every one scoped to the owner's user id."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import CTE, select

from jobprep import binds, cache_tags, conditional, create_once, keyset
from jobprep.binds import JOB_INFO_ID, OWNER, value_of
from jobprep.db import reads
from jobprep.events import outbox
from jobprep.job_infos.schemas import JobInfoCreate, JobInfoUpdate
from jobprep.job_infos.tables import ExperienceLevel, job_infos
from jobprep.keyset import Position
from jobprep.prebuilt import Prebuilt
from jobprep.records import Record

SOURCE = "job-prep.job-infos"


@dataclass(frozen=True, slots=True)
class JobInfoRecord(Record):
    id: UUID
    name: str
    title: str | None
    experience_level: ExperienceLevel
    description: str
    version: int
    created_at: datetime
    updated_at: datetime


COLUMNS = JobInfoRecord.columns()


_ROW = select(*(job_infos.c[c] for c in COLUMNS))
_THE_CALLERS = _ROW.where(job_infos.c.id == JOB_INFO_ID, job_infos.c.user_id == OWNER)
_GET = Prebuilt("get_job_info", "read", "GET /job-infos/{jobInfoId}: the caller's job info.", _THE_CALLERS)
_PAGE = Prebuilt(
    "list_job_infos",
    "read",
    "GET /job-infos: a page of the caller's job infos, most recently updated first (then id).",
    keyset.newest_first(_ROW.where(job_infos.c.user_id == OWNER), job_infos.c.updated_at, job_infos.c.id),
)


def _event(rows: CTE, detail_type: str) -> CTE:
    return outbox.enqueue(
        rows,
        source=SOURCE,
        detail_type=detail_type,
        resource_id=rows.c.id,
        user_id=OWNER,
        tags=cache_tags.as_json(cache_tags.job_info_tags(rows.c.id, OWNER)),
    )


def get(user_id: str, job_info_id: UUID) -> JobInfoRecord:
    """Raises NotFound (missing or not the caller's: the same answer)."""
    return JobInfoRecord.of(reads.fetch_one(_GET, {JOB_INFO_ID.key: job_info_id, OWNER.key: user_id}))


def page(user_id: str, limit: int, after: Position | None) -> tuple[Sequence[JobInfoRecord], Position | None]:
    rows = reads.fetch(_PAGE, {OWNER.key: user_id, **keyset.params(limit, after)})
    return keyset.split_page([JobInfoRecord.of(r) for r in rows], limit, lambda r: Position(r.updated_at, r.id))


FIELDS = tuple(JobInfoCreate.model_fields)  # what a create sets
_create = create_once.CreateOnce(
    "create_job_info",
    "POST /job-infos: the job info and JobInfoCreated, once per Idempotency-Key.",
    JobInfoRecord,
    lambda first_time: create_once.Creation(
        job_infos.insert().from_select(
            ["user_id", *FIELDS],
            select(OWNER.label("user_id"), *(value_of(job_infos.c[n]).label(n) for n in FIELDS)).where(first_time),
        )
    ),
    lambda created: _event(created, "JobInfoCreated"),
)


def create(user_id: str, values: Mapping[str, Any], idempotency_key: str | None) -> tuple[JobInfoRecord, bool]:
    """The new job info (with its event), or the first one created with this Idempotency-Key,
    and whether it is that replay."""
    return _create.create({OWNER.key: user_id, **binds.values(job_infos, values)}, idempotency_key, values)


SETTABLE = tuple(JobInfoUpdate.model_fields)  # what a PATCH may name
_update = conditional.update(
    "update_job_info",
    "PATCH /job-infos/{jobInfoId}: the fields named, If-Match, JobInfoUpdated when a value changed.",
    job_infos,
    _THE_CALLERS,
    SETTABLE,
    lambda updated: _event(updated, "JobInfoUpdated"),
)


def update(
    user_id: str, job_info_id: UUID, changes: Mapping[str, Any], if_match: Collection[int] | None
) -> tuple[JobInfoRecord, bool]:
    """The row after the update and whether anything changed. Raises NotFound/PreconditionFailed."""
    params = {OWNER.key: user_id, JOB_INFO_ID.key: job_info_id, **binds.changes(job_infos, SETTABLE, changes)}
    row = _update.write(params, if_match)
    return JobInfoRecord.of(row), bool(row.written)
