"""SQL for job infos. Every statement is scoped to the owner's user id.

Statements are built once at import with bind parameters and run through jobprep.db's
compiled-once path: per invocation only the values change. (The list query is built per call,
its cursor condition varies, so it goes through Connection.execute.)
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from functools import cache
from typing import Any
from uuid import UUID

from sqlalchemy import ARRAY, Connection, Integer, Update, any_, bindparam, delete, func, insert, select, update
from sqlalchemy.engine import RowMapping
from sqlalchemy.sql.dml import ReturningInsert

from jobprep import db
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

_GET = select(*_COLUMNS).where(*_OWNED)
_GET_FOR_UPDATE = _GET.with_for_update()
_DELETE = delete(job_infos).where(*_OWNED)
_INTERVIEW_IDS = select(interviews.c.id).where(interviews.c.job_info_id == bindparam("job_info_id"))


@cache
def _insert_statement(columns: frozenset[str]) -> ReturningInsert[Any]:
    """One statement per set of inserted columns (the create model's fields), built on first use."""
    values: dict[str, Any] = {name: bindparam(name) for name in sorted(columns | {"user_id"})}
    return insert(job_infos).values(values).returning(*_COLUMNS)


@cache
def _update_statement(columns: frozenset[str], guarded: bool) -> Update:
    """One statement per combination of changed columns (a handful), built on first use."""
    stmt = update(job_infos).where(*_OWNED)
    if guarded:  # = ANY(array): one compiled statement for any number of ETags (IN would expand per call)
        stmt = stmt.where(job_infos.c.version == any_(bindparam("if_match", type_=ARRAY(Integer))))
    values: dict[str, Any] = {name: bindparam(f"new_{name}") for name in sorted(columns)}
    values.update(version=job_infos.c.version + 1, updated_at=func.now())
    return stmt.values(values).returning(*_COLUMNS)


def insert_job_info(conn: Connection, user_id: str, values: dict[str, Any]) -> dict[str, Any]:
    row = db.fetch_one(conn, _insert_statement(frozenset(values)), {"user_id": user_id, **values})
    assert row is not None  # INSERT ... RETURNING always returns the row
    return row


def get_job_info(
    conn: Connection, user_id: str, job_info_id: UUID, *, for_update: bool = False
) -> dict[str, Any] | None:
    stmt = _GET_FOR_UPDATE if for_update else _GET
    return db.fetch_one(conn, stmt, {"job_info_id": job_info_id, "owner_id": user_id})


def list_job_infos(conn: Connection, user_id: str, limit: int, cursor: str | None) -> Sequence[RowMapping]:
    stmt = paginate(select(*_COLUMNS).where(job_infos.c.user_id == user_id), job_infos, limit, cursor)
    return conn.execute(stmt).mappings().all()


def update_job_info(
    conn: Connection,
    user_id: str,
    job_info_id: UUID,
    changes: dict[str, Any],
    if_match: Collection[int] | None,
) -> dict[str, Any] | None:
    """Apply the changes atomically; None when the row is missing, not the caller's or stale."""
    params: dict[str, Any] = {"job_info_id": job_info_id, "owner_id": user_id}
    params.update({f"new_{name}": value for name, value in changes.items()})
    if if_match is not None:
        params["if_match"] = list(if_match)
    stmt = _update_statement(frozenset(changes), if_match is not None)
    return db.fetch_one(conn, stmt, params)


def interview_ids(conn: Connection, job_info_id: UUID) -> list[UUID]:
    return db.fetch_scalars(conn, _INTERVIEW_IDS, {"job_info_id": job_info_id})


def delete_job_info(conn: Connection, user_id: str, job_info_id: UUID) -> None:
    db.execute(conn, _DELETE, {"job_info_id": job_info_id, "owner_id": user_id})
