"""SQL for interviews. Ownership goes through the parent job info's user id."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from typing import Any
from uuid import UUID

from sqlalchemy import Connection, and_, func, insert, select, update
from sqlalchemy.engine import RowMapping

from jobprep.interviews.models import interviews
from jobprep.job_infos.models import job_infos
from jobprep.pagination import paginate

_COLUMNS = (
    interviews.c.id,
    interviews.c.job_info_id,
    interviews.c.duration,
    interviews.c.hume_chat_id,
    interviews.c.feedback,
    interviews.c.version,
    interviews.c.created_at,
    interviews.c.updated_at,
)

_owner_join = interviews.join(job_infos, interviews.c.job_info_id == job_infos.c.id)


def insert_interview(conn: Connection, job_info_id: UUID, values: dict[str, Any]) -> RowMapping:
    stmt = insert(interviews).values(job_info_id=job_info_id, **values).returning(*_COLUMNS)
    return conn.execute(stmt).mappings().one()


def get_interview(conn: Connection, user_id: str, interview_id: UUID) -> RowMapping | None:
    stmt = (
        select(*_COLUMNS)
        .select_from(_owner_join)
        .where(interviews.c.id == interview_id, job_infos.c.user_id == user_id)
    )
    return conn.execute(stmt).mappings().first()


def list_interviews(
    conn: Connection, user_id: str, job_info_id: UUID, limit: int, cursor: str | None
) -> Sequence[RowMapping]:
    stmt = paginate(
        select(*_COLUMNS)
        .select_from(_owner_join)
        .where(interviews.c.job_info_id == job_info_id, job_infos.c.user_id == user_id),
        interviews,
        limit,
        cursor,
    )
    return conn.execute(stmt).mappings().all()


def update_interview(
    conn: Connection,
    user_id: str,
    interview_id: UUID,
    changes: dict[str, Any],
    if_match: Collection[int] | None,
) -> RowMapping | None:
    owned = and_(
        interviews.c.id == interview_id,
        interviews.c.job_info_id == job_infos.c.id,
        job_infos.c.user_id == user_id,
    )
    stmt = update(interviews).where(owned)
    if if_match is not None:
        stmt = stmt.where(interviews.c.version.in_(if_match))
    stmt = stmt.values(**changes, version=interviews.c.version + 1, updated_at=func.now()).returning(*_COLUMNS)
    return conn.execute(stmt).mappings().first()


def count_completed_interviews(conn: Connection, user_id: str) -> int:
    """Interviews that reached Hume (humeChatId set): what the original plan limit counts."""
    stmt = (
        select(func.count())
        .select_from(_owner_join)
        .where(job_infos.c.user_id == user_id, interviews.c.hume_chat_id.is_not(None))
    )
    return int(conn.execute(stmt).scalar_one())
