"""SQL for job infos. Every statement is scoped to the owner's user id.

Statements are built once at import with bind parameters: per invocation only the values
change, so SQLAlchemy neither rebuilds the expression nor recompiles it.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from functools import cache
from typing import Any
from uuid import UUID

from sqlalchemy import Connection, Update, bindparam, delete, func, insert, select, update
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
_OWNED = (job_infos.c.id == bindparam("job_info_id"), job_infos.c.user_id == bindparam("owner_id"))

_INSERT = insert(job_infos).returning(*_COLUMNS)
_GET = select(*_COLUMNS).where(*_OWNED)
_GET_FOR_UPDATE = _GET.with_for_update()
_DELETE = delete(job_infos).where(*_OWNED)
_INTERVIEW_IDS = select(interviews.c.id).where(interviews.c.job_info_id == bindparam("job_info_id"))


@cache
def _update_statement(columns: frozenset[str], guarded: bool) -> Update:
    """One statement per combination of changed columns (a handful), built on first use."""
    stmt = update(job_infos).where(*_OWNED)
    if guarded:
        stmt = stmt.where(job_infos.c.version.in_(bindparam("if_match", expanding=True)))
    values: dict[str, Any] = {name: bindparam(f"new_{name}") for name in sorted(columns)}
    values.update(version=job_infos.c.version + 1, updated_at=func.now())
    return stmt.values(values).returning(*_COLUMNS)


def insert_job_info(conn: Connection, user_id: str, values: dict[str, Any]) -> RowMapping:
    return conn.execute(_INSERT, {"user_id": user_id, **values}).mappings().one()


def get_job_info(conn: Connection, user_id: str, job_info_id: UUID, *, for_update: bool = False) -> RowMapping | None:
    stmt = _GET_FOR_UPDATE if for_update else _GET
    return conn.execute(stmt, {"job_info_id": job_info_id, "owner_id": user_id}).mappings().first()


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
    params: dict[str, Any] = {"job_info_id": job_info_id, "owner_id": user_id}
    params.update({f"new_{name}": value for name, value in changes.items()})
    if if_match is not None:
        params["if_match"] = list(if_match)
    stmt = _update_statement(frozenset(changes), if_match is not None)
    return conn.execute(stmt, params).mappings().first()


def interview_ids(conn: Connection, job_info_id: UUID) -> list[UUID]:
    return list(conn.execute(_INTERVIEW_IDS, {"job_info_id": job_info_id}).scalars())


def delete_job_info(conn: Connection, user_id: str, job_info_id: UUID) -> None:
    conn.execute(_DELETE, {"job_info_id": job_info_id, "owner_id": user_id})
