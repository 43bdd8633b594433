"""What a user has spent of their plan: interviews started (given a humeChatId) and questions
created. Counted per user, not per row, so deleting a job info (and with it its interviews and
questions) refunds nothing; the statement that spends a unit writes the count. Account deletion
removes the row."""

from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

from sqlalchemy import CTE, Column, ColumnElement, DateTime, Integer, Select, String, Table, func, or_, select, text
from sqlalchemy.dialects.postgresql import insert

from jobprep.binds import OWNER, PLAN_LIMIT
from jobprep.db.metadata import metadata
from jobprep.identity import USER_ID_MAX
from jobprep.prebuilt import constant, cte

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


def spend(gate: Select[Any], units: Column[int]) -> CTE:
    """Spends one unit (`units`: plan_usage.interviews or .questions) for each row `gate` yields
    (one, or none when an earlier check failed), within the bound binds.PLAN_LIMIT (NULL:
    unlimited); yields the new count only when the plan allowed it. An upsert: concurrent
    requests of one user serialize on their plan_usage row and re-check the limit on the row as
    the other one left it, so two cannot both take the last unit."""
    allowed = or_(PLAN_LIMIT.is_(None), units < PLAN_LIMIT)
    first = or_(PLAN_LIMIT.is_(None), constant(0) < PLAN_LIMIT)  # a plan of none: no first unit either
    statement = insert(plan_usage).from_select(
        ["user_id", units.name],
        gate.with_only_columns(OWNER.label("user_id"), constant(1).label(units.name), maintain_column_froms=True).where(
            first
        ),
    )
    return cte(
        statement.on_conflict_do_update(
            index_elements=[plan_usage.c.user_id],
            set_={units.name: units + constant(1), "updated_at": func.now()},
            where=allowed,
        ).returning(units),
        f"spent_{units.name}",
        f"one unit of the caller's plan spent (plan_usage.{units.name} + 1), only if the plan allows one more",
    )


def allows(units: Column[int]) -> ColumnElement[bool]:
    """Whether the caller's plan (binds.PLAN_LIMIT) allows one more unit, as plan_usage says now."""
    used = select(units).where(plan_usage.c.user_id == OWNER).scalar_subquery()
    return or_(PLAN_LIMIT.is_(None), func.coalesce(used, constant(0)) < PLAN_LIMIT)
