"""What a user has spent of their plan: interviews started (given a humeChatId) and questions
created. Counted per user, not per row, so deleting a job info (and with it its interviews and
questions) refunds nothing; the statement that spends a unit writes the count. Account deletion
removes the row."""

from sqlalchemy import Column, DateTime, Integer, String, Table, func, text

from jobprep.db.metadata import metadata
from jobprep.identity import USER_ID_MAX

plan_usage = Table(
    "plan_usage",
    metadata,
    Column("user_id", String(USER_ID_MAX), primary_key=True),
    Column("interviews", Integer, nullable=False, server_default=text("0")),
    Column("questions", Integer, nullable=False, server_default=text("0")),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
)
