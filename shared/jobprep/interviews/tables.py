"""interviews table: owned through its job info (no user_id column, as in the original)."""

from sqlalchemy import Column, DateTime, ForeignKey, Index, Integer, String, Table, Uuid, func, text

from jobprep.db.metadata import metadata

DURATION_PATTERN = r"^[0-9]{2}:[0-5][0-9]:[0-5][0-9]$"
HUME_CHAT_ID_MAX = 255
FEEDBACK_MAX = 50_000

interviews = Table(
    "interviews",
    metadata,
    Column("id", Uuid, primary_key=True, server_default=text("gen_random_uuid()")),
    Column(
        "job_info_id",
        Uuid,
        ForeignKey("job_infos.id", ondelete="CASCADE"),
        nullable=False,
    ),
    Column("duration", String(8), nullable=False, server_default=text("'00:00:00'")),
    Column("hume_chat_id", String(HUME_CHAT_ID_MAX), nullable=True),
    Column("feedback", String(FEEDBACK_MAX), nullable=True),
    Column("version", Integer, nullable=False, server_default=text("1")),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    # A job info's interviews, most recently updated first (the original app's order) ...
    Index("ix_interviews_job_info_id_updated_at_id", "job_info_id", text("updated_at DESC"), text("id DESC")),
    # ... and only the completed ones (?completed=true: those that reached Hume).
    Index(
        "ix_interviews_completed_job_info_id_updated_at_id",
        "job_info_id",
        text("updated_at DESC"),
        text("id DESC"),
        postgresql_where=text("hume_chat_id IS NOT NULL"),
    ),
)
