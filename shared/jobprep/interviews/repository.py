"""SQL for interviews. Ownership goes through the parent job info's user id.

Statements are built once at import with bind parameters and run through jobprep.db's
compiled-once path (see job_infos.repository).
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from functools import cache
from typing import Any
from uuid import UUID

from sqlalchemy import ARRAY, Connection, Integer, Update, any_, bindparam, func, insert, select, update
from sqlalchemy.engine import RowMapping
from sqlalchemy.sql.dml import ReturningInsert

from jobprep import db
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
_OWNER = job_infos.c.user_id == bindparam("owner_id")

_GET = select(*_COLUMNS).select_from(_owner_join).where(interviews.c.id == bindparam("interview_id"), _OWNER)
_COUNT_COMPLETED = select(func.count()).select_from(_owner_join).where(_OWNER, interviews.c.hume_chat_id.is_not(None))


@cache
def _insert_statement(columns: frozenset[str]) -> ReturningInsert[Any]:
    """One statement per set of inserted columns (the create model's fields), built on first use."""
    values: dict[str, Any] = {name: bindparam(name) for name in sorted(columns | {"job_info_id"})}
    return insert(interviews).values(values).returning(*_COLUMNS)


@cache
def _update_statement(columns: frozenset[str], guarded: bool) -> Update:
    stmt = update(interviews).where(
        interviews.c.id == bindparam("interview_id"), interviews.c.job_info_id == job_infos.c.id, _OWNER
    )
    if guarded:  # = ANY(array): one compiled statement for any number of ETags (IN would expand per call)
        stmt = stmt.where(interviews.c.version == any_(bindparam("if_match", type_=ARRAY(Integer))))
    values: dict[str, Any] = {name: bindparam(f"new_{name}") for name in sorted(columns)}
    values.update(version=interviews.c.version + 1, updated_at=func.now())
    return stmt.values(values).returning(*_COLUMNS)


def insert_interview(conn: Connection, job_info_id: UUID, values: dict[str, Any]) -> dict[str, Any]:
    row = db.fetch_one(conn, _insert_statement(frozenset(values)), {"job_info_id": job_info_id, **values})
    assert row is not None  # INSERT ... RETURNING always returns the row
    return row


def get_interview(conn: Connection, user_id: str, interview_id: UUID) -> dict[str, Any] | None:
    return db.fetch_one(conn, _GET, {"interview_id": interview_id, "owner_id": user_id})


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
) -> dict[str, Any] | None:
    """Apply the changes atomically; None when the row is missing, not the caller's or stale."""
    params: dict[str, Any] = {"interview_id": interview_id, "owner_id": user_id}
    params.update({f"new_{name}": value for name, value in changes.items()})
    if if_match is not None:
        params["if_match"] = list(if_match)
    return db.fetch_one(conn, _update_statement(frozenset(changes), if_match is not None), params)


def count_completed_interviews(conn: Connection, user_id: str) -> int:
    """Interviews that reached Hume (humeChatId set): what the original plan limit counts."""
    return int(db.fetch_scalars(conn, _COUNT_COMPLETED, {"owner_id": user_id})[0])
