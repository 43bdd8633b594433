"""questions table: owned through its job info (no user_id column, as in the original)."""

from typing import Literal, get_args

from sqlalchemy import Column, DateTime, Enum, ForeignKey, Index, Integer, String, Table, Uuid, func, text

from jobprep.db.metadata import metadata

Difficulty = Literal["easy", "medium", "hard"]  # the API's values and the enum's
DIFFICULTIES: tuple[str, ...] = get_args(Difficulty)
TEXT_MAX = 20_000

difficulty_enum = Enum(*DIFFICULTIES, name="questions_difficulty")

questions = Table(
    "questions",
    metadata,
    Column("id", Uuid, primary_key=True, server_default=text("gen_random_uuid()")),
    Column("job_info_id", Uuid, ForeignKey("job_infos.id", ondelete="CASCADE"), nullable=False),
    Column("text", String(TEXT_MAX), nullable=False),
    Column("difficulty", difficulty_enum, nullable=False),
    Column("version", Integer, nullable=False, server_default=text("1")),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    # A job info's questions, oldest first, and keyset pagination in one index scan.
    Index("ix_questions_job_info_id_created_at_id", "job_info_id", "created_at", "id"),
)
