"""What a user has spent of their plan: interviews started (given a humeChatId) and questions
created. Counted per user, not per row, so deleting a job info (and with it its interviews and
questions) refunds nothing; the statement that spends a unit writes the count. Account deletion
removes the row."""

from collections.abc import Collection
from dataclasses import dataclass

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


@dataclass(frozen=True)
class Allowance:
    """What a plan allows of one kind of unit, from Clerk's plan features (the JWT `fea` claim):
    `unlimited` -> no limit; `limited` -> `limit` units; neither -> none."""

    unlimited: str
    limited: str
    limit: int

    def limit_for(self, features: Collection[str]) -> int | None:
        """The caller's limit (None: unlimited)."""
        if self.unlimited in features:
            return None
        return self.limit if self.limited in features else 0


# The original app's plans (canCreateInterview, canCreateQuestion).
INTERVIEWS = Allowance(unlimited="unlimited_interviews", limited="1_interview", limit=1)
QUESTIONS = Allowance(unlimited="unlimited_questions", limited="5_questions", limit=5)
