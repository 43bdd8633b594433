"""job_infos table (mirrors the original Drizzle schema, plus bounds and a version for ETags)."""

from typing import Literal, get_args

from sqlalchemy import Column, DateTime, Enum, Index, Integer, String, Table, Uuid, func, text

from jobprep.db.metadata import metadata
from jobprep.identity import USER_ID_MAX

ExperienceLevel = Literal["junior", "mid-level", "senior"]  # the API's values and the enum's

NAME_MAX = 200
TITLE_MAX = 200
DESCRIPTION_MAX = 20_000

experience_level_enum = Enum(*get_args(ExperienceLevel), name="job_infos_experience_level")

job_infos = Table(
    "job_infos",
    metadata,
    Column("id", Uuid, primary_key=True, server_default=text("gen_random_uuid()")),
    Column("user_id", String(USER_ID_MAX), nullable=False),
    Column("name", String(NAME_MAX), nullable=False),
    Column("title", String(TITLE_MAX), nullable=True),
    Column("experience_level", experience_level_enum, nullable=False),
    Column("description", String(DESCRIPTION_MAX), nullable=False),
    Column("version", Integer, nullable=False, server_default=text("1")),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    # Serves "caller's job infos, most recently updated first" (the original app's order) and
    # keyset pagination in one index scan.
    Index("ix_job_infos_user_id_updated_at_id", "user_id", text("updated_at DESC"), text("id DESC")),
)
