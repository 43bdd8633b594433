"""Users: the profile Clerk's webhook gives us, and what GET /me answers."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from pydantic import Field

from jobprep.schemas import ApiOutput


@dataclass(frozen=True)
class UserProfile:
    """A user as Clerk's user.created / user.updated describes them, checked and trimmed."""

    id: str
    name: str
    email: str
    image_url: str
    created_at: datetime  # Clerk's times: the newer updated_at wins
    updated_at: datetime


class UserOut(ApiOutput):
    id: str
    name: str
    email: str
    image_url: str
    created_at: datetime
    updated_at: datetime


class UsageOut(ApiOutput):
    used: int = Field(ge=0, description="Units spent; deleting what they made refunds nothing")
    limit: int | None = Field(ge=0, description="What the plan allows; null when unlimited")
    unlimited: bool


class PlanUsageOut(ApiOutput):
    interviews: UsageOut = Field(description="Interviews started (given a humeChatId)")
    questions: UsageOut = Field(description="Questions created")


class InterviewTokensOut(ApiOutput):
    available: int = Field(ge=0, description="Whole tokens left: interviews that may be created now")
    capacity: int = Field(ge=1, description="The most the bucket holds")
    next_at: datetime | None = Field(
        description="When the next token arrives (rounded up to the second); null when the bucket is full"
    )


class MeOut(ApiOutput):
    """The caller: their profile (null until Clerk's webhook has arrived), plan usage and
    allowances, and whether they may start an interview now."""

    profile: UserOut | None
    plan: PlanUsageOut
    can_start_interview: bool = Field(
        description="The plan allows another interview and a rate-limit token is available:"
        " POST /job-infos/{jobInfoId}/interviews would not answer 403 or 429"
    )
    interview_tokens: InterviewTokensOut
