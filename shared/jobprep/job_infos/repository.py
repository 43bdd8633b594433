"""SQL for job infos. Every statement is scoped to the owner's user id."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from typing import Any
from uuid import UUID

from sqlalchemy import Connection, delete, func, insert, select, update
from sqlalchemy.engine import RowMapping

from jobprep.interviews.models import interviews
from jobprep.job_infos.models import job_infos
from jobprep.pagination import paginate

_COLUMNS = (
    job_infos.c.id,
    job_infos.c.name,
    job_infos.c.title,
    job_infos.c.experience_level,
    job_infos.c.description,
    job_infos.c.version,
    job_infos.c.created_at,
    job_infos.c.updated_at,
)


def _owned(user_id: str, job_info_id: UUID) -> tuple[Any, ...]:
    return job_infos.c.id == job_info_id, job_infos.c.user_id == user_id


def insert_job_info(conn: Connection, user_id: str, values: dict[str, Any]) -> RowMapping:
    stmt = insert(job_infos).values(user_id=user_id, **values).returning(*_COLUMNS)
    return conn.execute(stmt).mappings().one()


def get_job_info(conn: Connection, user_id: str, job_info_id: UUID, *, for_update: bool = False) -> RowMapping | None:
    stmt = select(*_COLUMNS).where(*_owned(user_id, job_info_id))
    if for_update:
        stmt = stmt.with_for_update()
    return conn.execute(stmt).mappings().first()


def list_job_infos(conn: Connection, user_id: str, limit: int, cursor: str | None) -> Sequence[RowMapping]:
    stmt = paginate(select(*_COLUMNS).where(job_infos.c.user_id == user_id), job_infos, limit, cursor)
    return conn.execute(stmt).mappings().all()


def update_job_info(
    conn: Connection,
    user_id: str,
    job_info_id: UUID,
    changes: dict[str, Any],
    if_match: Collection[int] | None,
) -> RowMapping | None:
    """Apply the changes atomically; None when the row is missing, not the caller's or stale."""
    stmt = update(job_infos).where(*_owned(user_id, job_info_id))
    if if_match is not None:
        stmt = stmt.where(job_infos.c.version.in_(if_match))
    stmt = stmt.values(**changes, version=job_infos.c.version + 1, updated_at=func.now()).returning(*_COLUMNS)
    return conn.execute(stmt).mappings().first()


def interview_ids(conn: Connection, job_info_id: UUID) -> list[UUID]:
    return list(conn.execute(select(interviews.c.id).where(interviews.c.job_info_id == job_info_id)).scalars())


def delete_job_info(conn: Connection, user_id: str, job_info_id: UUID) -> None:
    conn.execute(delete(job_infos).where(*_owned(user_id, job_info_id)))
