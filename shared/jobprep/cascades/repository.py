"""SQL for cascading deletes: one statement each, tags of every removed row in its event."""

from __future__ import annotations

from collections.abc import Collection
from functools import cache
from typing import Any
from uuid import UUID

from sqlalchemy import ARRAY, Integer, Select, String, Uuid, any_, bindparam, case, exists, func, select, true
from sqlalchemy.dialects.postgresql import JSONB

from jobprep import cache_tags, unit_of_work
from jobprep.errors import Contended, NotFound, PreconditionFailed
from jobprep.events import outbox
from jobprep.interviews.tables import interviews
from jobprep.job_infos.repository import SOURCE as JOB_INFOS_SOURCE
from jobprep.job_infos.tables import job_infos

_OWNER = bindparam("owner_id", type_=String)
ATTEMPTS = 3


@cache
def _delete_job_info_statement(guarded: bool) -> Select[Any]:
    current = (
        select(job_infos.c.id, job_infos.c.version)
        .where(job_infos.c.id == bindparam("job_info_id", type_=Uuid), job_infos.c.user_id == _OWNER)
        .cte("current")
    )
    # The statement's snapshot: the interviews ON DELETE CASCADE is about to remove.
    cascaded = select(interviews.c.id).where(interviews.c.job_info_id == select(current.c.id).scalar_subquery())
    cascaded_cte = cascaded.cte("cascaded")
    conditions = [job_infos.c.id == select(current.c.id).scalar_subquery()]
    if guarded:
        conditions.append(job_infos.c.version == any_(bindparam("if_match", type_=ARRAY(Integer))))
    deleted = job_infos.delete().where(*conditions).returning(job_infos.c.id).cte("deleted")
    own = cache_tags.as_json(
        [*cache_tags.job_info_tags(deleted.c.id, _OWNER), cache_tags.interviews_of_job_info(deleted.c.id)]
    )
    children = case(
        (
            exists(select(cascaded_cte.c.id)),
            cache_tags.as_json([cache_tags.interviews_global()]).op("||", return_type=JSONB)(
                select(func.jsonb_agg(cache_tags.interview(cascaded_cte.c.id))).scalar_subquery()
            ),
        ),
        else_=func.jsonb_build_array(type_=JSONB),
    )
    event = outbox.enqueue(
        deleted,
        source=JOB_INFOS_SOURCE,
        detail_type="JobInfoDeleted",
        resource_id=deleted.c.id,
        user_id=_OWNER,
        tags=own.op("||", return_type=JSONB)(children),
    )
    return select(
        current.c.version.label("current_version"),
        deleted.c.id.label("deleted_id"),
        *(event.c[c] for c in outbox.EVENT_COLUMNS),
    ).select_from(current.outerjoin(deleted, true()).outerjoin(event, true()))


def delete_job_info(user_id: str, job_info_id: UUID, if_match: Collection[int] | None) -> None:
    """Raises NotFound (missing or not the caller's) or PreconditionFailed (stale If-Match)."""
    stmt = _delete_job_info_statement(if_match is not None)
    params: dict[str, Any] = {"job_info_id": job_info_id, "owner_id": user_id}
    if if_match is not None:
        params["if_match"] = list(if_match)
    for _ in range(ATTEMPTS):
        row = unit_of_work.change(stmt, params)
        if row is None:
            raise NotFound()
        if row.deleted_id is not None:
            return
        if if_match is not None and row.current_version not in if_match:
            raise PreconditionFailed()
        # Changed or deleted between the snapshot and the delete: look again.
    raise Contended()
