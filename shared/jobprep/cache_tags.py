"""The web app's cache tags (src/features/*/dbCache.ts in the original app), one place for all.

They are SQL expressions because an invalidation event is built inside the statement that
makes the change (the ids it needs, such as a new row's id or an interview's job info id,
exist only there). ``concat`` renders uuids as their canonical text.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, func
from sqlalchemy.dialects.postgresql import JSONB

from jobprep.prebuilt import constant

Part = ColumnElement[Any]


def _tag(*parts: str | Part) -> ColumnElement[str]:
    return func.concat(*(constant(p) if isinstance(p, str) else p for p in parts))


def job_infos_global() -> ColumnElement[str]:
    return constant("global:jobInfos")


def job_infos_of_user(user_id: Part) -> ColumnElement[str]:
    return _tag("user:", user_id, ":jobInfos")


def job_info(job_info_id: Part) -> ColumnElement[str]:
    return _tag("id:", job_info_id, ":jobInfos")


def interviews_global() -> ColumnElement[str]:
    return constant("global:interviews")


def interviews_of_job_info(job_info_id: Part) -> ColumnElement[str]:
    return _tag("jobInfo:", job_info_id, ":interviews")


def interview(interview_id: Part) -> ColumnElement[str]:
    return _tag("id:", interview_id, ":interviews")


def questions_global() -> ColumnElement[str]:
    return constant("global:questions")


def questions_of_job_info(job_info_id: Part) -> ColumnElement[str]:
    return _tag("jobInfo:", job_info_id, ":questions")


def question(question_id: Part) -> ColumnElement[str]:
    return _tag("id:", question_id, ":questions")


def users_global() -> ColumnElement[str]:
    return constant("global:users")


def user(user_id: Part) -> ColumnElement[str]:
    return _tag("id:", user_id, ":users")


def job_info_tags(job_info_id: Part, user_id: Part) -> list[ColumnElement[str]]:
    """What revalidateJobInfoCache({id, userId}) revalidates."""
    return [job_infos_global(), job_infos_of_user(user_id), job_info(job_info_id)]


def interview_tags(interview_id: Part, job_info_id: Part) -> list[ColumnElement[str]]:
    """What revalidateInterviewCache({id, jobInfoId}) revalidates."""
    return [interviews_global(), interviews_of_job_info(job_info_id), interview(interview_id)]


def question_tags(question_id: Part, job_info_id: Part) -> list[ColumnElement[str]]:
    """What revalidateQuestionCache({id, jobInfoId}) revalidates."""
    return [questions_global(), questions_of_job_info(job_info_id), question(question_id)]


def user_tags(user_id: Part) -> list[ColumnElement[str]]:
    """What revalidateUserCache(id) revalidates."""
    return [users_global(), user(user_id)]


def as_json(tags: list[ColumnElement[str]]) -> ColumnElement[Any]:
    """A JSON array of tags, to concatenate (``||``) with other tag arrays."""
    return func.jsonb_build_array(*tags, type_=JSONB)
