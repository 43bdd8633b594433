"""User use cases: Clerk's profile kept in sync; what the caller may do now (GET /me)."""

from __future__ import annotations

from jobprep import plan_usage
from jobprep.config import get_settings
from jobprep.identity import Caller
from jobprep.users import repository as repo
from jobprep.users.repository import Upserted

__all__ = ["Upserted", "get_me", "sync_user"]
from jobprep.users.schemas import InterviewTokensOut, MeOut, PlanUsageOut, UsageOut, UserOut, UserProfile


def sync_user(profile: UserProfile, delivery_id: str, delivery_type: str) -> Upserted:
    """user.created / user.updated: the profile stored unless the stored one is as new or the
    account was deleted here; once per delivery id. Raises EmailInUse (another user holds the
    email: deliveries out of order), changing nothing."""
    return repo.upsert(profile, delivery_id, delivery_type)


def _usage(used: int, limit: int | None) -> UsageOut:
    return UsageOut(used=used, limit=limit, unlimited=limit is None)


def get_me(caller: Caller) -> MeOut:
    """One statement; the plan's limits come from the caller's token (its plan features)."""
    record = repo.me(caller.user_id)
    interviews = _usage(record.interviews_used, plan_usage.INTERVIEWS.limit_for(caller.features))
    questions = _usage(record.questions_used, plan_usage.QUESTIONS.limit_for(caller.features))
    plan_allows = interviews.limit is None or interviews.used < interviews.limit
    return MeOut(
        profile=None if record.id is None else UserOut.model_validate(record),
        plan=PlanUsageOut(interviews=interviews, questions=questions),
        can_start_interview=plan_allows and record.interview_tokens >= 1,
        interview_tokens=InterviewTokensOut(
            available=record.interview_tokens,
            capacity=get_settings().rate_limit_capacity,
            next_at=record.next_interview_token_at,
        ),
    )
