"""The cache tags are the original app's, evaluated by PostgreSQL as the statements use them."""

from uuid import UUID

from sqlalchemy import ColumnElement, String, Uuid, literal, select
from sqlalchemy.engine import Engine

from jobprep import cache_tags

JOB = UUID("3f1c8a4e-8a7b-4a55-9d0c-6f1f1d2f9a10")
IV = UUID("7b0e2c61-5f3e-4d8e-a1f4-2c9b8d6e5a31")


def evaluated(engine: Engine, tags: list[ColumnElement[str]]) -> list[str]:
    with engine.connect() as conn:
        return list(conn.execute(select(*tags)).one())


def test_job_info_tags_are_the_original_apps(database: Engine) -> None:
    tags = cache_tags.job_info_tags(literal(JOB, Uuid), literal("user_1", String))
    assert evaluated(database, tags) == ["global:jobInfos", "user:user_1:jobInfos", f"id:{JOB}:jobInfos"]


def test_interview_tags_are_the_original_apps(database: Engine) -> None:
    tags = cache_tags.interview_tags(literal(IV, Uuid), literal(JOB, Uuid))
    assert evaluated(database, tags) == ["global:interviews", f"jobInfo:{JOB}:interviews", f"id:{IV}:interviews"]


def test_user_and_question_tags_are_the_original_apps(database: Engine) -> None:
    user = literal("user_1", String)
    assert evaluated(database, cache_tags.user_tags(user)) == ["global:users", "id:user_1:users"]
    question = cache_tags.question_tags(literal(IV, Uuid), literal(JOB, Uuid))
    assert evaluated(database, question) == ["global:questions", f"jobInfo:{JOB}:questions", f"id:{IV}:questions"]
